package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// requestInfo is what the gateway reads from a request body.
type requestInfo struct {
	model  string
	stream bool
	// maxOutput is the output cap the request states (times n for chat
	// completions), or -1 when it states none.
	maxOutput int64
}

// reservation is what a request may spend from the token budget at most:
// its input, estimated from the body's size (4 bytes a token, as for
// upstreams that report no usage), plus its output cap or defaultOut.
func (i requestInfo) reservation(bodyLen int, defaultOut int64) int64 {
	out := i.maxOutput
	if out < 0 {
		out = defaultOut
	}
	in := int64(bodyLen+3) / 4
	if out > math.MaxInt64-in {
		return math.MaxInt64
	}
	return in + out
}

// errNotObject is returned for bodies that are not a JSON object.
var errNotObject = errors.New("request body is not a JSON object")

// inspectBody checks a JSON request body against the policy and reads the
// model, stream flag and output cap. It returns the body to forward,
// rewritten where the gateway changes it: OpenAI store forced to false
// (unless provider state is allowed); for OpenAI chat completion streams,
// stream_options.include_usage set, which the upstream otherwise leaves
// out; for OpenAI responses without max_output_tokens, defaultOut as the
// cap when defaultOut > 0. Other bodies are returned unchanged. A request
// the policy refuses yields a *refusal error.
func inspectBody(body []byte, rt route, pol *policy, defaultOut int64) (requestInfo, []byte, error) {
	if err := checkDuplicateKeys(body); err != nil {
		return requestInfo{}, nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return requestInfo{}, nil, errNotObject
	}
	info := requestInfo{maxOutput: -1}
	if m, ok := fields["model"]; ok {
		_ = json.Unmarshal(m, &info.model) // a non-string model is the upstream's to refuse
	}
	if s, ok := fields["stream"]; ok {
		_ = json.Unmarshal(s, &info.stream)
	}
	changed, err := checkBody(fields, rt, pol, &info)
	if err != nil {
		return requestInfo{}, nil, err
	}
	if rt.api == APIOpenAI && rt.path == "/v1/responses" && info.maxOutput < 0 && defaultOut > 0 {
		fields["max_output_tokens"] = json.RawMessage(fmt.Sprint(defaultOut))
		info.maxOutput, changed = defaultOut, true
	}
	if info.stream && rt.api == APIOpenAI && rt.path == "/v1/chat/completions" {
		opts := map[string]json.RawMessage{}
		if raw, ok := fields["stream_options"]; ok && !isNull(raw) {
			if err := json.Unmarshal(raw, &opts); err != nil || opts == nil {
				return requestInfo{}, nil, errors.New("stream_options is not a JSON object")
			}
		}
		opts["include_usage"] = json.RawMessage("true")
		raw, err := json.Marshal(opts)
		if err != nil {
			return requestInfo{}, nil, err
		}
		fields["stream_options"] = raw
		changed = true
	}
	if !changed {
		return info, body, nil
	}
	out, err := json.Marshal(fields)
	if err != nil {
		return requestInfo{}, nil, err
	}
	return info, out, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// checkDuplicateKeys refuses a body with a key twice in one object: the
// gateway and the provider could each read a different one of the two.
func checkDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := walkTokens(dec, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errNotObject
	}
	return nil
}

// maxDepth bounds the nesting walkTokens follows (json.Unmarshal's own
// limit is 10000).
const maxDepth = 10000

func walkTokens(dec *json.Decoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return errNotObject
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth >= maxDepth {
		return errors.New("request body nests too deep")
	}
	var keys map[string]bool
	if d == '{' {
		keys = map[string]bool{}
	}
	for dec.More() {
		if keys != nil {
			kt, err := dec.Token()
			k, ok := kt.(string)
			if err != nil || !ok {
				return errNotObject
			}
			if keys[k] {
				return &refusal{what: "duplicate field " + quote(k), why: "a JSON object names it twice, and the gateway and the provider could read different values"}
			}
			keys[k] = true
		}
		if err := walkTokens(dec, depth+1); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return errNotObject
	}
	return nil
}

// Known top-level fields per endpoint, besides the governed ones each
// check handles itself.
var (
	anthropicFields = fieldSet("model", "messages", "max_tokens", "system", "metadata", "stop_sequences",
		"stream", "temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier",
		"context_management", "output_config", "output_format")
	responsesFields = fieldSet("model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls",
		"max_output_tokens", "max_tool_calls", "temperature", "top_p", "top_logprobs", "stream", "stream_options",
		"metadata", "reasoning", "text", "truncation", "user", "safety_identifier", "prompt_cache_key",
		"prompt_cache_retention", "service_tier", "include", "store")
	chatFields = fieldSet("model", "messages", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs",
		"max_tokens", "max_completion_tokens", "n", "presence_penalty", "response_format", "seed", "service_tier",
		"stop", "stream", "stream_options", "temperature", "top_p", "tools", "tool_choice", "parallel_tool_calls",
		"user", "function_call", "functions", "metadata", "modalities", "audio", "prediction", "reasoning_effort",
		"prompt_cache_key", "prompt_cache_retention", "safety_identifier", "verbosity", "store")
)

func fieldSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// checkBody applies the policy to a parsed body, rewriting fields in
// place; changed reports a rewrite.
func checkBody(fields map[string]json.RawMessage, rt route, pol *policy, info *requestInfo) (changed bool, err error) {
	switch {
	case rt.api == APIAnthropic:
		return false, checkAnthropic(fields, pol, info)
	case rt.path == "/v1/responses":
		return checkResponses(fields, pol, info)
	case rt.path == "/v1/chat/completions":
		return checkChat(fields, pol, info)
	}
	return false, nil
}

// present reports whether a field is there and not null.
func present(fields map[string]json.RawMessage, k string) bool {
	raw, ok := fields[k]
	return ok && !isNull(raw)
}

func unknownFields(fields map[string]json.RawMessage, known map[string]bool, pol *policy, governed ...string) error {
	for k := range fields {
		if known[k] || pol.fields[k] || contains(governed, k) {
			continue
		}
		return &refusal{what: "unknown field " + quote(k), why: whyField}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// readInt reads a token count; ok is false when it is absent, null or
// not a non-negative number. A fractional or exponent form (which some
// servers accept) is rounded up, and huge values are capped at 2^53.
func readInt(fields map[string]json.RawMessage, k string) (int64, bool) {
	if !present(fields, k) {
		return 0, false
	}
	var f float64
	if json.Unmarshal(fields[k], &f) != nil || f < 0 || math.IsNaN(f) {
		return 0, false
	}
	return int64(math.Ceil(min(f, 1<<53))), true
}

// decode parses a field into a generic JSON value (nil when absent).
func decode(fields map[string]json.RawMessage, k string) (any, error) {
	raw, ok := fields[k]
	if !ok {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("field %s: %w", k, err)
	}
	return v, nil
}

// toolTypes yields each tool definition of a tools field with its type
// ("" when it has none).
func toolTypes(fields map[string]json.RawMessage) ([]map[string]any, error) {
	v, err := decode(fields, "tools")
	if err != nil || v == nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New("tools is not an array")
	}
	out := make([]map[string]any, 0, len(list))
	for _, t := range list {
		m, ok := t.(map[string]any)
		if !ok {
			return nil, errors.New("a tool definition is not an object")
		}
		out = append(out, m)
	}
	return out, nil
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func checkAnthropic(fields map[string]json.RawMessage, pol *policy, info *requestInfo) error {
	if n, ok := readInt(fields, "max_tokens"); ok {
		info.maxOutput = n
	}
	if present(fields, "mcp_servers") && !pol.serverToolAllowed("mcp") {
		return &refusal{what: "field \"mcp_servers\"", why: "the provider would connect to these MCP servers itself, outside the run's egress allowlist; an operator can allow it with the setting gateway-allow-server-tools: mcp"}
	}
	if present(fields, "container") && !pol.state {
		return &refusal{what: "field \"container\"", why: whyState}
	}
	if err := unknownFields(fields, anthropicFields, pol, "mcp_servers", "container"); err != nil {
		return err
	}
	tools, err := toolTypes(fields)
	if err != nil {
		return err
	}
	for _, t := range tools {
		typ, hasType := t["type"]
		s, _ := typ.(string)
		switch {
		case !hasType || typ == nil || s == "custom":
		case anthropicClientTool.MatchString(s):
		case s == "":
			return errors.New("a tool's type is not a string")
		case !pol.serverToolAllowed(s):
			return refuseServerTool(s)
		}
	}
	for _, k := range []string{"system", "messages"} {
		v, err := decode(fields, k)
		if err != nil {
			return err
		}
		if err := walkAnthropic(v, pol); err != nil {
			return err
		}
	}
	return nil
}

// walkAnthropic looks through message content for sources the provider
// would fetch (url) or read from the account (file, container_upload).
// Tool inputs and schemas are the model's and the agent's data, not
// instructions to the provider, and are skipped.
func walkAnthropic(v any, pol *policy) error {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if err := walkAnthropic(e, pol); err != nil {
				return err
			}
		}
	case map[string]any:
		if src, ok := v["source"].(map[string]any); ok {
			switch st := str(src, "type"); st {
			case "url":
				return &refusal{what: fmt.Sprintf("%s source of type \"url\"", quote(str(v, "type"))), why: whyRemote}
			case "file":
				if !pol.state {
					return &refusal{what: fmt.Sprintf("%s source of type \"file\"", quote(str(v, "type"))), why: whyState}
				}
			}
		}
		if str(v, "type") == "container_upload" && !pol.state {
			return &refusal{what: "content block \"container_upload\"", why: whyState}
		}
		for k, e := range v {
			if k == "input" || k == "input_schema" {
				continue
			}
			if err := walkAnthropic(e, pol); err != nil {
				return err
			}
		}
	}
	return nil
}

// openAIClientTools are OpenAI tool types the client runs.
var openAIClientTools = fieldSet("function", "custom", "local_shell", "apply_patch", "computer_use_preview", "computer")

func checkOpenAITools(fields map[string]json.RawMessage, pol *policy) error {
	tools, err := toolTypes(fields)
	if err != nil {
		return err
	}
	for _, t := range tools {
		typ := str(t, "type")
		switch {
		case openAIClientTools[typ]:
		case typ == "shell" && localShell(t):
		case typ == "":
			return errors.New("a tool has no type")
		case !pol.serverToolAllowed(typ):
			return refuseServerTool(typ)
		}
	}
	return nil
}

// localShell reports whether a shell tool runs on the client (no hosted
// environment).
func localShell(t map[string]any) bool {
	env, ok := t["environment"]
	if !ok || env == nil {
		return true
	}
	m, ok := env.(map[string]any)
	return ok && str(m, "type") == "local"
}

// forceStoreFalse sets store to false unless provider state is allowed;
// always reports whether it rewrote the body.
func forceStoreFalse(fields map[string]json.RawMessage, pol *policy, always bool) bool {
	if pol.state {
		return false
	}
	if raw, ok := fields["store"]; ok && bytes.Equal(bytes.TrimSpace(raw), []byte("false")) {
		return false
	}
	if !always && !present(fields, "store") {
		return false
	}
	fields["store"] = json.RawMessage("false")
	return true
}

func checkResponses(fields map[string]json.RawMessage, pol *policy, info *requestInfo) (bool, error) {
	if n, ok := readInt(fields, "max_output_tokens"); ok {
		info.maxOutput = n
	}
	for _, k := range []string{"previous_response_id", "conversation", "prompt"} {
		if present(fields, k) && !pol.state {
			return false, &refusal{what: "field " + quote(k), why: whyState}
		}
	}
	if raw, ok := fields["background"]; ok && !pol.state && !isNull(raw) && !bytes.Equal(bytes.TrimSpace(raw), []byte("false")) {
		return false, &refusal{what: "field \"background\"", why: whyState}
	}
	if err := unknownFields(fields, responsesFields, pol, "previous_response_id", "conversation", "prompt", "background"); err != nil {
		return false, err
	}
	if err := checkOpenAITools(fields, pol); err != nil {
		return false, err
	}
	v, err := decode(fields, "input")
	if err != nil {
		return false, err
	}
	if items, ok := v.([]any); ok && !pol.state {
		// An item reference's "type" is optional: {"id": "msg_…"} alone
		// names an item stored on the provider account.
		for _, it := range items {
			if m, ok := it.(map[string]any); ok && m["id"] != nil && m["type"] == nil {
				return false, &refusal{what: "input item with an \"id\" and no \"type\" (a stored item reference)", why: whyState}
			}
		}
	}
	if err := walkOpenAI(v, pol); err != nil {
		return false, err
	}
	return forceStoreFalse(fields, pol, true), nil
}

// mulCapped is a*b for non-negative a and b, saturating instead of
// overflowing (a reservation must never turn negative).
func mulCapped(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return max(a, 0) * max(b, 0)
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

func checkChat(fields map[string]json.RawMessage, pol *policy, info *requestInfo) (bool, error) {
	out, ok := readInt(fields, "max_completion_tokens")
	if !ok {
		out, ok = readInt(fields, "max_tokens")
	}
	if ok {
		n, nok := readInt(fields, "n")
		if !nok || n < 1 {
			n = 1
		}
		info.maxOutput = mulCapped(out, n)
	}
	if present(fields, "web_search_options") && !pol.serverToolAllowed("web_search") {
		return false, refuseServerTool("web_search_options")
	}
	if err := unknownFields(fields, chatFields, pol, "web_search_options"); err != nil {
		return false, err
	}
	if err := checkOpenAITools(fields, pol); err != nil {
		return false, err
	}
	v, err := decode(fields, "messages")
	if err != nil {
		return false, err
	}
	if err := walkOpenAI(v, pol); err != nil {
		return false, err
	}
	return forceStoreFalse(fields, pol, false), nil
}

// walkOpenAI looks through input items and message content (Responses
// and chat completions) for images and files the provider would fetch
// from a URL or read from the account, and for references to stored
// items.
func walkOpenAI(v any, pol *policy) error {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if err := walkOpenAI(e, pol); err != nil {
				return err
			}
		}
	case map[string]any:
		typ := str(v, "type")
		for _, k := range remoteKeys {
			if u, ok := urlOf(v[k]); ok && !isDataURL(u) {
				return &refusal{what: fmt.Sprintf("%s with a %s that is not a data: URL", quote(typ), k), why: whyRemote}
			}
		}
		switch typ {
		case "item_reference":
			if !pol.state {
				return &refusal{what: "input item \"item_reference\"", why: whyState}
			}
		case "file": // chat completions
			if m, ok := v["file"].(map[string]any); ok && present2(m, "file_id") && !pol.state {
				return &refusal{what: "file part with a file_id", why: whyState}
			}
		}
		if (typ == "input_image" || typ == "input_file") && present2(v, "file_id") && !pol.state {
			return &refusal{what: quote(typ) + " with a file_id", why: whyState}
		}
		for _, e := range v {
			if err := walkOpenAI(e, pol); err != nil {
				return err
			}
		}
	}
	return nil
}

// remoteKeys name media a provider or a compatible server (vLLM fetches
// image, video and audio URLs) would download: OpenAI's input_image
// image_url and input_file file_url, chat's image_url part, vLLM's
// video_url and audio_url parts.
var remoteKeys = []string{"image_url", "file_url", "video_url", "audio_url"}

// urlOf reads a media URL given as a string or as {"url": …}; ok is false
// when there is none.
func urlOf(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, v != ""
	case map[string]any:
		u, ok := v["url"].(string)
		return u, ok && u != ""
	}
	return "", false
}

func present2(m map[string]any, k string) bool {
	v, ok := m[k]
	return ok && v != nil && v != ""
}

func isDataURL(u string) bool {
	return len(u) >= 5 && strings.EqualFold(u[:5], "data:")
}
