// Package redeliver recovers webhook deliveries agentgate missed (it was
// down, or answered with an error): it reads the app's delivery log
// (GET /app/hook/deliveries, the app's JWT, cursor pagination), picks the
// events whose deliveries all failed, and asks GitHub to deliver each once
// more (POST /app/hook/deliveries/{delivery_id}/attempts). Intake dedupes
// on X-GitHub-Delivery, which a redelivery keeps, so asking twice never
// starts a second run.
package redeliver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v62/github"

	"github.com/agentgate/agentgate/internal/ghretry"
)

// Delivery is one attempt in the app's delivery log.
type Delivery struct {
	ID          int64
	GUID        string // the event's id, shared by its redeliveries
	DeliveredAt time.Time
	StatusCode  int // 0 when agentgate gave no HTTP answer
	Status      string
	Event       string
	Action      string
	Redelivery  bool
}

// OK reports whether agentgate accepted the attempt (a 2xx answer).
func (d Delivery) OK() bool { return d.StatusCode >= 200 && d.StatusCode <= 299 }

// later orders attempts by time, then id.
func later(a, b Delivery) bool {
	if !a.DeliveredAt.Equal(b.DeliveredAt) {
		return a.DeliveredAt.After(b.DeliveredAt)
	}
	return a.ID > b.ID
}

// Failed picks what to redeliver from a delivery log: for each event
// (GUID) with a failed attempt at or after since and no later successful
// attempt, its latest failed attempt. The result is oldest first, so
// events reach agentgate in the order they happened.
func Failed(log []Delivery, since time.Time) []Delivery {
	latestFail := map[string]Delivery{}
	latestOK := map[string]Delivery{}
	for _, d := range log {
		m := latestFail
		if d.OK() {
			m = latestOK
		}
		if cur, seen := m[d.GUID]; !seen || later(d, cur) {
			m[d.GUID] = d
		}
	}
	var out []Delivery
	for guid, f := range latestFail {
		if f.DeliveredAt.Before(since) {
			continue
		}
		if ok, seen := latestOK[guid]; seen && later(ok, f) {
			continue
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Delivery) int {
		if later(a, b) {
			return 1
		}
		return -1
	})
	return out
}

// Options configures a recovery.
type Options struct {
	AppID      int64
	PrivateKey []byte // PEM; never logged
	APIURL     string // https://api.github.com/ or https://HOST/api/v3/
	Since      time.Duration
	DryRun     bool
	// Interval separates redelivery requests (GitHub asks for at least a
	// second between mutating requests made in bulk).
	Interval time.Duration
	// MaxRedeliveries and Limit bound a pass (Bound): events already
	// redelivered that often are given up on, and at most Limit are
	// redelivered. Zero disables either.
	MaxRedeliveries int
	Limit           int
	// Transport carries the requests (default http.DefaultTransport),
	// wrapped in a ghretry.Transport (rate limits, transient failures)
	// unless it is one.
	Transport http.RoundTripper
	Now       func() time.Time
}

// Outcome is one delivery picked for redelivery and what became of it.
type Outcome struct {
	Delivery
	Err    error // nil when GitHub accepted the redelivery (or in a dry run)
	GaveUp bool  // not asked again: redelivered MaxRedeliveries times already
}

// Run lists the deliveries of the last opts.Since, picks the failed ones
// and, unless DryRun, asks GitHub to redeliver each. report, when set,
// learns each outcome as it happens. The error joins every failed request.
func Run(ctx context.Context, opts Options, report func(Outcome)) ([]Outcome, error) {
	if opts.Since <= 0 {
		return nil, errors.New("--since must be positive")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if _, ok := opts.Transport.(*ghretry.Transport); !ok {
		opts.Transport = ghretry.New(opts.Transport)
	}
	apps, err := ghinstallation.NewAppsTransport(opts.Transport, opts.AppID, opts.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("app key: %w", err)
	}
	api, err := url.Parse(strings.TrimRight(opts.APIURL, "/") + "/")
	if err != nil || api.Host == "" {
		return nil, fmt.Errorf("api url %q: not a URL", opts.APIURL)
	}
	apps.BaseURL = strings.TrimRight(api.String(), "/")
	// Each request may wait out a rate limit (ghretry: up to 15 minutes).
	gh := github.NewClient(&http.Client{Transport: apps, Timeout: 30 * time.Minute})
	gh.BaseURL = api

	since := opts.Now().Add(-opts.Since)
	log, err := list(ctx, gh, since)
	if err != nil {
		return nil, err
	}
	var (
		outcomes []Outcome
		errs     []error
	)
	picked, gaveUp := Bound(log, Failed(log, since), opts.MaxRedeliveries, opts.Limit)
	if report != nil {
		for _, d := range gaveUp {
			report(Outcome{Delivery: d, GaveUp: true})
		}
	}
	for i, d := range picked {
		o := Outcome{Delivery: d}
		if !opts.DryRun {
			if i > 0 && opts.Interval > 0 {
				select {
				case <-time.After(opts.Interval):
				case <-ctx.Done():
					return outcomes, errors.Join(append(errs, ctx.Err())...)
				}
			}
			// GitHub answers 202 Accepted, which go-github reports as
			// an AcceptedError: the redelivery is queued.
			var accepted *github.AcceptedError
			if _, _, err := gh.Apps.RedeliverHookDelivery(ctx, d.ID); err != nil && !errors.As(err, &accepted) {
				o.Err = fmt.Errorf("redeliver %d (%s): %w", d.ID, d.GUID, err)
				errs = append(errs, o.Err)
			}
		}
		outcomes = append(outcomes, o)
		if report != nil {
			report(o)
		}
	}
	return outcomes, errors.Join(errs...)
}

// list reads the delivery log, newest first, until it reaches attempts
// older than since. Every attempt that can decide whether an event
// since then succeeded is newer than since, so older pages are not read.
func list(ctx context.Context, gh *github.Client, since time.Time) ([]Delivery, error) {
	var out []Delivery
	opts := &github.ListCursorOptions{PerPage: 100}
	for {
		page, resp, err := gh.Apps.ListHookDeliveries(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list deliveries (GET /app/hook/deliveries): %w", err)
		}
		older := false
		for _, d := range page {
			at := d.GetDeliveredAt().Time
			if at.Before(since) {
				older = true
				continue
			}
			out = append(out, Delivery{
				ID: d.GetID(), GUID: d.GetGUID(), DeliveredAt: at, StatusCode: d.GetStatusCode(),
				Status: d.GetStatus(), Event: d.GetEvent(), Action: d.GetAction(), Redelivery: d.GetRedelivery(),
			})
		}
		if older || resp.Cursor == "" || len(page) == 0 {
			return out, nil
		}
		opts.Cursor = resp.Cursor
	}
}
