package testgh

import (
	"maps"
	"net/http"
	"path"
	"strings"
)

// failRule is one injected failure.
type failRule struct {
	method  string
	pattern string
	status  int
	headers map[string]string
}

// FailNext makes the next request matching method and pathPattern fail
// once with status and headers (e.g. 403 with Retry-After: 1 for a
// secondary rate limit, or 429). pathPattern is either an operation
// template from the description ("/repos/{owner}/{repo}/issues/{issue_number}/comments")
// or a path.Match pattern over the path without /api/v3
// ("/repos/o/r/issues/*/comments"). The request is validated and
// authenticated first, changes nothing, and is not a violation.
func (s *Server) FailNext(method, pathPattern string, status int, headers map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.failures = append(s.st.failures, failRule{strings.ToUpper(method), pathPattern, status, maps.Clone(headers)})
}

// takeFailure pops the first rule matching the request; caller holds mu.
func (s *Server) takeFailure(method, template, p string) (failRule, bool) {
	for i, f := range s.st.failures {
		if f.method != method {
			continue
		}
		ok := f.pattern == template
		if !ok {
			ok, _ = path.Match(f.pattern, p)
		}
		if ok {
			s.st.failures = append(s.st.failures[:i], s.st.failures[i+1:]...)
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
