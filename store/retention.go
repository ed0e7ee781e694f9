package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PruneResult is what Prune removed.
type PruneResult struct {
	Runs   []string // the runs deleted
	Events int64    // the events deleted
	Links  int64    // global chain entries removed behind the new base
}

// pruneBatch is how many runs one prune transaction deletes: the write
// lock (SQLite's, or the chain head's row lock) is held for one batch at a
// time, so intake and the workers get it between batches.
var pruneBatch = 50

// Prune deletes the runs whose newest event is older than before (and that
// are not queued or running): their events, run rows and effects. It first
// verifies the whole trail (a broken trail is never pruned, so a checkpoint
// never blesses tampering), then, in transactions of at most pruneBatch
// runs each, deletes, drops the chain entries that now lead only to
// deleted runs (the oldest prefix of the global chain), and stores a
// checkpoint signed with key naming the runs that transaction pruned, the
// new base of the chain and the head it verified. Verify with the key's
// public half still passes on what remains; a forged or edited checkpoint
// fails it.
func (db *DB) Prune(ctx context.Context, before time.Time, key ed25519.PrivateKey) (PruneResult, error) {
	var res PruneResult
	if key == nil {
		return res, errors.New("store: prune: no audit key")
	}
	rep, err := db.verify(ctx, db.trusted(key))
	if err != nil {
		return res, fmt.Errorf("store: prune: %w", err)
	}
	if rep.First != nil {
		return res, fmt.Errorf("store: prune: audit trail does not verify: %s", rep.First)
	}
	for {
		var batch PruneResult
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			batch = PruneResult{}
			gseq, head, err := lockHead(ctx, tx)
			if err != nil {
				return err
			}
			if batch.Runs, err = pruneCandidates(ctx, tx, formatTime(before), pruneBatch); err != nil || len(batch.Runs) == 0 {
				return err
			}
			for _, id := range batch.Runs {
				n, err := deleteRun(ctx, tx, id)
				if err != nil {
					return err
				}
				batch.Events += n
			}
			base, err := currentBase(ctx, tx, db.trusted(key))
			if err != nil {
				return err
			}
			if base, batch.Links, err = advanceBase(ctx, tx, base, gseq); err != nil {
				return err
			}
			// The checkpoint signs the head verified above while it is
			// still in the chain, else the head now (nothing was
			// appended since the last verified position).
			cpSeq, cpHash := rep.HeadSeq, rep.Head
			if cpSeq <= base.BaseSeq {
				cpSeq, cpHash = gseq, head
			}
			return insertCheckpoint(ctx, tx, checkpointBody{Version: 1, CreatedAt: db.timestamp(),
				GlobalSeq: cpSeq, HeadHash: cpHash, BaseSeq: base.BaseSeq, BaseHash: base.BaseHash,
				Before: formatTime(before), PrunedRuns: batch.Runs}, key)
		})
		if err != nil {
			return res, fmt.Errorf("store: prune: %w", err)
		}
		res.Runs = append(res.Runs, batch.Runs...)
		res.Events += batch.Events
		res.Links += batch.Links
		if len(batch.Runs) < pruneBatch {
			return res, nil
		}
	}
}

// pruneCandidates lists up to limit runs whose newest event is older than
// before and that are not queued or running.
func pruneCandidates(ctx context.Context, tx *sql.Tx, before string, limit int) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT run_id FROM events
		WHERE run_id NOT IN (SELECT id FROM runs WHERE state IN ('queued', 'running'))
		GROUP BY run_id HAVING MAX(time) < ? ORDER BY run_id LIMIT ?`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("prune candidates: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("prune candidates: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("prune candidates: %w", err)
	}
	return ids, nil
}

// deleteRun deletes one run's events, effects and run row, returning the
// number of events deleted.
func deleteRun(ctx context.Context, tx *sql.Tx, id string) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE run_id = ?`, id)
	if err != nil {
		return 0, fmt.Errorf("delete run %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete run %s: %w", id, err)
	}
	for _, q := range []string{`DELETE FROM effects WHERE run_id = ?`, `DELETE FROM kept_changes WHERE run_id = ?`, `DELETE FROM runs WHERE id = ?`} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return 0, fmt.Errorf("delete run %s: %w", id, err)
		}
	}
	return n, nil
}

// advanceBase removes the prefix of the global chain whose entries all lead
// to deleted events, and returns the new base (the last removed entry and
// its hash) and the number of entries removed. head is the last entry.
func advanceBase(ctx context.Context, tx *sql.Tx, base checkpointBody, head int64) (checkpointBody, int64, error) {
	var first sql.NullInt64
	if err := tx.QueryRowContext(ctx, `
		SELECT MIN(c.global_seq) FROM audit_chain c
		JOIN events e ON e.run_id = c.run_id AND e.seq = c.seq`).Scan(&first); err != nil {
		return base, 0, fmt.Errorf("first live chain entry: %w", err)
	}
	newBase := head
	if first.Valid {
		newBase = first.Int64 - 1
	}
	if newBase <= base.BaseSeq {
		return base, 0, nil
	}
	var hash string
	err := tx.QueryRowContext(ctx, `SELECT hash FROM audit_chain WHERE global_seq = ?`, newBase).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return base, 0, fmt.Errorf("chain entry %d missing", newBase)
	}
	if err != nil {
		return base, 0, fmt.Errorf("chain entry %d: %w", newBase, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM audit_chain WHERE global_seq <= ?`, newBase)
	if err != nil {
		return base, 0, fmt.Errorf("remove chain prefix: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return base, 0, fmt.Errorf("remove chain prefix: %w", err)
	}
	return checkpointBody{BaseSeq: newBase, BaseHash: hash}, n, nil
}

// TableCounts are the rows PruneRecords deleted, by table.
type TableCounts struct {
	Deliveries, Replies, Feedback int64
	// KeptChanges are harvested changes a run kept for its push and
	// never dropped (its worker stopped for good in between).
	KeptChanges int64
}

// recordTables are the tables PruneRecords prunes: what each keeps, the
// time column and the key the batched delete selects by.
var recordTables = []struct{ table, timeCol, key string }{
	{"deliveries", "received_at", "delivery_id"},
	{"replies", "created_at", "reply_key"},
	{"feedback", "created_at", "pr_key || ' ' || item_key"},
	{"kept_changes", "created_at", "run_id"},
}

// PruneRecords deletes the intake and command records older than before:
// delivery ids (GitHub redelivers a failed delivery only on request, within
// days), reply claims and follow-up feedback. It deletes in batches of
// pruneBatch*20 rows, each its own transaction, so the write lock is never
// held for long.
func (db *DB) PruneRecords(ctx context.Context, before time.Time) (TableCounts, error) {
	var counts TableCounts
	dst := []*int64{&counts.Deliveries, &counts.Replies, &counts.Feedback, &counts.KeptChanges}
	for i, t := range recordTables {
		q := `DELETE FROM ` + t.table + ` WHERE ` + t.key + ` IN (SELECT ` + t.key + ` FROM ` + t.table +
			` WHERE ` + t.timeCol + ` < ? LIMIT ?)`
		for {
			res, err := db.SQL.ExecContext(ctx, q, formatTime(before), pruneBatch*20)
			if err != nil {
				return counts, fmt.Errorf("store: prune %s: %w", t.table, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return counts, fmt.Errorf("store: prune %s: %w", t.table, err)
			}
			*dst[i] += n
			if n < int64(pruneBatch*20) {
				break
			}
		}
	}
	return counts, nil
}
