package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// DriverSQLite is DB.Driver for SQLite databases.
const DriverSQLite = "sqlite"

// busyTimeoutMS is how long a connection waits for another process's write
// lock before failing with SQLITE_BUSY.
const busyTimeoutMS = 10000

// DB is agentgate's database: River's queue tables and agentgate's own
// (deliveries, runs, leases, effects, events), SQLite by default or
// Postgres.
type DB struct {
	SQL    *sql.DB
	Driver string // DriverSQLite or DriverPostgres

	pool *pgxpool.Pool // Postgres only: the pool SQL runs on

	now   func() time.Time // clock, replaced in tests
	audit auditState       // redaction and signing for the audit trail (audit.go)
	ckpt  *walCheckpointer // SQLite only: background WAL checkpoints (walcheckpoint.go)
}

// Open opens (creating if needed) the database at url and runs River's and
// agentgate's migrations. url is "sqlite:///abs/path.db", "sqlite://rel.db"
// or a plain file path. SQLite runs in WAL mode with a busy timeout.
// "postgres://…" (or "postgresql://…") opens Postgres: a pgx pool, with
// the migrations run under an advisory lock so that replicas starting at
// once do not race.
func Open(ctx context.Context, url string) (*DB, error) {
	return OpenWith(ctx, url, Options{})
}

// Options tune Open.
type Options struct {
	// PoolSize is the most connections a Postgres pool opens (0: the
	// URL's pool_max_conns, else 20). SQLite always uses one.
	PoolSize int
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, url string, opts Options) (*DB, error) {
	if isPostgresURL(url) {
		return openPostgres(ctx, url, opts)
	}
	path, err := sqlitePath(url)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	sqldb, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// River's SQLite driver documents one connection as the way to avoid
	// SQLITE_BUSY from its concurrent internals.
	sqldb.SetMaxOpenConns(1)
	sqldb.SetMaxIdleConns(1)
	sqldb.SetConnMaxLifetime(0)
	sqldb.SetConnMaxIdleTime(0)

	db := &DB{SQL: sqldb, Driver: DriverSQLite, now: time.Now, audit: newAuditState()}
	if err := db.migrate(ctx); err != nil {
		return nil, errors.Join(err, sqldb.Close())
	}
	if db.ckpt, err = startWALCheckpointer(path, checkpointInterval); err != nil {
		return nil, errors.Join(err, sqldb.Close())
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	err := errors.Join(db.ckpt.close(), db.SQL.Close())
	if db.pool != nil {
		db.pool.Close()
	}
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// RiverDriver is the River driver for this database on database/sql (TTx
// is *sql.Tx), so that intake inserts jobs in the same transaction as its
// delivery record: riversqlite, or riverdatabasesql on the Postgres pool.
// On Postgres, workers use riverpgxv5 on Pool instead (it listens for
// new jobs rather than polling).
func (db *DB) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if db.Driver == DriverPostgres {
		return riverdatabasesql.New(db.SQL)
	}
	return riversqlite.New(db.SQL)
}

// isPostgresURL reports whether url names a Postgres database.
func isPostgresURL(url string) bool {
	lower := strings.ToLower(url)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// migrate brings River's schema and agentgate's own schema up to date.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.SQL.ExecContext(ctx, "SELECT 1"); err != nil {
		return fmt.Errorf("store: connect: %w", err)
	}
	migrator, err := rivermigrate.New(db.RiverDriver(), nil)
	if err != nil {
		return fmt.Errorf("store: river migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("store: river migrations: %w", err)
	}
	if err := applySchema(ctx, db.SQL, db.timestamp()); err != nil {
		return fmt.Errorf("store: schema: %w", err)
	}
	return nil
}

// sqlitePath turns a database URL into a file path.
func sqlitePath(url string) (string, error) {
	lower := strings.ToLower(url)
	switch {
	case isPostgresURL(url):
		return "", errors.New("a postgres URL is not a SQLite path")
	case strings.HasPrefix(lower, "sqlite://"):
		url = url[len("sqlite://"):]
	case strings.Contains(url, "://"):
		return "", fmt.Errorf("unsupported database URL scheme in %q", redactURL(url))
	}
	if url == "" {
		return "", errors.New("empty database path")
	}
	// The path becomes part of a DSN: refuse what would be read as
	// parameters or a URI fragment rather than silently opening another file.
	if strings.ContainsAny(url, "?#\x00") {
		return "", fmt.Errorf("database path %q contains '?', '#' or NUL", url)
	}
	return url, nil
}

// sqliteDSN is the modernc.org/sqlite DSN for path with agentgate's
// connection settings. Every pragma is applied to each new connection.
func sqliteDSN(path string) string {
	return "file:" + path +
		fmt.Sprintf("?_pragma=busy_timeout(%d)", busyTimeoutMS) +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)" +
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", walBackstopPages) +
		"&_txlock=immediate"
}

// redactURL drops everything but the scheme of a URL that might hold a
// password.
func redactURL(url string) string {
	if i := strings.Index(url, "://"); i >= 0 {
		return url[:i+3] + "…"
	}
	return "…"
}

// timeLayout is a fixed-width UTC layout, so timestamps stored as TEXT
// compare correctly as strings.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// timestamp is the current time in the store's text form.
func (db *DB) timestamp() string { return formatTime(db.now()) }

// formatTime renders t in the store's text form.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// parseTime reads a timestamp in the store's text form.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// inTx runs fn in a transaction and commits it when fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, rollback(tx))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// rollback rolls tx back; a transaction already done is not an error.
func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}
