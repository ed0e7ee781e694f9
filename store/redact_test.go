package store

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/agentgate/agentgate/telemetry"
)

func TestAppendRedactsSecrets(t *testing.T) {
	db, path := openTemp(t)
	ctx := context.Background()
	const (
		webhookSecret = "whsec-3f9a1c2b7d"
		mintedToken   = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
		llmKey        = "sk-ant-api03-0123456789abcdefghijklmnop"
		pat           = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
		jwt           = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjM0NTYifQ.sig_nature-value"
	)
	db.AddSecret(webhookSecret)
	db.AddSecret(mintedToken)
	db.AddSecret(llmKey)
	secrets := []string{webhookSecret, mintedToken, llmKey, pat, jwt, "hunter2hunter2", "AKIAIOSFODNN7EXAMPLE"}
	events := []telemetry.Event{
		// The webhook path: headers and payload bits.
		{RunID: "r1", Kind: telemetry.KindWebhookReceived, Actor: "webhook", Attrs: map[string]any{
			"headers": map[string]string{"Authorization": "Bearer " + jwt, "X-Hub-Signature-256": "sha256=" + webhookSecret},
			"comment": "@agentgate fix it, the key is " + llmKey}},
		// Task text.
		{RunID: "r1", Kind: telemetry.KindRunAuthorized, Actor: "app", Attrs: map[string]any{
			"task": "use password=hunter2hunter2 and token " + pat}},
		// Agent output tails, nested.
		{RunID: "r1", Kind: telemetry.KindSandboxExited, Actor: "runner", Attrs: map[string]any{
			"exit_code": 0, "output_tail": []any{"env:", "GITHUB_TOKEN=" + mintedToken, map[string]any{"aws": "AKIAIOSFODNN7EXAMPLE"}}}},
		// Proxy logs and URLs.
		{RunID: "r1", Kind: "net.allowed", Actor: "egress", Attrs: map[string]any{
			"url": "https://x-access-token:" + mintedToken + "@github.com/o/r.git", "log": "CONNECT api.anthropic.com x-api-key: " + llmKey}},
		// The actor itself.
		{RunID: "r1", Kind: "git.pushed", Actor: "pusher " + pat},
	}
	for _, ev := range events {
		got, err := db.Append(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if s := eventText(t, got); containsAny(s, secrets) != "" {
			t.Errorf("Append returned %q unredacted", containsAny(s, secrets))
		}
	}
	stored, err := db.Events(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range stored {
		if s := containsAny(eventText(t, ev), secrets); s != "" {
			t.Errorf("event %s stores %q", ev.Kind, s)
		}
	}
	if rep, err := db.Verify(ctx, nil); err != nil || !rep.OK() {
		t.Fatalf("the chain over redacted events does not verify: %v %v", err, rep.First)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Nothing in the database files either (the WAL included).
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q", p, s)
			}
		}
	}
}

// eventText is everything of ev a reader sees.
func eventText(t *testing.T, ev telemetry.Event) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(ev.Actor)
	for k, v := range ev.Attrs {
		b.WriteString(k)
		b.WriteString(anyText(v))
	}
	return b.String()
}

func anyText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		var s string
		for k, e := range x {
			s += k + anyText(e)
		}
		return s
	case []any:
		var s string
		for _, e := range x {
			s += anyText(e)
		}
		return s
	}
	return ""
}

// containsAny returns the first of secrets found in s, or "".
func containsAny(s string, secrets []string) string {
	for _, x := range secrets {
		if bytes.Contains([]byte(s), []byte(x)) {
			return x
		}
	}
	return ""
}
