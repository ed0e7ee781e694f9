package ghretry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fast is a Transport with millisecond waits.
func fast() *Transport {
	return &Transport{BaseBackoff: time.Millisecond, SecondaryBackoff: 2 * time.Millisecond, AttemptTimeout: 2 * time.Second}
}

func TestRetries(t *testing.T) {
	secondary := func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
	}
	status := func(code int) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) { w.WriteHeader(code) }
	}
	tests := []struct {
		name      string
		method    string
		path      string
		first     func(w http.ResponseWriter)
		wantCalls int32
		wantCode  int
	}{
		{"retry-after", "POST", "/repos/o/r/issues/1/comments", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusForbidden)
		}, 2, 201},
		{"primary limit exhausted", "POST", "/repos/o/r/issues/1/comments", func(w http.ResponseWriter) {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10))
			w.WriteHeader(http.StatusForbidden)
		}, 2, 201},
		{"secondary limit without retry-after", "POST", "/repos/o/r/issues/1/comments", secondary, 2, 201},
		{"permission error is not a limit", "POST", "/repos/o/r/issues/1/comments", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"message":"Resource not accessible by integration"}`)
		}, 1, 403},
		{"too far in the future", "POST", "/repos/o/r/issues/1/comments", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(http.StatusTooManyRequests)
		}, 1, 429},
		{"502 on a GET", "GET", "/repos/o/r/issues/1", status(502), 2, 201},
		{"503 on a PATCH", "PATCH", "/repos/o/r/issues/comments/5", status(503), 2, 201},
		{"502 on a token", "POST", "/app/installations/7/access_tokens", status(502), 2, 201},
		{"502 on a git blob", "POST", "/repos/o/r/git/blobs", status(502), 2, 201},
		{"502 on a comment is not repeated", "POST", "/repos/o/r/issues/1/comments", status(502), 1, 502},
		{"500 on a pull request is not repeated", "POST", "/repos/o/r/pulls", status(500), 1, 500},
		{"404 is an answer", "GET", "/repos/o/r/issues/1", status(404), 1, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if string(b) != `{"body":"hi"}` {
					t.Errorf("body on call %d = %q: a retry must resend it", calls.Load()+1, b)
				}
				if calls.Add(1) == 1 {
					tt.first(w)
					return
				}
				w.WriteHeader(201)
			}))
			defer srv.Close()
			c := &http.Client{Transport: fast()}
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(`{"body":"hi"}`))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tt.wantCode || calls.Load() != tt.wantCalls {
				t.Errorf("status %d after %d calls, want %d after %d", resp.StatusCode, calls.Load(), tt.wantCode, tt.wantCalls)
			}
		})
	}
}

// TestGivesUp: an outage longer than the retries ends with its last answer.
func TestGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(503)
	}))
	defer srv.Close()
	tr := fast()
	tr.MaxRetries = 2
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/repos/o/r")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 503 || calls.Load() != 3 {
		t.Errorf("status %d after %d calls, want 503 after 3", resp.StatusCode, calls.Load())
	}
}

// TestAttemptTimeout: a slow answer is abandoned after AttemptTimeout; an
// idempotent request is sent again, a comment is not.
func TestAttemptTimeout(t *testing.T) {
	for _, tt := range []struct {
		method, path string
		wantCalls    int32
		wantErr      bool
	}{
		{"GET", "/repos/o/r/issues/1", 2, false},
		{"POST", "/repos/o/r/issues/1/comments", 1, true},
	} {
		t.Run(tt.method, func(t *testing.T) {
			var calls atomic.Int32
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					select {
					case <-release:
					case <-r.Context().Done():
					}
					return
				}
				w.WriteHeader(200)
			}))
			defer srv.Close()
			defer close(release)
			tr := fast()
			tr.AttemptTimeout = 200 * time.Millisecond
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader("{}"))
			start := time.Now()
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				_ = resp.Body.Close()
			}
			if tt.wantErr && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want a deadline", err)
			}
			if calls.Load() != tt.wantCalls || time.Since(start) > 5*time.Second {
				t.Errorf("%d calls in %s, want %d", calls.Load(), time.Since(start), tt.wantCalls)
			}
		})
	}
}

func TestIdempotent(t *testing.T) {
	for _, tt := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/repos/o/r", true},
		{"PATCH", "/repos/o/r/git/refs/heads/x", true},
		{"DELETE", "/repos/o/r/git/refs/heads/x", true},
		{"POST", "/api/v3/app/installations/12/access_tokens", true},
		{"POST", "/repos/o/r/git/trees", true},
		{"POST", "/repos/o/r/git/commits", true},
		{"POST", "/repos/o/r/issues/comments/9/reactions", true},
		{"POST", "/repos/o/r/git/refs", false},
		{"POST", "/repos/o/r/issues/1/comments", false},
		{"POST", "/repos/o/r/pulls", false},
		{"POST", "/repos/o/r/check-runs", false},
	} {
		req, _ := http.NewRequest(tt.method, "http://h"+tt.path, nil)
		if got := Idempotent(req); got != tt.want {
			t.Errorf("%s %s: Idempotent = %v", tt.method, tt.path, got)
		}
	}
}

// TestDialErrorRetriedForEveryMethod: a connection that could not be made
// never reached GitHub, so even a comment is sent again.
func TestDialErrorRetriedForEveryMethod(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(201)
	}))
	defer srv.Close()
	var dials atomic.Int32
	tr := fast()
	tr.Next = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if dials.Add(1) == 1 {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	req, _ := http.NewRequest("POST", srv.URL+"/repos/o/r/issues/1/comments", strings.NewReader("{}"))
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 201 || calls.Load() != 1 || dials.Load() != 2 {
		t.Errorf("status %d, %d calls, %d dials", resp.StatusCode, calls.Load(), dials.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
