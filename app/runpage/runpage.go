package runpage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// Store is what the pages read: runs, their events and their chain.
type Store interface {
	ListRuns(ctx context.Context, f store.RunFilter) ([]store.RunSummary, error)
	RunRepos(ctx context.Context, name string) ([]store.RunRepo, error)
	GetRun(ctx context.Context, runID string) (store.Run, error)
	Events(ctx context.Context, runID string) ([]telemetry.Event, error)
	VerifyRun(ctx context.Context, runID string) (store.RunVerify, error)
}

// Config configures the pages.
type Config struct {
	Store Store
	// APIURL is GitHub's REST API base (https://api.github.com/ or
	// https://HOST/api/v3/); the web base (sign-in, links) is derived from it.
	APIURL string
	// ClientID and ClientSecret are the GitHub App's OAuth client; without
	// them nobody can sign in (the admin token still works).
	ClientID     string
	ClientSecret string
	// PublicURL is the base URL people reach these pages at, e.g.
	// https://agentgate.example.com; the OAuth callback is PublicURL/login/callback.
	PublicURL string
	// AdminToken, when set, is accepted as "Authorization: Bearer" and sees
	// every run.
	AdminToken string
	// SessionTTL bounds a sign-in (default 8h); AccessTTL how long an
	// answer about a repository's readability is reused (default 5m).
	SessionTTL time.Duration
	AccessTTL  time.Duration
	// HTTPClient talks to GitHub (default: a client with a 15s timeout).
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Handler serves /runs, /runs/{id}, /login, /login/callback and /logout.
type Handler struct {
	cfg      Config
	web      string // GitHub's web base, no trailing slash
	secure   bool   // cookies are Secure (PublicURL is not loopback http)
	sessions *sessions
	gh       *github
	log      *slog.Logger
}

// New checks cfg and returns the handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("runpage: no store")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = 5 * time.Minute
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	web, err := WebURL(cfg.APIURL)
	if err != nil {
		return nil, fmt.Errorf("runpage: %w", err)
	}
	secure := true
	if cfg.ClientID != "" {
		if cfg.ClientSecret == "" {
			return nil, errors.New("runpage: oauth client id without a client secret")
		}
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("runpage: public URL %q is not an http(s) URL", cfg.PublicURL)
		}
		loop := isLoopback(u.Hostname())
		if u.Scheme == "http" && !loop {
			return nil, fmt.Errorf("runpage: public URL %q must be https (sign-in cookies would cross the network in clear)", cfg.PublicURL)
		}
		secure = !loop
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("runpage: session key: %w", err)
	}
	h := &Handler{
		cfg: cfg, web: web, secure: secure,
		sessions: newSessions(key, cfg.SessionTTL, cfg.Now),
		log:      cfg.Logger,
	}
	h.gh = &github{api: strings.TrimRight(cfg.APIURL, "/") + "/", web: web, client: cfg.HTTPClient,
		clientID: cfg.ClientID, clientSecret: cfg.ClientSecret,
		redirect: strings.TrimRight(cfg.PublicURL, "/") + "/login/callback"}
	return h, nil
}

// Register mounts the pages on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /runs", h.list)
	mux.HandleFunc("GET /runs/{id}", h.run)
	mux.HandleFunc("GET /login", h.login)
	mux.HandleFunc("GET /login/callback", h.callback)
	mux.HandleFunc("POST /logout", h.logout)
}

// WebURL is GitHub's web base for an API base: https://github.com for
// https://api.github.com/, https://HOST for https://HOST/api/v3/.
func WebURL(apiURL string) (string, error) {
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("GitHub API URL %q is not an http(s) URL", apiURL)
	}
	if strings.EqualFold(u.Host, "api.github.com") {
		return "https://github.com", nil
	}
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api/v3")
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimRight(u.String(), "/"), nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// viewer is who is asking: the operator (admin token) or a signed-in person.
type viewer struct {
	admin bool
	sess  *session
}

// Login is the viewer's name as shown.
func (v viewer) Login() string {
	if v.admin {
		return "operator (admin token)"
	}
	return v.sess.login
}

// errUnauthorized is a wrong admin token: answered 401, never redirected.
var errUnauthorized = errors.New("unauthorized")

// identify finds the viewer; ok is false when nobody is signed in.
func (h *Handler) identify(r *http.Request) (viewer, bool, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "bearer") || h.cfg.AdminToken == "" {
			return viewer{}, false, errUnauthorized
		}
		// Compare digests: constant time, whatever the lengths.
		a, b := sha256.Sum256([]byte(strings.TrimSpace(tok))), sha256.Sum256([]byte(h.cfg.AdminToken))
		if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
			return viewer{}, false, errUnauthorized
		}
		return viewer{admin: true}, true, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return viewer{}, false, nil
	}
	sess, ok := h.sessions.lookup(c.Value)
	if !ok {
		return viewer{}, false, nil
	}
	return viewer{sess: sess}, true, nil
}

// canRead reports whether v may see the runs of the repository with
// GitHub id repoID, recorded under the name repo (owner/name). People are
// asked about on GitHub with their own token (GET /repos/{owner}/{repo}:
// 404 or no pull permission means no), and the answer is kept AccessTTL.
// The repository that answers to the name must be the run's own (same
// id): whoever takes over a name after a rename, a transfer or a deletion
// does not read the earlier owner's runs. Runs recorded before ids were
// kept (repoID 0) are for admins only.
func (h *Handler) canRead(ctx context.Context, v viewer, repoID int64, repo string) (bool, error) {
	if v.admin {
		return true, nil
	}
	if repoID == 0 {
		return false, nil
	}
	key := strings.ToLower(repo)
	s := v.sess
	s.mu.Lock()
	e, ok := s.readable[key]
	s.mu.Unlock()
	if ok && h.cfg.Now().Sub(e.checked) < h.cfg.AccessTTL {
		return e.ok && e.id == repoID, nil
	}
	id, readable, err := h.gh.canRead(ctx, s.token, repo)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	s.readable[key] = readEntry{ok: readable, id: id, checked: h.cfg.Now()}
	s.mu.Unlock()
	return readable && id == repoID, nil
}

// setCookie sets a cookie with the handler's attributes.
func (h *Handler) setCookie(w http.ResponseWriter, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
}

// login starts the sign-in: a fresh state bound to this browser, then
// GitHub's authorize page.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if h.cfg.ClientID == "" {
		h.errorPage(w, r, http.StatusServiceUnavailable, "Sign-in with GitHub is not configured (settings oauth-client-id, oauth-client-secret, public-url).")
		return
	}
	state, cookie := h.sessions.newState(safeNext(r.URL.Query().Get("next")))
	h.setCookie(w, stateCookie, cookie, "/login", 600)
	http.Redirect(w, r, h.gh.authorizeURL(state), http.StatusFound)
}

// callback finishes the sign-in: the state must be the one this browser
// was given, then the code is exchanged and the user looked up.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(stateCookie)
	q := r.URL.Query()
	if err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "The sign-in expired or was started elsewhere; sign in again.")
		return
	}
	h.setCookie(w, stateCookie, "", "/login", -1)
	next, ok := h.sessions.checkState(q.Get("state"), c.Value)
	if !ok {
		h.errorPage(w, r, http.StatusBadRequest, "The sign-in expired or was started elsewhere; sign in again.")
		return
	}
	if e := q.Get("error"); e != "" {
		h.errorPage(w, r, http.StatusForbidden, "GitHub did not authorize the sign-in: "+e)
		return
	}
	token, err := h.gh.exchange(r.Context(), q.Get("code"))
	if err != nil {
		h.log.Warn("sign-in: code exchange failed", "err", err)
		h.errorPage(w, r, http.StatusBadGateway, "GitHub did not accept the sign-in; try again.")
		return
	}
	login, err := h.gh.user(r.Context(), token)
	if err != nil {
		h.log.Warn("sign-in: user lookup failed", "err", err)
		h.errorPage(w, r, http.StatusBadGateway, "GitHub did not say who signed in; try again.")
		return
	}
	sess, cookie := h.sessions.create(login, token)
	h.setCookie(w, sessionCookie, cookie, "/", int(h.cfg.SessionTTL.Seconds()))
	h.log.Info("signed in", "login", login, "session_expires", sess.expires)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if s, ok := h.sessions.lookup(c.Value); ok {
			h.sessions.end(s.id)
		}
	}
	h.setCookie(w, sessionCookie, "", "/", -1)
	http.Redirect(w, r, "/runs", http.StatusSeeOther)
}

// safeNext keeps only a local page of this handler as the place to return
// to after sign-in: no other host, no scheme, no protocol-relative path.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || path.Clean(u.Path) != u.Path ||
		!(u.Path == "/runs" || strings.HasPrefix(u.Path, "/runs/")) || strings.Contains(next, "\\") || strings.HasPrefix(next, "//") {
		return "/runs"
	}
	return u.RequestURI()
}

// authenticate is the gate of every page: the viewer, or a redirect to
// sign-in (browsers) or 401 (a wrong admin token). ok is false when it
// answered.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (viewer, bool) {
	v, ok, err := h.identify(r)
	if errors.Is(err, errUnauthorized) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="agentgate"`)
		h.errorPage(w, r, http.StatusUnauthorized, "The admin token is not valid.")
		return viewer{}, false
	}
	if !ok {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return viewer{}, false
	}
	return v, true
}
