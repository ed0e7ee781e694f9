package builtinagent

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
)

// fileEdit is the outcome of a patch on one file, computed before anything
// is written.
type fileEdit struct {
	path    string
	remove  string // old path removed by a rename or delete
	data    []byte
	op      string // create, update, delete
	deleted bool
}

// applyPatch applies a unified diff to the workspace: all files or none.
func (t *toolbox) applyPatch(diff string) (string, error) {
	files, _, err := gitdiff.Parse(strings.NewReader(diff))
	if err != nil {
		return "", fmt.Errorf("cannot parse the diff: %w", err)
	}
	if len(files) == 0 {
		return "", errors.New("the diff holds no file changes")
	}
	var edits []fileEdit
	for _, f := range files {
		e, err := t.planFile(f)
		if err != nil {
			return "", err
		}
		edits = append(edits, e)
	}
	var done []string
	for _, e := range edits {
		if e.deleted {
			if err := t.ws.remove(e.remove); err != nil {
				return "", fmt.Errorf("%s: %w (applied so far: %v)", e.remove, err, done)
			}
		} else {
			if _, err := t.ws.writeFile(e.path, e.data); err != nil {
				return "", fmt.Errorf("%s: %w (applied so far: %v)", e.path, err, done)
			}
			if e.remove != "" {
				if err := t.ws.remove(e.remove); err != nil {
					return "", fmt.Errorf("%s: %w (applied so far: %v)", e.remove, err, done)
				}
				t.ev.emit(Event{Type: "file_change", Path: e.remove, Op: "delete"})
			}
		}
		p := e.path
		if e.deleted {
			p = e.remove
		}
		t.ev.emit(Event{Type: "file_change", Path: p, Op: e.op})
		done = append(done, p)
	}
	return fmt.Sprintf("applied to %s", strings.Join(done, ", ")), nil
}

// patchName strips the a/ or b/ prefix that a traditional (non-git) diff
// header keeps (go-gitdiff strips it from git headers) unless the
// workspace has a top directory of that name, and confines the name to
// the workspace.
func (t *toolbox) patchName(name string) (string, error) {
	for _, prefix := range []string{"a/", "b/"} {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			if st, err := t.ws.root.Lstat(prefix[:1]); err != nil || !st.IsDir() {
				name = rest
			}
			break
		}
	}
	return t.ws.rel(name)
}

func (t *toolbox) planFile(f *gitdiff.File) (fileEdit, error) {
	if f.IsBinary {
		return fileEdit{}, errors.New("binary patches are not supported")
	}
	var oldName, newName string
	var err error
	if !f.IsNew {
		if oldName, err = t.patchName(f.OldName); err != nil {
			return fileEdit{}, err
		}
	}
	if !f.IsDelete {
		if newName, err = t.patchName(f.NewName); err != nil {
			return fileEdit{}, err
		}
	}
	var src []byte
	if !f.IsNew {
		if src, err = t.ws.readFile(oldName, maxReadBytes); err != nil {
			return fileEdit{}, err
		}
	}
	out, err := applyFragments(src, f.TextFragments)
	if err != nil {
		name := newName
		if name == "" {
			name = oldName
		}
		return fileEdit{}, fmt.Errorf("%s: %w", name, err)
	}
	switch {
	case f.IsDelete:
		return fileEdit{remove: oldName, op: "delete", deleted: true}, nil
	case f.IsNew:
		return fileEdit{path: newName, data: out, op: "create"}, nil
	case oldName != newName:
		return fileEdit{path: newName, remove: oldName, data: out, op: "create"}, nil
	default:
		return fileEdit{path: newName, data: out, op: "update"}, nil
	}
}

// applyFragments applies hunks in order. A hunk's old lines (context and
// deletions) must match the file exactly; they are looked for at the
// position the hunk names first, then at the nearest position after the
// previous hunk, because models often get line numbers wrong.
func applyFragments(src []byte, frags []*gitdiff.TextFragment) ([]byte, error) {
	lines := splitLines(src)
	var out bytes.Buffer
	next := 0 // first line of lines not yet copied
	for i, frag := range frags {
		var old, repl []string
		for _, l := range frag.Lines {
			switch l.Op {
			case gitdiff.OpContext:
				old = append(old, l.Line)
				repl = append(repl, l.Line)
			case gitdiff.OpDelete:
				old = append(old, l.Line)
			case gitdiff.OpAdd:
				repl = append(repl, l.Line)
			}
		}
		at := findLines(lines, old, next, int(frag.OldPosition)-1)
		if at < 0 {
			return nil, fmt.Errorf("hunk %d (@@ -%d) does not match the file; read the file again and make the context lines exact", i+1, frag.OldPosition)
		}
		for _, l := range lines[next:at] {
			out.WriteString(l)
		}
		for _, l := range repl {
			out.WriteString(l)
		}
		next = at + len(old)
	}
	for _, l := range lines[next:] {
		out.WriteString(l)
	}
	return out.Bytes(), nil
}

// splitLines splits after each newline; the last line may lack one.
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// findLines returns where want occurs in lines at or after from, trying
// hint first and then positions by distance from hint; -1 if nowhere.
func findLines(lines, want []string, from, hint int) int {
	match := func(at int) bool {
		if at < from || at+len(want) > len(lines) {
			return false
		}
		for j, w := range want {
			if lines[at+j] != w && strings.TrimRight(lines[at+j], "\r\n") != strings.TrimRight(w, "\r\n") {
				return false
			}
		}
		return true
	}
	if len(want) == 0 { // pure addition: at the hint, bounded by the file
		return min(max(hint+1, from), len(lines))
	}
	hint = max(min(hint, len(lines)-len(want)), from)
	for d := 0; d <= len(lines); d++ {
		if match(hint + d) {
			return hint + d
		}
		if d > 0 && match(hint-d) {
			return hint - d
		}
	}
	return -1
}
