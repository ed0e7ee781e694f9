package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/pgtest"
)

// eachDialect runs fn as a subtest per database dialect: "sqlite" and
// "postgres" (skipped without AGENTGATE_TEST_POSTGRES_URL, failed without
// it under CI=true). openTemp opens the subtest's dialect.
func eachDialect(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	for _, d := range []string{DriverSQLite, DriverPostgres} {
		t.Run(d, fn)
	}
}

// testDialect is the dialect of the eachDialect subtest t runs in (SQLite
// outside one).
func testDialect(t testing.TB) string {
	if strings.Contains(t.Name()+"/", "/"+DriverPostgres+"/") {
		return DriverPostgres
	}
	return DriverSQLite
}

// openTemp opens a fresh database of the test's dialect: SQLite in a
// temporary directory (its path is returned) or a new Postgres database
// (path "").
func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	if testDialect(t) == DriverPostgres {
		db, err := Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db, ""
	}
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
		url  string
		want string
	}{
		{url: "sqlite:///abs/path.db", want: "/abs/path.db"},
		{url: "sqlite://rel.db", want: "rel.db"},
		{url: "SQLITE://rel.db", want: "rel.db"},
		{url: "/plain/file.db", want: "/plain/file.db"},
		{url: "data/agentgate.db", want: "data/agentgate.db"},
		{url: "postgres://u:secret@db/agentgate"},
		{url: "postgresql://db/agentgate"},
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
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("sqlitePath(%q) = %q, %v; want %q", tt.url, got, err, tt.want)
			}
		})
	}
}

func TestOpenPostgresErrorHidesPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens, the connection is refused.
	for _, url := range []string{
		"postgres://user:hunter2@127.0.0.1:1/agentgate?connect_timeout=2",
		"postgres://user:hunter2@127.0.0.1:1/agentgate?pool_max_conns=notanumber",
	} {
		_, err := Open(ctx, url)
		if err == nil {
			t.Fatalf("Open(%s) succeeded", url)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("error leaks the password: %v", err)
		}
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
		{"synchronous", "1"}, // NORMAL
		{"wal_autocheckpoint", "10000"},
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
