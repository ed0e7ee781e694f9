package store

import (
	"context"
	"fmt"
	"time"

	"github.com/agentgate/agentgate/telemetry"
)

// SeedChain inserts n synthetic events (20 per run, a fixed command) in
// one transaction, chained exactly as Append chains them (run chain and
// global chain), so that Verify has a real chain to check without n
// separate appends. It is for benchmarks and tests of Verify, on an
// otherwise empty store.
func (db *DB) SeedChain(ctx context.Context, n int) error {
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: seed chain: %w", err)
	}
	defer func() { _ = rollback(tx) }()
	insEv, err := tx.PrepareContext(ctx, `INSERT INTO events (run_id, seq, time, kind, actor, attrs, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store: seed chain: %w", err)
	}
	insLink, err := tx.PrepareContext(ctx, `INSERT INTO audit_chain (global_seq, run_id, seq, event_hash, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store: seed chain: %w", err)
	}
	link := telemetry.GenesisHash
	prev := map[string]string{}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		run := fmt.Sprintf("run-%07d", i/20)
		e := telemetry.ChainedEvent{RunID: run, Seq: int64(i%20 + 1), Time: formatTime(t0.Add(time.Duration(i) * time.Millisecond)),
			Kind: "agent.command", Actor: "runner", Attrs: `{"argv":["go","test","./..."],"exit_code":0}`, PrevHash: telemetry.GenesisHash}
		if p, ok := prev[run]; ok {
			e.PrevHash = p
		}
		h := e.Hash()
		prev[run] = h
		if _, err := insEv.ExecContext(ctx, e.RunID, e.Seq, e.Time, e.Kind, e.Actor, e.Attrs, e.PrevHash, h); err != nil {
			return fmt.Errorf("store: seed chain: %w", err)
		}
		l := telemetry.ChainLink{GlobalSeq: int64(i + 1), RunID: run, Seq: e.Seq, EventHash: h, PrevHash: link}
		link = l.Hash()
		if _, err := insLink.ExecContext(ctx, l.GlobalSeq, l.RunID, l.Seq, l.EventHash, l.PrevHash, link); err != nil {
			return fmt.Errorf("store: seed chain: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET global_seq = ?, hash = ? WHERE id = 1`, n, link); err != nil {
		return fmt.Errorf("store: seed chain: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: seed chain: %w", err)
	}
	return nil
}
