package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/semaphore"
)

// Bodies in flight are bounded by the bytes actually received, not by the
// number of requests: a client that trickles a small body a byte at a time
// holds one chunk of the budget, so fifty such clients cannot starve
// ordinary deliveries, while a flood of large bodies waits briefly for room
// and then gets 503 (GitHub redelivers).
const (
	bodyChunk  = 32 << 10        // bytes reserved per read
	budgetWait = 2 * time.Second // longest wait for room before 503
)

// errBusy means the body budget stayed full for budgetWait.
var errBusy = errors.New("webhook: body budget exhausted")

// bodyBudgetBytes is the shared budget: room for two deliveries of the
// largest size, and never less than 16 MiB.
func bodyBudgetBytes(maxBody int64) int64 { return max(2*(maxBody+bodyChunk), 16<<20) }

func newBodyBudget(maxBody int64) *semaphore.Weighted {
	return semaphore.NewWeighted(bodyBudgetBytes(maxBody))
}

// readBudgeted reads at most limit+1 bytes of r.Body, reserving each chunk
// of the shared budget before reading it. It returns the body and a
// release func for what it holds (always non-nil, to be called when the
// body is no longer needed); errBusy when the budget stayed full.
func readBudgeted(r *http.Request, budget *semaphore.Weighted, limit int64) ([]byte, func(), error) {
	var held int64
	release := func() {
		if held > 0 {
			budget.Release(held)
			held = 0
		}
	}
	var body []byte
	for int64(len(body)) <= limit {
		want := min(int64(bodyChunk), limit+1-int64(len(body)))
		ctx, cancel := context.WithTimeout(r.Context(), budgetWait)
		err := budget.Acquire(ctx, want)
		cancel()
		if err != nil {
			return nil, release, errBusy
		}
		held += want
		if int64(cap(body)-len(body)) < want {
			grown := make([]byte, len(body), len(body)+int(max(want, int64(len(body)))))
			copy(grown, body)
			body = grown
		}
		n, err := io.ReadFull(r.Body, body[len(body):len(body)+int(want)])
		body = body[:len(body)+n]
		if unused := want - int64(n); unused > 0 {
			budget.Release(unused)
			held -= unused
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return body, release, nil
		}
		if err != nil {
			return nil, release, err
		}
	}
	return body, release, nil
}
