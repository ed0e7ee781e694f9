// Package registration registers agentgate's GitHub App through GitHub's manifest
// flow: a page served on loopback posts the manifest (app.yml) to GitHub,
// GitHub sends the browser back to the page's callback with a one-time
// code, and the callback exchanges the code for the app's credentials
// (POST /app-manifests/{code}/conversions) and writes them to a file only
// its owner can read, in the format of agentgate's --config file.
//
// The flow is guarded by a random state that the callback must echo, a
// Host check against DNS rebinding, and a loopback-only listener; the
// credentials are never logged.
package registration

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"
	"go.yaml.in/yaml/v3"
)

// Manifest is a GitHub App manifest (app.yml); see
// https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
type Manifest struct {
	Name                  string            `yaml:"name" json:"name"`
	URL                   string            `yaml:"url" json:"url"`
	Description           string            `yaml:"description,omitempty" json:"description,omitempty"`
	Public                bool              `yaml:"public" json:"public"`
	HookAttributes        HookAttributes    `yaml:"hook_attributes" json:"hook_attributes"`
	RedirectURL           string            `yaml:"redirect_url,omitempty" json:"redirect_url,omitempty"`
	CallbackURLs          []string          `yaml:"callback_urls,omitempty" json:"callback_urls,omitempty"`
	SetupURL              string            `yaml:"setup_url,omitempty" json:"setup_url,omitempty"`
	SetupOnUpdate         bool              `yaml:"setup_on_update,omitempty" json:"setup_on_update,omitempty"`
	RequestOAuthOnInstall bool              `yaml:"request_oauth_on_install,omitempty" json:"request_oauth_on_install,omitempty"`
	DefaultEvents         []string          `yaml:"default_events" json:"default_events"`
	DefaultPermissions    map[string]string `yaml:"default_permissions" json:"default_permissions"`
}

// HookAttributes is the app's webhook.
type HookAttributes struct {
	URL    string `yaml:"url" json:"url"`
	Active bool   `yaml:"active" json:"active"`
}

// ParseManifest reads a manifest; unknown keys are an error.
func ParseManifest(b []byte) (Manifest, error) {
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("manifest: %w", err)
	}
	if m.Name == "" || m.URL == "" {
		return m, errors.New("manifest: name and url are required")
	}
	return m, nil
}

// Options configures a registration.
type Options struct {
	Manifest Manifest
	// Name, when set, replaces the manifest's name (app names are unique
	// on GitHub).
	Name string
	// WebhookURL is where GitHub will deliver events: agentgate's public
	// https://HOST/webhook. Required.
	WebhookURL string
	// Org registers the app under an organization instead of the user.
	Org string
	// GitHubURL is GitHub's web address (default https://github.com; GHES:
	// https://HOST); APIURL its REST API (default https://api.github.com/;
	// GHES: https://HOST/api/v3/).
	GitHubURL string
	APIURL    string
	// Listen is the loopback address of the local page (default
	// 127.0.0.1:0).
	Listen string
	// Out is the credentials file; it must not exist unless Force.
	Out   string
	Force bool
	// HTTPClient carries the code exchange (default: 30 s timeout).
	HTTPClient *http.Client
	// ConfigKey reports whether agentgate's configuration file knows a
	// key; OAuth client credentials are written as keys when it does, as
	// comments otherwise. Nil means it knows none of them.
	ConfigKey func(key string) bool
	Logger    *slog.Logger
}

// Result is a registered app.
type Result struct {
	AppID      int64
	Slug       string
	Name       string
	HTMLURL    string // the app's page on GitHub
	Path       string // where the credentials were written
	WebhookURL string
}

// Flow is a registration waiting for its callback.
type Flow struct {
	opts     Options
	manifest []byte // JSON
	state    string
	action   string // the form's target on GitHub
	ln       net.Listener
	srv      *http.Server
	tmp      *os.File // the credentials file, prepared before the exchange

	mu   sync.Mutex
	done bool
	res  chan result
}

type result struct {
	res Result
	err error
}

var orgName = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)

// Start checks the options, prepares the credentials file, and serves the
// page on loopback. Open URL in a browser, then Wait.
func Start(opts Options) (_ *Flow, err error) {
	if opts.GitHubURL == "" {
		opts.GitHubURL = "https://github.com"
	}
	if opts.APIURL == "" {
		opts.APIURL = "https://api.github.com/"
	}
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.ConfigKey == nil {
		opts.ConfigKey = func(string) bool { return false }
	}
	for _, u := range []struct{ name, v string }{{"--github-url", opts.GitHubURL}, {"--api-url", opts.APIURL}, {"--webhook-url", opts.WebhookURL}} {
		p, err := url.Parse(u.v)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, fmt.Errorf("%s: %q is not an http(s) URL", u.name, u.v)
		}
	}
	if opts.Org != "" && !orgName.MatchString(opts.Org) {
		return nil, fmt.Errorf("--org: %q is not an organization name", opts.Org)
	}
	if opts.Out == "" {
		return nil, errors.New("--out: required")
	}
	if _, err := os.Lstat(opts.Out); err == nil && !opts.Force {
		return nil, fmt.Errorf("--out: %s exists; agentgate will not overwrite credentials (pass --force to replace it)", opts.Out)
	}
	host, _, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--listen: %s is not a loopback address: the callback receives the app's private key", opts.Listen)
	}

	f := &Flow{opts: opts, res: make(chan result, 1)}
	// The file is created (mode 0600) before the code is exchanged, so a
	// directory that cannot take it fails now, not after GitHub handed
	// out the key.
	f.tmp, err = os.CreateTemp(filepath.Dir(opts.Out), "."+filepath.Base(opts.Out)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	defer func() {
		if err != nil {
			f.tmp.Close()
			os.Remove(f.tmp.Name())
		}
	}()
	if err := f.tmp.Chmod(0o600); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	state := make([]byte, 32)
	if _, err := rand.Read(state); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	f.state = hex.EncodeToString(state)

	if f.ln, err = net.Listen("tcp", opts.Listen); err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	m := opts.Manifest
	if opts.Name != "" {
		m.Name = opts.Name
	}
	m.HookAttributes = HookAttributes{URL: opts.WebhookURL, Active: true}
	m.RedirectURL = f.URL() + "callback"
	if f.manifest, err = json.Marshal(m); err != nil {
		f.ln.Close()
		return nil, fmt.Errorf("manifest: %w", err)
	}
	base := strings.TrimRight(opts.GitHubURL, "/")
	if opts.Org != "" {
		f.action = base + "/organizations/" + url.PathEscape(opts.Org) + "/settings/apps/new?state=" + f.state
	} else {
		f.action = base + "/settings/apps/new?state=" + f.state
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", f.servePage)
	mux.HandleFunc("GET /callback", f.serveCallback)
	f.srv = &http.Server{Handler: f.checkHost(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(f.ln) }()
	return f, nil
}

// URL is the local page to open in a browser.
func (f *Flow) URL() string { return "http://" + f.ln.Addr().String() + "/" }

// Wait returns once the callback has written the credentials, failed, or
// ctx ends; then the page stops.
func (f *Flow) Wait(ctx context.Context) (Result, error) {
	defer f.Close()
	select {
	case r := <-f.res:
		return r.res, r.err
	case <-ctx.Done():
		return Result{}, fmt.Errorf("waiting for GitHub's callback: %w", ctx.Err())
	}
}

// Close stops the page and removes an unused credentials file.
func (f *Flow) Close() {
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = f.srv.Shutdown(sctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.done {
		f.done = true
		f.tmp.Close()
		os.Remove(f.tmp.Name())
	}
}

// checkHost refuses requests whose Host is not the listener's address, so
// a web page cannot read the state through DNS rebinding.
func (f *Flow) checkHost(next http.Handler) http.Handler {
	_, port, _ := net.SplitHostPort(f.ln.Addr().String())
	allowed := map[string]bool{f.ln.Addr().String(): true, "localhost:" + port: true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[r.Host] {
			http.Error(w, "wrong host", http.StatusMisdirectedRequest)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Register agentgate</title></head>
<body>
<h1>Register the GitHub App {{.Name}}</h1>
<p>The button sends agentgate's manifest to GitHub{{if .Org}} for the organization <b>{{.Org}}</b>{{end}}.
GitHub shows what the app will ask for, then sends you back here and agentgate saves the app's credentials to
<code>{{.Out}}</code>.</p>
<p>Webhook URL: <code>{{.Webhook}}</code></p>
<form id="register" action="{{.Action}}" method="post">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<button type="submit">Create the GitHub App on GitHub</button>
</form>
<details><summary>Manifest</summary><pre>{{.Manifest}}</pre></details>
</body></html>
`))

func (f *Flow) servePage(w http.ResponseWriter, _ *http.Request) {
	origin := f.action
	if u, err := url.Parse(f.action); err == nil {
		origin = u.Scheme + "://" + u.Host
	}
	// 'self': browsers that check form-action on redirects must allow
	// GitHub's redirect back to the callback.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action "+origin+" 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var m Manifest
	_ = json.Unmarshal(f.manifest, &m)
	_ = page.Execute(w, map[string]any{
		"Name": m.Name, "Org": f.opts.Org, "Out": f.opts.Out, "Webhook": f.opts.WebhookURL,
		"Action": template.URL(f.action), "Manifest": string(f.manifest),
	})
}

var codePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

func (f *Flow) serveCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		f.opts.Logger.Warn("setup: callback with a wrong state refused", "remote", r.RemoteAddr)
		http.Error(w, "This callback does not belong to this registration (state mismatch).", http.StatusBadRequest)
		return
	}
	code := q.Get("code")
	if !codePattern.MatchString(code) {
		http.Error(w, "The callback carries no valid code.", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		http.Error(w, "This registration is finished.", http.StatusGone)
		return
	}
	f.done = true
	res, err := f.exchange(r.Context(), code)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "agentgate setup failed: %v\n", err)
	} else {
		fmt.Fprintf(w, "The GitHub App %s (id %d) is registered and its credentials are in %s.\nYou can close this window; the terminal says what to do next.\n", res.Name, res.AppID, res.Path)
	}
	f.res <- result{res, err}
}

// credentials is the file written: agentgate's configuration file format.
type credentials struct {
	AppID             int64  `yaml:"app-id"`
	AppSlug           string `yaml:"app-slug"`
	GitHubAPIURL      string `yaml:"github-api-url,omitempty"`
	WebhookSecret     string `yaml:"webhook-secret"`
	OAuthClientID     string `yaml:"oauth-client-id,omitempty"`
	OAuthClientSecret string `yaml:"oauth-client-secret,omitempty"`
	PrivateKey        string `yaml:"private-key"`
}

// exchange trades the code for the credentials and writes them; the
// prepared file is kept (and named in the error) if it cannot take its
// final name, so nothing GitHub handed out is lost.
func (f *Flow) exchange(ctx context.Context, code string) (Result, error) {
	defer f.tmp.Close()
	gh := github.NewClient(f.opts.HTTPClient)
	api, err := url.Parse(strings.TrimRight(f.opts.APIURL, "/") + "/")
	if err != nil {
		return Result{}, fmt.Errorf("api url: %w", err)
	}
	gh.BaseURL = api
	cfg, _, err := gh.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		os.Remove(f.tmp.Name())
		return Result{}, fmt.Errorf("exchange the code (POST /app-manifests/{code}/conversions): %w", err)
	}
	if cfg.GetID() == 0 || cfg.GetPEM() == "" || cfg.GetWebhookSecret() == "" {
		os.Remove(f.tmp.Name())
		return Result{}, errors.New("exchange the code: GitHub's answer lacks the app id, private key or webhook secret")
	}
	c := credentials{
		AppID: cfg.GetID(), AppSlug: cfg.GetSlug(), WebhookSecret: cfg.GetWebhookSecret(),
		PrivateKey: strings.TrimRight(cfg.GetPEM(), "\n") + "\n",
	}
	if strings.TrimRight(f.opts.APIURL, "/") != "https://api.github.com" {
		c.GitHubAPIURL = f.opts.APIURL
	}
	var oauth string
	if f.opts.ConfigKey("oauth-client-id") && f.opts.ConfigKey("oauth-client-secret") {
		c.OAuthClientID, c.OAuthClientSecret = cfg.GetClientID(), cfg.GetClientSecret()
	} else {
		oauth = fmt.Sprintf("# The app's OAuth client (sign-in with GitHub); agentgate serve does not read these:\n# client-id: %s\n# client-secret: %s\n", cfg.GetClientID(), cfg.GetClientSecret())
	}
	body, err := yaml.Marshal(c)
	if err != nil {
		return Result{}, fmt.Errorf("encode credentials: %w", err)
	}
	header := fmt.Sprintf("# agentgate credentials for the GitHub App %q (id %d), written by agentgate setup on %s.\n"+
		"# Secret: the private key and webhook secret are here. Use it with: agentgate serve --config %s\n",
		cfg.GetName(), cfg.GetID(), time.Now().UTC().Format(time.RFC3339), filepath.Base(f.opts.Out))
	if _, err := f.tmp.WriteString(header + oauth + string(body)); err != nil {
		return Result{}, fmt.Errorf("write credentials to %s (kept there): %w", f.tmp.Name(), err)
	}
	if err := f.tmp.Sync(); err != nil {
		return Result{}, fmt.Errorf("write credentials to %s (kept there): %w", f.tmp.Name(), err)
	}
	if f.opts.Force {
		err = os.Rename(f.tmp.Name(), f.opts.Out)
	} else if err = os.Link(f.tmp.Name(), f.opts.Out); err == nil {
		os.Remove(f.tmp.Name())
	}
	if err != nil {
		return Result{}, fmt.Errorf("the credentials are in %s: moving them to %s: %w", f.tmp.Name(), f.opts.Out, err)
	}
	f.opts.Logger.Info("setup: app registered", "app_id", cfg.GetID(), "slug", cfg.GetSlug(), "credentials", f.opts.Out)
	return Result{
		AppID: cfg.GetID(), Slug: cfg.GetSlug(), Name: cfg.GetName(), HTMLURL: cfg.GetHTMLURL(),
		Path: f.opts.Out, WebhookURL: f.opts.WebhookURL,
	}, nil
}
