package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// checkpointBody is what a signed checkpoint asserts: the global chain
// verified up to GlobalSeq with head HeadHash; the runs in PrunedRuns were
// deleted by retention (their chain entries may remain, their events may
// not); chain entries up to BaseSeq were removed and the entry BaseSeq had
// hash BaseHash, which the first remaining entry must follow.
type checkpointBody struct {
	Version    int      `json:"version"`
	CreatedAt  string   `json:"created_at"`
	GlobalSeq  int64    `json:"global_seq"`
	HeadHash   string   `json:"head_hash"`
	BaseSeq    int64    `json:"base_seq"`
	BaseHash   string   `json:"base_hash,omitempty"`
	Before     string   `json:"before,omitempty"`
	PrunedRuns []string `json:"pruned_runs,omitempty"`
	// KeyID names the key that signed the checkpoint (AuditKeyID), so
	// that after a rotation a verifier can say which trusted key is
	// missing. Checkpoints signed before it existed have none.
	KeyID string `json:"key_id,omitempty"`
}

// storedCheckpoint is a checkpoint row: the signed body as stored.
type storedCheckpoint struct {
	id        int64
	body      string
	signature string
}

// checkpointMessage is what a checkpoint signature covers.
func checkpointMessage(body string) []byte {
	return []byte("agentgate.checkpoint.v1\n" + body)
}

// open checks the checkpoint's signature with the trusted keys and
// decodes its body. Only a body whose signature verifies is ever used; the
// error names the key id the body claims, to say which key is missing.
func (c storedCheckpoint) open(keys keyring) (checkpointBody, error) {
	sig, err := hex.DecodeString(c.signature)
	if err != nil || !keys.verify(checkpointMessage(c.body), sig) {
		var claimed checkpointBody
		if json.Unmarshal([]byte(c.body), &claimed) == nil && claimed.KeyID != "" {
			return checkpointBody{}, fmt.Errorf("signature does not verify with any of the %d trusted audit keys (it names key %s)", len(keys), claimed.KeyID)
		}
		return checkpointBody{}, fmt.Errorf("signature does not verify with any of the %d trusted audit keys", len(keys))
	}
	var b checkpointBody
	if err := json.Unmarshal([]byte(c.body), &b); err != nil || b.Version != 1 {
		return checkpointBody{}, errors.New("unreadable body")
	}
	return b, nil
}

// checkpoints reads every checkpoint row in order.
func (db *DB) checkpoints(ctx context.Context) ([]storedCheckpoint, error) {
	rows, err := db.SQL.QueryContext(ctx, `SELECT id, body, signature FROM audit_checkpoints ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []storedCheckpoint
	for rows.Next() {
		var c storedCheckpoint
		if err := rows.Scan(&c.id, &c.body, &c.signature); err != nil {
			return nil, fmt.Errorf("checkpoints: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	return out, nil
}

// insertCheckpoint signs body with key and stores it, in tx.
func insertCheckpoint(ctx context.Context, tx *sql.Tx, body checkpointBody, key ed25519.PrivateKey) error {
	body.KeyID = AuditKeyID(key.Public().(ed25519.PublicKey))
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	sig := hex.EncodeToString(ed25519.Sign(key, checkpointMessage(string(raw))))
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO audit_checkpoints (id, created_at, body, signature)
		 VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM audit_checkpoints), ?, ?, ?)`,
		body.CreatedAt, string(raw), sig); err != nil {
		return fmt.Errorf("checkpoint: insert: %w", err)
	}
	return nil
}

// lockHead takes the chain head's write lock in tx and returns it.
func lockHead(ctx context.Context, tx *sql.Tx) (int64, string, error) {
	var (
		gseq int64
		hash string
	)
	if err := tx.QueryRowContext(ctx,
		`UPDATE audit_head SET global_seq = global_seq WHERE id = 1 RETURNING global_seq, hash`).Scan(&gseq, &hash); err != nil {
		return 0, "", fmt.Errorf("lock chain head: %w", err)
	}
	return gseq, hash, nil
}

// Checkpoint signs the current global chain head with key and stores the
// checkpoint, after checking the whole trail: from then on Verify catches
// the chain being cut back behind that point even when the head row is
// rewritten. Run it periodically (or after each run) to anchor the chain.
func (db *DB) Checkpoint(ctx context.Context, key ed25519.PrivateKey) error {
	if err := db.requireVerified(ctx, key); err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		gseq, hash, err := lockHead(ctx, tx)
		if err != nil {
			return err
		}
		base, err := currentBase(ctx, tx, db.trusted(key))
		if err != nil {
			return err
		}
		return insertCheckpoint(ctx, tx, checkpointBody{Version: 1, CreatedAt: db.timestamp(),
			GlobalSeq: gseq, HeadHash: hash, BaseSeq: base.BaseSeq, BaseHash: base.BaseHash}, key)
	})
	if err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	return nil
}

// requireVerified runs Verify with the trusted keys (key's public half and
// those set by SetTrustedAuditKeys) and turns a broken trail into an
// error: a checkpoint must never bless tampering.
func (db *DB) requireVerified(ctx context.Context, key ed25519.PrivateKey) error {
	if key == nil {
		return errors.New("no audit key")
	}
	rep, err := db.verify(ctx, db.trusted(key))
	if err != nil {
		return err
	}
	if rep.First != nil {
		return fmt.Errorf("audit trail does not verify: %s", rep.First)
	}
	return nil
}

// currentBase is the valid checkpoint with the highest BaseSeq (the zero
// body when none), read in tx.
func currentBase(ctx context.Context, tx *sql.Tx, keys keyring) (checkpointBody, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, body, signature FROM audit_checkpoints ORDER BY id`)
	if err != nil {
		return checkpointBody{}, fmt.Errorf("checkpoints: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var base checkpointBody
	for rows.Next() {
		var c storedCheckpoint
		if err := rows.Scan(&c.id, &c.body, &c.signature); err != nil {
			return checkpointBody{}, fmt.Errorf("checkpoints: %w", err)
		}
		if b, err := c.open(keys); err == nil && b.BaseSeq > base.BaseSeq {
			base = b
		}
	}
	if err := rows.Err(); err != nil {
		return checkpointBody{}, fmt.Errorf("checkpoints: %w", err)
	}
	return base, nil
}
