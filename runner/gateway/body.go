package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
)

// requestInfo is what the gateway reads from a request body.
type requestInfo struct {
	model  string
	stream bool
}

// errNotObject is returned for bodies that are not a JSON object.
var errNotObject = errors.New("request body is not a JSON object")

// inspectBody reads the model and stream flag from a JSON request body
// and, for OpenAI chat completion streams, returns the body rewritten to
// ask for usage in the stream (stream_options.include_usage), which the
// upstream otherwise leaves out. Other bodies are returned unchanged.
func inspectBody(body []byte, rt route) (requestInfo, []byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return requestInfo{}, nil, errNotObject
	}
	var info requestInfo
	if m, ok := fields["model"]; ok {
		_ = json.Unmarshal(m, &info.model) // a non-string model is the upstream's to refuse
	}
	if s, ok := fields["stream"]; ok {
		_ = json.Unmarshal(s, &info.stream)
	}
	if !info.stream || rt.api != APIOpenAI || rt.path != "/v1/chat/completions" {
		return info, body, nil
	}
	opts := map[string]json.RawMessage{}
	if raw, ok := fields["stream_options"]; ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
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
	out, err := json.Marshal(fields)
	if err != nil {
		return requestInfo{}, nil, err
	}
	return info, out, nil
}
