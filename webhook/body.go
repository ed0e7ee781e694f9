package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/semaphore"
)

// Bodies in memory are bounded by a budget of bytes in two lanes, each a
// FIFO semaphore (golang.org/x/sync/semaphore), so that a delivery that
// fits always gets its share in turn and no mix of bodies can deadlock:
//
//   - The small lane holds the first smallBody bytes of every body. A body
//     reserves them at once (its Content-Length, when smaller), before
//     reading anything. Most deliveries are smaller and need nothing else,
//     so bodies that trickle in slowly hold one small reservation each and
//     cannot keep ordinary deliveries out.
//   - The large lane holds the rest of a larger body, also reserved at
//     once before reading it: the rest of its Content-Length, or, for a
//     body of unknown length (chunked), the rest of the per-body limit. It
//     has room for two bodies of the largest size.
//
// A body never waits for more budget while it holds some of the same lane,
// and the lanes are always taken in the same order (small, then large), so
// every holder finishes reading (or hits the server's read timeout) and
// gives its reservation back; waiters are served in arrival order. A body
// whose Content-Length is over the limit is refused (413) before any
// reservation or read. A delivery that waits longer than budgetWait for
// its turn gets 503.
const (
	smallBody  = 64 << 10         // bytes of each body the small lane holds
	smallLane  = 16 << 20         // the small lane: 256 bodies' first bytes
	budgetWait = 30 * time.Second // longest wait for room before 503
)

// Body errors readBudgeted returns.
var (
	// errBusy means the budget stayed full for the whole wait.
	errBusy = errors.New("webhook: body budget exhausted")
	// errTooLarge means the body is larger than the limit.
	errTooLarge = errors.New("webhook: body over the size limit")
	// errCutShort means the body ended before its Content-Length, or its
	// read failed (the client went away): nothing of it is judged.
	errCutShort = errors.New("webhook: body cut short")
)

// bodyBudget is the two lanes of the budget for bodies in memory.
type bodyBudget struct {
	small, large       *semaphore.Weighted
	smallCap, largeCap int64
}

// newBodyBudget is the budget for bodies of at most maxBody bytes.
func newBodyBudget(maxBody int64) *bodyBudget {
	largeCap := max(2*maxBody, 1)
	return &bodyBudget{
		small: semaphore.NewWeighted(smallLane), smallCap: smallLane,
		large: semaphore.NewWeighted(largeCap), largeCap: largeCap,
	}
}

// idle reports whether nothing of the budget is held (for tests).
func (b *bodyBudget) idle() bool {
	if !b.small.TryAcquire(b.smallCap) {
		return false
	}
	defer b.small.Release(b.smallCap)
	if !b.large.TryAcquire(b.largeCap) {
		return false
	}
	b.large.Release(b.largeCap)
	return true
}

// readBudgeted reads r.Body, of at most limit bytes, within the budget,
// waiting at most wait for its turn. It returns the body and a release
// func for the budget it holds (always non-nil, to be called when the body
// is no longer needed); errTooLarge, errBusy or errCutShort (wrapped) when
// it has no body to give.
func readBudgeted(r *http.Request, b *bodyBudget, limit int64, wait time.Duration) ([]byte, func(), error) {
	var heldSmall, heldLarge int64
	release := func() {
		if heldSmall > 0 {
			b.small.Release(heldSmall)
			heldSmall = 0
		}
		if heldLarge > 0 {
			b.large.Release(heldLarge)
			heldLarge = 0
		}
	}
	n := r.ContentLength
	if n > limit {
		return nil, release, errTooLarge
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	first := min(int64(smallBody), limit+1)
	if n >= 0 {
		first = min(n, smallBody)
	}
	if first > 0 {
		if err := b.small.Acquire(ctx, first); err != nil {
			return nil, release, errBusy
		}
		heldSmall = first
	}
	if n >= 0 {
		// Known length: reserve all of it, then read exactly that much.
		if rest := n - first; rest > 0 {
			if err := b.large.Acquire(ctx, rest); err != nil {
				return nil, release, errBusy
			}
			heldLarge = rest
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, release, fmt.Errorf("%w: %d bytes declared: %w", errCutShort, n, err)
		}
		return body, release, nil
	}
	// Unknown length: the first bytes, then, if there are more, room for
	// the rest of the limit (and one byte to tell an oversized body).
	body, eof, err := fill(r.Body, make([]byte, 0, first))
	if err != nil {
		return nil, release, err
	}
	if eof {
		return body, release, nil
	}
	rest := limit + 1 - first
	if err := b.large.Acquire(ctx, rest); err != nil {
		return nil, release, errBusy
	}
	heldLarge = rest
	grown := make([]byte, len(body), limit+1)
	copy(grown, body)
	body, eof, err = fill(r.Body, grown)
	if err != nil {
		return nil, release, err
	}
	if !eof || int64(len(body)) > limit {
		return nil, release, errTooLarge
	}
	return body, release, nil
}

// fill reads r into buf until buf is full or r ends. eof reports that r
// ended (cleanly: io.EOF); any other read error is errCutShort.
func fill(r io.Reader, buf []byte) (_ []byte, eof bool, _ error) {
	for len(buf) < cap(buf) {
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if errors.Is(err, io.EOF) {
			return buf, true, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("%w: %w", errCutShort, err)
		}
	}
	return buf, false, nil
}
