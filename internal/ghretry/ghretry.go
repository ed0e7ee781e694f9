// Package ghretry is the HTTP transport every GitHub API request of
// agentgate goes through: it honours GitHub's rate limits and retries
// transient failures with jittered exponential backoff, under a timeout
// per attempt.
//
// What is retried:
//
//   - A rate-limit answer (429, or 403 with Retry-After, with
//     X-RateLimit-Remaining: 0, or whose message names a rate limit, as a
//     secondary limit's does without Retry-After), for every method:
//     GitHub did nothing with the request. It waits as GitHub says
//     (Retry-After, X-RateLimit-Reset), else backs off exponentially from
//     SecondaryBackoff. A 403 that names no limit is a permission error
//     and is returned at once.
//   - A 5xx answer (500, 502, 503, 504), a network error and an attempt
//     that timed out, for idempotent requests only: GET, HEAD, OPTIONS,
//     PUT, PATCH, DELETE, and the POSTs that are idempotent in effect (an
//     installation token, Git blobs, trees and commits, which are content
//     addressed, reactions, which GitHub answers with the existing one,
//     and a webhook redelivery, which intake dedupes). Other POSTs (a comment, a pull request, a check run, a ref)
//     may have taken effect before the failure: they are not repeated
//     here. They are the run's effects, recorded in its effects journal;
//     the job's next attempt looks each up (on GitHub after a crash)
//     before it makes it again.
//   - A connection that could not be made (dial or DNS error), for every
//     method: the request never left.
//
// A wait longer than MaxWait, or past the request's context, fails at
// once.
package ghretry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Defaults of Transport's zero fields.
const (
	DefaultMaxRetries       = 4
	DefaultMaxWait          = 15 * time.Minute
	DefaultAttemptTimeout   = 60 * time.Second
	DefaultBaseBackoff      = time.Second
	DefaultSecondaryBackoff = time.Minute
	maxBackoff              = 30 * time.Second
	peekBytes               = 64 << 10
)

// Transport retries GitHub API requests (see the package documentation).
type Transport struct {
	// Next carries each attempt (nil: http.DefaultTransport).
	Next http.RoundTripper
	// MaxRetries bounds the retries of one request (default 4).
	MaxRetries int
	// MaxWait is the longest rate-limit wait honoured (default 15m).
	MaxWait time.Duration
	// AttemptTimeout bounds one attempt, reading the answer's body
	// included (default 60s; negative: none).
	AttemptTimeout time.Duration
	// BaseBackoff is the first wait after a 5xx or a network error
	// (default 1s), doubled each time up to 30s, with full jitter.
	BaseBackoff time.Duration
	// SecondaryBackoff is the first wait after a secondary rate limit
	// that gives no Retry-After (default 1m), doubled each time.
	SecondaryBackoff time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives a warning per retry (default slog.Default()).
	Log *slog.Logger
}

// New wraps next.
func New(next http.RoundTripper) *Transport { return &Transport{Next: next} }

func (t *Transport) next() http.RoundTripper {
	if t.Next == nil {
		return http.DefaultTransport
	}
	return t.Next
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	retries := t.MaxRetries
	if retries == 0 {
		retries = DefaultMaxRetries
	}
	maxWait := orDuration(t.MaxWait, DefaultMaxWait)
	now := t.Now
	if now == nil {
		now = time.Now
	}
	log := t.Log
	if log == nil {
		log = slog.Default()
	}
	idem := Idempotent(req)
	backoff := orDuration(t.BaseBackoff, DefaultBaseBackoff)
	secondary := orDuration(t.SecondaryBackoff, DefaultSecondaryBackoff)
	for attempt := 0; ; attempt++ {
		r, err := replay(req, attempt)
		if err != nil {
			return nil, err
		}
		cancel := func() {}
		if at := orDuration(t.AttemptTimeout, DefaultAttemptTimeout); at > 0 {
			var actx context.Context
			actx, cancel = context.WithTimeout(req.Context(), at)
			r = r.WithContext(actx)
		}
		resp, err := t.next().RoundTrip(r)
		var wait time.Duration
		var why string
		switch {
		case err != nil:
			cancel()
			if req.Context().Err() != nil {
				return nil, err
			}
			if !idem && !notSent(err) {
				return nil, err
			}
			if attempt >= retries {
				return nil, fmt.Errorf("github: %s %s: giving up after %d attempts: %w", req.Method, req.URL.Path, attempt+1, err)
			}
			wait, why = jitter(backoff), "network: "+err.Error()
			backoff = min(backoff*2, maxBackoff)
		default:
			limitWait, limited := rateLimited(resp, now(), secondary)
			switch {
			case limited:
				if attempt >= retries || limitWait > maxWait {
					return keep(resp, cancel), nil
				}
				wait, why = limitWait, "rate limited"
				if resp.Header.Get("Retry-After") == "" && resp.Header.Get("X-RateLimit-Remaining") != "0" {
					wait = secondary/2 + jitter(secondary/2)
					secondary *= 2 // a secondary limit without advice: exponential
				}
			case transientStatus(resp.StatusCode) && idem && attempt < retries:
				wait, why = jitter(backoff), "server error "+strconv.Itoa(resp.StatusCode)
				backoff = min(backoff*2, maxBackoff)
			default:
				return keep(resp, cancel), nil
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, peekBytes))
			_ = resp.Body.Close()
			cancel()
		}
		log.WarnContext(req.Context(), "github api: retrying", "method", req.Method, "path", req.URL.Path,
			"why", why, "wait", wait.Round(time.Millisecond).String(), "attempt", attempt+1)
		if err := sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// replay is the request for an attempt: the request itself first, then
// clones with the body read again.
func replay(req *http.Request, attempt int) (*http.Request, error) {
	if attempt == 0 {
		return req, nil
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return nil, errors.New("github: retry: the request body cannot be replayed")
	}
	r := req.Clone(req.Context())
	if req.GetBody != nil {
		b, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("github: replay request body: %w", err)
		}
		r.Body = b
	}
	return r, nil
}

// keep hands resp to the caller; the attempt's timeout ends when its body
// is closed.
func keep(resp *http.Response, cancel context.CancelFunc) *http.Response {
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// jitter is a random duration in [d/2, d] ("equal jitter"), so that
// clients failing together do not retry together.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// transientStatus is a server error worth another attempt.
func transientStatus(code int) bool {
	switch code {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// idempotentPOST are the POST operations that are idempotent in effect.
// A redelivery request is one too: intake dedupes on X-GitHub-Delivery.
var idempotentPOST = regexp.MustCompile(`/app/installations/[0-9]+/access_tokens$|/repos/[^/]+/[^/]+/git/(blobs|trees|commits)$|/reactions$|/app/hook/deliveries/[0-9]+/attempts$`)

// Idempotent reports whether req may be sent again after an answer that
// does not say whether it took effect.
func Idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	case http.MethodPost:
		return idempotentPOST.MatchString(req.URL.Path)
	}
	return false
}

// notSent reports whether err means the request never reached GitHub: no
// connection could be made.
func notSent(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// rateLimited tells whether resp is a rate-limit answer and how long to
// wait before the next attempt.
func rateLimited(resp *http.Response, now time.Time, secondary time.Duration) (time.Duration, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, true
		}
		if at, err := http.ParseTime(s); err == nil {
			return max(at.Sub(now), 0), true
		}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return max(time.Unix(reset, 0).Sub(now)+time.Second, time.Second), true
		}
		return secondary, true
	}
	if resp.StatusCode == http.StatusTooManyRequests || mentionsRateLimit(resp) {
		return secondary, true
	}
	// A 403 that names no limit is a permission error.
	return 0, false
}

// mentionsRateLimit reads the start of resp's body (and puts it back) to
// tell a secondary rate limit without Retry-After ("You have exceeded a
// secondary rate limit", documentation_url …#secondary-rate-limits) from
// a permission error.
func mentionsRateLimit(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, peekBytes))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return false
	}
	lower := strings.ToLower(string(head))
	return strings.Contains(lower, "rate limit") || strings.Contains(lower, "rate-limit")
}
