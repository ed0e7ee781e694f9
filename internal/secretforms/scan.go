package secretforms

import (
	"bytes"
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
type Scanner struct {
	mu      sync.RWMutex
	needles []needle
	seen    map[string]bool
}

type needle struct {
	name, kind string
	v          []byte
}

// NewScanner returns a scanner for secrets. Values shorter than
// MinDerived are skipped: they would match ordinary text.
func NewScanner(secrets ...Secret) *Scanner {
	s := &Scanner{seen: map[string]bool{}}
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
			s.needles = append(s.needles, needle{sec.Name, f.Kind, []byte(f.Value)})
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

// Scan reports the first secret found in b. A nil scanner finds nothing.
func (s *Scanner) Scan(b []byte) (Hit, bool) {
	if s == nil || len(b) == 0 {
		return Hit{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, n := range s.needles {
		if bytes.Contains(b, n.v) {
			return Hit{n.name, n.kind}, true
		}
	}
	return Hit{}, false
}

// ScanString is Scan for a string.
func (s *Scanner) ScanString(v string) (Hit, bool) { return s.Scan([]byte(v)) }
