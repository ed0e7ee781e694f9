package app

import (
	"context"

	"github.com/agentgate/agentgate/webhook"
)

// EnqueueForTest inserts a job as intake would, so a test can drive the
// worker through a retry of a run whose earlier attempt crashed.
func (s *Server) EnqueueForTest(ctx context.Context, args webhook.RunJobArgs) error {
	tx, err := s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := s.queue.inserter.InsertTx(ctx, tx, args, nil); err != nil {
		return err
	}
	return tx.Commit()
}
