package testgh

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// This file is GitHub's app manifest flow: the web page that registers an
// app from a posted manifest (POST /settings/apps/new, or the organization
// variant) and redirects to the manifest's redirect_url with a one-time
// code, and the API operation that exchanges the code for the app's
// credentials (POST /app-manifests/{code}/conversions).

// manifestCodeLifetime is how long a manifest code may be exchanged
// ("The code expires after one hour", GitHub's manifest flow docs).
const manifestCodeLifetime = time.Hour

// RegisteredApp is an app created through the manifest flow.
type RegisteredApp struct {
	ID            int64
	Slug          string
	Name          string
	Owner         string // the user or organization that owns it
	URL           string // the manifest's url (homepage)
	WebhookURL    string
	WebhookActive bool
	RedirectURL   string
	Public        bool
	Events        []string
	Permissions   map[string]string
	ClientID      string
	ClientSecret  string
	WebhookSecret string
	PrivateKey    *rsa.PrivateKey
	// Converted is when the code was exchanged; zero while it is pending.
	Converted time.Time

	code    string
	created time.Time
}

// appsState is the manifest flow's and the app webhook's state (appmanifest.go,
// hookdeliveries.go); guarded by Server.mu.
type appsState struct {
	registered   []*RegisteredApp
	deliveries   []*HookDelivery
	redeliveries []int64
	redeliverTo  func(HookDelivery) (int, string)
}

func (s *Server) appsSt() *appsState {
	if s.st.apps == nil {
		s.st.apps = &appsState{}
	}
	return s.st.apps
}

// serveWeb serves GitHub's web pages the stand-in has (the manifest
// flow's), and the API for everything else.
func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request) {
	if s.serveAppsNew(w, r) || s.serveOAuth(w, r) {
		return
	}
	s.ServeHTTP(w, r)
}

// manifestUser is who registers apps through the web flow.
const manifestUser = "octocat"

var orgAppsNew = regexp.MustCompile(`^/organizations/([A-Za-z0-9-]+)/settings/apps/new$`)

// serveAppsNew serves GitHub's "register an app from a manifest" page
// when r is for it, and reports whether it was.
func (s *Server) serveAppsNew(w http.ResponseWriter, r *http.Request) bool {
	owner := manifestUser
	switch m := orgAppsNew.FindStringSubmatch(r.URL.Path); {
	case r.URL.Path == "/settings/apps/new":
	case m != nil:
		owner = m[1]
	default:
		return false
	}
	fail := func(status int, msg string) {
		s.mu.Lock()
		s.violate(r, "manifest flow: "+msg)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<!doctype html><title>Error</title><p>%s</p>", html.EscapeString(msg))
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "the manifest must be POSTed as a form")
		return true
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "form: "+err.Error())
		return true
	}
	raw := r.PostForm.Get("manifest")
	if raw == "" {
		fail(http.StatusUnprocessableEntity, "no manifest field in the form")
		return true
	}
	app, err := parseAppManifest([]byte(raw))
	if err != nil {
		fail(http.StatusUnprocessableEntity, "invalid manifest: "+err.Error())
		return true
	}
	s.mu.Lock()
	st := s.appsSt()
	for _, a := range st.registered {
		if strings.EqualFold(a.Name, app.Name) {
			s.mu.Unlock()
			fail(http.StatusUnprocessableEntity, "Name is already in use")
			return true
		}
	}
	app.ID = s.st.id()
	app.Owner = owner
	app.code = hex.EncodeToString(randomBytes(20))
	app.created = s.now()
	st.registered = append(st.registered, app)
	s.mu.Unlock()

	to, _ := url.Parse(app.RedirectURL)
	q := to.Query()
	q.Set("code", app.code)
	if state := r.URL.Query().Get("state"); state != "" {
		q.Set("state", state)
	}
	to.RawQuery = q.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
	return true
}

// eventPermission is the permission each subscribable event needs.
var eventPermission = map[string]string{
	"issues": "issues", "issue_comment": "issues",
	"pull_request": "pull_requests", "pull_request_review": "pull_requests",
	"pull_request_review_comment": "pull_requests", "pull_request_review_thread": "pull_requests",
	"check_run": "checks", "check_suite": "checks",
	"push": "contents", "create": "contents", "delete": "contents", "release": "contents",
	"label": "issues", "milestone": "issues",
	"workflow_run": "actions", "workflow_job": "actions",
}

// parseAppManifest checks a manifest as GitHub's registration page does.
func parseAppManifest(b []byte) (*RegisteredApp, error) {
	var m struct {
		Name           string `json:"name"`
		URL            string `json:"url"`
		HookAttributes *struct {
			URL    string `json:"url"`
			Active *bool  `json:"active"`
		} `json:"hook_attributes"`
		RedirectURL           string            `json:"redirect_url"`
		CallbackURLs          []string          `json:"callback_urls"`
		SetupURL              string            `json:"setup_url"`
		Description           string            `json:"description"`
		Public                bool              `json:"public"`
		DefaultEvents         []string          `json:"default_events"`
		DefaultPermissions    map[string]string `json:"default_permissions"`
		RequestOAuthOnInstall bool              `json:"request_oauth_on_install"`
		SetupOnUpdate         bool              `json:"setup_on_update"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a manifest: %w", err)
	}
	abs := func(field, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s %q is not an http(s) URL", field, v)
		}
		return nil
	}
	if m.Name == "" {
		return nil, fmt.Errorf("name is required")
	}
	if err := abs("url", m.URL); err != nil {
		return nil, err
	}
	if err := abs("redirect_url", m.RedirectURL); err != nil {
		return nil, err
	}
	app := &RegisteredApp{
		Name: m.Name, URL: m.URL, RedirectURL: m.RedirectURL, Public: m.Public,
		Events: slices.Clone(m.DefaultEvents), Permissions: maps.Clone(m.DefaultPermissions),
	}
	if h := m.HookAttributes; h != nil {
		if err := abs("hook_attributes.url", h.URL); err != nil {
			return nil, err
		}
		app.WebhookURL, app.WebhookActive = h.URL, h.Active == nil || *h.Active
	}
	if app.Permissions == nil {
		app.Permissions = map[string]string{}
	}
	for name, level := range app.Permissions {
		if level != "read" && level != "write" && level != "admin" {
			return nil, fmt.Errorf("permission %s: %q is not read, write or admin", name, level)
		}
	}
	app.Permissions["metadata"] = "read"
	for _, ev := range app.Events {
		switch perm, known := eventPermission[ev]; {
		case ev == "installation" || ev == "installation_repositories":
			return nil, fmt.Errorf("default event %s cannot be subscribed to: every app receives it", ev)
		case !known:
			return nil, fmt.Errorf("default event %s is not supported", ev)
		case app.Permissions[perm] == "":
			return nil, fmt.Errorf("default event %s needs the %s permission", ev, perm)
		}
	}
	if len(app.Events) > 0 && app.WebhookURL == "" {
		return nil, fmt.Errorf("default events need hook_attributes.url")
	}
	app.Slug = strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(app.Name), "-"), "-")
	return app, nil
}

// convertManifest implements POST /app-manifests/{code}/conversions: the
// code (single use, one hour) is the only credential.
func (c *call) convertManifest() reply {
	code := c.params["code"]
	st := c.s.appsSt()
	var app *RegisteredApp
	for _, a := range st.registered {
		if a.code != "" && subtle.ConstantTimeCompare([]byte(a.code), []byte(code)) == 1 {
			app = a
		}
	}
	if app == nil || !app.Converted.IsZero() || c.s.now().Sub(app.created) > manifestCodeLifetime {
		return notFound()
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return ghError(http.StatusInternalServerError, "testgh: key: "+err.Error())
	}
	app.PrivateKey = key
	app.ClientID = "Iv23" + hex.EncodeToString(randomBytes(8))
	app.ClientSecret = hex.EncodeToString(randomBytes(20))
	if app.WebhookURL != "" {
		app.WebhookSecret = hex.EncodeToString(randomBytes(20))
	}
	app.Converted = c.s.now()
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	at := ts(app.created)
	body := map[string]any{
		"id": app.ID, "slug": app.Slug, "node_id": nodeID("Integration", app.ID),
		"client_id": app.ClientID, "owner": c.s.userJSON(app.Owner), "name": app.Name,
		"description": nil, "external_url": app.URL, "html_url": c.s.URL() + "/apps/" + app.Slug,
		"created_at": at, "updated_at": at,
		"permissions": app.Permissions, "events": app.Events,
		"client_secret": app.ClientSecret, "webhook_secret": strOrNil(app.WebhookSecret),
		"pem": string(pemKey),
	}
	return created(body)
}

// RegisteredApps returns the apps registered through the manifest flow.
func (s *Server) RegisteredApps() []RegisteredApp {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RegisteredApp
	for _, a := range s.appsSt().registered {
		c := *a
		c.Events = slices.Clone(a.Events)
		c.Permissions = maps.Clone(a.Permissions)
		out = append(out, c)
	}
	return out
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func init() {
	handlers["POST /app-manifests/{code}/conversions"] = handler{public: true, fn: (*call).convertManifest}
}
