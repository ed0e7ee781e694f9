package builtinagent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Message is one chat completions message.
type Message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// ToolCall is a function call the model asked for.
type ToolCall struct {
	Index    *int         `json:"index,omitempty"` // streamed deltas only
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

// FunctionCall is the name and JSON arguments of a tool call.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Usage is the token count of one completion.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

type chatRequest struct {
	Model         string         `json:"model"`
	Messages      []Message      `json:"messages"`
	Tools         []toolDef      `json:"tools"`
	Stream        bool           `json:"stream,omitempty"`
	StreamOptions *streamOptions `json:"stream_options,omitempty"`
	ToolChoice    string         `json:"tool_choice,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type chatResponse struct {
	Model   string `json:"model"`
	Choices []struct {
		Message      Message `json:"message"`
		Delta        Message `json:"delta"`
		FinishReason string  `json:"finish_reason"`
	} `json:"choices"`
	Usage *Usage `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// completion is one assembled model answer.
type completion struct {
	Message      Message
	FinishReason string
	Usage        Usage
	Model        string
}

// maxResponseBytes bounds a model answer.
const maxResponseBytes = 16 << 20

// statusError is an HTTP answer that is not 200.
type statusError struct {
	status     int
	retryAfter time.Duration
	body       string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("model API answered %d: %s", e.status, e.body)
}

func (e *statusError) retryable() bool {
	return e.status == http.StatusTooManyRequests || e.status >= 500
}

// complete sends one chat completions request, retrying 429 and 5xx
// answers with backoff (honouring Retry-After) up to cfg.MaxRetries times.
func complete(ctx context.Context, cfg Config, req chatRequest) (completion, error) {
	wait := cfg.RetryBase
	for attempt := 0; ; attempt++ {
		c, err := completeOnce(ctx, cfg, req)
		var se *statusError
		if err == nil || !errors.As(err, &se) || !se.retryable() || attempt >= cfg.MaxRetries {
			return c, err
		}
		d := wait
		if se.retryAfter > 0 {
			d = se.retryAfter
		}
		d = min(d, cfg.MaxRetryWait)
		cfg.Log.Warn("model API busy, retrying", "status", se.status, "wait", d, "attempt", attempt+1)
		select {
		case <-ctx.Done():
			return completion{}, fmt.Errorf("chat: %w", ctx.Err())
		case <-time.After(d):
		}
		wait *= 2
	}
}

func completeOnce(ctx context.Context, cfg Config, req chatRequest) (completion, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return completion{}, fmt.Errorf("chat: %w", err)
	}
	url := strings.TrimRight(cfg.BaseURL, "/") + "/chat/completions"
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return completion{}, fmt.Errorf("chat: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	if cfg.APIKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+cfg.APIKey)
	}
	resp, err := cfg.HTTPClient.Do(hreq)
	if err != nil {
		return completion{}, fmt.Errorf("chat: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return completion{}, &statusError{status: resp.StatusCode, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After")), body: strings.TrimSpace(string(b))}
	}
	r := io.LimitReader(resp.Body, maxResponseBytes)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return readStream(r)
	}
	var cr chatResponse
	if err := json.NewDecoder(r).Decode(&cr); err != nil {
		return completion{}, fmt.Errorf("chat: malformed answer: %w", err)
	}
	if cr.Error != nil {
		return completion{}, fmt.Errorf("chat: model API error: %s", cr.Error.Message)
	}
	if len(cr.Choices) == 0 {
		return completion{}, errors.New("chat: answer has no choices")
	}
	c := completion{Message: cr.Choices[0].Message, FinishReason: cr.Choices[0].FinishReason, Model: cr.Model}
	if cr.Usage != nil {
		c.Usage = *cr.Usage
	}
	return c, nil
}

// readStream assembles a streamed (SSE) answer: content deltas are joined
// and tool-call fragments are merged by their index.
func readStream(r io.Reader) (completion, error) {
	var c completion
	var text strings.Builder
	calls := map[int]*ToolCall{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	done := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			done = true
			break
		}
		var chunk chatResponse
		if err := json.Unmarshal([]byte(data), &chunk); err != nil {
			return completion{}, fmt.Errorf("chat: malformed stream chunk: %w", err)
		}
		if chunk.Error != nil {
			return completion{}, fmt.Errorf("chat: model API error: %s", chunk.Error.Message)
		}
		if chunk.Model != "" {
			c.Model = chunk.Model
		}
		if chunk.Usage != nil {
			c.Usage = *chunk.Usage
		}
		for _, ch := range chunk.Choices {
			text.WriteString(ch.Delta.Content)
			if ch.FinishReason != "" {
				c.FinishReason = ch.FinishReason
			}
			for i, d := range ch.Delta.ToolCalls {
				idx := i
				if d.Index != nil {
					idx = *d.Index
				}
				tc := calls[idx]
				if tc == nil {
					tc = &ToolCall{Type: "function"}
					calls[idx] = tc
				}
				if d.ID != "" {
					tc.ID = d.ID
				}
				if d.Function.Name != "" {
					tc.Function.Name += d.Function.Name
				}
				tc.Function.Arguments += d.Function.Arguments
			}
		}
	}
	if err := sc.Err(); err != nil {
		return completion{}, fmt.Errorf("chat: reading stream: %w", err)
	}
	if !done && c.FinishReason == "" {
		return completion{}, errors.New("chat: stream ended early")
	}
	idxs := make([]int, 0, len(calls))
	for i := range calls {
		idxs = append(idxs, i)
	}
	sort.Ints(idxs)
	c.Message = Message{Role: "assistant", Content: text.String()}
	for _, i := range idxs {
		c.Message.ToolCalls = append(c.Message.ToolCalls, *calls[i])
	}
	return c, nil
}

// parseRetryAfter reads a Retry-After header in seconds or as an HTTP date.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
