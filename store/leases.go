package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AcquireLease takes the lease key (e.g. "repo-id#issue") for runID. If
// another unexpired run holds it, it returns that run's id and false. The
// same run re-acquiring its own lease succeeds (a retry) and extends it.
// An expired lease is taken over.
func (db *DB) AcquireLease(ctx context.Context, key, runID string, ttl time.Duration) (holder string, ok bool, err error) {
	if key == "" || runID == "" {
		return "", false, errors.New("store: acquire lease: empty key or run id")
	}
	if ttl <= 0 {
		return "", false, fmt.Errorf("store: acquire lease %s: ttl %v is not positive", key, ttl)
	}
	now := db.now()
	nowText, expires := formatTime(now), formatTime(now.Add(ttl))
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		// One statement decides: insert, or take over when the holder is
		// this run or its lease has expired; otherwise leave it alone.
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO leases (lease_key, run_id, acquired_at, expires_at) VALUES (?, ?, ?, ?)
			 ON CONFLICT (lease_key) DO UPDATE
			 SET run_id = excluded.run_id, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
			 WHERE leases.run_id = excluded.run_id OR leases.expires_at <= ?`,
			key, runID, nowText, expires, nowText); err != nil {
			return fmt.Errorf("upsert: %w", err)
		}
		if err := tx.QueryRowContext(ctx,
			`SELECT run_id FROM leases WHERE lease_key = ?`, key).Scan(&holder); err != nil {
			return fmt.Errorf("select: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("store: acquire lease %s: %w", key, err)
	}
	return holder, holder == runID, nil
}

// ReleaseLease releases key if runID holds it. Releasing a lease the run
// does not hold is not an error.
func (db *DB) ReleaseLease(ctx context.Context, key, runID string) error {
	if _, err := db.SQL.ExecContext(ctx,
		`DELETE FROM leases WHERE lease_key = ? AND run_id = ?`, key, runID); err != nil {
		return fmt.Errorf("store: release lease %s: %w", key, err)
	}
	return nil
}
