package app

import (
	"context"
	"time"

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

// FastPushRetriesForTest makes the in-place push retries wait a
// millisecond, until the test ends, and returns how many there are.
func FastPushRetriesForTest(t interface{ Cleanup(func()) }) int {
	old := pushBackoff
	pushBackoff = time.Millisecond
	t.Cleanup(func() { pushBackoff = old })
	return pushAttempts
}
