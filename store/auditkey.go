package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// ErrAuditKeyMissing is wrapped by OpenAuditKey when the key file does not
// exist and creating one would fork the audit trail.
var ErrAuditKeyMissing = errors.New("audit key missing")

// LoadAuditKey reads the operator's audit signing key (setting
// audit-key-file): an Ed25519 private key, PEM "PRIVATE KEY" (PKCS #8, as
// `openssl genpkey -algorithm ed25519` writes it). When the file does not
// exist and create is true, a new key is generated and written there with
// mode 0600; verifying never creates a key. Serve uses OpenAuditKey,
// which refuses to create a key where that would fork the trail.
func LoadAuditKey(path string, create bool) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		return createAuditKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("audit key %s: not a PEM PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("audit key %s: not an Ed25519 key", path)
	}
	return key, nil
}

// OpenAuditKey loads the audit signing key at path. When the file does not
// exist it creates one only where nothing can have been signed with
// another key: a SQLite database whose audit trail is empty. On Postgres
// (every replica must sign with the same key) and on a trail that already
// holds entries (a database restored without its key, a replica pointed at
// a shared database) it refuses with an error wrapping ErrAuditKeyMissing
// that says what to do, rather than silently starting a second key whose
// signatures the first key's verifiers reject.
func (db *DB) OpenAuditKey(ctx context.Context, path string) (ed25519.PrivateKey, error) {
	_, err := os.Stat(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return LoadAuditKey(path, false)
	}
	if db.Driver == DriverPostgres {
		return nil, fmt.Errorf("audit key %s: %w: on Postgres every agentgate process must sign with one shared key; "+
			"create it once (openssl genpkey -algorithm ed25519 -out audit.key) and give the same file to every replica (setting audit-key-file)",
			path, ErrAuditKeyMissing)
	}
	entries, checkpoints, err := db.auditSize(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit key %s: %w", path, err)
	}
	if entries > 0 || checkpoints > 0 {
		return nil, fmt.Errorf("audit key %s: %w: the audit trail already holds %d chain entries and %d checkpoints signed with another key; "+
			"restore that key from the backup to audit-key-file; if it is lost, create a new key by hand (openssl genpkey -algorithm ed25519 -out FILE) "+
			"and know that records signed before then verify only with the old public key (audit-public-keys)",
			path, ErrAuditKeyMissing, entries, checkpoints)
	}
	return createAuditKey(path)
}

// auditSize is the number of global chain entries ever appended and of
// signed checkpoints.
func (db *DB) auditSize(ctx context.Context) (entries, checkpoints int64, err error) {
	if err := db.SQL.QueryRowContext(ctx, `SELECT global_seq FROM audit_head WHERE id = 1`).Scan(&entries); err != nil {
		return 0, 0, fmt.Errorf("chain head: %w", err)
	}
	if err := db.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_checkpoints`).Scan(&checkpoints); err != nil {
		return 0, 0, fmt.Errorf("checkpoints: %w", err)
	}
	return entries, checkpoints, nil
}

// createAuditKey generates a key and writes it to path, never replacing a
// file that appeared meanwhile.
func createAuditKey(path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("audit key: generate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("audit key: encode: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := errors.Join(werr, f.Close()); err != nil {
		return nil, fmt.Errorf("audit key: write %s: %w", path, err)
	}
	return key, nil
}

// LoadAuditPublicKey reads a trusted audit public key: PEM "PUBLIC KEY"
// (PKIX, as `openssl pkey -in audit.key -pubout` writes it) or, for
// convenience, the PEM private key whose public half is meant.
func LoadAuditPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit public key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("audit public key %s: not PEM", path)
	}
	switch block.Type {
	case "PRIVATE KEY":
		key, err := LoadAuditKey(path, false)
		if err != nil {
			return nil, err
		}
		return key.Public().(ed25519.PublicKey), nil
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("audit public key %s: %w", path, err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("audit public key %s: not an Ed25519 key", path)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("audit public key %s: PEM %q is neither PUBLIC KEY nor PRIVATE KEY", path, block.Type)
}

// MarshalAuditPublicKey is pub as PEM "PUBLIC KEY", the form
// LoadAuditPublicKey reads.
func MarshalAuditPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("audit public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// AuditKeyID names an audit public key: its SSH SHA-256 fingerprint
// ("SHA256:…", what `ssh-keygen -l` prints), the same id the provenance
// envelopes' DSSE signatures carry as keyid.
func AuditKeyID(pub ed25519.PublicKey) string {
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "invalid key"
	}
	return ssh.FingerprintSHA256(k)
}

// keyring is the set of public keys the audit trail's signatures are
// checked against.
type keyring []ed25519.PublicKey

// newKeyring drops nil and duplicate keys.
func newKeyring(keys ...ed25519.PublicKey) keyring {
	var out keyring
	for _, k := range keys {
		if len(k) != ed25519.PublicKeySize || out.has(k) {
			continue
		}
		out = append(out, k)
	}
	return out
}

func (r keyring) has(k ed25519.PublicKey) bool {
	for _, x := range r {
		if x.Equal(k) {
			return true
		}
	}
	return false
}

// verify reports whether sig over msg verifies with any key of r.
func (r keyring) verify(msg, sig []byte) bool {
	ok := false
	for _, k := range r {
		if ed25519.Verify(k, msg, sig) {
			ok = true
		}
	}
	return ok
}
