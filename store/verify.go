package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/agentgate/agentgate/telemetry"
)

// BreakKind says how the audit trail was found broken.
type BreakKind string

// What Verify can find.
const (
	BreakEdited       BreakKind = "edited"      // an event or chain entry changed
	BreakReordered    BreakKind = "reordered"   // events moved to other positions in their run
	BreakDeleted      BreakKind = "deleted"     // an event or chain entry removed from the middle
	BreakTruncated    BreakKind = "truncated"   // the newest events of a run, or of the whole chain, removed
	BreakRunDeleted   BreakKind = "run deleted" // every event of a run removed without a signed checkpoint
	BreakInserted     BreakKind = "inserted"    // an event that was never chained
	BreakCheckpoint   BreakKind = "checkpoint signature bad"
	BreakHeadSig      BreakKind = "head signature bad"
	BreakUnverifiable BreakKind = "checkpoint unverifiable" // checkpoints exist but no key was given
)

// Break is the first broken link Verify found.
type Break struct {
	What      BreakKind
	RunID     string // "" when the break is not in one run (a chain gap, a checkpoint)
	Seq       int64  // the event's seq in RunID, 0 when none
	GlobalSeq int64  // the global chain position, 0 when none
	Detail    string
}

// String renders the break for a person.
func (b Break) String() string {
	s := string(b.What)
	if b.RunID != "" {
		s += fmt.Sprintf(": run %s seq %d", b.RunID, b.Seq)
	}
	if b.GlobalSeq > 0 {
		s += fmt.Sprintf(" (global %d)", b.GlobalSeq)
	}
	if b.Detail != "" {
		s += ": " + b.Detail
	}
	return s
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	Runs        int    // runs with stored events
	Events      int    // stored events checked
	Links       int    // global chain entries checked
	Pruned      int    // runs removed behind valid signed checkpoints
	Checkpoints int    // signed checkpoints checked
	Head        string // the global chain head hash
	HeadSeq     int64  // the global chain head's position
	First       *Break // nil when the whole trail verifies
}

// OK reports whether nothing was found broken.
func (r VerifyReport) OK() bool { return r.First == nil }

// Verify checks the whole audit trail and reports the first broken link:
// every checkpoint's signature (with keys, the operator's trusted audit
// public keys: the current one and those used before a rotation; none, or
// only nil, when there is no key), then the global chain in order (each link's hash
// and predecessor, each event against its link: content, position and run
// predecessor), then that no event exists outside the chain, then the
// head (position, hash and, when signed, signature). Events of runs named
// by a valid checkpoint may be missing. The error is for failures to read,
// not for tampering, which is reported in VerifyReport.First.
func (db *DB) Verify(ctx context.Context, keys ...ed25519.PublicKey) (VerifyReport, error) {
	rep, err := db.verify(ctx, newKeyring(keys...))
	if err != nil {
		return rep, fmt.Errorf("store: verify: %w", err)
	}
	return rep, nil
}

func (db *DB) verify(ctx context.Context, keys keyring) (VerifyReport, error) {
	var rep VerifyReport
	cps, err := db.checkpoints(ctx)
	if err != nil {
		return rep, err
	}
	pruned := map[string]bool{}
	var (
		base   checkpointBody // the checkpoint below which links were removed
		bodies []checkpointBody
	)
	for _, cp := range cps {
		rep.Checkpoints++
		if len(keys) == 0 {
			rep.First = &Break{What: BreakUnverifiable, Detail: fmt.Sprintf("checkpoint %d: no audit key to check its signature", cp.id)}
			return rep, nil
		}
		body, err := cp.open(keys)
		if err != nil {
			rep.First = &Break{What: BreakCheckpoint, Detail: fmt.Sprintf("checkpoint %d: %v", cp.id, err)}
			return rep, nil
		}
		for _, r := range body.PrunedRuns {
			pruned[r] = true
		}
		if body.BaseSeq > base.BaseSeq {
			base = body
		}
		bodies = append(bodies, body)
	}
	rep.Pruned = len(pruned)
	cpHeads := map[int64]string{}
	for _, b := range bodies {
		if b.GlobalSeq > base.BaseSeq {
			cpHeads[b.GlobalSeq] = b.HeadHash
		}
	}

	stats, err := db.runStats(ctx)
	if err != nil {
		return rep, err
	}
	rep.Runs = len(stats)
	for _, s := range stats {
		rep.Events += s.count
	}

	w := walker{db: db, ctx: ctx, pruned: pruned, stats: stats, cpHeads: cpHeads,
		lastSeq: map[string]int64{}, lastHash: map[string]string{},
		wantGSeq: base.BaseSeq + 1, prevLink: telemetry.GenesisHash}
	if base.BaseSeq > 0 {
		w.prevLink = base.BaseHash
	}
	if err := w.walk(&rep); err != nil || rep.First != nil {
		return rep, err
	}
	if rep.First, err = db.unchained(ctx); err != nil || rep.First != nil {
		return rep, err
	}
	rep.Head = w.prevLink
	rep.HeadSeq = w.wantGSeq - 1
	rep.First, err = db.checkHead(ctx, w.wantGSeq-1, w.prevLink, keys)
	return rep, err
}

// runStat is what Verify needs to know of one run's stored events.
type runStat struct {
	count  int
	maxSeq int64
}

// runStats reads the count and highest seq of every run's stored events.
func (db *DB) runStats(ctx context.Context) (map[string]runStat, error) {
	rows, err := db.SQL.QueryContext(ctx, `SELECT run_id, COUNT(*), MAX(seq) FROM events GROUP BY run_id`)
	if err != nil {
		return nil, fmt.Errorf("run stats: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]runStat{}
	for rows.Next() {
		var (
			id string
			s  runStat
		)
		if err := rows.Scan(&id, &s.count, &s.maxSeq); err != nil {
			return nil, fmt.Errorf("run stats: %w", err)
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run stats: %w", err)
	}
	return out, nil
}

// walker walks the global chain in order.
type walker struct {
	db       *DB
	ctx      context.Context
	pruned   map[string]bool
	stats    map[string]runStat
	cpHeads  map[int64]string  // global seq → head hash signed by a checkpoint
	lastSeq  map[string]int64  // per run: the seq of its last link seen
	lastHash map[string]string // per run: the event hash of its last link seen
	wantGSeq int64             // the next global seq expected
	prevLink string            // the hash of the last link seen
}

// walk checks every link, stopping at the first break (set in rep.First).
func (w *walker) walk(rep *VerifyReport) error {
	rows, err := w.db.SQL.QueryContext(w.ctx, `
		SELECT c.global_seq, c.run_id, c.seq, c.event_hash, c.prev_hash, c.hash,
		       e.time, e.kind, e.actor, e.attrs, e.prev_hash, e.hash
		FROM audit_chain c LEFT JOIN events e ON e.run_id = c.run_id AND e.seq = c.seq
		ORDER BY c.global_seq`)
	if err != nil {
		return fmt.Errorf("read chain: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var (
			link, hash                           string
			l                                    telemetry.ChainLink
			when, kind, actor, attrs, prev, evHa sql.NullString
		)
		if err := rows.Scan(&l.GlobalSeq, &l.RunID, &l.Seq, &l.EventHash, &l.PrevHash, &link,
			&when, &kind, &actor, &attrs, &prev, &evHa); err != nil {
			return fmt.Errorf("read chain: %w", err)
		}
		rep.Links++
		var b *Break
		if when.Valid {
			e := telemetry.ChainedEvent{RunID: l.RunID, Seq: l.Seq, Time: when.String, Kind: kind.String,
				Actor: actor.String, Attrs: attrs.String, PrevHash: prev.String}
			hash = evHa.String
			b = w.check(l, link, &e, hash)
		} else {
			b = w.check(l, link, nil, "")
		}
		if b != nil {
			// Finish reading before the extra lookups: the store has one
			// connection.
			_ = rows.Close()
			w.refine(b, l.RunID, hash)
			rep.First = b
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read chain: %w", err)
	}
	rep.First = w.checkpointEnd()
	return nil
}

// check verifies one link and its event (nil when no event row exists).
func (w *walker) check(l telemetry.ChainLink, linkHash string, e *telemetry.ChainedEvent, storedHash string) *Break {
	at := func(what BreakKind, detail string) *Break {
		return &Break{What: what, RunID: l.RunID, Seq: l.Seq, GlobalSeq: l.GlobalSeq, Detail: detail}
	}
	switch {
	case l.GlobalSeq > w.wantGSeq:
		return &Break{What: BreakDeleted, GlobalSeq: l.GlobalSeq,
			Detail: fmt.Sprintf("global chain entries %d..%d missing", w.wantGSeq, l.GlobalSeq-1)}
	case l.GlobalSeq < w.wantGSeq:
		return at(BreakEdited, "global chain entry before the signed base")
	case l.PrevHash != w.prevLink:
		return at(BreakEdited, "global chain link does not follow its predecessor")
	case l.Hash() != linkHash:
		return at(BreakEdited, "global chain entry altered")
	case l.Seq != w.lastSeq[l.RunID]+1 && !w.prunedStart(l.RunID):
		return at(BreakReordered, fmt.Sprintf("chain holds seq %d after %d", l.Seq, w.lastSeq[l.RunID]))
	}
	if want, ok := w.cpHeads[l.GlobalSeq]; ok && want != linkHash {
		return at(BreakEdited, "global chain differs from a signed checkpoint")
	}
	w.wantGSeq++
	w.prevLink = linkHash
	prevEvent, seen := w.lastHash[l.RunID]
	if !seen {
		prevEvent = telemetry.GenesisHash
	}
	w.lastSeq[l.RunID] = l.Seq
	w.lastHash[l.RunID] = l.EventHash
	if e == nil {
		st, has := w.stats[l.RunID]
		switch {
		case w.pruned[l.RunID]:
			return nil
		case !has:
			return at(BreakRunDeleted, "no event of the run is stored and no signed checkpoint pruned it")
		case l.Seq > st.maxSeq:
			return at(BreakTruncated, fmt.Sprintf("run ends at seq %d", st.maxSeq))
		default:
			return at(BreakDeleted, "event missing")
		}
	}
	if !seen && w.pruned[l.RunID] {
		prevEvent = e.PrevHash // its predecessor was pruned with the chain prefix
	}
	if storedHash != l.EventHash || e.Hash() != l.EventHash || e.PrevHash != prevEvent {
		return at(BreakEdited, "event does not match its chain entry")
	}
	return nil
}

// prunedStart reports whether runID is a pruned run not seen yet in the
// walk: its first links may have been removed with the chain's prefix, so
// it may start at any seq.
func (w *walker) prunedStart(runID string) bool {
	_, seen := w.lastSeq[runID]
	return !seen && w.pruned[runID]
}

// refine turns an "edited" break into "reordered" when the event's stored
// hash belongs to another position of the same run.
func (w *walker) refine(b *Break, runID, storedHash string) {
	if b.What != BreakEdited || storedHash == "" || b.RunID == "" {
		return
	}
	var seq int64
	err := w.db.SQL.QueryRowContext(w.ctx,
		`SELECT seq FROM audit_chain WHERE run_id = ? AND event_hash = ? AND seq <> ?`, runID, storedHash, b.Seq).Scan(&seq)
	if err == nil {
		b.What = BreakReordered
		b.Detail = fmt.Sprintf("the event chained as seq %d is stored as seq %d", seq, b.Seq)
	}
}

// checkpointEnd reports a checkpoint whose head lies beyond the end of
// the walked chain: the chain's newest entries were cut off.
func (w *walker) checkpointEnd() *Break {
	last := w.wantGSeq - 1
	for gseq := range w.cpHeads {
		if gseq > last {
			return &Break{What: BreakTruncated, GlobalSeq: last + 1,
				Detail: fmt.Sprintf("a signed checkpoint covers %d chain entries, the chain ends at %d", gseq, last)}
		}
	}
	return nil
}

// unchained finds an event that has no chain entry (inserted behind the
// store's back).
func (db *DB) unchained(ctx context.Context) (*Break, error) {
	var (
		run string
		seq int64
	)
	err := db.SQL.QueryRowContext(ctx, `
		SELECT e.run_id, e.seq FROM events e
		WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.run_id = e.run_id AND c.seq = e.seq)
		ORDER BY e.run_id, e.seq LIMIT 1`).Scan(&run, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("unchained events: %w", err)
	}
	return &Break{What: BreakInserted, RunID: run, Seq: seq, Detail: "event is not in the chain"}, nil
}

// checkHead compares the head row with the end of the chain that was
// walked (lastSeq, lastHash) and checks its signature when there is one
// and a key to check it with (any trusted key: the head may still carry
// the signature of the key used before a rotation).
func (db *DB) checkHead(ctx context.Context, lastSeq int64, lastHash string, keys keyring) (*Break, error) {
	var (
		gseq      int64
		hash, sig string
	)
	if err := db.SQL.QueryRowContext(ctx,
		`SELECT global_seq, hash, signature FROM audit_head WHERE id = 1`).Scan(&gseq, &hash, &sig); err != nil {
		return nil, fmt.Errorf("chain head: %w", err)
	}
	if sig != "" && len(keys) > 0 {
		raw, err := hex.DecodeString(sig)
		if err != nil || !keys.verify(headMessage(gseq, hash), raw) {
			return &Break{What: BreakHeadSig, GlobalSeq: gseq, Detail: "the chain head's signature does not verify"}, nil
		}
	}
	switch {
	case gseq > lastSeq:
		return &Break{What: BreakTruncated, GlobalSeq: lastSeq + 1,
			Detail: fmt.Sprintf("the head records %d chain entries, the chain ends at %d", gseq, lastSeq)}, nil
	case gseq < lastSeq || hash != lastHash:
		return &Break{What: BreakEdited, GlobalSeq: gseq, Detail: "the chain head does not match the chain's end"}, nil
	}
	return nil, nil
}
