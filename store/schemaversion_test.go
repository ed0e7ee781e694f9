package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/internal/pgtest"
)

// TestOpenRefusesNewerSchema: a database migrated by a newer agentgate
// (a version this binary lacks in agentgate_migrations) is refused with a
// message saying what to do; the same database at the known version opens.
func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "agentgate.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := db.DBSchemaVersion(ctx); err != nil || v != SchemaVersion() {
		t.Fatalf("DBSchemaVersion = %d, %v; want %d", v, err, SchemaVersion())
	}
	_ = db.Close()
	// Positive control: reopening at the known version works.
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	newer := SchemaVersion() + 1
	if _, err := db.SQL.ExecContext(ctx, `INSERT INTO agentgate_migrations (version, applied_at) VALUES (?, ?)`, newer, db.timestamp()); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	_, err = Open(ctx, path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open on a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{fmt.Sprintf("schema version %d", newer), fmt.Sprintf("knows up to %d", SchemaVersion()), "newer agentgate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
}

func TestPoolSizeSetting(t *testing.T) {
	for _, tt := range []struct {
		url  string
		opts Options
		want int32
	}{
		{"postgres://h/db", Options{}, defaultPoolConns},
		{"postgres://h/db?pool_max_conns=7", Options{}, 7},
		{"postgres://h/db?pool_max_conns=7", Options{PoolSize: 50}, 50},
		{"postgres://h/db", Options{PoolSize: 3}, 3},
	} {
		cfg, err := poolConfig(tt.url, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.MaxConns != tt.want {
			t.Errorf("%s %+v: MaxConns = %d, want %d", tt.url, tt.opts, cfg.MaxConns, tt.want)
		}
	}
	t.Run("postgres", func(t *testing.T) {
		db, err := OpenWith(context.Background(), pgtest.NewDatabase(t), Options{PoolSize: 5})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = db.Close() }()
		if n := db.Pool().Config().MaxConns; n != 5 {
			t.Errorf("MaxConns = %d, want 5", n)
		}
	})
}
