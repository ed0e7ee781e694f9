package gateway

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/internal/secretforms"
)

func TestSecretInBodyStopsTheRun(t *testing.T) {
	const canary = "ghp_AGENTGATECANARY0123456789abcdefXYZ"
	escapeAll := func(v string) string {
		var b strings.Builder
		for _, c := range v {
			fmt.Fprintf(&b, `\u%04x`, c)
		}
		return b.String()
	}
	b64 := base64.StdEncoding.EncodeToString([]byte("token=" + canary))
	for _, tc := range []struct{ name, leak, form string }{
		{"literal", canary, "literal"},
		{"base64", b64, "base64"},
		// JSON escapes in the body's strings: found in the decoded text
		{"json first letter escaped", `\u0067` + canary[1:], "json-escaped literal"},
		{"json every letter escaped", escapeAll(canary), "json-escaped literal"},
		{"json escaped base64", escapeAll(b64), "json-escaped base64"},
	} {
		name, leak := tc.name, tc.leak
		t.Run(name, func(t *testing.T) {
			var hits []SecretHit
			h := newHarness(t, func(o *Options) {
				o.Secrets = secretforms.NewScanner(secretforms.Secret{Name: "canary:github-token", Value: canary})
				o.OnSecret = func(s SecretHit) { hits = append(hits, s) }
			})
			h.anth.handle = func(w http.ResponseWriter, _ *http.Request, _ []byte) { _, _ = io.WriteString(w, `{}`) }
			// positive control: a clean request goes out
			if resp, _ := h.do(h.request("POST", "/anthropic/v1/messages", bearer, `{"model":"c","messages":[{"role":"user","content":"hello"}]}`)); resp.StatusCode != 200 {
				t.Fatalf("control: %d", resp.StatusCode)
			}
			resp, b := h.do(h.request("POST", "/anthropic/v1/messages", bearer, `{"model":"c","messages":[{"role":"user","content":"`+leak+`"}]}`))
			body := string(b)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, ErrSecret) || strings.Contains(body, canary) {
				t.Fatalf("with the canary: %d %s", resp.StatusCode, body)
			}
			if h.anth.hits.Load() != 1 {
				t.Errorf("upstream got %d requests, want only the control", h.anth.hits.Load())
			}
			if len(hits) != 1 || hits[0].Secret != "canary:github-token" || hits[0].Form != tc.form {
				t.Errorf("hits %+v", hits)
			}
			// the run is stopped: a clean request is refused too
			if resp, _ := h.do(h.request("POST", "/anthropic/v1/messages", bearer, `{"model":"c"}`)); resp.StatusCode != http.StatusForbidden {
				t.Errorf("after the trip: %d", resp.StatusCode)
			}
			if strings.Contains(h.logs.String(), canary) {
				t.Error("the canary is in the logs")
			}
		})
	}
}
