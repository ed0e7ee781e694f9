package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"html"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	agentgate "github.com/agentgate/agentgate"
	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/app/registration"
	"github.com/agentgate/agentgate/internal/testgh"
)

// setupRun is `agentgate setup` running in the background with its output.
type setupRun struct {
	page string      // the local page's URL
	out  chan string // the rest of stdout, once it ends
	err  chan error
}

func startSetup(t *testing.T, args ...string) *setupRun {
	t.Helper()
	pr, pw := io.Pipe()
	r := &setupRun{out: make(chan string, 1), err: make(chan error, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	go func() {
		err := cmdSetup(ctx, args, pw, slog.New(slog.NewTextHandler(io.Discard, nil)))
		pw.CloseWithError(err)
		r.err <- err
	}()
	br := bufio.NewReader(pr)
	first, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("setup printed no page: %v (%v)", err, <-r.err)
	}
	m := regexp.MustCompile(`Open (http://127\.0\.0\.1:\d+/) in a browser`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first line %q names no local page", first)
	}
	r.page = m[1]
	go func() {
		rest, _ := io.ReadAll(br)
		r.out <- string(rest)
	}()
	return r
}

var (
	formAction    = regexp.MustCompile(`<form id="register" action="([^"]+)" method="post">`)
	manifestField = regexp.MustCompile(`<input type="hidden" name="manifest" value="([^"]*)">`)
)

// TestSetupManifestFlow drives `agentgate setup` as a browser would,
// against the GitHub stand-in: the local page's form posts app.yml's
// manifest to GitHub, GitHub redirects to the callback with a code and
// the state, and the command writes working credentials (mode 0600).
func TestSetupManifestFlow(t *testing.T) {
	gh, err := testgh.New(testgh.Options{ValidateResponses: true})
	if err != nil {
		t.Fatal(err)
	}
	defer gh.Close()
	want, err := registration.ParseManifest(agentgate.AppManifest)
	if err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	for _, tt := range []struct{ name, org, path string }{
		{"user", "", "/settings/apps/new"},
		{"org", "acme-corp", "/organizations/acme-corp/settings/apps/new"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "agentgate-app.yml")
			args := []string{"--webhook-url", "https://agentgate.example.com/webhook", "--name", "agentgate-" + tt.name,
				"--github-url", gh.URL(), "--api-url", gh.APIURL(), "--out", out}
			if tt.org != "" {
				args = append(args, "--org", tt.org)
			}
			run := startSetup(t, args...)

			// The page: a form posting the manifest to GitHub with a state.
			resp, err := noRedirect.Get(run.page)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "form-action "+gh.URL()) {
				t.Fatalf("page: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
			}
			am, mm := formAction.FindSubmatch(body), manifestField.FindSubmatch(body)
			if am == nil || mm == nil {
				t.Fatalf("page has no manifest form:\n%s", body)
			}
			action, err := url.Parse(html.UnescapeString(string(am[1])))
			if err != nil {
				t.Fatal(err)
			}
			state := action.Query().Get("state")
			if action.Scheme+"://"+action.Host != gh.URL() || action.Path != tt.path || len(state) < 32 {
				t.Fatalf("form posts to %s, want %s%s?state=(random)", action, gh.URL(), tt.path)
			}
			manifest := html.UnescapeString(string(mm[1]))
			var got registration.Manifest
			if err := json.Unmarshal([]byte(manifest), &got); err != nil {
				t.Fatalf("manifest field is not JSON: %v", err)
			}
			if !slices.Equal(got.DefaultEvents, want.DefaultEvents) || !maps.Equal(got.DefaultPermissions, want.DefaultPermissions) {
				t.Errorf("manifest asks for %v %v, app.yml for %v %v", got.DefaultEvents, got.DefaultPermissions, want.DefaultEvents, want.DefaultPermissions)
			}
			if got.Name != "agentgate-"+tt.name || got.HookAttributes.URL != "https://agentgate.example.com/webhook" || !got.HookAttributes.Active || got.RedirectURL != run.page+"callback" {
				t.Errorf("manifest name %q hook %+v redirect %q", got.Name, got.HookAttributes, got.RedirectURL)
			}

			// A callback with another state, or through another host name,
			// is refused and the flow goes on.
			for _, bad := range []struct {
				host, state string
				status      int
			}{{"", "0123", http.StatusBadRequest}, {"", "", http.StatusBadRequest}, {"evil.example:80", state, http.StatusMisdirectedRequest}} {
				req, _ := http.NewRequest(http.MethodGet, run.page+"callback?code=abc&state="+bad.state, nil)
				if bad.host != "" {
					req.Host = bad.host
				}
				resp, err := noRedirect.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != bad.status {
					t.Errorf("callback host %q state %q: %d, want %d", bad.host, bad.state, resp.StatusCode, bad.status)
				}
			}

			// The browser posts the form; GitHub redirects to the callback.
			resp, err = noRedirect.PostForm(action.String(), url.Values{"manifest": {manifest}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, err := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
				t.Fatalf("GitHub answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			resp, err = noRedirect.Get(loc.String())
			if err != nil {
				t.Fatal(err)
			}
			done, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("callback: %d %s", resp.StatusCode, done)
			}
			if err := <-run.err; err != nil {
				t.Fatalf("setup: %v", err)
			}
			printed := <-run.out

			apps := gh.RegisteredApps()
			reg := apps[len(apps)-1]
			if reg.Converted.IsZero() || reg.Name != "agentgate-"+tt.name || reg.Owner != map[bool]string{true: tt.org, false: "octocat"}[tt.org != ""] {
				t.Fatalf("registered %+v", reg)
			}
			for _, s := range []string{"Registered the GitHub App", gh.URL() + "/apps/" + reg.Slug + "/installations/new", "agentgate serve --config " + out} {
				if !strings.Contains(printed, s) {
					t.Errorf("next steps lack %q:\n%s", s, printed)
				}
			}
			if strings.Contains(printed, reg.WebhookSecret) || strings.Contains(printed, "PRIVATE KEY") {
				t.Error("setup printed a secret")
			}

			// The file: owner-only, and agentgate serve's configuration.
			st, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("credentials mode %v, want 0600", st.Mode().Perm())
			}
			cfg, _, err := app.LoadConfig("serve", []string{"--config", out}, func(string) string { return "" }, nil)
			if err != nil {
				t.Fatalf("credentials are not a configuration file: %v", err)
			}
			// serve takes the file as is (README: it needs nothing else).
			if err := cfg.ValidateServe(); err != nil {
				t.Errorf("agentgate serve --config %s refuses it: %v", out, err)
			}
			block, _ := pem.Decode(cfg.PrivateKey)
			if block == nil {
				t.Fatal("no PEM key in the credentials")
			}
			key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil || !key.PublicKey.Equal(&reg.PrivateKey.PublicKey) {
				t.Errorf("private key is not the app's: %v", err)
			}
			if cfg.AppID != reg.ID || cfg.AppSlug != reg.Slug || string(cfg.WebhookSecret) != reg.WebhookSecret || cfg.GitHubAPIURL != gh.APIURL() {
				t.Errorf("config app %d %q secret-ok=%v api %q; registered %d %q", cfg.AppID, cfg.AppSlug, string(cfg.WebhookSecret) == reg.WebhookSecret, cfg.GitHubAPIURL, reg.ID, reg.Slug)
			}
			raw, _ := os.ReadFile(out)
			if !strings.Contains(string(raw), reg.ClientID) || !strings.Contains(string(raw), reg.ClientSecret) {
				t.Error("the OAuth client id and secret are not kept")
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*tmp")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}

			// The code was single use.
			resp, err = http.Post(gh.APIURL()+"app-manifests/"+loc.Query().Get("code")+"/conversions", "application/json", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("second exchange of the code: %d, want 404", resp.StatusCode)
			}

			// Running again does not touch the file without --force.
			if err := cmdSetup(context.Background(), args, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "--force") {
				t.Errorf("second setup onto %s: %v, want a refusal naming --force", out, err)
			}
			if again, _ := os.ReadFile(out); string(again) != string(raw) {
				t.Error("the refused run changed the credentials file")
			}
		})
	}
	if v := gh.Violations(); len(v) != 0 {
		t.Errorf("violations: %q", v)
	}
}

// TestSetupRefuses: bad options fail before anything is served.
func TestSetupRefuses(t *testing.T) {
	dir := t.TempDir()
	exists := filepath.Join(dir, "exists.yml")
	if err := os.WriteFile(exists, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{}, "--webhook-url is required"},
		{[]string{"--webhook-url", "ftp://x/webhook", "--out", filepath.Join(dir, "a.yml")}, "not an http(s) URL"},
		{[]string{"--webhook-url", "https://x/webhook", "--out", exists}, "--force"},
		{[]string{"--webhook-url", "https://x/webhook", "--out", filepath.Join(dir, "b.yml"), "--listen", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"--webhook-url", "https://x/webhook", "--out", filepath.Join(dir, "c.yml"), "--org", "../etc"}, "not an organization name"},
		{[]string{"--webhook-url", "https://x/webhook", "--out", filepath.Join(dir, "no-such-dir", "d.yml")}, "--out"},
	} {
		err := cmdSetup(context.Background(), tt.args, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("setup %q: %v, want an error with %q", tt.args, err, tt.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("refused runs left files: %v", entries)
	}
}
