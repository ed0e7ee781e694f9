package store

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/pgtest"
	"github.com/agentgate/agentgate/telemetry"
)

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE x = ? AND y = ?", "SELECT a FROM t WHERE x = $1 AND y = $2"},
		{"INSERT INTO t VALUES (?, '?', \"?\", ?)", "INSERT INTO t VALUES ($1, '?', \"?\", $2)"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		// Postgres SQL already: '?' is the JSON key operator there.
		{"SELECT * FROM river_job WHERE args ? 'k' AND id = $1", "SELECT * FROM river_job WHERE args ? 'k' AND id = $1"},
	}
	for _, tt := range tests {
		if got := rebind(tt.in); got != tt.want {
			t.Errorf("rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPostgresReplicasStartTogether opens one database from several
// replicas at once: the advisory lock serializes the migrations, so every
// Open succeeds and each migration is recorded once.
func TestPostgresReplicasStartTogether(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const replicas = 4
	dbs := make([]*DB, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = Open(ctx, url)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Open: %v", i, err)
		}
		t.Cleanup(func() { _ = dbs[i].Close() })
	}
	var versions int
	if err := dbs[0].SQL.QueryRowContext(ctx, "SELECT COUNT(*) FROM agentgate_migrations").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != len(migrations) {
		t.Fatalf("agentgate_migrations has %d rows, want %d", versions, len(migrations))
	}
	var heads int
	if err := dbs[1].SQL.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_head").Scan(&heads); err != nil || heads != 1 {
		t.Fatalf("audit_head rows = %d (%v), want 1", heads, err)
	}
}

// TestPostgresAppendersFromSeveralProcesses appends from several
// independent pools (as separate agentgate processes would) on one
// database: the head row lock serializes them into one global chain that
// verifies, with each run's seqs gapless.
func TestPostgresAppendersFromSeveralProcesses(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	const procs, goroutines, each = 3, 4, 10
	var dbs []*DB
	for range procs {
		db, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		db.SetAuditKey(key)
		t.Cleanup(func() { _ = db.Close() })
		dbs = append(dbs, db)
	}
	var wg sync.WaitGroup
	errs := make(chan error, procs*goroutines*each)
	for p, db := range dbs {
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					// Two runs shared by every process, one of its own.
					run := []string{"shared-a", "shared-b", fmt.Sprintf("own-%d", p)}[i%3]
					if _, err := db.Append(ctx, telemetry.Event{RunID: run, Kind: "agent.output",
						Actor: fmt.Sprintf("p%d-g%d-%d", p, g, i)}); err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep, err := dbs[0].Verify(ctx, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("chain does not verify: %v", rep.First)
	}
	if rep.Links != procs*goroutines*each {
		t.Fatalf("verified %d links, want %d", rep.Links, procs*goroutines*each)
	}
	for _, run := range []string{"shared-a", "shared-b", "own-0"} {
		evs, err := dbs[2].Events(ctx, run)
		if err != nil {
			t.Fatal(err)
		}
		for i, ev := range evs {
			if ev.Seq != int64(i+1) {
				t.Fatalf("run %s event %d has seq %d: not gapless", run, i, ev.Seq)
			}
		}
	}
}
