package testgh

import (
	"maps"
	"net/http"
	"path"
	"strings"
	"time"
)

// failRule is one injected failure.
type failRule struct {
	method  string
	pattern string
	status  int
	headers map[string]string
	// times is how many more requests the rule fails (at least 1).
	times int
	// drop closes the connection without an answer instead (status 0).
	drop bool
	// delay holds the request this long before it is served as usual
	// (SlowNext); status is 0.
	delay time.Duration
}

// FailNext makes the next request matching method and pathPattern fail
// once with status and headers (e.g. 403 with Retry-After: 1 for a
// secondary rate limit, or 429). pathPattern is either an operation
// template from the description ("/repos/{owner}/{repo}/issues/{issue_number}/comments")
// or a path.Match pattern over the path without /api/v3
// ("/repos/o/r/issues/*/comments"). The request is validated and
// authenticated first, changes nothing, and is not a violation.
func (s *Server) FailNext(method, pathPattern string, status int, headers map[string]string) {
	s.FailNextN(method, pathPattern, status, headers, 1)
}

// FailNextN is FailNext for the next n matching requests: a secondary
// rate limit (403 without Retry-After), a 5xx outage, … that lasts n
// requests. Status 0 drops the connection without an answer (a network
// error).
func (s *Server) FailNextN(method, pathPattern string, status int, headers map[string]string, n int) {
	s.addRule(failRule{method: strings.ToUpper(method), pattern: pathPattern, status: status, headers: maps.Clone(headers), times: max(n, 1), drop: status == 0})
}

// SlowNext holds the next n matching requests for d before serving them
// as usual (they still take effect when the client has given up, as on
// GitHub). Patterns are as FailNext's.
func (s *Server) SlowNext(method, pathPattern string, d time.Duration, n int) {
	s.addRule(failRule{method: strings.ToUpper(method), pattern: pathPattern, delay: d, times: max(n, 1)})
}

func (s *Server) addRule(f failRule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.failures = append(s.st.failures, f)
}

// takeDelay uses up one match of the first SlowNext rule matching the
// request and returns its delay (0: none).
func (s *Server) takeDelay(method, template, p string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.take(method, template, p, true); ok {
		return f.delay
	}
	return 0
}

// takeFailure uses up one match of the first failure rule matching the
// request; caller holds mu.
func (s *Server) takeFailure(method, template, p string) (failRule, bool) {
	return s.take(method, template, p, false)
}

// take uses up one match of the first rule of its sort (delays or
// failures) matching the request; caller holds mu.
func (s *Server) take(method, template, p string, delays bool) (failRule, bool) {
	for i, f := range s.st.failures {
		if f.method != method || (f.delay > 0) != delays {
			continue
		}
		ok := f.pattern == template
		if !ok {
			ok, _ = path.Match(f.pattern, p)
		}
		if ok {
			if s.st.failures[i].times--; s.st.failures[i].times <= 0 {
				s.st.failures = append(s.st.failures[:i], s.st.failures[i+1:]...)
			}
			return f, true
		}
	}
	return failRule{}, false
}

// secondaryRateLimitDocs is the documentation_url of GitHub's secondary
// rate-limit answers; clients (go-github) recognise the error by it.
const secondaryRateLimitDocs = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"

// failureReply is the body GitHub sends with an injected status.
func failureReply(status int) reply {
	switch status {
	case http.StatusForbidden, http.StatusTooManyRequests:
		r := ghError(status, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.")
		r.body.(map[string]any)["documentation_url"] = secondaryRateLimitDocs
		return r
	default:
		return ghError(status, http.StatusText(status))
	}
}
