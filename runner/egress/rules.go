package egress

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
)

// Inspection makes the proxy end the agent's TLS for the hosts Host
// matches (Allow syntax; the host must also be allowed by Allow) and look
// at every request: its method and path against Rules, its URL, headers
// and body against the run's secrets, and the credential to add.
//
// A rule is "METHODS PATH": METHODS is one method, several joined by
// commas, or "*" for any; PATH is "*" (any path) or a pattern starting
// with "/" in which "*" matches within one segment and "**" matches any
// number of segments ("GET /v1/packages/**", "POST /v1/search",
// "GET,HEAD *"). No rules means every method and path.
type Inspection struct {
	Host   string
	Rules  []string
	Inject *Inject
}

// Inject is a credential the proxy adds to an inspected host's requests.
// The agent never holds it: whatever credential the agent sends for the
// host is removed first, and the value is masked in the responses.
type Inject struct {
	Credential string // the operator's name for it (in events and messages; never the value)
	Value      string // the secret; never logged
	// Header receives the credential (default Authorization), written as
	// Format with "{}" replaced by the value (default "{}").
	Header string
	Format string
	// BasicUser, when set, sends HTTP basic auth instead:
	// Authorization: Basic base64(BasicUser:Value). Header and Format are
	// then ignored.
	BasicUser string
	// Rules limits the requests that get the credential (rule syntax as
	// Inspection.Rules); empty means every request the host's rules allow.
	Rules []string
}

// rule is one parsed "METHODS PATH".
type rule struct {
	text    string
	methods []string // nil = any
	segs    []string // nil = any path
}

// ParseRule checks one rule's syntax.
func ParseRule(s string) error {
	_, err := parseRule(s)
	return err
}

func parseRule(s string) (rule, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return rule{}, fmt.Errorf("rule %q: want \"METHOD PATH\" (for example \"GET /v1/**\")", s)
	}
	r := rule{text: f[0] + " " + f[1]}
	if f[0] != "*" {
		for m := range strings.SplitSeq(f[0], ",") {
			m = strings.ToUpper(strings.TrimSpace(m))
			if m == "" || strings.Trim(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
				return rule{}, fmt.Errorf("rule %q: bad method %q", s, m)
			}
			r.methods = append(r.methods, m)
		}
	}
	if f[1] == "*" || f[1] == "/**" {
		return r, nil
	}
	if !strings.HasPrefix(f[1], "/") {
		return rule{}, fmt.Errorf("rule %q: the path must be \"*\" or start with \"/\"", s)
	}
	r.segs = strings.Split(f[1][1:], "/")
	for _, sg := range r.segs {
		if sg == "**" {
			continue
		}
		if strings.Contains(sg, "**") {
			return rule{}, fmt.Errorf("rule %q: \"**\" must be a whole segment", s)
		}
		if _, err := path.Match(sg, ""); err != nil {
			return rule{}, fmt.Errorf("rule %q: bad pattern %q", s, sg)
		}
	}
	return r, nil
}

// match reports whether the rule admits method on the (clean, decoded)
// path.
func (r rule) match(method, p string) bool {
	if r.methods != nil && !slices.Contains(r.methods, method) {
		return false
	}
	if r.segs == nil {
		return true
	}
	return matchSegs(r.segs, strings.Split(strings.TrimPrefix(p, "/"), "/"))
}

func matchSegs(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(segs); i++ {
				if matchSegs(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], segs[0]); !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

// ruleSet is one Inspection's rules; nil rules admit everything.
type ruleSet struct {
	host  string // the entry, for messages
	rules []rule
}

// admit returns the first rule that admits the request, "" with ok for an
// entry without rules.
func (s ruleSet) admit(method, p string) (string, bool) {
	if s.rules == nil {
		return "", true
	}
	for _, r := range s.rules {
		if r.match(method, p) {
			return r.text, true
		}
	}
	return "", false
}

func (s ruleSet) String() string {
	if s.rules == nil {
		return "any request"
	}
	t := make([]string, len(s.rules))
	for i, r := range s.rules {
		t[i] = r.text
	}
	return strings.Join(t, ", ")
}

// inspection is a compiled Inspection.
type inspection struct {
	host   pattern
	rules  ruleSet
	inject *injector
}

// injector is a compiled Inject.
type injector struct {
	name   string
	header string
	value  string   // the header value sent
	masks  []string // what an echo of the credential may look like
	rules  ruleSet
}

func compileInspection(in Inspection) (inspection, error) {
	pt, err := parsePattern(in.Host)
	if err != nil {
		return inspection{}, fmt.Errorf("inspect: %w", err)
	}
	out := inspection{host: pt, rules: ruleSet{host: in.Host}}
	var errs []error
	for _, s := range in.Rules {
		r, err := parseRule(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("inspect %s: %w", in.Host, err))
			continue
		}
		out.rules.rules = append(out.rules.rules, r)
	}
	if in.Inject != nil {
		j, err := compileInject(in.Host, *in.Inject)
		if err != nil {
			errs = append(errs, err)
		}
		out.inject = j
	}
	return out, errors.Join(errs...)
}

func compileInject(host string, in Inject) (*injector, error) {
	if in.Value == "" {
		return nil, fmt.Errorf("inspect %s: credential %q has no value on this worker", host, in.Credential)
	}
	j := &injector{name: in.Credential, header: http.CanonicalHeaderKey(in.Header), rules: ruleSet{host: host}}
	if in.BasicUser != "" {
		j.header = "Authorization"
		j.value = "Basic " + base64.StdEncoding.EncodeToString([]byte(in.BasicUser+":"+in.Value))
	} else {
		if j.header == "" {
			j.header = "Authorization"
		}
		f := in.Format
		if f == "" {
			f = "{}"
		}
		if !strings.Contains(f, "{}") {
			return nil, fmt.Errorf("inspect %s: inject format %q has no {} for the credential", host, f)
		}
		j.value = strings.ReplaceAll(f, "{}", in.Value)
	}
	if strings.ContainsAny(j.value, "\r\n") || !validHeaderName(j.header) {
		return nil, fmt.Errorf("inspect %s: credential %q does not fit in header %q", host, in.Credential, j.header)
	}
	j.masks = []string{in.Value}
	if in.BasicUser != "" {
		j.masks = append(j.masks, strings.TrimPrefix(j.value, "Basic "))
	}
	for _, s := range in.Rules {
		r, err := parseRule(s)
		if err != nil {
			return nil, fmt.Errorf("inspect %s inject: %w", host, err)
		}
		j.rules.rules = append(j.rules.rules, r)
	}
	return j, nil
}

func validHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for _, c := range h {
		if !(c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// cleanPath returns the request's decoded path when it is plain: no "."
// or ".." segment, no empty segment (but a trailing slash), no ";" (Tomcat
// and Jetty, under many registries, read "..;" as ".."), no encoded "/"
// or "\"; a server could read such a path differently from the rules.
func cleanPath(decoded, raw string) (string, bool) {
	if decoded == "" {
		decoded = "/"
	}
	if !strings.HasPrefix(decoded, "/") || strings.ContainsAny(decoded, "\\\x00") {
		return "", false
	}
	lr := strings.ToLower(raw)
	if strings.Contains(lr, "%2f") || strings.Contains(lr, "%5c") || strings.Contains(lr, "%00") {
		return "", false
	}
	for i, sg := range strings.Split(decoded[1:], "/") {
		if sg == "." || sg == ".." || strings.Contains(sg, ";") || (sg == "" && i < strings.Count(decoded, "/")-1) {
			return "", false
		}
	}
	return decoded, true
}
