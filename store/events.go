package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/agentgate/agentgate/telemetry"
)

// Compile-time checks that DB serves as the audit trail.
var (
	_ telemetry.Recorder = (*DB)(nil)
	_ telemetry.Reader   = (*DB)(nil)
)

// Append implements telemetry.Recorder: it redacts the event (attrs,
// recursively, and actor) with Redactor, assigns the next Seq in the run and
// the time (now, UTC), links it into the run's hash chain and the global
// chain in one transaction, and stores it with its attrs as JSON. The
// caller's Seq and Time are ignored; the returned event is the stored,
// redacted one.
func (db *DB) Append(ctx context.Context, ev telemetry.Event) (telemetry.Event, error) {
	if ev.RunID == "" || ev.Kind == "" {
		return telemetry.Event{}, errors.New("store: append event: empty run id or kind")
	}
	red := db.audit.redactor
	ev.Attrs = red.Attrs(ev.Attrs)
	ev.Actor = red.String(ev.Actor)
	attrs := []byte("{}")
	if len(ev.Attrs) > 0 {
		var err error
		if attrs, err = json.Marshal(ev.Attrs); err != nil {
			return telemetry.Event{}, fmt.Errorf("store: append event %s: attrs: %w", ev.Kind, err)
		}
	}
	// The stored time is the text form, so return exactly what a reader sees.
	when := db.timestamp()
	ev.Time, _ = parseTime(when)
	ce := telemetry.ChainedEvent{RunID: ev.RunID, Time: when, Kind: ev.Kind, Actor: ev.Actor, Attrs: string(attrs)}
	var key ed25519.PrivateKey
	if k := db.audit.key.Load(); k != nil {
		key = *k
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		ce, err = chainInTx(ctx, tx, ce, key, false)
		return err
	})
	if err != nil {
		return telemetry.Event{}, fmt.Errorf("store: append event %s: %w", ev.Kind, err)
	}
	ev.Seq = ce.Seq
	return ev, nil
}

// Events implements telemetry.Reader: the run's events in Seq order. Numbers
// in Attrs come back as float64, as encoding/json decodes them.
func (db *DB) Events(ctx context.Context, runID string) ([]telemetry.Event, error) {
	out, err := db.queryEvents(ctx, "events "+runID,
		`SELECT run_id, seq, time, kind, actor, attrs FROM events WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if len(out[i].Attrs) == 0 {
			out[i].Attrs = nil
		}
	}
	return out, nil
}

// queryEvents runs q, which selects run_id, seq, time, kind, actor and
// attrs, and decodes each row; what names the query in errors.
func (db *DB) queryEvents(ctx context.Context, what, q string, args ...any) ([]telemetry.Event, error) {
	rows, err := db.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer func() { _ = rows.Close() }()
	var out []telemetry.Event
	for rows.Next() {
		var (
			ev          telemetry.Event
			when, attrs string
		)
		if err := rows.Scan(&ev.RunID, &ev.Seq, &when, &ev.Kind, &ev.Actor, &attrs); err != nil {
			return nil, fmt.Errorf("store: %s: scan: %w", what, err)
		}
		if ev.Time, err = parseTime(when); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		if err := json.Unmarshal([]byte(attrs), &ev.Attrs); err != nil {
			return nil, fmt.Errorf("store: %s: attrs of %s/%d: %w", what, ev.RunID, ev.Seq, err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}
