package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migration is one step of agentgate's own schema. Steps are applied in
// order, once each, and recorded in agentgate_migrations. Never edit a
// released step: add a new one.
type migration struct {
	version int
	stmts   []string
	// fn, when set, runs after stmts in the same transaction (data
	// migrations such as chaining the events recorded before version 2).
	fn func(ctx context.Context, tx *sql.Tx) error
}

// migrations is agentgate's schema. The SQL is what SQLite and Postgres
// share; timestamps are fixed-width UTC TEXT (see timeLayout).
var migrations = []migration{
	{version: 1, stmts: []string{
		`CREATE TABLE IF NOT EXISTS deliveries (
			delivery_id TEXT PRIMARY KEY,
			event       TEXT NOT NULL,
			received_at TEXT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS runs (
			id          TEXT PRIMARY KEY,
			delivery_id TEXT NOT NULL,
			repo        TEXT NOT NULL,
			issue       BIGINT NOT NULL,
			requester   TEXT NOT NULL,
			state       TEXT NOT NULL,
			created_at  TEXT NOT NULL,
			updated_at  TEXT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS runs_delivery_id ON runs (delivery_id)`,
		`CREATE INDEX IF NOT EXISTS runs_repo_issue ON runs (repo, issue)`,
		`CREATE TABLE IF NOT EXISTS leases (
			lease_key   TEXT PRIMARY KEY,
			run_id      TEXT NOT NULL,
			acquired_at TEXT NOT NULL,
			expires_at  TEXT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS effects (
			run_id      TEXT NOT NULL,
			effect_key  TEXT NOT NULL,
			value       TEXT NOT NULL,
			recorded_at TEXT NOT NULL,
			PRIMARY KEY (run_id, effect_key)
		)`,
		`CREATE TABLE IF NOT EXISTS events (
			run_id TEXT NOT NULL,
			seq    BIGINT NOT NULL,
			time   TEXT NOT NULL,
			kind   TEXT NOT NULL,
			actor  TEXT NOT NULL,
			attrs  TEXT NOT NULL,
			PRIMARY KEY (run_id, seq)
		)`,
	}},
	auditMigration,    // version 2: the hash chain (audit_schema.go)
	commandsMigration, // version 3: installations, switches, replies, feedback (commands_schema.go)
	runIDsMigration,   // version 4: runs keyed by repository and installation id
	keptMigration,     // version 5: harvested changes kept for a retried push (kept.go)
}

// runIDsMigration adds the ids GitHub never reuses to every run: a
// repository's name can be renamed, transferred or deleted and recreated by
// someone else, so whatever finds an earlier run (follow-ups, commands,
// budgets, run pages) matches on the repository id and the installation
// id, never on owner/name alone. Runs recorded before it keep 0 and are
// found by nothing that looks up by id.
var runIDsMigration = migration{
	version: 4,
	stmts: []string{
		`ALTER TABLE runs ADD COLUMN repo_id BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE runs ADD COLUMN installation_id BIGINT NOT NULL DEFAULT 0`,
		`CREATE INDEX IF NOT EXISTS runs_repo_id_issue ON runs (repo_id, issue)`,
		`CREATE INDEX IF NOT EXISTS runs_installation_created ON runs (installation_id, created_at)`,
	},
}

// applySchema applies every migration not yet recorded, each in its own
// transaction, so Open is idempotent and safe to run on every start.
func applySchema(ctx context.Context, db *sql.DB, now string) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS agentgate_migrations (
		version    BIGINT PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("create agentgate_migrations: %w", err)
	}
	if err := checkSchemaVersion(ctx, db); err != nil {
		return err
	}
	for _, m := range migrations {
		if err := applyMigration(ctx, db, m, now); err != nil {
			return fmt.Errorf("migration %d: %w", m.version, err)
		}
	}
	return nil
}

// applyMigration applies m unless it is recorded already.
func applyMigration(ctx context.Context, db *sql.DB, m migration, now string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = rollback(tx) }()
	var n int
	if err := tx.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM agentgate_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if n > 0 {
		return nil
	}
	for _, stmt := range m.stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("exec: %w", err)
		}
	}
	if m.fn != nil {
		if err := m.fn(ctx, tx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO agentgate_migrations (version, applied_at) VALUES (?, ?)`, m.version, now); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// SchemaVersion is the newest version of agentgate's own schema this
// binary knows (the last migration's).
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer agentgate than this binary.
var ErrSchemaTooNew = errors.New("store: the database schema is newer than this agentgate knows")

// checkSchemaVersion refuses a database whose agentgate_migrations records
// a version newer than this binary's: an older binary would run on tables
// it does not understand (a rollback after an upgrade migrated them).
func checkSchemaVersion(ctx context.Context, db *sql.DB) error {
	var newest sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM agentgate_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if newest.Valid && newest.Int64 > int64(SchemaVersion()) {
		return fmt.Errorf("%w: the database is at schema version %d, this binary knows up to %d. "+
			"Run the newer agentgate (or restore the backup taken before the upgrade); a rollback across a schema change needs that backup",
			ErrSchemaTooNew, newest.Int64, SchemaVersion())
	}
	return nil
}

// DBSchemaVersion reads the newest schema version recorded in the database.
func (db *DB) DBSchemaVersion(ctx context.Context) (int, error) {
	var newest sql.NullInt64
	if err := db.SQL.QueryRowContext(ctx, `SELECT MAX(version) FROM agentgate_migrations`).Scan(&newest); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return int(newest.Int64), nil
}
