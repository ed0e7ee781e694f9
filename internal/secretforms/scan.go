package secretforms

import (
	"bytes"
	"encoding/binary"
	"sync"
)

// Secret is a named value to look for. The name goes into reports; the
// value never does.
type Secret struct {
	Name  string // e.g. "canary:aws-key", "credential:NPM_TOKEN"
	Value string
}

// Hit is a secret found: which one and in which form (never the value).
type Hit struct {
	Name string
	Form string // a Form.Kind
}

// Scanner looks for a set of secrets, in every form Forms lists. It is
// safe for concurrent use; Add may be called while others scan.
//
// Every form is at least MinDerived (8) bytes long, so one pass over the
// text suffices: each 8-byte window is checked against a bitmap of the
// forms' first 8 bytes (one multiply and one bit test per byte), and only
// a window the bitmap admits is compared with the forms that start so.
type Scanner struct {
	mu       sync.RWMutex
	needles  []needle
	seen     map[string]bool
	filter   [filterBits / 64]uint64
	byPrefix map[uint64][]int // first 8 bytes → indexes into needles
}

const filterBits = 1 << 16

// prefix is the first 8 bytes of b as a number.
func prefix(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// slot hashes a prefix into the filter.
func slot(x uint64) uint64 { return (x * 0x9E3779B97F4A7C15) >> 48 }

type needle struct {
	name, kind string
	v          []byte
}

// NewScanner returns a scanner for secrets. Values shorter than
// MinDerived are skipped: they would match ordinary text.
func NewScanner(secrets ...Secret) *Scanner {
	s := &Scanner{seen: map[string]bool{}, byPrefix: map[uint64][]int{}}
	s.Add(secrets...)
	return s
}

// Add registers more secrets (a token minted during the run).
func (s *Scanner) Add(secrets ...Secret) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sec := range secrets {
		if len(sec.Value) < MinDerived || s.seen[sec.Value] {
			continue
		}
		s.seen[sec.Value] = true
		for _, f := range Forms(sec.Value) {
			if len(f.Value) < MinDerived {
				continue // cannot happen: Forms keeps none shorter
			}
			v := []byte(f.Value)
			x := prefix(v)
			h := slot(x)
			s.filter[h/64] |= 1 << (h % 64)
			s.byPrefix[x] = append(s.byPrefix[x], len(s.needles))
			s.needles = append(s.needles, needle{sec.Name, f.Kind, v})
		}
	}
}

// Len is the number of forms looked for.
func (s *Scanner) Len() int {
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.needles)
}

// Scan reports the secret found first (leftmost) in b. A nil scanner
// finds nothing.
func (s *Scanner) Scan(b []byte) (Hit, bool) {
	if s == nil || len(b) == 0 {
		return Hit{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := 0; i+MinDerived <= len(b); i++ {
		x := prefix(b[i:])
		h := slot(x)
		if s.filter[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		for _, j := range s.byPrefix[x] {
			if n := s.needles[j]; bytes.HasPrefix(b[i:], n.v) {
				return Hit{n.name, n.kind}, true
			}
		}
	}
	return Hit{}, false
}

// ScanString is Scan for a string.
func (s *Scanner) ScanString(v string) (Hit, bool) { return s.Scan([]byte(v)) }
