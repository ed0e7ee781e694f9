package gateway

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"strings"
)

// NewPlaceholder returns a fresh run-scoped placeholder key: recognisable in
// logs ("agentgate-<runID>-…"), worthless outside the run, and not
// guessable by another run.
func NewPlaceholder(runID string) string {
	return "agentgate-" + runID + "-" + rand.Text()
}

// presented returns the key the client sent for api: a Bearer token, or
// for Anthropic also x-api-key.
func presented(r *http.Request, api string) string {
	if api == APIAnthropic {
		if k := r.Header.Get("X-Api-Key"); k != "" {
			return k
		}
	}
	auth := r.Header.Get("Authorization")
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		return strings.TrimSpace(auth[7:])
	}
	return ""
}

// authorized reports, in constant time, whether the client presented the
// placeholder.
func (g *Gateway) authorized(r *http.Request, api string) bool {
	k := presented(r, api)
	return k != "" && subtle.ConstantTimeCompare([]byte(k), []byte(g.placeholder)) == 1
}

// forwardedRequestHeaders are the only client headers sent upstream as
// they are. Everything else (credentials, cookies, organisation or project
// selectors, forwarding headers) is dropped; betaHeaders pass filtered.
var forwardedRequestHeaders = []string{
	"Content-Type", "Accept", "User-Agent", "Anthropic-Version",
}

// betaHeaders pass only the values the policy allows.
var betaHeaders = []string{"Anthropic-Beta", "OpenAI-Beta"}

// defaultAnthropicVersion is sent when the client names none.
const defaultAnthropicVersion = "2023-06-01"

// upstreamHeaders builds the upstream request's headers: the allowed
// client headers, the allowed beta values and the real key. dropped are
// the beta values left out.
func upstreamHeaders(in http.Header, api, key string, pol *policy) (out http.Header, dropped []string) {
	out = make(http.Header)
	for _, h := range forwardedRequestHeaders {
		if v := in.Values(h); len(v) > 0 {
			out[http.CanonicalHeaderKey(h)] = append([]string(nil), v...)
		}
	}
	for _, h := range betaHeaders {
		kept, d := pol.filterBetas(in.Values(h))
		if len(kept) > 0 {
			out.Set(h, strings.Join(kept, ","))
		}
		dropped = append(dropped, d...)
	}
	switch api {
	case APIOpenAI:
		if key != "" {
			out.Set("Authorization", "Bearer "+key)
		}
	case APIAnthropic:
		if key != "" {
			out.Set("X-Api-Key", key)
		}
		if out.Get("Anthropic-Version") == "" {
			out.Set("Anthropic-Version", defaultAnthropicVersion)
		}
	}
	return out, dropped
}

// forwardedResponseHeaders and forwardedResponsePrefixes are the upstream
// response headers passed to the client (values redacted). Content-Length
// is never passed: redaction may change the length.
var (
	forwardedResponseHeaders = []string{
		"Content-Type", "Cache-Control", "Retry-After", "Retry-After-Ms",
		"X-Request-Id", "Request-Id", "Openai-Processing-Ms", "X-Should-Retry",
	}
	forwardedResponsePrefixes = []string{"X-Ratelimit-", "Anthropic-Ratelimit-"}
)

// copyResponseHeaders copies the allowed upstream headers to dst, each
// value passed through redact.
func copyResponseHeaders(dst, src http.Header, redact func(string) string) {
	for k, vs := range src {
		if !forwardResponseHeader(k) {
			continue
		}
		for _, v := range vs {
			dst.Add(k, redact(v))
		}
	}
}

func forwardResponseHeader(k string) bool {
	k = http.CanonicalHeaderKey(k)
	for _, h := range forwardedResponseHeaders {
		if k == http.CanonicalHeaderKey(h) {
			return true
		}
	}
	for _, p := range forwardedResponsePrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}
