package telemetry

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Fake secrets in the real formats (none is live).
const (
	fakeGHP     = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
	fakeGHS     = "ghs_123456_eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMifQ.c2lnbmF0dXJl"
	fakePAT     = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"
	fakeAnth    = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345"
	fakeOpenAI  = "sk-proj-ABCDEFGHIJKLMNOPQRSTUV123456"
	fakeAWS     = "AKIAIOSFODNN7EXAMPLE"
	fakeSlack   = "xoxb-123456789012-abcdefghijkl"
	fakeJWT     = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	fakeBearer  = "abc123def456ghi789"
	fakeURLTok  = "v1.0123456789abcdef0123456789abcdef01234567"
	fakePEMBody = "MC4CAQAwBQYDK2VwBCIEIGb0xSGVq1xN0Z7mW0n0bS0b2Yd8XvY1i2vX8lR6Yy6W"
)

func TestRedactorString(t *testing.T) {
	tests := []struct {
		name, in string
		secret   string // must not survive
		keep     string // must survive
	}{
		{"classic github token", "token is " + fakeGHP + ".", fakeGHP, "token is "},
		{"installation token with jwt", "GITHUB_TOKEN=" + fakeGHS, "eyJpc3MiOiIxMjMifQ", "GITHUB_TOKEN="},
		{"fine-grained pat", fakePAT, fakePAT, ""},
		{"anthropic key", "x-api-key: " + fakeAnth, fakeAnth, "x-api-key"},
		{"openai key", "OPENAI=" + fakeOpenAI, fakeOpenAI, "OPENAI="},
		{"aws key id", "id " + fakeAWS + " ok", fakeAWS, " ok"},
		{"slack", fakeSlack, fakeSlack, ""},
		{"jwt", "jwt=" + fakeJWT, "dozjgNryP4J3jVmNHl0w5N", "jwt="},
		{"authorization header", "Authorization: Bearer " + fakeBearer + "\nnext line", fakeBearer, "\nnext line"},
		{"json authorization", `{"Authorization":"token ` + fakeBearer + `","x":1}`, fakeBearer, `"x":1`},
		{"bearer in prose", "curl -H bearer " + fakeBearer, fakeBearer, "curl -H bearer "},
		{"token word in prose survives", "refresh token handling is broken", "", "refresh token handling is broken"},
		{"url credentials", "https://x-access-token:" + fakeURLTok + "@github.com/o/r.git", fakeURLTok, "@github.com/o/r.git"},
		{"bare x-access-token", "x-access-token:" + fakeURLTok + "@host", fakeURLTok, "@host"},
		{"pem", "key:\n-----BEGIN PRIVATE KEY-----\n" + fakePEMBody + "\n-----END PRIVATE KEY-----\nafter", fakePEMBody, "after"},
		{"pem cut off", "-----BEGIN RSA PRIVATE KEY-----\n" + fakePEMBody, fakePEMBody, ""},
		{"password assignment", `password = "hunter2hunter2"`, "hunter2hunter2", "password"},
		{"plain text survives", "fixed the flaky test in foo_test.go", "", "fixed the flaky test in foo_test.go"},
	}
	var r Redactor
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.String(tt.in)
			if tt.secret != "" && (strings.Contains(got, tt.secret) || !strings.Contains(got, Redacted)) {
				t.Errorf("String(%q) = %q: secret survived", tt.in, got)
			}
			if tt.secret == "" && got != tt.in {
				t.Errorf("String(%q) = %q: changed text with no secret", tt.in, got)
			}
			if !strings.Contains(got, tt.keep) {
				t.Errorf("String(%q) = %q: lost %q", tt.in, got, tt.keep)
			}
		})
	}
}

func TestRedactorRegistered(t *testing.T) {
	var r Redactor
	r.Add("short")                     // too short: ignored
	r.Add("my-webhook-secret-value")   // registered
	r.Add("  my-webhook-secret-value") // duplicate after trimming
	got := r.String("short and my-webhook-secret-value here")
	if got != "short and [REDACTED:registered] here" {
		t.Fatalf("got %q", got)
	}
}

type nested struct {
	Header string
	Lines  []string
}

func TestRedactorAttrs(t *testing.T) {
	var r Redactor
	r.Add("registered-secret-1")
	in := map[string]any{
		"n":      3,
		"ok":     true,
		"tail":   "out: " + fakeGHP,
		"argv":   []string{"curl", "-u", "me:registered-secret-1"},
		"deep":   map[string]any{"list": []any{map[string]any{"k": fakeAnth}}},
		"struct": nested{Header: "Authorization: token " + fakeBearer, Lines: []string{fakeAWS}},
		"bytes":  []byte(fakeSlack),
		fakeGHP:  "key is a secret",
	}
	out := r.Attrs(in)
	if in["tail"] != "out: "+fakeGHP {
		t.Fatal("Attrs modified its input")
	}
	if out["n"] != 3 || out["ok"] != true {
		t.Fatalf("scalars changed: %v", out)
	}
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ToLower(string(raw))
	for _, secret := range []string{fakeGHP, "registered-secret-1", fakeAnth, fakeBearer, fakeAWS, fakeSlack} {
		if strings.Contains(s, strings.ToLower(secret)) {
			t.Errorf("%q survived in %s", secret, s)
		}
	}
}

// TestRedactorForgetsExpiredTokens: a minted token is redacted while it is
// worth something and forgotten after, so the set (and the cost of each
// redaction) stays bounded in a long-lived process; a permanent secret
// (the webhook secret) is never forgotten.
func TestRedactorForgetsExpiredTokens(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	r := &Redactor{now: func() time.Time { return now }}
	const webhook = "webhook-secret-value"
	r.Add(webhook)
	for i := range 1000 {
		r.AddUntil(fmt.Sprintf("minted-token-%04d", i), now.Add(time.Hour))
	}
	const late = "minted-token-late"
	r.AddUntil(late, now.Add(3*time.Hour))
	if got := r.Len(); got != 1002 {
		t.Fatalf("Len = %d, want 1002", got)
	}
	if got := r.String("x minted-token-0007 y"); strings.Contains(got, "minted-token-0007") {
		t.Fatalf("a live token survived: %q", got)
	}
	// Just past expiry it is still redacted (late log lines, clock skew).
	now = now.Add(time.Hour + forgetAfterExpiry - time.Second)
	if got := r.String("minted-token-0007"); strings.Contains(got, "minted-token-0007") {
		t.Fatalf("a token within the grace period survived: %q", got)
	}
	now = now.Add(2 * time.Second)
	if got := r.String("minted-token-0007 " + webhook + " " + late); got != "minted-token-0007 "+Redacted+":registered] "+Redacted+":registered]" {
		t.Fatalf("after expiry: %q", got)
	}
	if got := r.Len(); got != 2 {
		t.Fatalf("Len after expiry = %d, want 2 (the permanent secret and the later token)", got)
	}
	// Registering a token again extends it; a permanent registration wins.
	r.AddUntil(late, now.Add(10*time.Hour))
	r.AddUntil(webhook, now)
	now = now.Add(5 * time.Hour)
	if got := r.String(late + " " + webhook); strings.Contains(got, late) || strings.Contains(got, webhook) {
		t.Fatalf("re-registered values survived: %q", got)
	}
}

// BenchmarkRedactorManyTokens is the cost of redacting a 4 KiB event while
// a process holds the tokens of an hour (live) against all it ever minted
// (what it held before tokens were forgotten).
func BenchmarkRedactorManyTokens(b *testing.B) {
	event := strings.Repeat("ordinary event text, nothing secret here. ", 100)[:4096]
	for _, n := range []int{100, 50000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			var r Redactor
			exp := time.Now().Add(time.Hour)
			for i := range n {
				r.AddUntil(fmt.Sprintf("ghs_%036d", i), exp)
			}
			b.ResetTimer()
			for range b.N {
				r.String(event)
			}
		})
	}
}
