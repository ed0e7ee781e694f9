// Package secretforms lists the common encodings of a secret value, so
// that a scan or a mask that looks for the secret finds it written as
// base64, base64url, hex, percent-encoding or reversed too.
//
// It is a net for the usual ways a value is written down by accident or
// by a careless script, not a guarantee: whoever holds the value can
// transform it in ways no list covers (XOR, compression, encryption,
// splitting it over lines or files, one character per request).
package secretforms

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// MinDerived is the shortest encoded form kept: shorter fragments would
// match ordinary text.
const MinDerived = 8

// Form is one way the secret may be written.
type Form struct {
	Kind  string // "literal", "reversed", "hex", "base64", "base64url", "url-encoded"
	Value string
}

// Forms returns the forms of secret: the literal value first, then each
// encoding that differs from it and is at least MinDerived bytes long,
// without duplicates. Base64 and base64url are given as the part of the
// encoding that does not depend on what precedes the secret (one per
// alignment, three in all, padding left out), so the secret is found
// inside a longer encoded blob too.
func Forms(secret string) []Form {
	if secret == "" {
		return nil
	}
	out := []Form{{"literal", secret}}
	seen := map[string]bool{secret: true}
	add := func(kind, v string) {
		if len(v) < MinDerived || seen[v] {
			return
		}
		seen[v] = true
		out = append(out, Form{kind, v})
	}
	b := []byte(secret)
	r := slices.Clone(b)
	slices.Reverse(r)
	add("reversed", string(r))
	add("hex", hex.EncodeToString(b))
	add("hex", strings.ToUpper(hex.EncodeToString(b)))
	for _, e := range []struct {
		kind string
		enc  *base64.Encoding
	}{{"base64", base64.RawStdEncoding}, {"base64url", base64.RawURLEncoding}} {
		for k := 0; k < 3; k++ {
			add(e.kind, aligned(e.enc, b, k))
		}
	}
	add("url-encoded", url.QueryEscape(secret))
	add("url-encoded", url.PathEscape(secret))
	var all, lower strings.Builder
	for _, c := range b {
		fmt.Fprintf(&all, "%%%02X", c)
		fmt.Fprintf(&lower, "%%%02x", c)
	}
	add("url-encoded", all.String())
	add("url-encoded", lower.String())
	return out
}

// aligned is the part of enc's encoding of b, placed k bytes into the
// encoded stream, that only b's bits decide.
func aligned(enc *base64.Encoding, b []byte, k int) string {
	s := enc.EncodeToString(append(make([]byte, k), b...))
	start := (8*k + 5) / 6        // the first character wholly after the k bytes
	end := (8 * (k + len(b))) / 6 // the characters wholly within b
	if end <= start || end > len(s) {
		return ""
	}
	return s[start:end]
}
