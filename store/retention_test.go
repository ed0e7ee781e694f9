package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentgate/agentgate/telemetry"
)

// pruneFixture stores old runs (a, b) and new runs (c, and d interleaved
// with the old ones) with a controlled clock, and returns the store and the
// time between them.
func pruneFixture(t *testing.T) (*DB, time.Time) {
	t.Helper()
	db, _ := openTemp(t)
	ctx := context.Background()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	db.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	add := func(run string) {
		if _, err := db.Append(ctx, telemetry.Event{RunID: run, Kind: "agent.output", Actor: "runner"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []string{"a", "b", "a", "d", "b", "a"} {
		add(r)
	}
	cut := clock.Add(time.Hour)
	clock = cut.Add(time.Hour)
	for _, r := range []string{"c", "d", "c"} {
		add(r)
	}
	if _, err := db.EnsureRun(ctx, Run{ID: "a", Repo: "o/r", State: "succeeded"}); err != nil {
		t.Fatal(err)
	}
	return db, cut
}

func TestPrune(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		ctx := context.Background()
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		_, other, _ := ed25519.GenerateKey(rand.Reader)
		pub := key.Public().(ed25519.PublicKey)
		tests := []struct {
			name   string
			tamper func(t *testing.T, db *DB)
			pub    ed25519.PublicKey
			want   BreakKind
		}{
			{name: "verifies after prune", pub: pub},
			{name: "no key", want: BreakUnverifiable},
			{name: "another key", pub: other.Public().(ed25519.PublicKey), want: BreakCheckpoint},
			{name: "checkpoint body edited", pub: pub, want: BreakCheckpoint, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `UPDATE audit_checkpoints SET body = REPLACE(body, '"a"', '"c"')`)
			}},
			{name: "checkpoint deleted", pub: pub, want: BreakDeleted, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `DELETE FROM audit_checkpoints`)
			}},
			{name: "a new run deleted after prune", pub: pub, want: BreakRunDeleted, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `DELETE FROM events WHERE run_id = 'c'`)
			}},
			{name: "checkpoint forged with another key", pub: pub, want: BreakCheckpoint, tamper: func(t *testing.T, db *DB) {
				if err := db.inTx(ctx, func(tx *sql.Tx) error {
					return insertCheckpoint(ctx, tx, checkpointBody{Version: 1, PrunedRuns: []string{"c"}}, other)
				}); err != nil {
					t.Fatal(err)
				}
				execAll(t, db, `DELETE FROM events WHERE run_id = 'c'`)
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				db, cut := pruneFixture(t)
				res, err := db.Prune(ctx, cut, key)
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Runs) != 2 || res.Runs[0] != "a" || res.Runs[1] != "b" || res.Events != 5 || res.Links != 3 {
					t.Fatalf("Prune = %+v, want runs a and b, 5 events, the first 3 links", res)
				}
				if _, err := db.GetRun(ctx, "a"); err == nil {
					t.Fatal("run row a survived the prune")
				}
				if tt.tamper != nil {
					tt.tamper(t, db)
				}
				rep, err := db.Verify(ctx, tt.pub)
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == "" {
					if !rep.OK() || rep.Pruned != 2 || rep.Events != 4 || rep.Runs != 2 || rep.Checkpoints != 1 {
						t.Fatalf("after prune: %+v, first %v", rep, rep.First)
					}
					// Appending and pruning again keep the trail verifiable.
					if _, err := db.Append(ctx, telemetry.Event{RunID: "c", Kind: "pr.merged", Actor: "octocat"}); err != nil {
						t.Fatal(err)
					}
					if err := db.Checkpoint(ctx, key); err != nil {
						t.Fatal(err)
					}
					if res, err := db.Prune(ctx, cut.Add(24*time.Hour), key); err != nil || len(res.Runs) != 2 {
						t.Fatalf("second prune: %+v, %v", res, err)
					}
					if rep, err := db.Verify(ctx, pub); err != nil || !rep.OK() || rep.Events != 0 {
						t.Fatalf("after second prune: %v %+v %v", err, rep, rep.First)
					}
					if _, err := db.Append(ctx, telemetry.Event{RunID: "e", Kind: "run.queued"}); err != nil {
						t.Fatal(err)
					}
					if rep, err := db.Verify(ctx, pub); err != nil || !rep.OK() || rep.Events != 1 {
						t.Fatalf("after append to an emptied store: %v %+v %v", err, rep, rep.First)
					}
					return
				}
				if rep.OK() || rep.First.What != tt.want {
					t.Fatalf("first break %v, want %s", rep.First, tt.want)
				}
			})
		}
	})
}

func TestPruneRefusesBrokenTrail(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		db, cut := pruneFixture(t)
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		execAll(t, db, `UPDATE events SET attrs = '{"x":1}' WHERE run_id = 'a' AND seq = 1`)
		if _, err := db.Prune(context.Background(), cut, key); err == nil {
			t.Fatal("Prune blessed an edited trail")
		}
		if err := db.Checkpoint(context.Background(), key); err == nil {
			t.Fatal("Checkpoint blessed an edited trail")
		}
	})
}

func TestCheckpointCatchesRewoundHead(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		// Without a head signature, a checkpoint anchors the chain: cutting
		// entries it covers is caught even when the head row is rewound.
		db := chainFixture(t, nil)
		ctx := context.Background()
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		if err := db.Checkpoint(ctx, key); err != nil {
			t.Fatal(err)
		}
		execAll(t, db, `DELETE FROM events WHERE run_id = 'r3'`, `DELETE FROM audit_chain WHERE run_id = 'r3'`,
			`UPDATE audit_head SET global_seq = global_seq - 1,
		   hash = (SELECT hash FROM audit_chain ORDER BY global_seq DESC LIMIT 1)`)
		rep, err := db.Verify(ctx, key.Public().(ed25519.PublicKey))
		if err != nil || rep.OK() || rep.First.What != BreakTruncated {
			t.Fatalf("rewound chain: %v %+v", err, rep.First)
		}
	})
}

func TestLoadAuditKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "audit.pem")
	if _, err := LoadAuditKey(path, false); err == nil {
		t.Fatal("loaded a missing key without create")
	}
	k1, err := LoadAuditKey(path, true)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	k2, err := LoadAuditKey(path, true)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("reloaded key differs: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadAuditKey(bad, true); err == nil {
		t.Fatal("loaded garbage as a key")
	}
}
