package gateway

import (
	"encoding/json"
	"net/http"
)

// Error codes the gateway answers with, in the error body's "code" (OpenAI
// shape) or "type" (Anthropic shape) and in Request.Error.
const (
	ErrUnknownRoute     = "agentgate_unknown_route"
	ErrNotOffered       = "agentgate_api_not_offered"
	ErrMethod           = "agentgate_method_not_allowed"
	ErrUnauthorized     = "agentgate_invalid_placeholder"
	ErrBudget           = "agentgate_token_budget_spent"
	ErrBusy             = "agentgate_too_many_requests"
	ErrTooLarge         = "agentgate_body_too_large"
	ErrBadBody          = "agentgate_bad_request_body"
	ErrUpstream         = "agentgate_upstream_unreachable"
	ErrUpstreamEncoding = "agentgate_upstream_encoding"
	ErrClosed           = "agentgate_closed"
	ErrSecret           = "agentgate_secret_in_request"
)

// writeError answers with a JSON error the client's SDK can show: OpenAI's
// shape {"error":{"message","type","code"}} or Anthropic's
// {"type":"error","error":{"type","message"}}. x-should-retry tells the
// official SDKs whether retrying can help.
func writeError(w http.ResponseWriter, api string, status int, code, msg string) {
	var body any
	if api == APIAnthropic {
		body = map[string]any{"type": "error", "error": map[string]string{"type": code, "message": msg}}
	} else {
		body = map[string]any{"error": map[string]any{"message": msg, "type": "agentgate_error", "code": code}}
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	retry := "false"
	if status == http.StatusBadGateway || code == ErrBusy {
		retry = "true"
	}
	h.Set("X-Should-Retry", retry)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
