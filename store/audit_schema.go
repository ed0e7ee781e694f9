package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/agentgate/agentgate/telemetry"
)

// auditMigration adds the hash chain: prev_hash and hash on every event,
// the global chain (audit_chain), its head (audit_head, one row, also the
// lock every append takes) and the signed checkpoints. Events recorded
// before it are chained once, here.
var auditMigration = migration{
	version: 2,
	stmts: []string{
		`ALTER TABLE events ADD COLUMN prev_hash TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE events ADD COLUMN hash TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX IF NOT EXISTS events_time ON events (time)`,
		`CREATE TABLE IF NOT EXISTS audit_chain (
			global_seq BIGINT PRIMARY KEY,
			run_id     TEXT NOT NULL,
			seq        BIGINT NOT NULL,
			event_hash TEXT NOT NULL,
			prev_hash  TEXT NOT NULL,
			hash       TEXT NOT NULL
		)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS audit_chain_run_seq ON audit_chain (run_id, seq)`,
		`CREATE TABLE IF NOT EXISTS audit_head (
			id         BIGINT PRIMARY KEY,
			global_seq BIGINT NOT NULL,
			hash       TEXT NOT NULL,
			signature  TEXT NOT NULL
		)`,
		`INSERT INTO audit_head (id, global_seq, hash, signature) VALUES (1, 0, '` + telemetry.GenesisHash + `', '')
		 ON CONFLICT (id) DO NOTHING`,
		`CREATE TABLE IF NOT EXISTS audit_checkpoints (
			id         BIGINT PRIMARY KEY,
			created_at TEXT NOT NULL,
			body       TEXT NOT NULL,
			signature  TEXT NOT NULL
		)`,
	},
	fn: chainExistingEvents,
}

// chainExistingEvents chains the events stored before the audit migration,
// run by run in seq order (their order across runs is not known).
func chainExistingEvents(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx,
		`SELECT run_id, seq, time, kind, actor, attrs FROM events ORDER BY run_id, seq`)
	if err != nil {
		return fmt.Errorf("chain existing events: %w", err)
	}
	var evs []telemetry.ChainedEvent
	for rows.Next() {
		var e telemetry.ChainedEvent
		if err := rows.Scan(&e.RunID, &e.Seq, &e.Time, &e.Kind, &e.Actor, &e.Attrs); err != nil {
			_ = rows.Close()
			return fmt.Errorf("chain existing events: scan: %w", err)
		}
		evs = append(evs, e)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("chain existing events: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("chain existing events: %w", err)
	}
	for _, e := range evs {
		if _, err := chainInTx(ctx, tx, e, nil, true); err != nil {
			return fmt.Errorf("chain existing event %s/%d: %w", e.RunID, e.Seq, err)
		}
	}
	return nil
}
