package secretforms

import (
	"encoding/base64"
	"net/url"
	"testing"
)

func TestScanner(t *testing.T) {
	const v = "canary-VALUE-0123456789"
	s := NewScanner(Secret{Name: "canary:x", Value: v}, Secret{Name: "short", Value: "abc"})
	for _, tc := range []struct {
		in, form string
	}{
		{"a " + v + " b", "literal"},
		{base64.StdEncoding.EncodeToString([]byte("prefix:" + v)), "base64"},
		{"q=" + url.QueryEscape(v+"/"), "literal"}, // the literal is inside the escape
		{"%63%61%6E%61%72%79%2D%56%41%4C%55%45%2D%30%31%32%33%34%35%36%37%38%39", "url-encoded"},
	} {
		h, ok := s.ScanString(tc.in)
		if !ok || h.Name != "canary:x" || h.Form != tc.form {
			t.Errorf("%q: %+v %v, want %s", tc.in, h, ok, tc.form)
		}
	}
	// positive control: ordinary text, and the short value is not looked for
	if h, ok := s.ScanString("nothing here; abc abc"); ok {
		t.Errorf("false hit %+v", h)
	}
	var nilScanner *Scanner
	if _, ok := nilScanner.ScanString(v); ok || nilScanner.Len() != 0 {
		t.Error("a nil scanner found something")
	}
	s.Add(Secret{Name: "later", Value: "minted-token-0123456789"})
	if h, ok := s.ScanString("x minted-token-0123456789"); !ok || h.Name != "later" {
		t.Errorf("added secret not found: %+v", h)
	}
}
