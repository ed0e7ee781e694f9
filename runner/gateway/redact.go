package gateway

import (
	"bytes"
	"io"
)

// redacted replaces a real key wherever an upstream echoes it.
const redacted = "[REDACTED]"

// redactor replaces secrets in strings and byte streams.
type redactor struct {
	secrets [][]byte // non-empty, longest first
}

func newRedactor(secrets ...string) *redactor {
	r := &redactor{}
	for _, s := range secrets {
		if s != "" {
			r.secrets = append(r.secrets, []byte(s))
		}
	}
	for i := 1; i < len(r.secrets); i++ { // longest first, so a key that contains another is replaced whole
		for j := i; j > 0 && len(r.secrets[j]) > len(r.secrets[j-1]); j-- {
			r.secrets[j], r.secrets[j-1] = r.secrets[j-1], r.secrets[j]
		}
	}
	return r
}

// String redacts s.
func (r *redactor) String(s string) string {
	out, _ := r.replace([]byte(s))
	return string(out)
}

// bytes redacts b (b itself is not modified).
func (r *redactor) bytes(b []byte) []byte {
	out, _ := r.replace(b)
	return out
}

// replace redacts b in one left-to-right pass (longest secret first at
// each position) and returns where the last replacement ends in out; what
// follows it is b's tail, unchanged.
func (r *redactor) replace(b []byte) (out []byte, lastEnd int) {
	if !r.containsAny(b) {
		return b, 0
	}
	out = make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		hit := false
		for _, k := range r.secrets {
			if bytes.HasPrefix(b[i:], k) {
				out = append(out, redacted...)
				i += len(k)
				lastEnd = len(out)
				hit = true
				break
			}
		}
		if !hit {
			out = append(out, b[i])
			i++
		}
	}
	return out, lastEnd
}

func (r *redactor) containsAny(b []byte) bool {
	for _, k := range r.secrets {
		if bytes.Contains(b, k) {
			return true
		}
	}
	return false
}

// writer returns a writer that redacts a stream before w sees it, also
// when a secret is split across writes: a tail that could be the start of
// a secret is held back until the next write or Close.
func (r *redactor) writer(w io.Writer) *redactWriter {
	return &redactWriter{r: r, w: w}
}

type redactWriter struct {
	r       *redactor
	w       io.Writer
	pending []byte
}

// Write redacts and forwards everything in p that cannot be part of a
// secret continuing in a later write.
func (rw *redactWriter) Write(p []byte) (int, error) {
	if len(rw.r.secrets) == 0 {
		return rw.w.Write(p)
	}
	buf := append(rw.pending, p...)
	out, lastEnd := rw.r.replace(buf)
	hold := rw.heldTail(out[lastEnd:])
	rw.pending = append([]byte(nil), out[len(out)-hold:]...)
	out = out[:len(out)-hold]
	if len(out) > 0 {
		if _, err := rw.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Close writes what is held back.
func (rw *redactWriter) Close() error {
	if len(rw.pending) == 0 {
		return nil
	}
	out := rw.r.bytes(rw.pending)
	rw.pending = nil
	_, err := rw.w.Write(out)
	return err
}

// heldTail is the length of the longest suffix of buf that is a proper
// prefix of some secret (and so may complete in the next write). A whole
// secret inside buf is not held: it is replaced now.
func (rw *redactWriter) heldTail(buf []byte) int {
	hold := 0
	for _, k := range rw.r.secrets {
		maxLen := min(len(k)-1, len(buf))
		for n := maxLen; n > hold; n-- {
			if bytes.HasSuffix(buf, k[:n]) {
				hold = n
				break
			}
		}
	}
	return hold
}
