package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/agentgate/agentgate/journal"
)

// Effect looks up a recorded side effect of a run (e.g. journal.Progress
// → comment id), so a retry does not repeat it.
func (db *DB) Effect(ctx context.Context, runID string, key journal.Key) (string, bool, error) {
	var value string
	err := db.SQL.QueryRowContext(ctx,
		`SELECT value FROM effects WHERE run_id = ? AND effect_key = ?`, runID, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: effect %s/%s: %w", runID, key, err)
	}
	return value, true, nil
}

// RecordEffect records a side effect of a run. Recording the same key again
// overwrites its value.
func (db *DB) RecordEffect(ctx context.Context, runID string, key journal.Key, value string) error {
	if runID == "" || key == "" {
		return errors.New("store: record effect: empty run id or key")
	}
	if _, err := db.SQL.ExecContext(ctx,
		`INSERT INTO effects (run_id, effect_key, value, recorded_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (run_id, effect_key) DO UPDATE
		 SET value = excluded.value, recorded_at = excluded.recorded_at`,
		runID, string(key), value, db.timestamp()); err != nil {
		return fmt.Errorf("store: record effect %s/%s: %w", runID, key, err)
	}
	return nil
}
