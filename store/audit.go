package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/agentgate/agentgate/telemetry"
)

// auditState is what the audit trail keeps beside the database: the
// redactor every appended event passes through and the optional key that
// signs the chain head.
type auditState struct {
	redactor *telemetry.Redactor
	key      *atomic.Pointer[ed25519.PrivateKey]
	trusted  *atomic.Pointer[keyring] // earlier keys whose signatures still count
}

// newAuditState is an audit state with no registered secrets and no key.
func newAuditState() auditState {
	return auditState{redactor: &telemetry.Redactor{}, key: &atomic.Pointer[ed25519.PrivateKey]{},
		trusted: &atomic.Pointer[keyring]{}}
}

// SetTrustedAuditKeys sets the public keys, besides the signing key's own,
// whose checkpoint and head signatures the store accepts when it verifies
// the trail before a checkpoint or a prune (setting audit-public-keys):
// the keys used before a rotation.
func (db *DB) SetTrustedAuditKeys(keys ...ed25519.PublicKey) {
	r := newKeyring(keys...)
	db.audit.trusted.Store(&r)
}

// trusted is key's public half followed by the trusted earlier keys.
func (db *DB) trusted(key ed25519.PrivateKey) keyring {
	var keys []ed25519.PublicKey
	if key != nil {
		keys = append(keys, key.Public().(ed25519.PublicKey))
	}
	if r := db.audit.trusted.Load(); r != nil {
		keys = append(keys, *r...)
	}
	return newKeyring(keys...)
}

// AddSecret registers an exact secret value (the webhook secret, an LLM
// key) so that Append redacts it wherever
// it appears in an event. Values shorter than six bytes are ignored.
func (db *DB) AddSecret(s string) { db.audit.redactor.Add(s) }

// AddExpiringSecret registers a secret that is worthless after expires (a
// minted installation token): it is redacted until a little after that,
// then forgotten.
func (db *DB) AddExpiringSecret(s string, expires time.Time) {
	db.audit.redactor.AddUntil(s, expires)
}

// Redactor is the redactor Append applies, with every secret registered by
// AddSecret; logs and spans can pass through the same one.
func (db *DB) Redactor() *telemetry.Redactor { return db.audit.redactor }

// SetAuditKey makes every later Append sign the global chain head with key,
// so that cutting the newest events off the chain (which leaves no hole)
// is caught by Verify unless the attacker also holds the key. A nil key
// stops signing.
func (db *DB) SetAuditKey(key ed25519.PrivateKey) {
	if key == nil {
		db.audit.key.Store(nil)
		return
	}
	db.audit.key.Store(&key)
}

// headMessage is what a head signature covers.
func headMessage(globalSeq int64, hash string) []byte {
	return []byte("agentgate.head.v1\n" + strconv.FormatInt(globalSeq, 10) + "\n" + hash)
}

// chainInTx links one event into its run's chain and the global chain,
// inside tx. The first statement takes the head row's write lock, so
// appends are serialized across connections and processes. For a new event
// (existing false) it assigns Seq (the run's last chained seq + 1), inserts
// the event row and returns it with PrevHash set; for an existing row (the
// migration) it fills in that row's hashes. key, when set, signs the head.
func chainInTx(ctx context.Context, tx *sql.Tx, e telemetry.ChainedEvent, key ed25519.PrivateKey, existing bool) (telemetry.ChainedEvent, error) {
	var (
		gseq     int64
		headHash string
	)
	if err := tx.QueryRowContext(ctx,
		`UPDATE audit_head SET global_seq = global_seq + 1 WHERE id = 1 RETURNING global_seq, hash`).
		Scan(&gseq, &headHash); err != nil {
		return e, fmt.Errorf("lock chain head: %w", err)
	}
	var lastSeq int64
	prev := telemetry.GenesisHash
	err := tx.QueryRowContext(ctx,
		`SELECT seq, event_hash FROM audit_chain WHERE run_id = ? ORDER BY seq DESC LIMIT 1`, e.RunID).
		Scan(&lastSeq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("run head: %w", err)
	}
	if !existing {
		e.Seq = lastSeq + 1
	}
	e.PrevHash = prev
	h := e.Hash()
	if existing {
		_, err = tx.ExecContext(ctx, `UPDATE events SET prev_hash = ?, hash = ? WHERE run_id = ? AND seq = ?`,
			e.PrevHash, h, e.RunID, e.Seq)
	} else {
		_, err = tx.ExecContext(ctx,
			`INSERT INTO events (run_id, seq, time, kind, actor, attrs, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			e.RunID, e.Seq, e.Time, e.Kind, e.Actor, e.Attrs, e.PrevHash, h)
	}
	if err != nil {
		return e, fmt.Errorf("store event: %w", err)
	}
	link := telemetry.ChainLink{GlobalSeq: gseq, RunID: e.RunID, Seq: e.Seq, EventHash: h, PrevHash: headHash}
	linkHash := link.Hash()
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO audit_chain (global_seq, run_id, seq, event_hash, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)`,
		gseq, e.RunID, e.Seq, h, headHash, linkHash); err != nil {
		return e, fmt.Errorf("chain event: %w", err)
	}
	sig := ""
	if key != nil {
		sig = hex.EncodeToString(ed25519.Sign(key, headMessage(gseq, linkHash)))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET hash = ?, signature = ? WHERE id = 1`, linkHash, sig); err != nil {
		return e, fmt.Errorf("update chain head: %w", err)
	}
	return e, nil
}

// RunHead is the hash of the run's newest event: the value to show in the
// check run, which every later event of the run (merge, close) extends. It
// returns an error wrapping ErrNotFound for a run with no events.
func (db *DB) RunHead(ctx context.Context, runID string) (string, error) {
	var h string
	err := db.SQL.QueryRowContext(ctx,
		`SELECT event_hash FROM audit_chain WHERE run_id = ? ORDER BY seq DESC LIMIT 1`, runID).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: run head %s: %w", runID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: run head %s: %w", runID, err)
	}
	return h, nil
}
