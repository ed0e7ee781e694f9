package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// LeaseHolder returns who holds key and whether that lease is unexpired;
// held is false when nobody does.
func (db *DB) LeaseHolder(ctx context.Context, key string) (holder string, live bool, err error) {
	var expires string
	err = db.SQL.QueryRowContext(ctx, `SELECT run_id, expires_at FROM leases WHERE lease_key = ?`, key).Scan(&holder, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: lease %s: %w", key, err)
	}
	return holder, expires > db.timestamp(), nil
}

// HoldsLease reports whether holder holds key and the lease has not
// expired: the check a job makes before each side effect, so that a job
// whose lease was taken over (it was presumed dead) stops acting.
func (db *DB) HoldsLease(ctx context.Context, key, holder string) (bool, error) {
	h, live, err := db.LeaseHolder(ctx, key)
	if err != nil {
		return false, err
	}
	return live && h == holder, nil
}
