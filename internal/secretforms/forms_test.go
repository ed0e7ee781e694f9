package secretforms

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
)

// found reports which form of secret text holds, "" for none.
func found(text, secret string) string {
	for _, f := range Forms(secret) {
		if strings.Contains(text, f.Value) {
			return f.Kind
		}
	}
	return ""
}

func TestForms(t *testing.T) {
	const secret = "npm_s3cr3t/Token+value?&=0123"
	reversed := func(s string) string {
		r := []rune(s)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return string(r)
	}
	cases := []struct {
		name, text, kind string
	}{
		{"literal", "token=" + secret + "\n", "literal"},
		{"reversed", reversed(secret), "reversed"},
		{"hex", "x" + hex.EncodeToString([]byte(secret)), "hex"},
		{"HEX", strings.ToUpper(hex.EncodeToString([]byte(secret))), "hex"},
		{"base64", base64.StdEncoding.EncodeToString([]byte(secret)), "base64"},
		{"base64 inside a blob, offset 1", base64.StdEncoding.EncodeToString([]byte("a" + secret + "zz")), "base64"},
		{"base64 inside a blob, offset 2", base64.StdEncoding.EncodeToString([]byte("ab" + secret)), "base64"},
		{"base64 inside a blob, offset 3", base64.StdEncoding.EncodeToString([]byte("abc" + secret + "z")), "base64"},
		{"base64url", base64.RawURLEncoding.EncodeToString([]byte("xy" + secret)), "base64url"},
		{"query-escaped", "u=" + url.QueryEscape(secret), "url-encoded"},
		{"path-escaped", "/" + url.PathEscape(secret), "url-encoded"},
		{"every byte escaped", pctAll(secret), "url-encoded"},
		{"unrelated text", "nothing to see here: npm_s3cr3t is only a prefix", ""},
		{"base64 of something else", base64.StdEncoding.EncodeToString([]byte("npm_s3cr3t/Token+other")), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := found(tc.text, secret)
			if tc.kind == "base64url" && got == "base64" {
				got = tc.kind // the same characters in both alphabets
			}
			if got != tc.kind {
				t.Errorf("found %q in %q, want %q", got, tc.text, tc.kind)
			}
		})
	}
	if Forms("") != nil {
		t.Error("an empty secret has forms")
	}
	for _, f := range Forms("abcd") {
		if f.Kind != "literal" && len(f.Value) < MinDerived {
			t.Errorf("short form %+v", f)
		}
	}
}

func pctAll(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

// A secret whose base64url differs from its base64 is found in both.
func TestFormsBase64URL(t *testing.T) {
	secret := string([]byte{0xfb, 0xff, 0xbf, 'k', 'e', 'y', 0xfb, 0xff, 0xbf, '1', '2', '3'})
	std, u := base64.StdEncoding.EncodeToString([]byte(secret)), base64.URLEncoding.EncodeToString([]byte(secret))
	if std == u {
		t.Fatal("test secret encodes alike")
	}
	if found(std, secret) != "base64" || found(u, secret) != "base64url" {
		t.Errorf("std %q → %q, url %q → %q", std, found(std, secret), u, found(u, secret))
	}
}
