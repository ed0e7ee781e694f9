package secretforms

import (
	"fmt"
	"strings"
	"testing"
)

// A secret written with JSON escapes is found in the decoded strings;
// the same document without it is clean.
func TestScanJSONEscapes(t *testing.T) {
	const secret = "AKIAAGENTGATECANARY42"
	const slashed = "npm/tok/0123456789abcdef"
	s := NewScanner(Secret{Name: "canary:aws-key", Value: secret}, Secret{Name: "canary:aws-key", Value: slashed})
	// every letter as \u00XX
	var allU strings.Builder
	for _, c := range secret {
		fmt.Fprintf(&allU, `\u%04x`, c)
	}
	cases := []struct {
		name, doc     string
		decoded, want bool
		form          string
	}{
		{"control", `{"q":"AKIAAGENTGATE-not-it","path":"a\/b"}`, false, false, ""},
		{"literal", `{"q":"` + secret + `"}`, false, true, "literal"},
		{"first letter escaped", `{"q":"\u0041` + secret[1:] + `"}`, true, true, "literal"},
		{"every letter escaped", `{"q":"` + allU.String() + `"}`, true, true, "literal"},
		{"solidus escapes", `{"x":[1,{"k":"` + strings.ReplaceAll(slashed, "/", `\/`) + `"}]}`, true, true, "literal"},
		{"escaped key", `{"` + `\u0041` + secret[1:] + `":1}`, true, true, "literal"},
		{"ndjson second line", "{\"a\":1}\n{\"q\":\"\\u0041" + secret[1:] + "\"}\n", true, true, "literal"},
		{"truncated document", `{"q":"\u0041` + secret[1:] + `","r":[`, true, true, "literal"},
		{"escaped but cut short", `{"q":"\u0041` + secret[1:10], false, false, ""},
		{"malformed escapes around", `{"q":"\u00zz\x` + `\u0041` + secret[1:] + `\`, true, true, "literal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, decoded, found := s.ScanJSON([]byte(tc.doc))
			if found != tc.want || decoded != tc.decoded || (found && (h.Name != "canary:aws-key" || h.Form != tc.form)) {
				t.Errorf("ScanJSON(%s) = %+v decoded %v found %v; want found %v decoded %v form %q", tc.doc, h, decoded, found, tc.want, tc.decoded, tc.form)
			}
		})
	}
}

// JSONUnescape agrees with encoding/json on every string escape.
func TestJSONUnescape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":"x\/y\"z\\w\n\t\u00e9\ud83d\ude00"}`, "{\"a\":\"x/y\"z\\w\n\t\u00e9\U0001F600\"}"},
		{`"\ud83d"`, "\"\uFFFD\""}, // a lone surrogate
		{`"\u12"`, `"\u12"`},       // cut short: kept
		{`"\q"`, `"\q"`},
		{`plain`, `plain`},
	} {
		if got := string(JSONUnescape([]byte(tc.in))); got != tc.want {
			t.Errorf("JSONUnescape(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// BenchmarkScanJSON1MiB is ScanJSON on a 1 MiB JSON text with escapes
// (code quoted in a model request): both scans and the decoding.
func BenchmarkScanJSON1MiB(b *testing.B) {
	var secrets []Secret
	for i := range 16 {
		secrets = append(secrets, Secret{Name: "s", Value: "secret-value-" + string(rune('a'+i)) + "-0123456789abcdefghij"})
	}
	s := NewScanner(secrets...)
	body := make([]byte, 1<<20)
	for i := range body {
		body[i] = `abcdefghijklmnopqrstuvwxyz {}\n:,0123456789\"`[i%44]
	}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		if _, _, ok := s.ScanJSON(body); ok {
			b.Fatal("hit")
		}
	}
}
