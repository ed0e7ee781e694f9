package telemetry

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Redacted is the marker that replaces a secret: "[REDACTED:" + rule + "]".
const Redacted = "[REDACTED"

// minSecretLen is the shortest value Redactor.Add accepts: shorter strings
// would redact ordinary words.
const minSecretLen = 6

// redactRule is one secret format: re finds it; keep (optional) returns the
// part of a match to keep in front of the marker (a header name, a scheme
// word); after is put back behind it; check (optional) rejects matches that are not secrets.
type redactRule struct {
	name  string
	re    *regexp.Regexp
	keep  func(m []string) string
	after string // written after the marker (a delimiter the match consumed)
	check func(m []string) bool
}

// keepGroup keeps submatch i of a match.
func keepGroup(i int) func(m []string) string { return func(m []string) string { return m[i] } }

// redactRules are the secret formats Redactor knows, most specific first:
// an earlier rule's marker is never matched by a later one.
var redactRules = []redactRule{
	// PEM private keys, also when an output tail cut off the END line.
	{name: "private-key", re: regexp.MustCompile(`-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\z)`)},
	// Authorization headers, whatever the scheme.
	{name: "authorization", re: regexp.MustCompile(`(?i)((?:proxy-)?authorization"?\s*[:=]\s*"?)[^\r\n"]+`), keep: keepGroup(1)},
	// Credentials in URLs: https://x-access-token:TOKEN@host, user:pass@.
	{name: "url-credentials", re: regexp.MustCompile(`(?i)([a-z][a-z0-9+.\-]*://[^:/@\s]+:)[^@\s/]+@`), keep: keepGroup(1), after: "@",
		check: func(m []string) bool { return !strings.HasPrefix(m[0][len(m[1]):], Redacted) }},
	{name: "url-credentials", re: regexp.MustCompile(`(x-access-token:)[^@\s/]+@`), keep: keepGroup(1), after: "@",
		check: func(m []string) bool { return !strings.HasPrefix(m[0][len(m[1]):], Redacted) }},
	// GitHub tokens: classic, fine-grained and the ghs_<appid>_<jwt> form.
	{name: "github-token", re: regexp.MustCompile(`github_pat_[A-Za-z0-9_]{20,}`)},
	{name: "github-token", re: regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9_\-]{16,}(?:\.[A-Za-z0-9_\-]+){0,2}`)},
	// JSON Web Tokens (GitHub App JWTs, OIDC tokens).
	{name: "jwt", re: regexp.MustCompile(`\beyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*`)},
	// Anthropic and OpenAI keys.
	{name: "llm-key", re: regexp.MustCompile(`\bsk-(?:ant-)?[A-Za-z0-9_\-]{16,}`)},
	// AWS access key ids.
	{name: "aws-key", re: regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
	// Slack tokens.
	{name: "slack-token", re: regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9\-]{10,}`)},
	// "Bearer X" / "token X" outside a header line: only values that look
	// generated (a digit in them, or long), so prose survives.
	{name: "bearer", re: regexp.MustCompile(`(?i)\b((?:bearer|token|basic)\s+)[A-Za-z0-9_\-.=+/~]{8,}`), keep: keepGroup(1),
		check: func(m []string) bool {
			v := m[0][len(m[1]):]
			return !strings.HasPrefix(v, Redacted) && (len(v) >= 24 || strings.ContainsAny(v, "0123456789"))
		}},
	// key=value and "key": "value" assignments of secret-named settings.
	{name: "secret-assignment", re: regexp.MustCompile(`(?i)((?:secret|password|passwd|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|webhook[_-]?secret)[A-Za-z_\-]*"?\s*[:=]\s*"?)[^\s"',;]{6,}`), keep: keepGroup(1),
		check: func(m []string) bool { return !strings.HasPrefix(m[0][len(m[1]):], Redacted) }},
}

// Redactor replaces secrets in text before it is stored, logged or
// exported: every format in its rule list (GitHub tokens, JWTs, LLM and
// cloud keys, private keys, Authorization values, URL credentials, secret
// assignments) and every exact value registered with Add or AddUntil. The
// zero value is ready to use and safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []secretValue // longest first, so a secret containing another goes whole
	// nextExpiry is the earliest expiry among secrets (zero: none
	// expires); String and Add prune once it has passed.
	nextExpiry time.Time
	now        func() time.Time // nil: time.Now
}

// secretValue is one registered value and when it may be forgotten (zero:
// never).
type secretValue struct {
	value   string
	expires time.Time
}

// forgetAfterExpiry is how long a value registered with AddUntil is still
// redacted after it expired: a late log line or a host clock a little
// behind GitHub's still finds it redacted.
const forgetAfterExpiry = 10 * time.Minute

// Add registers an exact secret value (a webhook secret, an LLM key) to be
// redacted wherever it appears, for the life of the Redactor. Values
// shorter than six bytes are ignored: they would redact ordinary words.
func (r *Redactor) Add(secret string) { r.AddUntil(secret, time.Time{}) }

// AddUntil registers a secret that stops being one at expires (a minted
// installation token): it is redacted until forgetAfterExpiry past that,
// then forgotten, so a long-lived process does not keep every token it
// ever minted (redaction cost grows with the number of values). A zero
// expires never expires; a value added twice keeps the later expiry.
func (r *Redactor) AddUntil(secret string, expires time.Time) {
	secret = strings.TrimSpace(secret)
	if len(secret) < minSecretLen {
		return
	}
	if !expires.IsZero() {
		expires = expires.Add(forgetAfterExpiry)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruneLocked()
	for i, s := range r.secrets {
		if s.value == secret {
			if s.expires.IsZero() || expires.IsZero() {
				r.secrets[i].expires = time.Time{}
			} else if expires.After(s.expires) {
				r.secrets[i].expires = expires
			}
			r.resetExpiryLocked()
			return
		}
	}
	r.secrets = append(r.secrets, secretValue{value: secret, expires: expires})
	sort.SliceStable(r.secrets, func(i, j int) bool { return len(r.secrets[i].value) > len(r.secrets[j].value) })
	r.resetExpiryLocked()
}

// Len is the number of registered values still held.
func (r *Redactor) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruneLocked()
	return len(r.secrets)
}

func (r *Redactor) clock() time.Time {
	if r.now != nil {
		return r.now()
	}
	return time.Now()
}

// pruneLocked drops the values whose time has passed; r.mu is held for
// writing.
func (r *Redactor) pruneLocked() {
	if r.nextExpiry.IsZero() || r.clock().Before(r.nextExpiry) {
		return
	}
	now := r.clock()
	r.secrets = slices.DeleteFunc(r.secrets, func(s secretValue) bool {
		return !s.expires.IsZero() && !now.Before(s.expires)
	})
	r.resetExpiryLocked()
}

// resetExpiryLocked recomputes nextExpiry; r.mu is held for writing.
func (r *Redactor) resetExpiryLocked() {
	r.nextExpiry = time.Time{}
	for _, s := range r.secrets {
		if !s.expires.IsZero() && (r.nextExpiry.IsZero() || s.expires.Before(r.nextExpiry)) {
			r.nextExpiry = s.expires
		}
	}
}

// String returns s with every secret replaced by a marker naming its kind.
func (r *Redactor) String(s string) string {
	if s == "" {
		return s
	}
	r.mu.RLock()
	due := !r.nextExpiry.IsZero() && !r.clock().Before(r.nextExpiry)
	r.mu.RUnlock()
	if due {
		r.mu.Lock()
		r.pruneLocked()
		r.mu.Unlock()
	}
	r.mu.RLock()
	for _, secret := range r.secrets {
		if strings.Contains(s, secret.value) {
			s = strings.ReplaceAll(s, secret.value, Redacted+":registered]")
		}
	}
	r.mu.RUnlock()
	for _, rule := range redactRules {
		s = applyRule(rule, s)
	}
	return s
}

// applyRule replaces every match of rule in s.
func applyRule(rule redactRule, s string) string {
	if !rule.re.MatchString(s) {
		return s
	}
	var b strings.Builder
	last := 0
	for _, idx := range rule.re.FindAllStringSubmatchIndex(s, -1) {
		m := make([]string, len(idx)/2)
		for i := range m {
			if idx[2*i] >= 0 {
				m[i] = s[idx[2*i]:idx[2*i+1]]
			}
		}
		if rule.check != nil && !rule.check(m) {
			continue
		}
		b.WriteString(s[last:idx[0]])
		if rule.keep != nil {
			b.WriteString(rule.keep(m))
		}
		b.WriteString(Redacted + ":" + rule.name + "]" + rule.after)
		last = idx[1]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// Attrs returns a copy of attrs with every string redacted: values and
// keys, recursively through maps and slices. Other values are kept as they
// are; attrs itself is not modified.
func (r *Redactor) Attrs(attrs map[string]any) map[string]any {
	if attrs == nil {
		return nil
	}
	out := make(map[string]any, len(attrs))
	for k, v := range attrs {
		out[r.String(k)] = r.value(v)
	}
	return out
}

// value redacts one attribute value.
func (r *Redactor) value(v any) any {
	switch x := v.(type) {
	case string:
		return r.String(x)
	case []byte:
		return r.String(string(x))
	case map[string]any:
		return r.Attrs(x)
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, s := range x {
			out[r.String(k)] = r.String(s)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.value(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.String(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.Attrs(e)
		}
		return out
	case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
		float32, float64, json.Number, time.Time, time.Duration:
		return v
	}
	// Anything else (a struct, a typed map or slice) is redacted in the
	// form it will be stored in: its JSON encoding, decoded generically.
	b, err := json.Marshal(v)
	if err != nil {
		return v // the caller's own encoding fails the same way
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return v
	}
	return r.value(generic)
}
