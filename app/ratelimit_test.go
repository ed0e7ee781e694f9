package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRateLimitTransportRetries(t *testing.T) {
	tests := []struct {
		name      string
		first     func(w http.ResponseWriter)
		wantCalls int32
		wantCode  int
	}{
		{"retry-after", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusForbidden)
		}, 2, 201},
		{"primary limit exhausted", func(w http.ResponseWriter) {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10))
			w.WriteHeader(http.StatusForbidden)
		}, 2, 201},
		{"permission error is not a limit", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusForbidden)
		}, 1, 403},
		{"too far in the future", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(http.StatusTooManyRequests)
		}, 1, 429},
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
			c := &http.Client{Transport: &rateLimitTransport{next: http.DefaultTransport}}
			resp, err := c.Post(srv.URL, "application/json", strings.NewReader(`{"body":"hi"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode || calls.Load() != tt.wantCalls {
				t.Errorf("status %d after %d calls, want %d after %d", resp.StatusCode, calls.Load(), tt.wantCode, tt.wantCalls)
			}
		})
	}
}
