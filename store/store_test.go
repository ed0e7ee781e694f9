package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// openTemp opens a fresh database in a temporary directory.
func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agentgate.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, path
}

func TestSQLitePath(t *testing.T) {
	tests := []struct {
		url     string
		want    string
		wantErr error
	}{
		{url: "sqlite:///abs/path.db", want: "/abs/path.db"},
		{url: "sqlite://rel.db", want: "rel.db"},
		{url: "SQLITE://rel.db", want: "rel.db"},
		{url: "/plain/file.db", want: "/plain/file.db"},
		{url: "data/agentgate.db", want: "data/agentgate.db"},
		{url: "postgres://u:secret@db/agentgate", wantErr: ErrPostgresNotBuilt},
		{url: "postgresql://db/agentgate", wantErr: ErrPostgresNotBuilt},
		{url: "mysql://u:p@db/x"},
		{url: ""},
		{url: "sqlite://"},
		{url: "a.db?_pragma=foreign_keys(0)"},
		{url: "a.db#x"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := sqlitePath(tt.url)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("sqlitePath(%q) = %q, want error", tt.url, got)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr != nil && err.Error() != "postgres support is not built yet" {
					t.Fatalf("error text %q", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("sqlitePath(%q) = %q, %v; want %q", tt.url, got, err, tt.want)
			}
		})
	}
}

func TestOpenPostgresRefused(t *testing.T) {
	_, err := Open(context.Background(), "postgres://user:hunter2@localhost/agentgate")
	if !errors.Is(err, ErrPostgresNotBuilt) {
		t.Fatalf("Open(postgres) = %v, want ErrPostgresNotBuilt", err)
	}
}

func TestOpenSettings(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	checks := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	}
	for _, c := range checks {
		var got string
		if err := db.SQL.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", c.pragma, err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %q, want %q", c.pragma, got, c.want)
		}
	}
	if n := db.SQL.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", n)
	}
	for _, table := range []string{"deliveries", "runs", "leases", "effects", "events", "river_job", "river_migration"} {
		var n int
		if err := db.SQL.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	if _, err := db.EnsureRun(ctx, Run{ID: "r1", DeliveryID: "d1", Repo: "o/r", Issue: 7, Requester: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordEffect(ctx, "r1", "pr", "42"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Open twice more: migrations must be idempotent.
	for i := range 2 {
		db2, err := Open(ctx, "sqlite://"+path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		r, err := db2.GetRun(ctx, "r1")
		if err != nil || r.Repo != "o/r" || r.Issue != 7 || r.State != "queued" {
			t.Fatalf("after reopen: %+v, %v", r, err)
		}
		v, ok, err := db2.Effect(ctx, "r1", "pr")
		if err != nil || !ok || v != "42" {
			t.Fatalf("effect after reopen: %q %v %v", v, ok, err)
		}
		var versions int
		if err := db2.SQL.QueryRowContext(ctx, "SELECT COUNT(*) FROM agentgate_migrations").Scan(&versions); err != nil || versions != len(migrations) {
			t.Fatalf("agentgate_migrations has %d rows (%v), want %d", versions, err, len(migrations))
		}
		if err := db2.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
