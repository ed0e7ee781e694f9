package store

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/agentgate/agentgate/telemetry"
)

// BenchmarkAppend measures chained, redacted appends (events/s is reported).
func BenchmarkAppend(b *testing.B) {
	path := b.TempDir() + "/bench.db"
	db, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	ctx := context.Background()
	attrs := map[string]any{"exit_code": 0, "output_tail": "ok\nPASS\nok  \tgithub.com/x/y\t0.01s", "argv": []string{"go", "test", "./..."}}
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		if _, err := db.Append(ctx, telemetry.Event{RunID: "run-" + strconv.Itoa(i/20), Kind: "agent.command", Actor: "runner", Attrs: attrs}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkVerify measures Verify over a bulk-inserted chain of
// AGENTGATE_BENCH_VERIFY_EVENTS events (default 100000; the figure in the
// report is for 1000000), 20 events per run.
func BenchmarkVerify(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("AGENTGATE_BENCH_VERIFY_EVENTS")); err == nil && v > 0 {
		n = v
	}
	db, err := Open(context.Background(), b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	ctx := context.Background()
	genStart := time.Now()
	if err := bulkChain(ctx, db, n); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d events in %v", n, time.Since(genStart))
	b.ResetTimer()
	for b.Loop() {
		rep, err := db.Verify(ctx, nil)
		if err != nil || !rep.OK() || rep.Events != n {
			b.Fatalf("Verify: %v %+v %v", err, rep, rep.First)
		}
	}
	b.ReportMetric(float64(n), "events")
}

// bulkChain inserts n chained events in one transaction, as Append would
// have chained them.
func bulkChain(ctx context.Context, db *DB, n int) error {
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = rollback(tx) }()
	insEv, err := tx.PrepareContext(ctx, `INSERT INTO events (run_id, seq, time, kind, actor, attrs, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	insLink, err := tx.PrepareContext(ctx, `INSERT INTO audit_chain (global_seq, run_id, seq, event_hash, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
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
			return err
		}
		l := telemetry.ChainLink{GlobalSeq: int64(i + 1), RunID: run, Seq: e.Seq, EventHash: h, PrevHash: link}
		link = l.Hash()
		if _, err := insLink.ExecContext(ctx, l.GlobalSeq, l.RunID, l.Seq, l.EventHash, l.PrevHash, link); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET global_seq = ?, hash = ? WHERE id = 1`, n, link); err != nil {
		return err
	}
	return tx.Commit()
}
