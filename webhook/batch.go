package webhook

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/agentgate/agentgate/store"
)

// ManyInserter is an Inserter that also inserts several jobs in one call
// (*river.Client[*sql.Tx] satisfies it). With one, intake commits
// concurrent deliveries together (group commit).
type ManyInserter interface {
	Inserter
	InsertManyTx(ctx context.Context, tx *sql.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// maxBatch bounds how many deliveries share one transaction.
const maxBatch = 128

// queued is one delivery's job and the keys that dedupe it.
type queued struct {
	job   river.JobArgs
	event string
	// keys are recorded in the deliveries table with the job: the
	// delivery id and the replay key from the body (Routed.Key), so that
	// a signed body replayed under a new delivery id does not act twice.
	keys []string
}

// newQueued is the queued job for a delivery; key is its replay key, ""
// for none.
func newQueued(job river.JobArgs, delivery, event, key string) queued {
	keys := []string{delivery}
	if key != "" {
		keys = append(keys, key)
	}
	return queued{job: job, event: event, keys: keys}
}

// pending is one delivery waiting for its batch to commit.
type pending struct {
	q     queued
	fresh bool
	err   error
	done  chan struct{}
}

// batcher commits concurrent deliveries in one transaction (group commit).
// The first delivery to arrive when no commit is running commits at once;
// the deliveries arriving while a transaction commits wait and share the
// next one. Each delivery is answered only after its own transaction has
// committed. No goroutine outlives the deliveries it serves.
type batcher struct {
	db  *sql.DB
	ins ManyInserter
	// single is the one-delivery path, used when a batch fails: each of
	// its deliveries is retried on its own, so one bad delivery fails
	// alone and nothing is lost.
	single func(ctx context.Context, q queued) (bool, error)

	mu      sync.Mutex
	queue   []*pending
	running bool
}

// submit queues args and waits until the transaction holding it committed
// (or failed). It returns false when the delivery was seen before.
func (b *batcher) submit(ctx context.Context, q queued) (bool, error) {
	p := &pending{q: q, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	lead := !b.running
	b.running = true
	b.mu.Unlock()
	if lead {
		b.lead()
	}
	select {
	case <-p.done:
		return p.fresh, p.err
	case <-ctx.Done():
		// The delivery may still commit; a redelivery of it (GitHub does
		// not redeliver by itself; `agentgate redeliver` does) is then
		// answered "duplicate" by the dedupe.
		return false, fmt.Errorf("webhook: enqueue: %w", ctx.Err())
	}
}

// lead commits the queued deliveries, batch after batch, until the queue
// is empty. Only one leader runs at a time.
func (b *batcher) lead() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), maxBatch)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()
		b.commit(batch)
	}
}

// commit runs one batch. The batch's context is not any delivery's: one
// sender hanging up must not fail the others.
func (b *batcher) commit(batch []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	err := b.commitTx(ctx, batch)
	if err != nil && len(batch) > 1 {
		// Nothing of the batch was committed; retry each delivery alone
		// so that only a delivery that fails on its own is refused.
		for _, p := range batch {
			p.fresh, p.err = b.single(ctx, p.q)
			close(p.done)
		}
		return
	}
	for _, p := range batch {
		if err != nil {
			p.fresh, p.err = false, err
		}
		close(p.done)
	}
}

// commitTx records every delivery of batch and inserts the fresh ones' jobs
// in one transaction. Dedupe is as for one delivery: a delivery id or
// comment seen before (also earlier in the same batch) inserts nothing.
func (b *batcher) commitTx(ctx context.Context, batch []*pending) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("webhook: enqueue: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	params := make([]river.InsertManyParams, 0, len(batch))
	for _, p := range batch {
		fresh, err := recordDelivery(ctx, tx, p.q)
		if err != nil {
			return err
		}
		p.fresh = fresh
		if fresh {
			params = append(params, river.InsertManyParams{Args: p.q.job})
		}
	}
	if len(params) > 0 {
		if _, err := b.ins.InsertManyTx(ctx, tx, params); err != nil {
			return fmt.Errorf("webhook: enqueue: insert jobs: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("webhook: enqueue: commit: %w", err)
	}
	return nil
}

// recordDelivery records the delivery id and the replay key inside tx.
// It returns false when either was seen before; then the job must not be
// inserted.
func recordDelivery(ctx context.Context, tx *sql.Tx, q queued) (bool, error) {
	for _, key := range q.keys {
		fresh, err := store.InsertDelivery(ctx, tx, key, q.event)
		if err != nil {
			return false, fmt.Errorf("webhook: enqueue: %w", err)
		}
		if !fresh {
			return false, nil
		}
	}
	return true, nil
}
