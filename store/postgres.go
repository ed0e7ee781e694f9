package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// DriverPostgres is DB.Driver for Postgres databases.
const DriverPostgres = "postgres"

// migrateLockKey is the Postgres advisory lock held around migrations, so
// that replicas starting at once migrate one after the other (the others
// then find nothing to do). The value is arbitrary but fixed: "agentgat".
const migrateLockKey int64 = 0x6167656e74676174

// defaultPoolConns is the pool size when the URL does not set
// pool_max_conns: River's producer, notifier and workers plus intake and the
// audit trail share it.
const defaultPoolConns = 20

// openPostgres opens a pgx pool on url, a database/sql handle on the same
// pool for the store's queries and intake's transactions, and migrates
// River's schema and agentgate's under an advisory lock.
func openPostgres(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := poolConfig(url, opts)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", redactURL(url), err)
	}
	sqldb := sql.OpenDB(rebindConnector{stdlib.GetPoolConnector(pool)})
	// Idle connections belong to the pgx pool, not database/sql's.
	sqldb.SetMaxIdleConns(0)
	db := &DB{SQL: sqldb, Driver: DriverPostgres, pool: pool, now: time.Now, audit: newAuditState()}
	if err := db.migratePostgres(ctx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

// poolConfig is the pgx pool configuration of url: the pool size is
// opts.PoolSize (setting database-pool-size), else the URL's
// pool_max_conns, else defaultPoolConns.
func poolConfig(url string, opts Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message can quote the URL; never echo a password.
		return nil, fmt.Errorf("store: open %s: invalid postgres URL", redactURL(url))
	}
	switch {
	case opts.PoolSize > 0:
		cfg.MaxConns = int32(min(opts.PoolSize, 10_000))
	case !hasParam(url, "pool_max_conns"):
		cfg.MaxConns = defaultPoolConns
	}
	return cfg, nil
}

// Pool is the pgx pool of a Postgres database (River's riverpgxv5 driver
// works jobs on it), nil for SQLite.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// migratePostgres runs River's and agentgate's migrations while holding the
// migration advisory lock on one session.
func (db *DB) migratePostgres(ctx context.Context) (err error) {
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: connect: %w", err)
	}
	defer func() { err = errors.Join(err, conn.Close()) }()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	defer func() {
		if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLockKey); uerr != nil {
			err = errors.Join(err, fmt.Errorf("store: migration unlock: %w", uerr))
		}
	}()
	migrator, err := rivermigrate.New(riverpgxv5.New(db.pool), nil)
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

// hasParam reports whether a URL's query sets name.
func hasParam(url, name string) bool {
	for i := 0; i+len(name) < len(url); i++ {
		if (url[i] == '?' || url[i] == '&') && url[i+1:i+1+len(name)] == name &&
			i+1+len(name) < len(url) && url[i+1+len(name)] == '=' {
			return true
		}
	}
	return false
}
