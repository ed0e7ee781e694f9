package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned when a row that was asked for does not exist.
var ErrNotFound = errors.New("store: not found")

// Run is agentgate's row for one run.
type Run struct {
	ID         string
	DeliveryID string
	Repo       string // owner/name when the run was recorded (for people; never a key)
	// RepoID and InstallationID are GitHub's ids of the repository and of
	// the app's installation: what every lookup of an earlier run keys on
	// (0 for runs recorded before they were kept).
	RepoID         int64
	InstallationID int64
	Issue          int
	Requester      string
	State          string // "queued", "running", "succeeded", "failed", "denied", "busy"
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// EnsureRun returns the run with id r.ID, creating it from r when there is
// none, so a retried job (which carries the run id assigned at intake) gets
// the same row back unchanged. An empty r.State is stored as "queued".
func (db *DB) EnsureRun(ctx context.Context, r Run) (Run, error) {
	if r.ID == "" {
		return Run{}, errors.New("store: ensure run: empty run id")
	}
	if r.State == "" {
		r.State = "queued"
	}
	now := db.timestamp()
	var out Run
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO runs (id, delivery_id, repo, repo_id, installation_id, issue, requester, state, created_at, updated_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			r.ID, r.DeliveryID, r.Repo, r.RepoID, r.InstallationID, r.Issue, r.Requester, r.State, now, now); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		var err error
		out, err = getRun(ctx, tx, r.ID)
		return err
	})
	if err != nil {
		return Run{}, fmt.Errorf("store: ensure run %s: %w", r.ID, err)
	}
	return out, nil
}

// SetRunState updates a run's state.
func (db *DB) SetRunState(ctx context.Context, runID, state string) error {
	res, err := db.SQL.ExecContext(ctx,
		`UPDATE runs SET state = ?, updated_at = ? WHERE id = ?`, state, db.timestamp(), runID)
	if err != nil {
		return fmt.Errorf("store: set run state %s: %w", runID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: set run state %s: %w", runID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: set run state %s: %w", runID, ErrNotFound)
	}
	return nil
}

// GetRun reads a run by id. It returns an error wrapping ErrNotFound when
// there is no such run.
func (db *DB) GetRun(ctx context.Context, runID string) (Run, error) {
	r, err := getRun(ctx, db.SQL, runID)
	if err != nil {
		return Run{}, fmt.Errorf("store: get run %s: %w", runID, err)
	}
	return r, nil
}

// queryer is what getRun needs: *sql.DB or *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// getRun reads one run row.
func getRun(ctx context.Context, q queryer, runID string) (Run, error) {
	var (
		r                Run
		created, updated string
	)
	err := q.QueryRowContext(ctx,
		`SELECT id, delivery_id, repo, repo_id, installation_id, issue, requester, state, created_at, updated_at
		 FROM runs WHERE id = ?`, runID).
		Scan(&r.ID, &r.DeliveryID, &r.Repo, &r.RepoID, &r.InstallationID, &r.Issue, &r.Requester, &r.State, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, ErrNotFound
	}
	if err != nil {
		return Run{}, fmt.Errorf("select: %w", err)
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return Run{}, err
	}
	if r.UpdatedAt, err = parseTime(updated); err != nil {
		return Run{}, err
	}
	return r, nil
}
