package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"
)

// TestPruneInBatches checks that Prune deletes at most pruneBatch runs per
// transaction, each behind its own signed checkpoint, and that the trail
// still verifies after it (positive control: the same prune in one batch).
func TestPruneInBatches(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		for _, tt := range []struct {
			batch, checkpoints int
		}{{batch: 1, checkpoints: 2}, {batch: 50, checkpoints: 1}} {
			ctx := context.Background()
			_, key, _ := ed25519.GenerateKey(rand.Reader)
			db, cut := pruneFixture(t)
			db.SetAuditKey(key)
			old := pruneBatch
			pruneBatch = tt.batch
			res, err := db.Prune(ctx, cut, key)
			pruneBatch = old
			if err != nil || len(res.Runs) != 2 {
				t.Fatalf("batch %d: Prune = %+v, %v", tt.batch, res, err)
			}
			rep, err := db.Verify(ctx, key.Public().(ed25519.PublicKey))
			if err != nil || !rep.OK() || rep.Checkpoints != tt.checkpoints || rep.Pruned != 2 {
				t.Fatalf("batch %d: Verify = %+v, %v; want %d checkpoints", tt.batch, rep, err, tt.checkpoints)
			}
		}
	})
}

// TestPruneRecords checks that deliveries, reply claims and feedback older
// than the cut are deleted, in batches, and newer ones kept.
func TestPruneRecords(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		ctx := context.Background()
		db, _ := openTemp(t)
		cut := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		oldT, newT := formatTime(cut.Add(-time.Hour)), formatTime(cut.Add(time.Hour))
		for i, when := range []string{oldT, oldT, oldT, newT} {
			id := string(rune('a' + i))
			execAllArgs(t, db, `INSERT INTO deliveries (delivery_id, event, received_at) VALUES (?, 'issues', ?)`, "d-"+id, when)
			execAllArgs(t, db, `INSERT INTO replies (reply_key, created_at) VALUES (?, ?)`, "r-"+id, when)
			execAllArgs(t, db, `INSERT INTO feedback (pr_key, item_key, author, body, path, line, created_at) VALUES ('pr', ?, 'a', 'b', '', 0, ?)`, "i-"+id, when)
		}
		old := pruneBatch
		pruneBatch = 1 // 20 rows a batch: still one batch here
		defer func() { pruneBatch = old }()
		got, err := db.PruneRecords(ctx, cut)
		if err != nil || got != (TableCounts{Deliveries: 3, Replies: 3, Feedback: 3}) {
			t.Fatalf("PruneRecords = %+v, %v", got, err)
		}
		for _, table := range []string{"deliveries", "replies", "feedback"} {
			var n int
			if err := db.SQL.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil || n != 1 {
				t.Errorf("%s: %d rows left, want 1 (%v)", table, n, err)
			}
		}
		var id string
		if err := db.SQL.QueryRow(`SELECT delivery_id FROM deliveries`).Scan(&id); err != nil || id != "d-d" {
			t.Errorf("kept delivery %q (%v), want the new one", id, err)
		}
	})
}
