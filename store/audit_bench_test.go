package store

import (
	"context"
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
	if err := db.SeedChain(ctx, n); err != nil {
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
