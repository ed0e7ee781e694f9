package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// InsertDelivery records an X-GitHub-Delivery id inside tx. It returns
// false when the id was seen before (the caller then does nothing).
func InsertDelivery(ctx context.Context, tx *sql.Tx, deliveryID, event string) (bool, error) {
	if deliveryID == "" {
		return false, errors.New("store: insert delivery: empty delivery id")
	}
	res, err := tx.ExecContext(ctx,
		`INSERT INTO deliveries (delivery_id, event, received_at) VALUES (?, ?, ?)
		 ON CONFLICT (delivery_id) DO NOTHING`,
		deliveryID, event, formatTime(time.Now()))
	if err != nil {
		return false, fmt.Errorf("store: insert delivery: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: insert delivery: %w", err)
	}
	return n == 1, nil
}
