package testgh

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// postManifest posts a manifest to the registration page and returns the
// status and the redirect's code.
func postManifest(t *testing.T, f *fixture, path, manifest string) (int, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(f.s.URL()+path, url.Values{"manifest": {manifest}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode, ""
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Query().Get("state"); got != "s1" {
		t.Errorf("state %q not echoed", got)
	}
	return resp.StatusCode, loc.Query().Get("code")
}

func TestManifestFlowValidates(t *testing.T) {
	f := newFixture(t)
	ok := `{"name":"%s","url":"https://x.example","hook_attributes":{"url":"https://x.example/webhook"},"redirect_url":"http://127.0.0.1:1/callback","default_events":["issues"],"default_permissions":{"issues":"write"}}`
	for _, tt := range []struct {
		name, manifest string
		status         int
	}{
		{"valid", strings.Replace(ok, "%s", "app-one", 1), http.StatusFound},
		{"name taken", strings.Replace(ok, "%s", "App-One", 1), http.StatusUnprocessableEntity},
		{"installation listed", `{"name":"a2","url":"https://x.example","hook_attributes":{"url":"https://x.example/w"},"redirect_url":"http://127.0.0.1:1/c","default_events":["installation"]}`, http.StatusUnprocessableEntity},
		{"event without its permission", `{"name":"a3","url":"https://x.example","hook_attributes":{"url":"https://x.example/w"},"redirect_url":"http://127.0.0.1:1/c","default_events":["pull_request"],"default_permissions":{"issues":"write"}}`, http.StatusUnprocessableEntity},
		{"unknown field", `{"name":"a4","url":"https://x.example","redirect_url":"http://127.0.0.1:1/c","hook":{}}`, http.StatusUnprocessableEntity},
		{"bad level", `{"name":"a5","url":"https://x.example","redirect_url":"http://127.0.0.1:1/c","default_permissions":{"issues":"all"}}`, http.StatusUnprocessableEntity},
		{"no redirect", `{"name":"a6","url":"https://x.example"}`, http.StatusUnprocessableEntity},
	} {
		status, _ := postManifest(t, f, "/settings/apps/new?state=s1", tt.manifest)
		if status != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, status, tt.status)
		}
	}
	if got := len(f.s.RegisteredApps()); got != 1 {
		t.Errorf("%d apps registered, want 1", got)
	}
}

func TestManifestConversion(t *testing.T) {
	f := newFixture(t)
	_, code := postManifest(t, f, "/organizations/acme/settings/apps/new?state=s1",
		`{"name":"Acme Agentgate","url":"https://x.example","hook_attributes":{"url":"https://x.example/webhook"},"redirect_url":"http://127.0.0.1:1/callback","default_events":["issue_comment"],"default_permissions":{"issues":"write","contents":"read"}}`)
	if code == "" {
		t.Fatal("no code")
	}
	status, body := do(t, "POST", f.s.APIURL()+"app-manifests/"+code+"/conversions", "", nil)
	if status != http.StatusCreated {
		t.Fatalf("conversion: %d %s", status, body)
	}
	var app struct {
		ID            int64  `json:"id"`
		Slug          string `json:"slug"`
		Owner         struct{ Login string }
		PEM           string            `json:"pem"`
		WebhookSecret string            `json:"webhook_secret"`
		ClientSecret  string            `json:"client_secret"`
		Permissions   map[string]string `json:"permissions"`
	}
	if err := json.Unmarshal(body, &app); err != nil {
		t.Fatal(err)
	}
	if app.Slug != "acme-agentgate" || app.Owner.Login != "acme" || !strings.Contains(app.PEM, "PRIVATE KEY") || app.WebhookSecret == "" || app.ClientSecret == "" || app.Permissions["metadata"] != "read" {
		t.Errorf("conversion answer %+v", app)
	}
	// Single use; unknown codes are not found.
	for _, c := range []string{code, "nope"} {
		if status, _ := do(t, "POST", f.s.APIURL()+"app-manifests/"+c+"/conversions", "", nil); status != http.StatusNotFound {
			t.Errorf("code %q: %d, want 404", c, status)
		}
	}
	// A code expires after an hour.
	_, late := postManifest(t, f, "/settings/apps/new?state=s1", `{"name":"late","url":"https://x.example","redirect_url":"http://127.0.0.1:1/callback"}`)
	f.clock.Add(61 * time.Minute)
	if status, _ := do(t, "POST", f.s.APIURL()+"app-manifests/"+late+"/conversions", "", nil); status != http.StatusNotFound {
		t.Errorf("expired code: %d, want 404", status)
	}
	f.noViolations(t)
}

func TestHookDeliveriesEndpoints(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	var ids []int64
	for i, code := range []int{202, 503, 0, 302, 404} {
		ids = append(ids, f.s.AddHookDelivery(HookDelivery{GUID: "g" + string(rune('a'+i)), DeliveredAt: now.Add(time.Duration(i) * time.Minute), StatusCode: code, Event: "issues", Action: "labeled"}))
	}
	list := func(query string) (int, []int64, string) {
		req, _ := http.NewRequest("GET", f.s.APIURL()+"app/hook/deliveries"+query, nil)
		req.Header.Set("Authorization", "Bearer "+f.appJWT(t))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		status, link := resp.StatusCode, resp.Header.Get("Link")
		var items []struct {
			ID int64 `json:"id"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&items)
		var got []int64
		for _, it := range items {
			got = append(got, it.ID)
		}
		return status, got, link
	}
	if _, got, link := list("?per_page=2"); len(got) != 2 || got[0] != ids[4] || got[1] != ids[3] || !strings.Contains(link, "cursor=v1_") {
		t.Errorf("first page %v link %q: want the newest two and a next cursor", got, link)
	}
	if _, got, _ := list("?status=failure"); len(got) != 2 || got[0] != ids[4] || got[1] != ids[1] {
		t.Errorf("status=failure: %v (GitHub's failure is 400-599; a status 0 timeout is neither)", got)
	}
	if _, got, _ := list("?status=success"); len(got) != 2 || got[0] != ids[3] || got[1] != ids[0] {
		t.Errorf("status=success: %v", got)
	}
	if status, _, _ := list("?cursor=bogus"); status != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", status)
	}
	if status, _ := do(t, "GET", f.s.APIURL()+"app/hook/deliveries", "", nil); status != http.StatusUnauthorized {
		t.Errorf("without a JWT: %d", status)
	}
	if status, _ := do(t, "POST", f.s.APIURL()+"app/hook/deliveries/999999/attempts", "Bearer "+f.appJWT(t), nil); status != http.StatusNotFound {
		t.Errorf("unknown delivery: %d", status)
	}
	if status, _ := do(t, "POST", f.s.APIURL()+"app/hook/deliveries/"+jsonInt(ids[1])+"/attempts", "Bearer "+f.appJWT(t), nil); status != http.StatusAccepted {
		t.Errorf("redeliver: %d", status)
	}
	all := f.s.HookDeliveries()
	last := all[len(all)-1]
	if len(all) != 6 || last.GUID != "gb" || !last.Redelivery || last.StatusCode != http.StatusAccepted {
		t.Errorf("after a redelivery the log ends with %+v", last)
	}
	if r := f.s.Redeliveries(); len(r) != 1 || r[0] != ids[1] {
		t.Errorf("redeliveries %v", r)
	}
	// Violations: the unauthenticated list and the unknown ids are
	// GitHub-shaped refusals; only the JWT-less call is a client mistake.
	for _, v := range f.s.Violations() {
		if !strings.Contains(v, "without a JWT") {
			t.Errorf("unexpected violation %q", v)
		}
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
