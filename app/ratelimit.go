package app

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// rateLimitTransport honours GitHub's rate limits: on 403 or 429 with
// Retry-After, or with X-RateLimit-Remaining: 0, it waits as GitHub says
// (Retry-After seconds, or until X-RateLimit-Reset), otherwise backs off
// exponentially from one minute for a secondary limit, and retries a bounded
// number of times. Waits end with the request's context.
type rateLimitTransport struct {
	next       http.RoundTripper
	maxRetries int           // default 3
	maxWait    time.Duration // default 15 minutes; a longer wait fails at once
	now        func() time.Time
}

func (t *rateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	retries := t.maxRetries
	if retries == 0 {
		retries = 3
	}
	maxWait := t.maxWait
	if maxWait == 0 {
		maxWait = 15 * time.Minute
	}
	now := time.Now
	if t.now != nil {
		now = t.now
	}
	backoff := time.Minute
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			if req.Body != nil && req.GetBody == nil {
				return nil, fmt.Errorf("rate limited and the request body cannot be replayed")
			}
			r = req.Clone(req.Context())
			if req.GetBody != nil {
				b, err := req.GetBody()
				if err != nil {
					return nil, fmt.Errorf("replay request body: %w", err)
				}
				r.Body = b
			}
		}
		resp, err := t.next.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		wait, limited := retryAfter(resp, now(), backoff)
		if !limited || attempt >= retries || wait > maxWait {
			return resp, nil
		}
		if resp.Header.Get("Retry-After") == "" && resp.Header.Get("X-RateLimit-Remaining") != "0" {
			backoff *= 2 // secondary limit without advice: exponential
		}
		slog.Warn("github rate limit: waiting", "method", req.Method, "path", req.URL.Path, "status", resp.StatusCode, "wait", wait.String(), "attempt", attempt+1)
		_ = resp.Body.Close()
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		case <-timer.C:
		}
	}
}

// retryAfter tells whether resp is a rate-limit answer and how long to wait.
func retryAfter(resp *http.Response, now time.Time, backoff time.Duration) (time.Duration, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, true
		}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			d := time.Unix(reset, 0).Sub(now) + time.Second
			if d < 0 {
				d = time.Second
			}
			return d, true
		}
		return backoff, true
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return backoff, true
	}
	// A 403 without rate-limit headers is a permission error, not a limit.
	return 0, false
}
