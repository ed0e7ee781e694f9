package app

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// pushAttempts and pushBackoff bound the retries of a push that failed for
// a transient reason (GitHub's git endpoint answering 5xx, a dropped
// connection): the harvested commit is still in the run's work tree, so it
// is pushed again there rather than the job failing. Past them, the
// job's next attempt pushes the change kept in the store (pushkeep.go).
var (
	pushAttempts = 4
	pushBackoff  = 2 * time.Second
)

// retryPush runs push until it succeeds, fails for a reason another try
// will not change (the branch moved, authentication, the context ended),
// or pushAttempts are used up. Waits double from pushBackoff, jittered.
func retryPush(ctx context.Context, log *slog.Logger, push func(context.Context) error) error {
	wait := pushBackoff
	var err error
	for attempt := 1; ; attempt++ {
		if err = push(ctx); err == nil || !transientPushError(ctx, err) || attempt >= pushAttempts {
			return err
		}
		d := wait/2 + rand.N(wait/2+1)
		log.WarnContext(ctx, "push failed: retrying with the same commit", "err", err, "attempt", attempt, "wait", d.String())
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(d):
		}
		wait *= 2
	}
}

// transientPushError reports whether a push may succeed when tried again.
func transientPushError(ctx context.Context, err error) bool {
	switch {
	case ctx.Err() != nil, errors.Is(err, context.Canceled), branchMoved(err),
		errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrRepositoryNotFound):
		return false
	}
	return true
}
