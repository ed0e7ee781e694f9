package gateway

import (
	"bytes"
	"encoding/json"
)

// usageFields is a usage object as OpenAI (chat: prompt/completion;
// responses: input/output) and Anthropic (input/output plus cache counts)
// report it. Absent fields stay nil.
type usageFields struct {
	PromptTokens             *int64 `json:"prompt_tokens"`
	CompletionTokens         *int64 `json:"completion_tokens"`
	InputTokens              *int64 `json:"input_tokens"`
	OutputTokens             *int64 `json:"output_tokens"`
	CacheCreationInputTokens *int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int64 `json:"cache_read_input_tokens"`
}

// withUsage is the part of a response document, or of one stream event's
// data, that carries a model name and usage: at the top level (OpenAI
// chat and responses, Anthropic messages, OpenAI chat stream chunks,
// Anthropic message_delta), under "message" (Anthropic message_start) or
// under "response" (OpenAI responses stream events).
type withUsage struct {
	Model    string       `json:"model"`
	Usage    *usageFields `json:"usage"`
	Message  *modelUsage  `json:"message"`
	Response *modelUsage  `json:"response"`
}

type modelUsage struct {
	Model string       `json:"model"`
	Usage *usageFields `json:"usage"`
}

// tally accumulates what a response reported. Each usage field seen
// replaces the earlier value: OpenAI reports usage once, Anthropic's
// message_delta counts are cumulative.
type tally struct {
	model                  string
	input, output          int64
	cacheCreate, cacheRead int64
	seen                   bool
}

// addDoc folds one JSON document into the tally; documents that are not
// JSON objects are ignored.
func (t *tally) addDoc(doc []byte) {
	if !bytes.Contains(doc, []byte(`"usage"`)) && !bytes.Contains(doc, []byte(`"model"`)) {
		return
	}
	var d withUsage
	if json.Unmarshal(doc, &d) != nil {
		return
	}
	t.add(d.Model, d.Usage)
	if d.Message != nil {
		t.add(d.Message.Model, d.Message.Usage)
	}
	if d.Response != nil {
		t.add(d.Response.Model, d.Response.Usage)
	}
}

func (t *tally) add(model string, u *usageFields) {
	if model != "" {
		t.model = model
	}
	if u == nil {
		return
	}
	set := func(dst *int64, v *int64) {
		if v != nil && *v >= 0 {
			*dst = *v
			t.seen = true
		}
	}
	set(&t.input, u.PromptTokens)
	set(&t.input, u.InputTokens)
	set(&t.output, u.CompletionTokens)
	set(&t.output, u.OutputTokens)
	set(&t.cacheCreate, u.CacheCreationInputTokens)
	set(&t.cacheRead, u.CacheReadInputTokens)
}

// inputTokens counts every input token, cached ones included (OpenAI's
// counts include them already; Anthropic reports them apart).
func (t *tally) inputTokens() int64 { return t.input + t.cacheCreate + t.cacheRead }

// maxLineBytes bounds one server-sent-event line kept for parsing; longer
// lines are still forwarded, just not inspected.
const maxLineBytes = 1 << 20

// sseParser reads a text/event-stream as it passes through and folds each
// event's data into a tally. It never fails: malformed input is ignored.
type sseParser struct {
	t       *tally
	line    []byte
	skip    bool // the current line grew past maxLineBytes
	data    []byte
	hasData bool
}

// Write consumes a chunk of the stream.
func (p *sseParser) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			p.appendLine(b)
			break
		}
		p.appendLine(b[:i])
		p.endLine()
		b = b[i+1:]
	}
	return n, nil
}

func (p *sseParser) appendLine(b []byte) {
	if p.skip {
		return
	}
	if len(p.line)+len(b) > maxLineBytes {
		p.skip, p.line = true, p.line[:0]
		return
	}
	p.line = append(p.line, b...)
}

func (p *sseParser) endLine() {
	line := bytes.TrimSuffix(p.line, []byte("\r"))
	skipped := p.skip
	p.line, p.skip = p.line[:0], false
	switch {
	case skipped:
	case len(line) == 0:
		p.dispatch()
	case bytes.HasPrefix(line, []byte("data:")):
		v := bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("data:")), []byte(" "))
		if p.hasData {
			p.data = append(p.data, '\n')
		}
		if len(p.data)+len(v) <= maxLineBytes {
			p.data = append(p.data, v...)
		}
		p.hasData = true
	}
}

// Close dispatches a last event that was not followed by a blank line.
func (p *sseParser) Close() error {
	if len(p.line) > 0 && !p.skip {
		p.endLine()
	}
	p.dispatch()
	return nil
}

func (p *sseParser) dispatch() {
	if p.hasData {
		p.t.addDoc(p.data)
	}
	p.data, p.hasData = p.data[:0], false
}

// capBuffer keeps the first limit bytes written to it and counts the rest;
// a JSON response is parsed from it at the end.
type capBuffer struct {
	buf   []byte
	limit int
	over  bool
}

func (c *capBuffer) Write(b []byte) (int, error) {
	if room := c.limit - len(c.buf); room >= len(b) {
		c.buf = append(c.buf, b...)
	} else {
		c.over = true
	}
	return len(b), nil
}
