package runner

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"

	"github.com/agentgate/agentgate/internal/secretforms"
)

// maxLine is the longest line handed to onLine; longer lines are split.
const maxLine = 64 << 10

// collector keeps at most limit bytes of masked output, split into lines
// for onLine, and only counts what comes after. Its memory is bounded by
// limit + maxLine whatever the agent writes. It is not safe for concurrent
// use; stdout and stderr each get a lineSplitter feeding one collector from
// the single demultiplexing goroutine.
type collector struct {
	limit   int64
	onLine  func(string)
	out     []byte
	total   int64
	dropped int64
	full    bool
	// secrets are exact values masked wherever they appear in a line.
	secrets [][]byte
}

func newCollector(limit int64, onLine func(string)) *collector {
	return &collector{limit: limit, onLine: onLine}
}

// line takes one line (with its '\n' when it had one).
func (c *collector) line(raw []byte) {
	if c.full {
		c.dropped += int64(len(raw))
		return
	}
	m := mask(raw)
	for _, sec := range c.secrets {
		if bytes.Contains(m, sec) {
			m = bytes.ReplaceAll(m, sec, []byte(masked))
		}
	}
	room := c.limit - int64(len(c.out))
	if int64(len(m)) <= room {
		c.out = append(c.out, m...)
		if c.onLine != nil {
			c.call(string(bytes.TrimSuffix(m, []byte("\n"))))
		}
		return
	}
	c.out = append(c.out, m[:room]...)
	c.full = true
	// Count the raw bytes not kept; masking may have changed the length.
	if kept := room; int64(len(raw)) > kept {
		c.dropped += int64(len(raw)) - kept
	}
}

// call hands one line to onLine. A panicking callback is logged and not
// called again; the output is still drained so the agent never blocks.
func (c *collector) call(line string) {
	defer func() {
		if p := recover(); p != nil {
			slog.Error("runner: output callback panicked; not calling it again", "panic", p)
			c.onLine = nil
		}
	}()
	c.onLine(line)
}

// stream returns a writer for one output stream.
func (c *collector) stream() *lineSplitter { return &lineSplitter{c: c} }

// lineSplitter cuts one stream into lines of at most maxLine bytes.
type lineSplitter struct {
	c   *collector
	buf []byte
}

// Write implements io.Writer; it never fails.
func (s *lineSplitter) Write(p []byte) (int, error) {
	n := len(p)
	s.c.total += int64(n)
	if s.c.full {
		// Past the cap nothing is kept: count and drop without splitting.
		s.c.dropped += int64(n + len(s.buf))
		s.buf = s.buf[:0]
		return n, nil
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			take := min(len(p), maxLine-len(s.buf))
			s.buf = append(s.buf, p[:take]...)
			p = p[take:]
			if len(s.buf) == maxLine {
				s.flush()
			}
			continue
		}
		if len(s.buf)+i+1 > maxLine {
			take := maxLine - len(s.buf)
			s.buf = append(s.buf, p[:take]...)
			p = p[take:]
			s.flush()
			continue
		}
		if len(s.buf) == 0 {
			s.c.line(p[:i+1])
		} else {
			s.buf = append(s.buf, p[:i+1]...)
			s.flush()
		}
		p = p[i+1:]
	}
	return n, nil
}

// flush hands over a buffered partial line.
func (s *lineSplitter) flush() {
	if len(s.buf) > 0 {
		s.c.line(s.buf)
		s.buf = s.buf[:0]
	}
}

// secretValues returns the values of KEY=VALUE entries worth masking
// (short values would mask ordinary words), longest first so that a
// secret containing another is masked whole.
func secretValues(env []string) [][]byte {
	var out [][]byte
	for _, kv := range env {
		_, v, _ := strings.Cut(kv, "=")
		if len(v) >= minMaskedSecret {
			// The value and its common encodings (base64, hex,
			// percent-encoding, reversed): a net for careless output,
			// not for a deliberate transform.
			for _, f := range secretforms.Forms(v) {
				out = append(out, []byte(f.Value))
			}
		}
	}
	slices.SortFunc(out, func(a, b []byte) int { return len(b) - len(a) })
	return out
}

// minMaskedSecret is the shortest secret value masked in the output.
const minMaskedSecret = 4
