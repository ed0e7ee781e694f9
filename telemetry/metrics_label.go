package telemetry

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// otherLabel is the label value of everything past a label's bound.
const otherLabel = "other"

// maxLabelLen bounds a label value, in bytes.
const maxLabelLen = 64

// boundedLabel hands out label values for open-ended input, such as model
// names an agent chose: the first max distinct values are kept (cleaned
// and shortened), every later one becomes "other", so hostile or sloppy
// input cannot blow up the number of time series.
type boundedLabel struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
}

// newBoundedLabel allows max distinct values besides the preset ones.
func newBoundedLabel(max int, preset ...string) *boundedLabel {
	b := &boundedLabel{max: max + len(preset), seen: make(map[string]struct{}, max+len(preset))}
	for _, p := range preset {
		b.seen[p] = struct{}{}
	}
	return b
}

// value is the label value to use for v.
func (b *boundedLabel) value(v string) string {
	v = cleanLabel(v)
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.seen[v]; ok {
		return v
	}
	if len(b.seen) >= b.max {
		return otherLabel
	}
	b.seen[v] = struct{}{}
	return v
}

// cleanLabel makes v a short, printable, valid UTF-8 label value.
func cleanLabel(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isBidi(r) {
			return -1
		}
		return r
	}, v)
	v = strings.TrimSpace(v)
	if len(v) > maxLabelLen {
		n := maxLabelLen
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		v = v[:n]
	}
	if v == "" {
		return "unknown"
	}
	return v
}
