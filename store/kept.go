package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// keptMigration adds the harvested changes kept for a push that has not
// happened yet: a run whose push failed (or whose worker stopped between
// harvest and push) is pushed from it on its next attempt instead of
// running the agent again. The database is what every worker shares, so
// the next attempt finds it on any host.
var keptMigration = migration{
	version: 5,
	stmts: []string{
		`CREATE TABLE IF NOT EXISTS kept_changes (
			run_id     TEXT PRIMARY KEY,
			data       TEXT NOT NULL,
			created_at TEXT NOT NULL
		)`,
	},
}

// KeepChange records data (an encoded harvested change) for runID,
// replacing what was kept before.
func (db *DB) KeepChange(ctx context.Context, runID, data string) error {
	if runID == "" {
		return errors.New("store: keep change: empty run id")
	}
	if _, err := db.SQL.ExecContext(ctx,
		`INSERT INTO kept_changes (run_id, data, created_at) VALUES (?, ?, ?)
		 ON CONFLICT (run_id) DO UPDATE SET data = excluded.data, created_at = excluded.created_at`,
		runID, data, db.timestamp()); err != nil {
		return fmt.Errorf("store: keep change %s: %w", runID, err)
	}
	return nil
}

// KeptChange returns what KeepChange recorded for runID, if anything.
func (db *DB) KeptChange(ctx context.Context, runID string) (string, bool, error) {
	var data string
	err := db.SQL.QueryRowContext(ctx, `SELECT data FROM kept_changes WHERE run_id = ?`, runID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: kept change %s: %w", runID, err)
	}
	return data, true, nil
}

// DropKeptChange deletes the change kept for runID; none is no error.
func (db *DB) DropKeptChange(ctx context.Context, runID string) error {
	if _, err := db.SQL.ExecContext(ctx, `DELETE FROM kept_changes WHERE run_id = ?`, runID); err != nil {
		return fmt.Errorf("store: drop kept change %s: %w", runID, err)
	}
	return nil
}
