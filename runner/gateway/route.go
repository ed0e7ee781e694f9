package gateway

import (
	"net/http"
	"strings"
)

// API names used in Request.API.
const (
	APIOpenAI    = "openai"
	APIAnthropic = "anthropic"
)

// route is what a request path resolves to.
type route struct {
	api    string // APIOpenAI or APIAnthropic
	path   string // upstream path, starting with /v1/
	method string // the one method allowed
	tokens bool   // the endpoint consumes tokens (counts against the budget)
}

// resolve maps a gateway path to a route; ok is false for unknown paths.
// Paths are matched exactly (no cleaning): "..", "//" or an escaped slash
// simply do not match.
func resolve(p string) (route, bool) {
	switch {
	case strings.HasPrefix(p, "/openai/v1/"):
		return openAIRoute(strings.TrimPrefix(p, "/openai"))
	case strings.HasPrefix(p, "/anthropic/v1/"):
		return anthropicRoute(strings.TrimPrefix(p, "/anthropic"))
	case p == "/v1/messages":
		return anthropicRoute(p)
	}
	return openAIRoute(p)
}

func openAIRoute(p string) (route, bool) {
	switch p {
	case "/v1/chat/completions", "/v1/responses":
		return route{api: APIOpenAI, path: p, method: http.MethodPost, tokens: true}, true
	case "/v1/models":
		return route{api: APIOpenAI, path: p, method: http.MethodGet}, true
	}
	if id, ok := strings.CutPrefix(p, "/v1/models/"); ok && validModelID(id) {
		return route{api: APIOpenAI, path: p, method: http.MethodGet}, true
	}
	return route{}, false
}

// anthropicRoute serves the Messages API and its token counter, which
// Claude Code calls beside /v1/messages (free, so it counts against no
// budget; it is still a rate-limited, logged request with the real key
// added on the host).
func anthropicRoute(p string) (route, bool) {
	switch p {
	case "/v1/messages":
		return route{api: APIAnthropic, path: p, method: http.MethodPost, tokens: true}, true
	case "/v1/messages/count_tokens":
		return route{api: APIAnthropic, path: p, method: http.MethodPost}, true
	}
	return route{}, false
}

// validModelID accepts the characters model ids use (letters, digits and
// ".-_:"), nothing that could change the upstream path.
func validModelID(id string) bool {
	if id == "" || len(id) > 200 || strings.HasPrefix(id, ".") {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' || c == '-' || c == '_' || c == ':':
		default:
			return false
		}
	}
	return true
}
