package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"

	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/telemetry"
)

// AuditKey is the key the store signs the audit chain with (nil when none
// is set); provenance records are signed with the same key.
func (db *DB) AuditKey() ed25519.PrivateKey {
	if k := db.audit.key.Load(); k != nil {
		return *k
	}
	return nil
}

// EventHash is the stored hash of one event of a run.
func (db *DB) EventHash(ctx context.Context, runID string, seq int64) (string, error) {
	var h string
	err := db.SQL.QueryRowContext(ctx, `SELECT hash FROM events WHERE run_id = ? AND seq = ?`, runID, seq).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: event %s/%d: %w", runID, seq, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: event %s/%d: %w", runID, seq, err)
	}
	return h, nil
}

// EffectsByKey returns every run's recorded effect named key, by run id.
func (db *DB) EffectsByKey(ctx context.Context, key journal.Key) (map[string]string, error) {
	rows, err := db.SQL.QueryContext(ctx, `SELECT run_id, value FROM effects WHERE effect_key = ? ORDER BY run_id`, string(key))
	if err != nil {
		return nil, fmt.Errorf("store: effects %s: %w", key, err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]string{}
	for rows.Next() {
		var id, v string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("store: effects %s: %w", key, err)
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: effects %s: %w", key, err)
	}
	return out, nil
}

// EventsOfKind returns every stored event of one kind, in run and seq order.
func (db *DB) EventsOfKind(ctx context.Context, kind string) ([]telemetry.Event, error) {
	return db.queryEvents(ctx, "events of kind "+kind,
		`SELECT run_id, seq, time, kind, actor, attrs FROM events WHERE kind = ? ORDER BY run_id, seq`, kind)
}
