package store

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// ErrBackupPostgres is returned by Backup on Postgres, whose backups are
// the database's own (pg_dump, base backups with WAL archiving).
var ErrBackupPostgres = errors.New("store: backup: a Postgres database is backed up with its own tools (pg_dump or a base backup); agentgate backup copies SQLite databases")

// Backup writes a consistent copy of a SQLite database to path (VACUUM
// INTO: a transaction's snapshot, compacted, while agentgate keeps
// running). path must not exist. The copy opens with Open like the
// original. Remember the audit key: the copy's trail verifies only with it.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.Driver == DriverPostgres {
		return ErrBackupPostgres
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("store: backup: %s exists", path)
	}
	if _, err := db.SQL.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}
