package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Installation and repository states.
const (
	StateActive    = "active"
	StateRemoved   = "removed"   // uninstalled, or the repository taken out
	StateSuspended = "suspended" // installation suspended
)

// SetInstallation records an installation's state (active, suspended,
// removed).
func (db *DB) SetInstallation(ctx context.Context, id int64, account, state string) error {
	if _, err := db.SQL.ExecContext(ctx,
		`INSERT INTO installations (installation_id, account, state, updated_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (installation_id) DO UPDATE SET account = excluded.account, state = excluded.state, updated_at = excluded.updated_at`,
		id, account, state, db.timestamp()); err != nil {
		return fmt.Errorf("store: set installation %d: %w", id, err)
	}
	return nil
}

// SetInstallationRepo records whether the app has a repository.
func (db *DB) SetInstallationRepo(ctx context.Context, installationID, repoID int64, fullName, state string) error {
	if _, err := db.SQL.ExecContext(ctx,
		`INSERT INTO installation_repos (repo_id, installation_id, full_name, state, updated_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (repo_id) DO UPDATE SET installation_id = excluded.installation_id, full_name = excluded.full_name,
		 state = excluded.state, updated_at = excluded.updated_at`,
		repoID, installationID, fullName, state, db.timestamp()); err != nil {
		return fmt.Errorf("store: set installation repo %d: %w", repoID, err)
	}
	return nil
}

// RemoveInstallationRepos marks every repository recorded under an
// installation removed (the installation was deleted).
func (db *DB) RemoveInstallationRepos(ctx context.Context, installationID int64) error {
	if _, err := db.SQL.ExecContext(ctx,
		`UPDATE installation_repos SET state = ?, updated_at = ? WHERE installation_id = ?`,
		StateRemoved, db.timestamp(), installationID); err != nil {
		return fmt.Errorf("store: remove installation repos %d: %w", installationID, err)
	}
	return nil
}

// RepoAccess reports why runs may not use a repository: "" when nothing
// recorded forbids it (an installation or repository never heard of is
// allowed: GitHub only sends events for the app's own), otherwise the
// recorded state ("removed", "suspended").
func (db *DB) RepoAccess(ctx context.Context, installationID, repoID int64) (string, error) {
	var state string
	err := db.SQL.QueryRowContext(ctx, `SELECT state FROM installations WHERE installation_id = ?`, installationID).Scan(&state)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: repo access: %w", err)
	}
	if err == nil && state != StateActive {
		return state, nil
	}
	err = db.SQL.QueryRowContext(ctx, `SELECT state FROM installation_repos WHERE repo_id = ?`, repoID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: repo access: %w", err)
	}
	if state != StateActive {
		return state, nil
	}
	return "", nil
}

// SetOperatorSetting stores an operator switch (e.g. "paused"), shared by
// every replica.
func (db *DB) SetOperatorSetting(ctx context.Context, key, value string) error {
	if _, err := db.SQL.ExecContext(ctx,
		`INSERT INTO operator_settings (setting_key, value, updated_at) VALUES (?, ?, ?)
		 ON CONFLICT (setting_key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, db.timestamp()); err != nil {
		return fmt.Errorf("store: set operator setting %s: %w", key, err)
	}
	return nil
}

// OperatorSetting reads an operator switch ("" when unset).
func (db *DB) OperatorSetting(ctx context.Context, key string) (string, error) {
	var v string
	err := db.SQL.QueryRowContext(ctx, `SELECT value FROM operator_settings WHERE setting_key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: operator setting %s: %w", key, err)
	}
	return v, nil
}

// ClaimReply records that a reply under key (e.g. one person on one issue)
// was made, and reports whether this call was the first: the caller replies
// only then, so nobody can make agentgate post a stream of comments.
func (db *DB) ClaimReply(ctx context.Context, key string) (bool, error) {
	res, err := db.SQL.ExecContext(ctx,
		`INSERT INTO replies (reply_key, created_at) VALUES (?, ?) ON CONFLICT (reply_key) DO NOTHING`, key, db.timestamp())
	if err != nil {
		return false, fmt.Errorf("store: claim reply: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claim reply: %w", err)
	}
	return n == 1, nil
}

// FeedbackItem is one comment waiting for a follow-up run.
type FeedbackItem struct {
	Key    string // unique per pull request: the comment or review id
	Author string
	Body   string
	Path   string
	Line   int
}

// AddFeedback keeps a comment for the next follow-up on a pull request;
// the same item twice is kept once.
func (db *DB) AddFeedback(ctx context.Context, prKey string, it FeedbackItem) error {
	if _, err := db.SQL.ExecContext(ctx,
		`INSERT INTO feedback (pr_key, item_key, author, body, path, line, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (pr_key, item_key) DO NOTHING`,
		prKey, it.Key, it.Author, it.Body, it.Path, it.Line, db.timestamp()); err != nil {
		return fmt.Errorf("store: add feedback: %w", err)
	}
	return nil
}

// ClaimFeedback hands every unclaimed feedback item of a pull request to
// runID, in arrival order. Items an earlier attempt of the same run
// claimed are returned again.
func (db *DB) ClaimFeedback(ctx context.Context, prKey, runID string) ([]FeedbackItem, error) {
	var out []FeedbackItem
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE feedback SET run_id = ? WHERE pr_key = ? AND run_id = ''`, runID, prKey); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		rows, err := tx.QueryContext(ctx,
			`SELECT item_key, author, body, path, line FROM feedback WHERE pr_key = ? AND run_id = ? ORDER BY created_at, item_key`, prKey, runID)
		if err != nil {
			return fmt.Errorf("select: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var it FeedbackItem
			if err := rows.Scan(&it.Key, &it.Author, &it.Body, &it.Path, &it.Line); err != nil {
				return fmt.Errorf("scan: %w", err)
			}
			out = append(out, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim feedback: %w", err)
	}
	return out, nil
}

// RunsOnIssue returns the runs on one issue of the repository with GitHub
// id repoID, newest first. A repository that took over an earlier one's
// name has another id, and so none of its runs.
func (db *DB) RunsOnIssue(ctx context.Context, repoID int64, issue int) ([]Run, error) {
	if repoID == 0 {
		return nil, errors.New("store: runs on issue: no repository id")
	}
	rows, err := db.SQL.QueryContext(ctx,
		`SELECT id FROM runs WHERE repo_id = ? AND issue = ? ORDER BY created_at DESC, id`, repoID, issue)
	if err != nil {
		return nil, fmt.Errorf("store: runs on issue: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: runs on issue: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: runs on issue: %w", err)
	}
	out := make([]Run, 0, len(ids))
	for _, id := range ids {
		r, err := getRun(ctx, db.SQL, id)
		if err != nil {
			return nil, fmt.Errorf("store: runs on issue: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// RunSelect selects runs for budgets and rate limits.
type RunSelect struct {
	RepoID         int64  // 0 = any
	InstallationID int64  // 0 = any
	Requester      string // login (case-insensitive); "" = any
	Since          time.Time
	States         []string // only these states; empty = any
}

// RunIDs returns the ids of the runs the filter selects.
func (db *DB) RunIDs(ctx context.Context, f RunSelect) ([]string, error) {
	q := `SELECT id FROM runs WHERE created_at >= ?`
	args := []any{formatTime(f.Since)}
	if f.RepoID != 0 {
		q += ` AND repo_id = ?`
		args = append(args, f.RepoID)
	}
	if f.InstallationID != 0 {
		q += ` AND installation_id = ?`
		args = append(args, f.InstallationID)
	}
	if f.Requester != "" {
		q += ` AND lower(requester) = ?`
		args = append(args, strings.ToLower(f.Requester))
	}
	if len(f.States) > 0 {
		q += ` AND state IN (?` + strings.Repeat(", ?", len(f.States)-1) + `)`
		for _, s := range f.States {
			args = append(args, s)
		}
	}
	rows, err := db.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: run ids: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: run ids: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// RunForPR finds the run that opened pull request number in the
// repository with GitHub id repoID, from the recorded effects: only a pull request agentgate
// opened has one. The first (earliest) such run is returned.
func (db *DB) RunForPR(ctx context.Context, repoID int64, number int) (Run, error) {
	if repoID == 0 {
		return Run{}, fmt.Errorf("store: run for pull request #%d: no repository id: %w", number, ErrNotFound)
	}
	var id string
	err := db.SQL.QueryRowContext(ctx,
		`SELECT r.id FROM effects e JOIN runs r ON r.id = e.run_id
		 WHERE e.effect_key = 'pr.number' AND e.value = ? AND r.repo_id = ?
		 ORDER BY r.created_at LIMIT 1`, strconv.Itoa(number), repoID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("store: run for pull request %d#%d: %w", repoID, number, ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("store: run for pull request %d#%d: %w", repoID, number, err)
	}
	return db.GetRun(ctx, id)
}

// ActiveLeaseHolder returns the run holding an unexpired lease ("" when none).
func (db *DB) ActiveLeaseHolder(ctx context.Context, key string) (string, error) {
	var holder string
	err := db.SQL.QueryRowContext(ctx,
		`SELECT run_id FROM leases WHERE lease_key = ? AND expires_at > ?`, key, db.timestamp()).Scan(&holder)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: lease holder %s: %w", key, err)
	}
	return holder, nil
}
