package app

import (
	"context"

	"github.com/agentgate/agentgate/webhook"
)

// EnqueueForTest inserts a job as intake would, so a test can drive the
// worker through a retry of a run whose earlier attempt crashed.
func (s *Server) EnqueueForTest(ctx context.Context, args webhook.RunJobArgs) error {
	_, err := s.river.Insert(ctx, args, nil)
	return err
}
