package agentevents

import (
	"encoding/json"
	"math"
	"strings"
	"unicode/utf8"
)

// Bounds on what one line can put in an event.
const (
	// MaxLine is the longest line parsed; longer lines are ignored.
	MaxLine = 1 << 20
	// maxText bounds a message's text.
	maxText = 4 << 10
	// maxCommand bounds a command's text.
	maxCommand = 4 << 10
	// maxPath bounds a path.
	maxPath = 1 << 10
	// maxName bounds a model or tool name.
	maxName = 128
	// maxTokens is the largest token count believed.
	maxTokens = 1 << 40
	// maxPending bounds how many started, unfinished commands are tracked.
	maxPending = 1024
	// maxFilesPerLine bounds the file changes taken from one line.
	maxFilesPerLine = 1000
)

// bound makes s valid UTF-8 of at most n bytes, cut on a rune boundary,
// marking a cut with "…".
func bound(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// obj is one decoded JSON object.
type obj map[string]any

// decode parses line as one JSON object; ok is false for anything else.
func decode(line string) (obj, bool) {
	if len(line) > MaxLine {
		return nil, false
	}
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "{") {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, false
	}
	return obj(m), true
}

// str is the string field key, bounded to n bytes; "" if absent or not a
// string.
func (o obj) str(key string, n int) string {
	s, _ := o[key].(string)
	return bound(s, n)
}

// sub is the object field key, or nil.
func (o obj) sub(key string) obj {
	m, _ := o[key].(map[string]any)
	return obj(m)
}

// list is the array field key, or nil.
func (o obj) list(key string) []any {
	l, _ := o[key].([]any)
	return l
}

// boolean is the boolean field key; anything else is false.
func (o obj) boolean(key string) bool {
	b, _ := o[key].(bool)
	return b
}

// int is the whole-number field key within [lo, hi].
func (o obj) int(key string, lo, hi int64) (int64, bool) {
	n, ok := o[key].(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, i >= lo && i <= hi
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, false
	}
	return int64(f), true
}
