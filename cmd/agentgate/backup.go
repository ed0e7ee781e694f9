package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/store"
)

// cmdBackup runs `agentgate backup --out DIR`: on SQLite, a consistent
// copy of the database (VACUUM INTO) and the audit signing key, the two
// things a restore needs together; on Postgres it says what to back up.
func cmdBackup(ctx context.Context, args []string, stdout io.Writer) error {
	var out string
	cfg, _, err := app.LoadConfig("backup", args, os.Getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "directory to write the backup to (created; must not exist): agentgate.db and audit.key")
	})
	if err != nil {
		return err
	}
	if out == "" {
		return errors.New("--out is required")
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	if db.Driver == store.DriverPostgres {
		return fmt.Errorf("%w; back up the audit key file (%s) with it", store.ErrBackupPostgres, cfg.AuditKeyPath())
	}
	if err := os.Mkdir(out, 0o700); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	dbCopy := filepath.Join(out, "agentgate.db")
	if err := db.Backup(ctx, dbCopy); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database: %s\n", dbCopy)
	key, err := os.ReadFile(cfg.AuditKeyPath())
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(stdout, "audit key: none at %s (nothing signed yet)\n", cfg.AuditKeyPath())
	case err != nil:
		return fmt.Errorf("audit key: %w", err)
	default:
		keyCopy := filepath.Join(out, "audit.key")
		if err := os.WriteFile(keyCopy, key, 0o600); err != nil {
			return fmt.Errorf("audit key: %w", err)
		}
		fmt.Fprintf(stdout, "audit key: %s (restore it to audit-key-file with the database)\n", keyCopy)
	}
	return nil
}
