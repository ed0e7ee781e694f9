package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agentgate/agentgate/internal/stubagent"
)

// exitError ends a contract stub with the CLI's exit code and message.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// run is what a contract stub works with.
type run struct {
	args   []string          // argv after the program name
	env    map[string]string // the environment
	stdin  string            // what arrived on standard input
	out    io.Writer         // standard output (the event stream)
	errOut io.Writer         // standard error
	uid    int               // the user it runs as
}

// contracts are the CLIs the stub stands in for, by program name.
var contracts = map[string]func(*run) error{
	"codex":  codexContract,
	"claude": claudeContract,
	"aider":  aiderContract,
}

// editTarget is the work-tree path the task asks the stub to write (see
// stubagent.WriteDirective), or "" when the task asks for nothing: then
// the stub only checks how it was started and records it.
func editTarget(task string) (string, error) {
	i := strings.Index(task, stubagent.WriteDirective)
	if i < 0 {
		return "", nil
	}
	rest := task[i+len(stubagent.WriteDirective):]
	path, _, _ := strings.Cut(strings.Fields(rest + " ")[0], "\n")
	clean := filepath.Clean(path)
	if path == "" || filepath.IsAbs(clean) || clean == "." || strings.HasPrefix(clean, "..") {
		return "", fmt.Errorf("stub: bad %s%q", stubagent.WriteDirective, path)
	}
	return clean, nil
}

// sseEvent is one server-sent event.
type sseEvent struct {
	name string
	data string
}

// postStream sends body to url with headers and reads the answer as a
// server-sent event stream; a status other than 200 is an error holding
// the body.
func postStream(url string, headers map[string]string, body any) ([]sseEvent, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("POST %s: %s: %s", url, resp.Status, msg)
	}
	var evs []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.data != "" || cur.name != "" {
				evs = append(evs, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "event:"):
			cur.name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if cur.data != "" {
				cur.data += "\n"
			}
			cur.data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		}
	}
	if cur.data != "" {
		evs = append(evs, cur)
	}
	return evs, sc.Err()
}

// postJSON sends body to url and decodes a 200 answer into out.
func postJSON(url string, headers map[string]string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, msg)
	}
	return json.Unmarshal(msg, out)
}

// writeWork writes text to path under the working directory.
func writeWork(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// emit prints one JSON line.
func emit(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(w, "%s\n", b)
}
