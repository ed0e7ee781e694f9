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

// Prune deletes the runs whose newest event is older than before (and that
// are not queued or running): their events, run rows and effects. It first
// verifies the whole trail (a broken trail is never pruned, so a checkpoint
// never blesses tampering), then, in one transaction, deletes, drops the
// chain entries that now lead only to deleted runs (the oldest prefix of
// the global chain), and stores a checkpoint signed with key naming the
// pruned runs, the new base of the chain and its current head. Verify with
// the key's public half still passes on what remains; a forged or edited
// checkpoint fails it.
func (db *DB) Prune(ctx context.Context, before time.Time, key ed25519.PrivateKey) (PruneResult, error) {
	var res PruneResult
	if err := db.requireVerified(ctx, key); err != nil {
		return res, fmt.Errorf("store: prune: %w", err)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res = PruneResult{}
		gseq, head, err := lockHead(ctx, tx)
		if err != nil {
			return err
		}
		if res.Runs, err = pruneCandidates(ctx, tx, formatTime(before)); err != nil || len(res.Runs) == 0 {
			return err
		}
		for _, id := range res.Runs {
			n, err := deleteRun(ctx, tx, id)
			if err != nil {
				return err
			}
			res.Events += n
		}
		base, err := currentBase(ctx, tx, db.trusted(key))
		if err != nil {
			return err
		}
		if base, res.Links, err = advanceBase(ctx, tx, base, gseq); err != nil {
			return err
		}
		return insertCheckpoint(ctx, tx, checkpointBody{Version: 1, CreatedAt: db.timestamp(),
			GlobalSeq: gseq, HeadHash: head, BaseSeq: base.BaseSeq, BaseHash: base.BaseHash,
			Before: formatTime(before), PrunedRuns: res.Runs}, key)
	})
	if err != nil {
		return PruneResult{}, fmt.Errorf("store: prune: %w", err)
	}
	return res, nil
}

// pruneCandidates lists the runs whose newest event is older than before
// and that are not queued or running.
func pruneCandidates(ctx context.Context, tx *sql.Tx, before string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT run_id FROM events
		WHERE run_id NOT IN (SELECT id FROM runs WHERE state IN ('queued', 'running'))
		GROUP BY run_id HAVING MAX(time) < ? ORDER BY run_id`, before)
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
	for _, q := range []string{`DELETE FROM effects WHERE run_id = ?`, `DELETE FROM runs WHERE id = ?`} {
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
