package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/telemetry"
)

// TestOpenAuditKeyRefusesFork checks that a missing audit key is created
// only where no other key can have signed: a SQLite database whose trail
// is empty. A trail with entries (a database restored without its key)
// and Postgres (replicas must share one key) are refused with what to do.
func TestOpenAuditKeyRefusesFork(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		ctx := context.Background()
		db, _ := openTemp(t)
		dir := t.TempDir()
		fresh := filepath.Join(dir, "fresh.key")
		key, err := db.OpenAuditKey(ctx, fresh)
		if testDialect(t) == DriverPostgres {
			if !errors.Is(err, ErrAuditKeyMissing) || !strings.Contains(err.Error(), "every agentgate process must sign with one shared key") {
				t.Fatalf("Postgres: OpenAuditKey = %v, want a refusal saying to share one key", err)
			}
			if _, serr := os.Stat(fresh); serr == nil {
				t.Fatal("Postgres: a key file was created")
			}
			// Positive control: a key the operator made is loaded.
			made, err := LoadAuditKey(filepath.Join(dir, "made.key"), true)
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.OpenAuditKey(ctx, filepath.Join(dir, "made.key"))
			if err != nil || !got.Equal(made) {
				t.Fatalf("Postgres: existing key: %v", err)
			}
			return
		}
		// Positive control: an empty trail gets a new key.
		if err != nil || key == nil {
			t.Fatalf("empty trail: OpenAuditKey = %v", err)
		}
		db.SetAuditKey(key)
		if _, err := db.Append(ctx, telemetry.Event{RunID: "r", Kind: "run.queued", Actor: "intake"}); err != nil {
			t.Fatal(err)
		}
		// The same file loads again.
		again, err := db.OpenAuditKey(ctx, fresh)
		if err != nil || !again.Equal(key) {
			t.Fatalf("existing key: %v", err)
		}
		// Restored without its key: refused, nothing written.
		lost := filepath.Join(dir, "lost.key")
		_, err = db.OpenAuditKey(ctx, lost)
		if !errors.Is(err, ErrAuditKeyMissing) || !strings.Contains(err.Error(), "restore that key from the backup") {
			t.Fatalf("non-empty trail: OpenAuditKey = %v, want a refusal", err)
		}
		if _, serr := os.Stat(lost); serr == nil {
			t.Fatal("non-empty trail: a key file was created")
		}
	})
}

// TestVerifyAfterRotation checks that checkpoints and the head signed by
// an earlier key still verify when that key's public half is among the
// trusted keys, and fail (naming the key) without it.
func TestVerifyAfterRotation(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		ctx := context.Background()
		_, oldKey, _ := ed25519.GenerateKey(rand.Reader)
		_, newKey, _ := ed25519.GenerateKey(rand.Reader)
		oldPub, newPub := oldKey.Public().(ed25519.PublicKey), newKey.Public().(ed25519.PublicKey)
		db, cut := pruneFixture(t)
		db.SetAuditKey(oldKey)
		if _, err := db.Prune(ctx, cut, oldKey); err != nil {
			t.Fatal(err)
		}
		// Rotate: the store signs with the new key and trusts the old one.
		db.SetAuditKey(newKey)
		db.SetTrustedAuditKeys(oldPub)
		if _, err := db.Append(ctx, telemetry.Event{RunID: "c", Kind: "agent.output", Actor: "runner"}); err != nil {
			t.Fatal(err)
		}
		if err := db.Checkpoint(ctx, newKey); err != nil {
			t.Fatalf("checkpoint after rotation: %v", err)
		}
		rep, err := db.Verify(ctx, newPub, oldPub)
		if err != nil || !rep.OK() || rep.Checkpoints != 2 {
			t.Fatalf("both keys: %v %+v", err, rep)
		}
		rep, err = db.Verify(ctx, newPub)
		if err != nil || rep.OK() || rep.First.What != BreakCheckpoint || !strings.Contains(rep.First.Detail, AuditKeyID(oldPub)) {
			t.Fatalf("without the old key: %v %+v, want a checkpoint break naming %s", err, rep.First, AuditKeyID(oldPub))
		}
		// Without the trusted old key the store refuses to checkpoint.
		db.SetTrustedAuditKeys()
		if err := db.Checkpoint(ctx, newKey); err == nil {
			t.Fatal("checkpoint without the old key: want a refusal")
		}
	})
}

func TestLoadAuditPublicKey(t *testing.T) {
	dir := t.TempDir()
	key, err := LoadAuditKey(filepath.Join(dir, "a.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().(ed25519.PublicKey)
	pemPub, err := MarshalAuditPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.pub"), pemPub, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a.pub", "a.key"} {
		got, err := LoadAuditPublicKey(filepath.Join(dir, f))
		if err != nil || !got.Equal(pub) {
			t.Errorf("%s: %v", f, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bad"), []byte("nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadAuditPublicKey(filepath.Join(dir, "bad")); err == nil {
		t.Error("garbage loaded as a public key")
	}
	if id := AuditKeyID(pub); !strings.HasPrefix(id, "SHA256:") || len(id) < 40 {
		t.Errorf("AuditKeyID = %q", id)
	}
}
