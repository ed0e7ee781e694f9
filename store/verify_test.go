package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"testing"

	"github.com/agentgate/agentgate/telemetry"
)

// appendOrder is the fixture's append order: r1's newest events are not
// the newest of the chain, r3 ends the chain.
var appendOrder = []string{"r1", "r2", "r1", "r1", "r2", "r1", "r1", "r2", "r3"}

// chainFixture opens a store holding appendOrder's events.
func chainFixture(t *testing.T, key ed25519.PrivateKey) *DB {
	t.Helper()
	db, _ := openTemp(t)
	db.SetAuditKey(key)
	ctx := context.Background()
	for i, run := range appendOrder {
		if _, err := db.Append(ctx, telemetry.Event{RunID: run, Kind: "agent.output", Actor: "runner",
			Attrs: map[string]any{"i": i, "nested": map[string]any{"line": "hello"}}}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// execAll runs raw SQL statements against the store, as an attacker with
// write access to the database file would.
func execAll(t *testing.T, db *DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.SQL.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// rehashRun recomputes the stored hashes of runID's events, as a careful
// attacker who edited one would, so the run's own chain is consistent.
func rehashRun(t *testing.T, db *DB, runID string) {
	t.Helper()
	rows, err := db.SQL.Query(`SELECT seq, time, kind, actor, attrs FROM events WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		t.Fatal(err)
	}
	var evs []telemetry.ChainedEvent
	for rows.Next() {
		e := telemetry.ChainedEvent{RunID: runID}
		if err := rows.Scan(&e.Seq, &e.Time, &e.Kind, &e.Actor, &e.Attrs); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	_ = rows.Close()
	prev := telemetry.GenesisHash
	for _, e := range evs {
		e.PrevHash = prev
		prev = e.Hash()
		execAllArgs(t, db, `UPDATE events SET prev_hash = ?, hash = ? WHERE run_id = ? AND seq = ?`, e.PrevHash, prev, runID, e.Seq)
	}
}

func execAllArgs(t *testing.T, db *DB, q string, args ...any) {
	t.Helper()
	if _, err := db.SQL.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestVerifyCatchesTampering(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		pub := key.Public().(ed25519.PublicKey)
		tests := []struct {
			name    string
			tamper  func(t *testing.T, db *DB)
			want    BreakKind // "" for a trail that verifies
			wantRun string
			wantSeq int64
		}{
			{name: "untouched", tamper: func(*testing.T, *DB) {}},
			{name: "edit attrs", want: BreakEdited, wantRun: "r1", wantSeq: 2, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `UPDATE events SET attrs = '{"i":99}' WHERE run_id = 'r1' AND seq = 2`)
			}},
			{name: "edit actor and rehash the run", want: BreakEdited, wantRun: "r1", wantSeq: 3, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `UPDATE events SET actor = 'someone-else' WHERE run_id = 'r1' AND seq = 3`)
				rehashRun(t, db, "r1")
			}},
			{name: "edit time", want: BreakEdited, wantRun: "r2", wantSeq: 1, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `UPDATE events SET time = '2001-01-01T00:00:00.000000000Z' WHERE run_id = 'r2' AND seq = 1`)
			}},
			{name: "edit chain entry", want: BreakEdited, wantRun: "r2", wantSeq: 2, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `UPDATE audit_chain SET event_hash = 'x' WHERE run_id = 'r2' AND seq = 2`)
			}},
			{name: "delete event", want: BreakDeleted, wantRun: "r1", wantSeq: 3, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `DELETE FROM events WHERE run_id = 'r1' AND seq = 3`)
			}},
			{name: "delete event and renumber", want: BreakReordered, wantRun: "r1", wantSeq: 3, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `DELETE FROM events WHERE run_id = 'r1' AND seq = 3`,
					`UPDATE events SET seq = seq - 1 WHERE run_id = 'r1' AND seq > 3`)
			}},
			{name: "reorder", want: BreakReordered, wantRun: "r1", wantSeq: 2, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `UPDATE events SET seq = -1 WHERE run_id = 'r1' AND seq = 2`,
					`UPDATE events SET seq = 2 WHERE run_id = 'r1' AND seq = 3`,
					`UPDATE events SET seq = 3 WHERE run_id = 'r1' AND seq = -1`)
			}},
			{name: "truncate a run", want: BreakTruncated, wantRun: "r1", wantSeq: 4, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `DELETE FROM events WHERE run_id = 'r1' AND seq >= 4`)
			}},
			{name: "truncate a run and its chain entries", want: BreakDeleted, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `DELETE FROM events WHERE run_id = 'r1' AND seq >= 4`,
					`DELETE FROM audit_chain WHERE run_id = 'r1' AND seq >= 4`)
			}},
			{name: "truncate the chain's tail", want: BreakTruncated, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `DELETE FROM events WHERE run_id = 'r3'`, `DELETE FROM audit_chain WHERE run_id = 'r3'`)
			}},
			{name: "truncate the chain's tail and rewind the head", want: BreakHeadSig, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `DELETE FROM events WHERE run_id = 'r3'`, `DELETE FROM audit_chain WHERE run_id = 'r3'`,
					`UPDATE audit_head SET global_seq = global_seq - 1,
				   hash = (SELECT hash FROM audit_chain ORDER BY global_seq DESC LIMIT 1)`)
			}},
			{name: "delete a run", want: BreakRunDeleted, wantRun: "r2", wantSeq: 1, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `DELETE FROM events WHERE run_id = 'r2'`)
			}},
			{name: "delete a run and its chain entries", want: BreakDeleted, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `DELETE FROM events WHERE run_id = 'r2'`, `DELETE FROM audit_chain WHERE run_id = 'r2'`)
			}},
			{name: "insert an event", want: BreakInserted, wantRun: "r1", wantSeq: 6, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `INSERT INTO events (run_id, seq, time, kind, actor, attrs, prev_hash, hash)
				SELECT run_id, 6, time, kind, actor, attrs, prev_hash, hash FROM events WHERE run_id = 'r1' AND seq = 5`)
			}},
			{name: "forge a checkpoint", want: BreakCheckpoint, tamper: func(t *testing.T, db *DB) {
				execAll(t, db, `INSERT INTO audit_checkpoints (id, created_at, body, signature)
				VALUES (1, 'x', '{"version":1,"pruned_runs":["r2"]}', '00')`, `DELETE FROM events WHERE run_id = 'r2'`)
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				db := chainFixture(t, key)
				tt.tamper(t, db)
				rep, err := db.Verify(context.Background(), pub)
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == "" {
					if !rep.OK() || rep.Events != len(appendOrder) || rep.Links != len(appendOrder) || rep.Runs != 3 {
						t.Fatalf("untouched store: %+v, first %v", rep, rep.First)
					}
					return
				}
				if rep.OK() {
					t.Fatalf("tampering not caught: %+v", rep)
				}
				b := rep.First
				if b.What != tt.want || (tt.wantRun != "" && (b.RunID != tt.wantRun || b.Seq != tt.wantSeq)) {
					t.Fatalf("first break %q, want %s at %s/%d", b, tt.want, tt.wantRun, tt.wantSeq)
				}
			})
		}
	})
}

func TestRunHead(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		db := chainFixture(t, nil)
		ctx := context.Background()
		h, err := db.RunHead(ctx, "r1")
		if err != nil {
			t.Fatal(err)
		}
		var last string
		if err := db.SQL.QueryRow(`SELECT hash FROM events WHERE run_id = 'r1' AND seq = 5`).Scan(&last); err != nil {
			t.Fatal(err)
		}
		if h != last || len(h) != 64 {
			t.Fatalf("RunHead = %q, want the hash of seq 5 %q", h, last)
		}
		// A later event (a merge) extends the run's chain from that head.
		ev, err := db.Append(ctx, telemetry.Event{RunID: "r1", Kind: "pr.merged", Actor: "octocat"})
		if err != nil {
			t.Fatal(err)
		}
		var prev string
		if err := db.SQL.QueryRow(`SELECT prev_hash FROM events WHERE run_id = 'r1' AND seq = ?`, ev.Seq).Scan(&prev); err != nil {
			t.Fatal(err)
		}
		if ev.Seq != 6 || prev != h {
			t.Fatalf("merge event seq %d prev %q, want 6 after %q", ev.Seq, prev, h)
		}
		if _, err := db.RunHead(ctx, "nope"); err == nil {
			t.Fatal("RunHead of a run without events succeeded")
		}
		if rep, err := db.Verify(ctx, nil); err != nil || !rep.OK() {
			t.Fatalf("Verify: %v %v", err, rep.First)
		}
	})
}

func TestChainExistingEvents(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		// Events stored before the audit migration are chained by it.
		db, _ := openTemp(t)
		ctx := context.Background()
		execAll(t, db, `DELETE FROM audit_chain`, `UPDATE audit_head SET global_seq = 0, hash = '`+telemetry.GenesisHash+`'`,
			`INSERT INTO events (run_id, seq, time, kind, actor, attrs) VALUES
		 ('old', 1, '2024-01-01T00:00:00.000000000Z', 'run.queued', 'webhook', '{}'),
		 ('old', 2, '2024-01-01T00:00:01.000000000Z', 'run.finished', 'app', '{"outcome":"succeeded"}')`)
		err := db.inTx(ctx, func(tx *sql.Tx) error { return chainExistingEvents(ctx, tx) })
		if err != nil {
			t.Fatal(err)
		}
		rep, err := db.Verify(ctx, nil)
		if err != nil || !rep.OK() || rep.Links != 2 {
			t.Fatalf("Verify after chaining old events: %v %+v %v", err, rep, rep.First)
		}
	})
}
