package app_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/telemetry/provenance"
)

const (
	pagesClientID     = "Iv1.e2eclient"
	pagesClientSecret = "e2e-oauth-client-secret-93ac1"
	pagesAdminToken   = "e2e-admin-token-7d2f40c1"
	pagesLLMKey       = "sk-real-upstream-key-pages-0123456789"
)

// chromium finds Debian's chromium; without it the test skips, except
// under CI, where the run pages are part of the product.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("AGENTGATE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found (set AGENTGATE_CHROMIUM)")
	}
	t.Skip("chromium not found (set AGENTGATE_CHROMIUM)")
	return ""
}

// browserCtx starts a headless chromium with its own profile (so its own
// cookies) and returns a tab's context.
func browserCtx(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // root in the test container
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1600),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	tctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return tctx
}

// outDir is where the test keeps its screenshots: $AGENTGATE_TEST_OUT or
// agentgate-test-out in the system's temporary directory, never the source
// tree (other packages' tests, such as the demo's, check that it stays
// as it was).
func outDir(t *testing.T) string {
	dir := os.Getenv("AGENTGATE_TEST_OUT")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "agentgate-test-out")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// A real run, then its pages in a real browser: signing in with GitHub
// through the app's user authorization flow, the list, the run page with
// every fact of the run and no secret; a person without access sees
// nothing; no sign-in redirects; the admin token sees all.
func TestEndToEndRunPageInBrowser(t *testing.T) {
	chrome := chromium(t)
	var llmCalls atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+pagesLLMKey {
			http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
			return
		}
		llmCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c1","object":"chat.completion","model":"test-model","choices":[{"index":0,"message":{"role":"assistant","content":"fixed it"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`)
	}))
	defer upstream.Close()
	outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello from the allowlisted host\n")
	}))
	defer outside.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(outside.URL, "http://"))

	env := startEnv(t, func(c *app.Config) {
		c.OAuthClientID, c.OAuthClientSecret, c.AdminToken = pagesClientID, pagesClientSecret, pagesAdminToken
		c.Network.OpenAIURL, c.Network.OpenAIKey = upstream.URL, pagesLLMKey
		c.Network.Allow = []string{"localhost:" + port}
		c.Network.AllowPrivate = []string{"localhost"}
	})
	env.GH.SetOAuthApp(testgh.OAuthApp{ClientID: pagesClientID, ClientSecret: pagesClientSecret})
	d, state := trigger(t, env, strings.Join([]string{
		"@agentgate fix the spelling and check the build",
		// First, so that it is in the part of the output the page shows:
		// the agent's key (a placeholder), which the audit trail redacts.
		"agentgate-test: getenv OPENAI_API_KEY",
		"agentgate-test: write README.md # Hello-World\\n\\nMy first commit.",
		`agentgate-test: json {"type":"command","command":"go test ./...","exit_code":3}`,
		`agentgate-test: json {"type":"command","command":"gofmt -l .","exit_code":0}`,
		"agentgate-test: proxyget http://localhost:" + port + "/",
		"agentgate-test: proxyget http://denied.invalid/",
		"agentgate-test: llm please fix",
	}, "\n"), harness.Requester)
	if state == "" || llmCalls.Load() != 1 {
		evs, _ := runEvents(t, env, d.RunID)
		t.Logf("agent output:\n%s", outputTail(evs))
		t.Fatalf("run state %q, LLM calls %d", state, llmCalls.Load())
	}
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d, want 1", len(prs))
	}
	// The merge arrives later as pr.merged (recorded by the pull_request
	// handler); the page shows who approved.
	if _, err := env.App.DB().Append(context.Background(), telemetry.Event{RunID: d.RunID, Kind: "pr.merged", Actor: "maintainer-mona",
		Attrs: map[string]any{"number": prs[0].Number}}); err != nil {
		t.Fatal(err)
	}
	base := "http://" + env.App.AdminAddr()
	checkProvenance(t, env, d.RunID, prs[0].HeadSHA)

	// The check run links the run page.
	if s := env.GH.CheckRuns(harness.Owner, harness.Repo)[0].Summary; !strings.Contains(s, base+"/runs/"+d.RunID) {
		t.Errorf("check run summary does not link the run page:\n%s", s)
	}

	// Signed in as the requester, in a real browser.
	env.GH.SignIn(harness.Requester)
	ctx := browserCtx(t, chrome)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/runs"), chromedp.WaitVisible(chromedp.CSS("#runs"))); err != nil {
		t.Fatalf("list page: %v", err)
	}
	list, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list, d.RunID) || !strings.Contains(list, harness.Owner+"/"+harness.Repo) || !strings.Contains(list, harness.Requester) {
		t.Errorf("run list lacks the run:\n%s", list)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="/runs/`+d.RunID+`"]`)), chromedp.WaitVisible(chromedp.CSS("#timeline"))); err != nil {
		t.Fatalf("run page: %v", err)
	}
	page, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shotPath := filepath.Join(outDir(t), "runpage-"+d.RunID+".png")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("run page screenshot: %s (%d bytes)", shotPath, len(shot))
	if len(shot) < 10_000 {
		t.Errorf("screenshot of %d bytes: an empty page?", len(shot))
	}
	// Every fact of the run is on the page.
	head, err := env.App.DB().RunHead(context.Background(), d.RunID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		d.RunID, harness.Requester, "permission admin", "issue_comment", // requester, trigger
		"go test ./...", `<td class="num">3</td>`, "gofmt -l .", // commands with exit codes
		"localhost:" + port, "denied.invalid:80", "not allowlisted", // network decisions
		"README.md", "+1 −1", // files changed
		"11 input + 7 output", "test-model", // LLM usage
		fmt.Sprintf("#%d</a> merged", prs[0].Number), "by maintainer-mona", // PR state and approver
		`<span class="ok">verified</span>`, head, // chain verification
		telemetry.KindSandboxExited, telemetry.KindRunFinished, // timeline
		"signed · envelope sha256", "agentgate audit attest " + d.RunID, // provenance
	} {
		if !strings.Contains(page, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	// The agent printed its key variable: the page shows the line, the
	// value redacted. Placeholders are "agentgate-<run id>-<random>", so
	// that prefix is on the page only if the redaction broke.
	if !strings.Contains(page, "output_tail=&#34;OPENAI_API_KEY=") && !strings.Contains(page, `output_tail="OPENAI_API_KEY=`) {
		t.Errorf("the page does not show the agent's OPENAI_API_KEY line (so the placeholder check below proves nothing)")
	}
	secrets := map[string]string{
		"webhook secret": string(env.Config.WebhookSecret), "LLM key": pagesLLMKey,
		"client secret": pagesClientSecret, "admin token": pagesAdminToken,
		"private key": "PRIVATE KEY", "placeholder key": "agentgate-" + d.RunID + "-", "user token": "ghu_",
	}
	for _, tok := range env.GH.Tokens() {
		secrets["installation token "+tok.Value[:8]] = tok.Value
	}
	for what, s := range secrets {
		if s != "" && (strings.Contains(page, s) || strings.Contains(list, s)) {
			t.Errorf("the page shows the %s", what)
		}
	}

	// A person who cannot read the (now private) repository sees nothing,
	// and its run is "not found".
	env.GH.SetPrivate(harness.Owner, harness.Repo, true)
	env.GH.SignIn("mallory")
	mctx := browserCtx(t, chrome)
	if err := chromedp.Do(mctx, chromedp.Navigate(base+"/runs"), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Fatal(err)
	}
	mlist, _ := chromedp.Run(mctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if strings.Contains(mlist, d.RunID) || !strings.Contains(mlist, "mallory") {
		t.Errorf("mallory's list:\n%s", mlist)
	}
	resp, err := chromedp.RunResponse(mctx, chromedp.Navigate(base+"/runs/"+d.RunID))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusNotFound {
		t.Errorf("mallory on the run page: %d, want 404", resp.Status)
	}

	// Without signing in: a redirect to /login; the admin token sees all.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := noRedirect.Get(base + "/runs/" + d.RunID)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
		t.Errorf("unauthenticated: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/runs/"+d.RunID, nil)
	req.Header.Set("Authorization", "Bearer "+pagesAdminToken)
	r, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusOK || !strings.Contains(string(b), d.RunID) {
		t.Errorf("admin token: %d", r.StatusCode)
	}
	// The webhook listener serves no page.
	if r, err := noRedirect.Get("http://" + env.App.Addr() + "/runs"); err == nil {
		r.Body.Close()
		if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("webhook listener answered /runs with %d", r.StatusCode)
		}
	}
}

// checkProvenance checks the run's signed provenance record: signed with
// the audit key, matching the run's events, naming the pushed head commit,
// the agent image digest and the policy hash.
func checkProvenance(t *testing.T, env *harness.Env, runID, headSHA string) {
	t.Helper()
	ctx := context.Background()
	db := env.App.DB()
	raw, ok, err := db.Effect(ctx, runID, "provenance")
	if err != nil || !ok {
		t.Fatalf("no provenance record: %v", err)
	}
	var envl dsse.Envelope
	if err := json.Unmarshal([]byte(raw), &envl); err != nil {
		t.Fatal(err)
	}
	events, err := db.Events(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	key := db.AuditKey()
	st, err := provenance.Check(ctx, &envl, key.Public().(ed25519.PublicKey), events, func(seq int64) (string, error) { return db.EventHash(ctx, runID, seq) })
	if err != nil {
		t.Fatalf("provenance does not verify: %v", err)
	}
	body, _ := protojson.Marshal(st)
	for _, want := range []string{headSHA, `"policySha256":"`, `"name":"agent-image"`, `"permission":"admin"`, `"deliveryId":"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("provenance statement lacks %s:\n%s", want, body)
		}
	}
}
