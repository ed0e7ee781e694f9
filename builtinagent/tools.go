package builtinagent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Bounds of the file tools.
const (
	maxReadBytes     = 4 << 20 // largest file read_file, search or apply_patch will open
	maxReadLines     = 400     // lines read_file returns at once
	maxListEntries   = 500     // entries list_files returns
	maxSearchMatches = 200     // matches search returns
	maxSearchFiles   = 20000   // files search visits
	maxWriteBytes    = 4 << 20 // largest content write_file accepts
)

// errFinish is returned by the finish tool.
var errFinish = errors.New("finish")

// toolbox runs the tools of one agent run.
type toolbox struct {
	cfg     Config
	ws      *workspace
	ev      *emitter
	summary string // set by finish
}

// call runs one tool call and returns the text for the model. A tool's
// failure is reported in the text, never as an error; the error is
// errFinish when the model called finish.
func (t *toolbox) call(ctx context.Context, tc ToolCall) (string, error) {
	args := tc.Function.Arguments
	if strings.TrimSpace(args) == "" {
		args = "{}"
	}
	dec := func(v any) error {
		d := json.NewDecoder(strings.NewReader(args))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return fmt.Errorf("malformed arguments for %s: %v", tc.Function.Name, err)
		}
		return nil
	}
	switch tc.Function.Name {
	case "list_files":
		var a struct {
			Path string `json:"path"`
		}
		if err := dec(&a); err != nil {
			return "error: " + err.Error(), nil
		}
		return result(t.listFiles(a.Path)), nil
	case "read_file":
		var a struct {
			Path      string `json:"path"`
			StartLine int    `json:"start_line"`
			EndLine   int    `json:"end_line"`
		}
		if err := dec(&a); err != nil {
			return "error: " + err.Error(), nil
		}
		return result(t.readFile(a.Path, a.StartLine, a.EndLine)), nil
	case "search":
		var a struct {
			Pattern string `json:"pattern"`
			Path    string `json:"path"`
		}
		if err := dec(&a); err != nil {
			return "error: " + err.Error(), nil
		}
		return result(t.search(a.Pattern, a.Path)), nil
	case "write_file":
		var a struct {
			Path    *string `json:"path"`
			Content *string `json:"content"`
		}
		if err := dec(&a); err != nil {
			return "error: " + err.Error(), nil
		}
		if a.Path == nil || a.Content == nil {
			return "error: write_file needs path and content", nil
		}
		return result(t.writeFile(*a.Path, *a.Content)), nil
	case "apply_patch":
		var a struct {
			Diff string `json:"diff"`
		}
		if err := dec(&a); err != nil {
			return "error: " + err.Error(), nil
		}
		return result(t.applyPatch(a.Diff)), nil
	case "run":
		var a struct {
			Command        string `json:"command"`
			TimeoutSeconds int    `json:"timeout_seconds"`
		}
		if err := dec(&a); err != nil {
			return "error: " + err.Error(), nil
		}
		timeout := t.cfg.CommandTimeout
		if a.TimeoutSeconds > 0 && time.Duration(a.TimeoutSeconds)*time.Second < timeout {
			timeout = time.Duration(a.TimeoutSeconds) * time.Second
		}
		return t.run(ctx, a.Command, timeout), nil
	case "finish":
		var a struct {
			Summary string `json:"summary"`
		}
		if err := dec(&a); err != nil {
			return "error: " + err.Error(), nil
		}
		t.summary = a.Summary
		return "ok", errFinish
	default:
		names := make([]string, len(toolDefs))
		for i, d := range toolDefs {
			names[i] = d.Function.Name
		}
		return fmt.Sprintf("error: unknown tool %q; the tools are %s", truncate(tc.Function.Name, 100), strings.Join(names, ", ")), nil
	}
}

func result(s string, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return s
}

func (t *toolbox) listFiles(p string) (string, error) {
	r, err := t.ws.rel(p)
	if err != nil {
		return "", err
	}
	f, err := t.ws.root.Open(r)
	if err != nil {
		return "", err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return "", err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var b strings.Builder
	for i, e := range entries {
		if i == maxListEntries {
			fmt.Fprintf(&b, "[... %d more entries]\n", len(entries)-i)
			break
		}
		name := e.Name()
		switch {
		case e.IsDir():
			name += "/"
		case e.Type()&fs.ModeSymlink != 0:
			name += "@"
		}
		b.WriteString(name + "\n")
	}
	if b.Len() == 0 {
		return "(empty directory)", nil
	}
	return b.String(), nil
}

func (t *toolbox) readFile(p string, start, end int) (string, error) {
	data, err := t.ws.readFile(p, maxReadBytes)
	if err != nil {
		return "", err
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return "", errors.New("binary file")
	}
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if start < 1 {
		start = 1
	}
	if end < start || end > len(lines) {
		end = len(lines)
	}
	if start > len(lines) {
		return fmt.Sprintf("(the file has %d lines)", len(lines)), nil
	}
	var b strings.Builder
	for i := start; i <= end; i++ {
		if i-start == maxReadLines || b.Len() > t.cfg.MaxToolOutput-200 {
			fmt.Fprintf(&b, "[... cut at line %d of %d; read on with start_line=%d]\n", i-1, len(lines), i)
			break
		}
		fmt.Fprintf(&b, "%d\t%s", i, strings.TrimSuffix(lines[i-1], "\n")+"\n")
	}
	if b.Len() == 0 {
		return "(empty file)", nil
	}
	return b.String(), nil
}

func (t *toolbox) search(pattern, p string) (string, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return "", fmt.Errorf("bad pattern: %w", err)
	}
	r, err := t.ws.rel(p)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	matches, files := 0, 0
	errStop := errors.New("stop")
	err = fs.WalkDir(t.ws.root.FS(), r, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable entries are skipped
		}
		if d.IsDir() {
			if name != r && (d.Name() == ".git" || d.Name() == "node_modules") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if files++; files > maxSearchFiles {
			return errStop
		}
		data, err := t.ws.readFile(name, maxReadBytes)
		if err != nil || bytes.IndexByte(data, 0) >= 0 {
			return nil
		}
		for i, line := range strings.Split(string(data), "\n") {
			if !re.MatchString(line) {
				continue
			}
			if matches++; matches > maxSearchMatches {
				return errStop
			}
			fmt.Fprintf(&b, "%s:%d: %s\n", name, i+1, truncate(line, 300))
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return "", err
	}
	if errors.Is(err, errStop) {
		b.WriteString("[... more matches; narrow the pattern or the path]\n")
	}
	if b.Len() == 0 {
		return "no matches", nil
	}
	return b.String(), nil
}

func (t *toolbox) writeFile(p, content string) (string, error) {
	if len(content) > maxWriteBytes {
		return "", fmt.Errorf("content is larger than %d bytes", maxWriteBytes)
	}
	r, err := t.ws.rel(p)
	if err != nil {
		return "", err
	}
	existed, err := t.ws.writeFile(r, []byte(content))
	if err != nil {
		return "", err
	}
	op := "create"
	if existed {
		op = "update"
	}
	t.ev.emit(Event{Type: "file_change", Path: path.Clean(r), Op: op})
	return fmt.Sprintf("wrote %d bytes to %s", len(content), r), nil
}
