package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/agentgate/agentgate/telemetry"
)

// RunFilter selects runs for ListRuns; zero fields match everything.
type RunFilter struct {
	Repo      string    // owner/name
	Requester string    // login
	Outcome   string    // the run's state: succeeded, failed, denied, …
	Since     time.Time // created at or after
	// RepoIDs, when not nil, keeps only runs of these repositories (by
	// GitHub id); an empty, non-nil list keeps none.
	RepoIDs []int64
	Limit   int // at most this many, newest first; 0 for no limit
	Offset  int // skip this many first (paging with Limit)
}

// RunRepo is a repository that has runs: its GitHub id and the name its
// newest run was recorded under.
type RunRepo struct {
	ID   int64
	Name string
}

// RunRepos lists the repositories that have runs (recorded with their
// ids), each once under its newest name; name, when not "", keeps only
// the repositories recorded under that owner/name.
func (db *DB) RunRepos(ctx context.Context, name string) ([]RunRepo, error) {
	q := `SELECT repo_id, repo, MAX(created_at) FROM runs WHERE repo_id <> 0`
	var args []any
	if name != "" {
		q += ` AND repo = ?`
		args = append(args, name)
	}
	q += ` GROUP BY repo_id, repo`
	rows, err := db.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: run repositories: %w", err)
	}
	defer func() { _ = rows.Close() }()
	newest := map[int64]string{}
	names := map[int64]string{}
	for rows.Next() {
		var (
			id            int64
			repo, created string
		)
		if err := rows.Scan(&id, &repo, &created); err != nil {
			return nil, fmt.Errorf("store: run repositories: %w", err)
		}
		if created > newest[id] { // fixed-width UTC text sorts as time
			newest[id], names[id] = created, repo
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: run repositories: %w", err)
	}
	out := make([]RunRepo, 0, len(names))
	for id, n := range names {
		out = append(out, RunRepo{ID: id, Name: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// RunSummary is one line of the audit list: the run row with its events'
// count and head hash.
type RunSummary struct {
	Run
	Events int    // stored events
	Head   string // RunHead, "" for a run without events
}

// ListRuns lists the runs matching f, newest first.
func (db *DB) ListRuns(ctx context.Context, f RunFilter) ([]RunSummary, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.Repo != "" {
		add("r.repo = ?", f.Repo)
	}
	if f.Requester != "" {
		add("r.requester = ?", f.Requester)
	}
	if f.Outcome != "" {
		add("r.state = ?", f.Outcome)
	}
	if !f.Since.IsZero() {
		add("r.created_at >= ?", formatTime(f.Since))
	}
	if f.RepoIDs != nil {
		if len(f.RepoIDs) == 0 {
			return nil, nil
		}
		where = append(where, "r.repo_id IN (?"+strings.Repeat(", ?", len(f.RepoIDs)-1)+")")
		for _, id := range f.RepoIDs {
			args = append(args, id)
		}
	}
	q := `SELECT r.id, r.delivery_id, r.repo, r.repo_id, r.installation_id, r.issue, r.requester, r.state, r.created_at, r.updated_at,
		(SELECT COUNT(*) FROM events e WHERE e.run_id = r.id),
		COALESCE((SELECT c.event_hash FROM audit_chain c WHERE c.run_id = r.id ORDER BY c.seq DESC LIMIT 1), '')
		FROM runs r`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY r.created_at DESC, r.id"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
		if f.Offset > 0 {
			q += fmt.Sprintf(" OFFSET %d", f.Offset)
		}
	}
	rows, err := db.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []RunSummary
	for rows.Next() {
		var (
			s                RunSummary
			created, updated string
		)
		if err := rows.Scan(&s.ID, &s.DeliveryID, &s.Repo, &s.RepoID, &s.InstallationID, &s.Issue, &s.Requester, &s.State,
			&created, &updated, &s.Events, &s.Head); err != nil {
			return nil, fmt.Errorf("store: list runs: %w", err)
		}
		if s.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("store: list runs: %w", err)
		}
		if s.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, fmt.Errorf("store: list runs: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	return out, nil
}

// AuditEvent is a stored event with its place in the hash chain, the form
// exported for a SIEM.
type AuditEvent struct {
	telemetry.Event
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// EventFilter selects events for AuditEvents; zero fields match everything.
type EventFilter struct {
	RunID string    // one run
	Since time.Time // at or after
}

// AuditEvents calls fn for every stored event matching f, in run and seq
// order (one run's timeline when f.RunID is set), without holding them all
// in memory. fn must not call other DB methods: the store has one
// connection and the rows hold it.
func (db *DB) AuditEvents(ctx context.Context, f EventFilter, fn func(AuditEvent) error) error {
	q := `SELECT run_id, seq, time, kind, actor, attrs, prev_hash, hash FROM events WHERE 1 = 1`
	var args []any
	if f.RunID != "" {
		q += " AND run_id = ?"
		args = append(args, f.RunID)
	}
	if !f.Since.IsZero() {
		q += " AND time >= ?"
		args = append(args, formatTime(f.Since))
	}
	q += " ORDER BY run_id, seq"
	rows, err := db.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: audit events: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		if err := scanAuditEvent(rows, fn); err != nil {
			return fmt.Errorf("store: audit events: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: audit events: %w", err)
	}
	return nil
}

// scanAuditEvent reads one row and hands it to fn.
func scanAuditEvent(rows *sql.Rows, fn func(AuditEvent) error) error {
	var (
		ev          AuditEvent
		when, attrs string
	)
	if err := rows.Scan(&ev.RunID, &ev.Seq, &when, &ev.Kind, &ev.Actor, &attrs, &ev.PrevHash, &ev.Hash); err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	var err error
	if ev.Time, err = parseTime(when); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(attrs), &ev.Attrs); err != nil {
		return fmt.Errorf("attrs of %s/%d: %w", ev.RunID, ev.Seq, err)
	}
	if len(ev.Attrs) == 0 {
		ev.Attrs = nil
	}
	return fn(ev)
}
