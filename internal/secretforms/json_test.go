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
		{"escaped but truncated", `{"q":"\u0041` + secret[1:10], false, false, ""},
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
