package store

import (
	"context"
	"fmt"

	"github.com/agentgate/agentgate/telemetry"
)

// RunVerify is the outcome of VerifyRun.
type RunVerify struct {
	Events int    // stored events of the run checked
	Head   string // the run's last event hash, as the global chain records it
	First  *Break // nil when the run's chain verifies
}

// OK reports whether the run's chain verified.
func (r RunVerify) OK() bool { return r.First == nil }

// VerifyRun checks one run's part of the audit trail: every stored event's
// hash over its content and predecessor, seqs 1..n without a gap, and the
// events against the global chain's entries for the run (same count, same
// hashes), so an edited, reordered, deleted or truncated event of the run
// is found without walking the whole trail. It does not check the global
// chain itself or its signature: Verify does. The error is for failures to
// read, not for tampering.
func (db *DB) VerifyRun(ctx context.Context, runID string) (RunVerify, error) {
	var rep RunVerify
	links := map[int64]string{}
	rows, err := db.SQL.QueryContext(ctx, `SELECT seq, event_hash FROM audit_chain WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return rep, fmt.Errorf("store: verify run %s: %w", runID, err)
	}
	var lastLink int64
	for rows.Next() {
		var (
			seq int64
			h   string
		)
		if err := rows.Scan(&seq, &h); err != nil {
			_ = rows.Close()
			return rep, fmt.Errorf("store: verify run %s: %w", runID, err)
		}
		links[seq] = h
		lastLink, rep.Head = seq, h
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("store: verify run %s: %w", runID, err)
	}

	rows, err = db.SQL.QueryContext(ctx,
		`SELECT seq, time, kind, actor, attrs, prev_hash, hash FROM events WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return rep, fmt.Errorf("store: verify run %s: %w", runID, err)
	}
	defer func() { _ = rows.Close() }()
	prev := telemetry.GenesisHash
	for rows.Next() {
		e := telemetry.ChainedEvent{RunID: runID}
		var stored string
		if err := rows.Scan(&e.Seq, &e.Time, &e.Kind, &e.Actor, &e.Attrs, &e.PrevHash, &stored); err != nil {
			return rep, fmt.Errorf("store: verify run %s: %w", runID, err)
		}
		rep.Events++
		if rep.First != nil {
			continue
		}
		want := int64(rep.Events)
		brk := func(what BreakKind, detail string) {
			rep.First = &Break{What: what, RunID: runID, Seq: e.Seq, Detail: detail}
		}
		switch link, linked := links[e.Seq]; {
		case !linked:
			brk(BreakInserted, "the event is not in the global chain")
		case e.Seq > want:
			rep.First = &Break{What: BreakDeleted, RunID: runID, Seq: want, Detail: fmt.Sprintf("seq %d is missing", want)}
		case e.Seq < want:
			brk(BreakReordered, "seq repeated")
		case e.PrevHash != prev:
			brk(BreakReordered, "its predecessor hash does not match the event before it")
		case e.Hash() != stored || stored != link:
			brk(BreakEdited, "its content does not match its hash")
		}
		prev = stored
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("store: verify run %s: %w", runID, err)
	}
	if rep.First == nil && int64(rep.Events) < lastLink {
		rep.First = &Break{What: BreakTruncated, RunID: runID, Seq: int64(rep.Events) + 1,
			Detail: fmt.Sprintf("the global chain has %d events of the run, the store %d", lastLink, rep.Events)}
	}
	return rep, nil
}
