package runpage

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/telemetry/provenance"
)

const (
	clientID     = "Iv1.testclient"
	clientSecret = "oauth-client-secret-7f3a9"
	adminToken   = "admin-token-5b1c2d"
)

// fixture is a store with runs in two repositories, the GitHub stand-in
// that knows who can read them, and the pages on a test server.
type fixture struct {
	gh   *testgh.Server
	srv  *httptest.Server
	db   *store.DB
	runs map[string]string // name -> run id
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	gh, err := testgh.New(testgh.Options{ValidateResponses: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	t.Cleanup(func() {
		if v := gh.Violations(); len(v) > 0 {
			t.Errorf("GitHub stand-in violations: %v", v)
		}
	})
	gh.SetOAuthApp(testgh.OAuthApp{ClientID: clientID, ClientSecret: clientSecret})
	ids := map[string]int64{
		"acme/open":   gh.AddRepo(testgh.Repo{Owner: "acme", Name: "open", Private: true}).ID,
		"acme/secret": gh.AddRepo(testgh.Repo{Owner: "acme", Name: "secret", Private: true}).ID,
	}
	gh.SetPermission("acme", "open", "alice", "read")

	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	f := &fixture{gh: gh, db: db, runs: map[string]string{}}
	for _, r := range []struct{ id, repo string }{{"run-open-1", "acme/open"}, {"run-secret-1", "acme/secret"}} {
		if _, err := db.EnsureRun(ctx, store.Run{ID: r.id, DeliveryID: "d-" + r.id, Repo: r.repo, RepoID: ids[r.repo], InstallationID: 1,
			Issue: 7, Requester: "bob", State: "succeeded"}); err != nil {
			t.Fatal(err)
		}
		for _, ev := range []telemetry.Event{
			{Kind: telemetry.KindWebhookReceived, Actor: "bob", Attrs: map[string]any{"event": "issue_comment", "delivery_id": "d-" + r.id, "comment_id": 42}},
			{Kind: telemetry.KindRunAuthorized, Actor: "agentgate", Attrs: map[string]any{"permission": "write", "required": "write"}},
			{Kind: "agent.command", Actor: "agent", Attrs: map[string]any{"command": "go test ./...", "exit_code": 3}},
			{Kind: telemetry.KindNetDenied, Actor: "agent", Attrs: map[string]any{"host": "evil.example", "port": 443, "reason": "not in allowlist"}},
			{Kind: telemetry.KindFileChanged, Actor: "agent", Attrs: map[string]any{"path": "README.md", "op": "modified", "added": 1, "removed": 1}},
			{Kind: telemetry.KindPROpened, Actor: "agentgate", Attrs: map[string]any{"number": "12", "branch": "agentgate/7-x", "commit": "abc123"}},
			{Kind: telemetry.KindPRMerged, Actor: "carol", Attrs: map[string]any{"number": 12}},
			{Kind: provenance.KindSigned, Actor: "agentgate", Attrs: map[string]any{"envelope_sha256": "5eed" + r.id}},
		} {
			ev.RunID = r.id
			if _, err := db.Append(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		f.runs[r.repo] = r.id
	}

	mux := http.NewServeMux()
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	h, err := New(Config{Store: db, APIURL: gh.APIURL(), ClientID: clientID, ClientSecret: clientSecret,
		PublicURL: f.srv.URL, AdminToken: adminToken})
	if err != nil {
		t.Fatal(err)
	}
	h.Register(mux)
	return f
}

// browser is a client with a cookie jar that does not follow redirects
// by itself unless follow is set.
func browser(t *testing.T, follow bool) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

func get(t *testing.T, c *http.Client, u string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signIn goes through GitHub's user authorization as login and returns
// the signed-in browser.
func (f *fixture) signIn(t *testing.T, login string) *http.Client {
	t.Helper()
	f.gh.SignIn(login)
	c := browser(t, true)
	resp, body := get(t, c, f.srv.URL+"/runs")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/runs" {
		t.Fatalf("sign-in ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, body)
	}
	return c
}

func TestUnauthenticatedRedirectsToLogin(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/runs", "/runs/" + f.runs["acme/open"], "/runs?repo=acme/open"} {
		resp, _ := get(t, browser(t, false), f.srv.URL+path)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
			t.Fatalf("%s: %d Location %q, want 303 to /login", path, resp.StatusCode, loc)
		}
		if next, _ := url.ParseQuery(strings.TrimPrefix(loc, "/login?")); next.Get("next") != path {
			t.Fatalf("%s: next = %q", path, next.Get("next"))
		}
	}
	// A wrong admin token is refused, not redirected.
	resp, body := get(t, browser(t, false), f.srv.URL+"/runs", "Authorization", "Bearer nope")
	if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "run-") {
		t.Fatalf("wrong admin token: %d", resp.StatusCode)
	}
}

func TestAdminTokenSeesAll(t *testing.T) {
	f := newFixture(t)
	c := browser(t, false)
	resp, body := get(t, c, f.srv.URL+"/runs", "Authorization", "Bearer "+adminToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list: %d", resp.StatusCode)
	}
	for _, id := range f.runs {
		if !strings.Contains(body, id) {
			t.Fatalf("admin list lacks %s", id)
		}
	}
	resp, body = get(t, c, f.srv.URL+"/runs/"+f.runs["acme/secret"], "Authorization", "Bearer "+adminToken)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "acme/secret") {
		t.Fatalf("run: %d", resp.StatusCode)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(body, "<script") {
		t.Fatalf("CSP %q / script in page", csp)
	}
	// Filters narrow the list.
	_, body = get(t, c, f.srv.URL+"/runs?repo=acme/open", "Authorization", "Bearer "+adminToken)
	if !strings.Contains(body, f.runs["acme/open"]) || strings.Contains(body, f.runs["acme/secret"]) {
		t.Fatal("repo filter did not narrow the list")
	}
	_, body = get(t, c, f.srv.URL+"/runs?outcome=failed", "Authorization", "Bearer "+adminToken)
	if strings.Contains(body, "run-") {
		t.Fatal("outcome filter did not narrow the list")
	}
}

func TestSignedInUserSeesOnlyReadableRuns(t *testing.T) {
	f := newFixture(t)
	c := f.signIn(t, "alice")
	_, body := get(t, c, f.srv.URL+"/runs")
	if !strings.Contains(body, f.runs["acme/open"]) || strings.Contains(body, f.runs["acme/secret"]) || strings.Contains(body, "acme/secret") {
		t.Fatalf("alice's list:\n%s", body)
	}
	resp, body := get(t, c, f.srv.URL+"/runs/"+f.runs["acme/open"])
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readable run: %d", resp.StatusCode)
	}
	for _, want := range []string{"alice", "bob", "permission write", "go test ./...", "evil.example:443", "not in allowlist",
		"README.md", "#12", "merged", "by carol", "verified", "issue_comment", "d-run-open-1",
		"signed · envelope sha256", "5eedrun-open-1", "agentgate audit attest run-open-1"} {
		if !strings.Contains(body, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	if !strings.Contains(body, `<td class="num">3</td>`) {
		t.Error("run page lacks the command's exit code 3")
	}
	// Not readable and not existing look the same: 404.
	r1, b1 := get(t, c, f.srv.URL+"/runs/"+f.runs["acme/secret"])
	r2, b2 := get(t, c, f.srv.URL+"/runs/no-such-run")
	if r1.StatusCode != http.StatusNotFound || r2.StatusCode != http.StatusNotFound || strings.Contains(b1, "acme/secret") {
		t.Fatalf("unreadable %d, missing %d", r1.StatusCode, r2.StatusCode)
	}
	if strings.ReplaceAll(b1, "\n", "") == "" || len(b1) != len(b2) {
		t.Fatalf("unreadable and missing runs answer differently:\n%s\n---\n%s", b1, b2)
	}
	for _, secret := range []string{clientSecret, adminToken, "ghu_"} {
		if strings.Contains(body, secret) || strings.Contains(b1, secret) {
			t.Fatalf("page shows %q", secret)
		}
	}
	// The session cookie is HttpOnly, SameSite=Lax, and not Secure only
	// because the public URL is loopback http.
	u, _ := url.Parse(f.srv.URL)
	if cs := c.Jar.Cookies(u); len(cs) != 1 || cs[0].Name != sessionCookie {
		t.Fatalf("cookies %v", cs)
	}
	// Sign out ends the session on the server.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/logout", nil)
	if resp, err := c.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	if resp, _ := get(t, c, f.srv.URL+"/runs"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", resp.StatusCode)
	}
}

func TestUserWithoutAccessSeesNothing(t *testing.T) {
	f := newFixture(t)
	c := f.signIn(t, "mallory")
	_, body := get(t, c, f.srv.URL+"/runs")
	if strings.Contains(body, "run-") {
		t.Fatalf("mallory sees runs:\n%s", body)
	}
	for _, id := range f.runs {
		if resp, _ := get(t, c, f.srv.URL+"/runs/"+id); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: %d, want 404", id, resp.StatusCode)
		}
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	f := newFixture(t)
	f.gh.SignIn("alice")
	c := browser(t, false)
	resp, _ := get(t, c, f.srv.URL+"/login?next=/runs")
	authz, _ := url.Parse(resp.Header.Get("Location"))
	q := authz.Query()
	if authz.Path != "/login/oauth/authorize" || q.Get("client_id") != clientID || q.Get("state") == "" ||
		q.Get("redirect_uri") != f.srv.URL+"/login/callback" {
		t.Fatalf("authorize URL %s", authz)
	}
	// GitHub approves and sends the browser back.
	resp, _ = get(t, c, authz.String())
	back := resp.Header.Get("Location")
	resp, _ = get(t, c, back)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/runs" {
		t.Fatalf("callback: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var set string
	for _, h := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, sessionCookie+"=") {
			set = h
		}
	}
	if !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Lax") || strings.Contains(set, "ghu_") || !strings.Contains(set, "Max-Age=") {
		t.Fatalf("session cookie %q", set)
	}
}

func TestCallbackRejectsForeignState(t *testing.T) {
	f := newFixture(t)
	f.gh.SignIn("alice")
	// The attacker starts a sign-in in their own browser…
	attacker := browser(t, false)
	resp, _ := get(t, attacker, f.srv.URL+"/login")
	resp, _ = get(t, attacker, resp.Header.Get("Location"))
	callback := resp.Header.Get("Location")
	// …and makes the victim's browser finish it: no state cookie there.
	victim := browser(t, false)
	if resp, _ := get(t, victim, callback); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("foreign callback: %d, want 400", resp.StatusCode)
	}
	// A victim with a state cookie of their own: still refused.
	get(t, victim, f.srv.URL+"/login")
	if resp, _ := get(t, victim, callback); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("callback with another state: %d, want 400", resp.StatusCode)
	}
	if n := f.gh.UserTokens(); n != 0 {
		t.Fatalf("%d codes exchanged", n)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/runs/abc":         "/runs/abc",
		"/runs?repo=a%2Fb":  "/runs?repo=a%2Fb",
		"//evil.example/":   "/runs",
		"https://evil/runs": "/runs",
		"/metrics":          "/runs",
		"/\\evil.example":   "/runs",
		"":                  "/runs",
		"/runs/../metrics":  "/runs",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWebURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.github.com/":         "https://github.com",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com",
		"http://127.0.0.1:4000/api/v3":    "http://127.0.0.1:4000",
	} {
		if got, err := WebURL(in); err != nil || got != want {
			t.Errorf("WebURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestRunsOfARepositoryNameTakenOver: acme/secret is deleted and someone
// else creates a repository with the same name, where mallory can read.
// Her reading the name does not make the first repository's runs hers;
// the new repository's own runs are hers to see (positive control).
func TestRunsOfARepositoryNameTakenOver(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	taken := f.gh.AddRepo(testgh.Repo{Owner: "acme", Name: "secret"}) // a new id under the old name
	f.gh.SetPermission("acme", "secret", "mallory", "admin")
	if _, err := f.db.EnsureRun(ctx, store.Run{ID: "run-new-owner", DeliveryID: "d-new", Repo: "acme/secret", RepoID: taken.ID,
		InstallationID: 2, Issue: 7, Requester: "mallory", State: "succeeded"}); err != nil {
		t.Fatal(err)
	}
	c := f.signIn(t, "mallory")
	if resp, body := get(t, c, f.srv.URL+"/runs/"+f.runs["acme/secret"]); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the earlier owner's run: %d\n%s", resp.StatusCode, body)
	}
	_, body := get(t, c, f.srv.URL+"/runs")
	if strings.Contains(body, f.runs["acme/secret"]) {
		t.Fatalf("the list shows the earlier owner's run:\n%s", body)
	}
	if !strings.Contains(body, "run-new-owner") {
		t.Fatalf("the list lacks the new repository's own run:\n%s", body)
	}
	if resp, _ := get(t, c, f.srv.URL+"/runs/run-new-owner"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the new repository's run: %d", resp.StatusCode)
	}
}

// TestOtherTenantsDoNotHideRuns: many newer runs of a repository alice
// cannot read do not push her one run off the list, and a long list pages.
func TestOtherTenantsDoNotHideRuns(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other := f.gh.AddRepo(testgh.Repo{Owner: "globex", Name: "busy", Private: true})
	for i := range maxListRuns + 20 {
		id := fmt.Sprintf("run-busy-%04d", i)
		if _, err := f.db.EnsureRun(ctx, store.Run{ID: id, DeliveryID: "d-" + id, Repo: "globex/busy", RepoID: other.ID,
			InstallationID: 9, Issue: 1, Requester: "zed", State: "succeeded"}); err != nil {
			t.Fatal(err)
		}
	}
	c := f.signIn(t, "alice")
	_, body := get(t, c, f.srv.URL+"/runs")
	if !strings.Contains(body, f.runs["acme/open"]) || strings.Contains(body, "run-busy-") {
		t.Fatalf("alice's list:\n%.2000s", body)
	}
	// The admin sees every run, a page at a time.
	_, first := get(t, http.DefaultClient, f.srv.URL+"/runs", "Authorization", "Bearer "+adminToken)
	if n := strings.Count(first, `href="/runs/run-`); n != maxListRuns || !strings.Contains(first, `id="older"`) {
		t.Fatalf("admin's first page lists %d runs (want %d) and an older link", n, maxListRuns)
	}
	_, second := get(t, http.DefaultClient, f.srv.URL+"/runs?page=2", "Authorization", "Bearer "+adminToken)
	if n := strings.Count(second, `href="/runs/run-`); n != 22 || strings.Contains(second, `id="older"`) || !strings.Contains(second, `id="newer"`) {
		t.Fatalf("admin's second page lists %d runs, want 22 and only a newer link", n)
	}
	if !strings.Contains(second, f.runs["acme/open"]) || strings.Contains(first, f.runs["acme/open"]) {
		t.Fatal("the oldest runs are not on the second page")
	}
}

// What the agent wrote (paths, commands, hosts, reasons, models, output,
// any attribute) is shown on the run page as text: no element, comment or
// link of its own, whatever it holds.
func TestRunPageHostileTextInert(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const id = "run-hostile-1"
	evil := `Fixes #1 @org/team <!-- <img src="https://attacker.example/i"> <script>alert(1)</script> <a href="https://attacker.example/l">x</a> ![x](https://attacker.example/m) javascript:alert(2) --></td></tr></table><details open>`
	if _, err := f.db.EnsureRun(ctx, store.Run{ID: id, DeliveryID: "d-h", Repo: "acme/open", Issue: 7, Requester: evil, State: evil}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []telemetry.Event{
		{Kind: telemetry.KindWebhookReceived, Actor: evil, Attrs: map[string]any{"event": evil, "trigger": evil, "delivery_id": evil, "comment_id": evil}},
		{Kind: telemetry.KindRunAuthorized, Actor: "agentgate", Attrs: map[string]any{"permission": evil, "required": evil}},
		{Kind: "agent.command", Actor: "agent", Attrs: map[string]any{"command": evil, "exit_code": 1}},
		{Kind: telemetry.KindNetDenied, Actor: "agent", Attrs: map[string]any{"host": evil, "port": 443, "reason": evil}},
		{Kind: telemetry.KindLLMRequest, Actor: "agent", Attrs: map[string]any{"model": evil, "input_tokens": 1}},
		{Kind: telemetry.KindFileChanged, Actor: "agent", Attrs: map[string]any{"path": evil, "op": evil, "added": 1}},
		{Kind: telemetry.KindPolicyFlagged, Actor: "agentgate", Attrs: map[string]any{"path": evil, "reason": evil}},
		{Kind: telemetry.KindSandboxExited, Actor: "agentgate", Attrs: map[string]any{"exit_code": 1, "output_tail": evil}},
		{Kind: evil, Actor: evil, Attrs: map[string]any{evil: evil}},
		{Kind: telemetry.KindRunFailed, Actor: "agentgate", Attrs: map[string]any{"outcome": evil, "reason": evil}},
	} {
		ev.RunID = id
		if _, err := f.db.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := get(t, browser(t, false), f.srv.URL+"/runs/"+id, "Authorization", "Bearer "+adminToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("run page: %d", resp.StatusCode)
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.CommentNode:
			t.Errorf("HTML comment in the page: %q", n.Data)
		case html.ElementNode:
			switch n.Data {
			case "img", "script", "details", "iframe", "object", "embed", "svg":
				t.Errorf("<%s> in the page", n.Data)
			case "a":
				for _, a := range n.Attr {
					if a.Key == "href" && a.Val != "/runs" {
						t.Errorf("link to %q in the page", a.Val)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	// Positive control: the text is there, escaped, in its places.
	for _, want := range []string{`&lt;img src=&#34;https://attacker.example/i&#34;&gt;`, `id="requester">Fixes #1 @org/team &lt;!--`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
