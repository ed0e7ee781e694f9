package gateway

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Policy is what a request may ask the provider to do on its own. The
// zero Policy is the safe default: client-side tools only, no provider
// state, no fields the gateway does not know, and only the beta headers of
// DefaultBetas.
type Policy struct {
	// AllowServerTools names server-side tools the provider may run for
	// the agent: a tool type without its version suffix (web_search,
	// web_fetch, code_execution, tool_search_tool_regex, advisor,
	// file_search, code_interpreter, image_generation) or "mcp" for remote
	// MCP servers (Anthropic mcp_servers and mcp_toolset, the OpenAI mcp
	// tool). An exact versioned type (web_search_20250305) works too.
	AllowServerTools []string
	// AllowBetas extends DefaultBetas: values of the Anthropic-Beta and
	// OpenAI-Beta headers passed upstream. Other values are dropped.
	AllowBetas []string
	// AllowProviderState lets requests use state the provider keeps on the
	// shared account: OpenAI store, previous_response_id, conversation,
	// prompt templates, background responses and item references,
	// uploaded-file references (file_id, Anthropic file sources and
	// container_upload) and Anthropic's container reuse. Off, store is
	// forced to false and the others are refused.
	AllowProviderState bool
	// AllowFields names extra top-level request fields to pass (for
	// compatible servers with options of their own, e.g. Ollama's
	// keep_alive). Fields the gateway governs (tools, mcp_servers,
	// container, store, previous_response_id, conversation, …) cannot be
	// allowed this way.
	AllowFields []string
}

// DefaultBetas are the beta header values passed without configuration:
// features that change how the model answers or streams, none that makes
// the provider run a tool, fetch a URL or keep state.
var DefaultBetas = []string{
	// Anthropic-Beta
	"claude-code-20250219",
	"interleaved-thinking-2025-05-14",
	"fine-grained-tool-streaming-2025-05-14",
	"token-efficient-tools-2025-02-19",
	"context-management-2025-06-27",
	"context-1m-2025-08-07",
	"output-128k-2025-02-19",
	"prompt-caching-2024-07-31",
	"computer-use-2024-10-22",
	"computer-use-2025-01-24",
	"computer-use-2025-11-24",
	"structured-outputs-2025-11-13",
	"effort-2025-11-24",
	// OpenAI-Beta
	"responses=experimental",
}

// ErrRefused is the error code of a request refused for what its body or
// headers ask the provider to do (Request.Refused says what).
const ErrRefused = "agentgate_request_refused"

// Validate reports a policy New would refuse: a server tool name that is
// not a tool type, or an extra field the gateway governs.
func (p Policy) Validate() error {
	_, err := compilePolicy(p)
	return err
}

// policy is a compiled Policy.
type policy struct {
	serverTools map[string]bool
	betas       map[string]bool
	state       bool
	fields      map[string]bool
}

// governedFields are top-level fields the gateway decides on; AllowFields
// cannot name them.
var governedFields = []string{
	"tools", "tool_choice", "mcp_servers", "container", "store", "previous_response_id",
	"conversation", "prompt", "background", "web_search_options", "input", "messages", "system",
}

func compilePolicy(p Policy) (*policy, error) {
	c := &policy{serverTools: map[string]bool{}, betas: map[string]bool{}, state: p.AllowProviderState, fields: map[string]bool{}}
	for _, t := range p.AllowServerTools {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !toolName.MatchString(t) {
			return nil, fmt.Errorf("gateway: server tool name %q: want a tool type such as web_search", t)
		}
		c.serverTools[t] = true
	}
	for _, b := range append(slices.Clone(DefaultBetas), p.AllowBetas...) {
		if b = strings.TrimSpace(b); b != "" {
			c.betas[b] = true
		}
	}
	for _, f := range p.AllowFields {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if slices.Contains(governedFields, f) {
			return nil, fmt.Errorf("gateway: field %q is governed by the gateway and cannot be allowed as an extra field", f)
		}
		c.fields[f] = true
	}
	return c, nil
}

var (
	toolName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	// toolVersion is the version suffix of a provider tool type:
	// _20250305 (Anthropic) or _2025_03_11 (OpenAI).
	toolVersion = regexp.MustCompile(`_(\d{8}|\d{4}_\d{2}_\d{2})$`)
	// anthropicClientTool matches Anthropic-defined tools the client runs.
	anthropicClientTool = regexp.MustCompile(`^(bash|text_editor|computer|memory)_\d{8}$`)
)

// toolFamily is a tool type without its version and preview suffixes:
// web_search_20250305 and web_search_preview_2025_03_11 are web_search.
func toolFamily(typ string) string {
	f := toolVersion.ReplaceAllString(typ, "")
	f = strings.TrimSuffix(f, "_preview")
	if f == "mcp_toolset" {
		f = "mcp"
	}
	return f
}

// serverToolAllowed reports whether the operator allowed the server-side
// tool typ.
func (p *policy) serverToolAllowed(typ string) bool {
	return p.serverTools[typ] || p.serverTools[toolFamily(typ)]
}

// refusal is a request the policy refuses: what (for the record) and why
// (for the agent).
type refusal struct {
	what, why string
}

func (r *refusal) Error() string { return r.what + ": " + r.why }

const (
	whyServerTool = "the provider would run this tool itself, outside the run's sandbox and egress allowlist; an operator can allow it by name with the setting gateway-allow-server-tools"
	whyRemote     = "the provider would fetch this URL itself, outside the run's egress allowlist; send the content inline (base64 or text) instead"
	whyState      = "it refers to state kept on the shared provider account; an operator can allow it with the setting gateway-allow-provider-state"
	whyField      = "the gateway forwards only the request fields it knows; an operator can allow an extra field with the setting gateway-allow-fields"
)

func refuseServerTool(typ string) *refusal {
	return &refusal{what: "server-side tool " + quote(typ), why: whyServerTool}
}

func quote(s string) string { return fmt.Sprintf("%q", truncate(s, 80)) }

// filterBetas keeps the allowed comma-separated values of a beta header;
// dropped are the others.
func (p *policy) filterBetas(values []string) (kept, dropped []string) {
	for _, v := range values {
		for b := range strings.SplitSeq(v, ",") {
			b = strings.TrimSpace(b)
			switch {
			case b == "":
			case p.betas[b]:
				kept = append(kept, b)
			default:
				dropped = append(dropped, truncate(b, 80))
			}
		}
	}
	return kept, dropped
}
