package store

import (
	"context"
	"fmt"
)

// UpdateFeedback gives a kept feedback item that no follow-up has claimed
// yet its edited text. It reports whether there was such an item.
func (db *DB) UpdateFeedback(ctx context.Context, prKey, itemKey, body string) (bool, error) {
	res, err := db.SQL.ExecContext(ctx,
		`UPDATE feedback SET body = ? WHERE pr_key = ? AND item_key = ? AND run_id = ''`, body, prKey, itemKey)
	if err != nil {
		return false, fmt.Errorf("store: update feedback: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: update feedback: %w", err)
	}
	return n > 0, nil
}

// DropFeedback removes a kept feedback item that no follow-up has claimed
// yet (its comment was deleted, or edited by someone who may not give
// feedback). It reports whether there was such an item.
func (db *DB) DropFeedback(ctx context.Context, prKey, itemKey string) (bool, error) {
	res, err := db.SQL.ExecContext(ctx,
		`DELETE FROM feedback WHERE pr_key = ? AND item_key = ? AND run_id = ''`, prKey, itemKey)
	if err != nil {
		return false, fmt.Errorf("store: drop feedback: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: drop feedback: %w", err)
	}
	return n > 0, nil
}
