package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/testgh"
)

// TestRedeliverCommand: the command reads the app's credentials from the
// usual settings, lists with --dry-run and redelivers without it.
func TestRedeliverCommand(t *testing.T) {
	for _, k := range []string{"AGENTGATE_APP_ID", "AGENTGATE_PRIVATE_KEY", "AGENTGATE_CONFIG", "AGENTGATE_GITHUB_API_URL"} {
		t.Setenv(k, "")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := testgh.New(testgh.Options{AppID: 99, AppPublicKey: &key.PublicKey, ValidateResponses: true})
	if err != nil {
		t.Fatal(err)
	}
	defer gh.Close()
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	failed := gh.AddHookDelivery(testgh.HookDelivery{GUID: "g-failed", DeliveredAt: time.Now().Add(-time.Hour), StatusCode: 503, Status: "Invalid HTTP Response: 503", Event: "issues", Action: "labeled"})
	gh.AddHookDelivery(testgh.HookDelivery{GUID: "g-ok", DeliveredAt: time.Now().Add(-time.Hour), StatusCode: 202, Status: "OK", Event: "issue_comment", Action: "created"})
	gh.AddHookDelivery(testgh.HookDelivery{GUID: "g-old", DeliveredAt: time.Now().Add(-5 * time.Hour), StatusCode: 500, Event: "issues"})

	base := []string{"redeliver", "--app-id", "99", "--private-key-file", keyFile, "--github-api-url", gh.APIURL(), "--since", "2h", "--interval", "0"}
	var out, errOut bytes.Buffer
	if code := run(append(slices.Clone(base), "--dry-run"), &out, &errOut); code != 0 {
		t.Fatalf("dry run: exit %d: %s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "would redeliver  "+strconv.FormatInt(failed, 10)+"  g-failed  issues.labeled") || strings.Contains(out.String(), "g-ok") || strings.Contains(out.String(), "g-old") {
		t.Errorf("dry run output:\n%s", out.String())
	}
	if r := gh.Redeliveries(); len(r) != 0 {
		t.Fatalf("dry run redelivered %v", r)
	}
	out.Reset()
	if code := run(base, &out, &errOut); code != 0 {
		t.Fatalf("run: exit %d: %s%s", code, out.String(), errOut.String())
	}
	if got := gh.Redeliveries(); !slices.Equal(got, []int64{failed}) {
		t.Errorf("redelivered %v, want [%d]", got, failed)
	}
	if !strings.Contains(out.String(), "1 failed deliveries in the last 2h0m0s; redelivered 1.") {
		t.Errorf("output:\n%s", out.String())
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"redeliver", "--app-id", "99", "--private-key-file", keyFile}, "--since is required"},
		{[]string{"redeliver", "--since", "1h", "--private-key-file", keyFile}, "app-id"},
		{[]string{"redeliver", "--since", "1h", "--app-id", "99"}, "private-key"},
	} {
		var o, e bytes.Buffer
		if code := run(tt.args, &o, &e); code != 1 || !strings.Contains(e.String(), tt.want) {
			t.Errorf("%q: exit %d, %q; want exit 1 naming %q", tt.args, code, e.String(), tt.want)
		}
	}
	if v := gh.Violations(); len(v) != 0 {
		t.Errorf("violations: %q", v)
	}
}
