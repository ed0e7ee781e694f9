package registration

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	agentgate "github.com/agentgate/agentgate"
	"github.com/agentgate/agentgate/internal/testgh"
)

// TestCredentialsKeptWhenOutAppears: a file appearing at --out while the
// user is on GitHub is not overwritten, and the credentials GitHub handed
// out stay in the temporary file the error names.
func TestCredentialsKeptWhenOutAppears(t *testing.T) {
	gh, err := testgh.New(testgh.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer gh.Close()
	m, err := ParseManifest(agentgate.AppManifest)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "creds.yml")
	f, err := Start(Options{Manifest: m, Name: "kept", WebhookURL: "https://x.example/webhook", GitHubURL: gh.URL(), APIURL: gh.APIURL(),
		Out: out, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, []byte("someone else's\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The browser's part: post the manifest, follow GitHub's redirect.
	resp, err := http.PostForm(f.action, url.Values{"manifest": {string(f.manifest)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("callback answered %d, want 502", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = f.Wait(ctx)
	if err == nil || !strings.Contains(err.Error(), "the credentials are in ") {
		t.Fatalf("Wait: %v, want an error naming where the credentials are", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "someone else's\n" {
		t.Errorf("%s was overwritten", out)
	}
	kept := strings.TrimPrefix(strings.SplitN(err.Error(), ":", 2)[0], "the credentials are in ")
	b, rerr := os.ReadFile(kept)
	st, serr := os.Stat(kept)
	if rerr != nil || serr != nil || !strings.Contains(string(b), "PRIVATE KEY") || !strings.Contains(string(b), "webhook-secret:") || st.Mode().Perm() != 0o600 {
		t.Errorf("kept file %s: %v %v mode %v:\n%s", kept, rerr, serr, st, b)
	}
	if filepath.Dir(kept) != dir {
		t.Errorf("kept file %s is not beside %s", kept, out)
	}
}
