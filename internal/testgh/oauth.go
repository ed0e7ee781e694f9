package testgh

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// GitHub's web application flow (OAuth) for a GitHub App's user
// authorization: /login/oauth/authorize and /login/oauth/access_token are
// not REST operations and are not in the OpenAPI description, so they are
// served here outside the description check. GET /api/v3/user is answered
// with a user token and its answer is checked against the schema of
// GET /users/{username} (the same private-user | public-user union).

// OAuthApp is the app's OAuth client, as registered on GitHub.
type OAuthApp struct {
	ClientID     string
	ClientSecret string
}

// userToken is a user access token ("ghu_…") minted by the flow.
type userToken struct {
	login   string
	expires time.Time
}

// oauthCode is an authorization code waiting to be exchanged.
type oauthCode struct {
	login       string
	redirectURI string
	expires     time.Time
}

// oauthState is the flow's part of state; guarded by Server.mu.
type oauthState struct {
	app        OAuthApp
	signedIn   string // the login the authorize endpoint approves as
	codes      map[string]oauthCode
	userTokens map[string]userToken
	exchanges  int
}

// SetOAuthApp registers the app's OAuth client id and secret.
func (s *Server) SetOAuthApp(app OAuthApp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth().app = app
}

// SignIn makes the authorize endpoint approve every request as login, as
// if that person were signed in to GitHub and clicked "Authorize". With no
// one signed in the endpoint answers 401.
func (s *Server) SignIn(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth().signedIn = login
}

// UserTokens is how many user tokens the flow has minted.
func (s *Server) UserTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.oauth().exchanges
}

// oauth returns the flow's state, creating it; caller holds mu.
func (s *Server) oauth() *oauthState {
	if s.st.oauth == nil {
		s.st.oauth = &oauthState{codes: map[string]oauthCode{}, userTokens: map[string]userToken{}}
	}
	return s.st.oauth
}

// serveOAuth answers the flow's endpoints and GET /api/v3/user; it reports
// whether it answered.
func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case "/login/oauth/authorize":
		s.authorizeOAuth(w, r)
	case "/login/oauth/access_token":
		s.exchangeOAuth(w, r)
	case apiPrefix + "/user":
		s.serveUser(w, r)
	default:
		return false
	}
	return true
}

// authorizeOAuth approves the request as the signed-in user and redirects
// back with a code and the caller's state, as GitHub does after "Authorize".
func (s *Server) authorizeOAuth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.oauth()
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if o.app.ClientID == "" || q.Get("client_id") != o.app.ClientID {
		s.violate(r, "authorize: unknown client_id")
		http.Error(w, "unknown client_id", http.StatusNotFound)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || (redirect.Scheme != "http" && redirect.Scheme != "https") || redirect.Host == "" {
		s.violate(r, "authorize: redirect_uri missing or not absolute")
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("state") == "" {
		s.violate(r, "authorize: no state (CSRF protection)")
	}
	if o.signedIn == "" {
		http.Error(w, "nobody is signed in", http.StatusUnauthorized)
		return
	}
	code := rand.Text()
	o.codes[code] = oauthCode{login: o.signedIn, redirectURI: redirect.String(), expires: s.now().Add(10 * time.Minute)}
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// exchangeOAuth trades a code for a user token, as GitHub's
// POST /login/oauth/access_token: client credentials required, codes are
// single use, the redirect_uri (when sent) must match the authorize one.
func (s *Server) exchangeOAuth(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, v map[string]any) {
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(v)
			return
		}
		form := url.Values{}
		for k, x := range v {
			if str, ok := x.(string); ok {
				form.Set(k, str)
			}
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(form.Encode()))
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		reply(http.StatusBadRequest, map[string]any{"error": "bad_request"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.oauth()
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if o.app.ClientID == "" || id != o.app.ClientID ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(o.app.ClientSecret)) != 1 {
		s.violate(r, "access_token: bad client credentials")
		reply(http.StatusOK, map[string]any{"error": "incorrect_client_credentials"})
		return
	}
	code, ok := o.codes[r.PostForm.Get("code")]
	delete(o.codes, r.PostForm.Get("code"))
	if !ok || !s.now().Before(code.expires) {
		reply(http.StatusOK, map[string]any{"error": "bad_verification_code"})
		return
	}
	if ru := r.PostForm.Get("redirect_uri"); ru != "" && ru != code.redirectURI {
		reply(http.StatusOK, map[string]any{"error": "redirect_uri_mismatch"})
		return
	}
	token := "ghu_" + rand.Text()
	o.userTokens[token] = userToken{login: code.login, expires: s.now().Add(8 * time.Hour)}
	o.exchanges++
	reply(http.StatusOK, map[string]any{"access_token": token, "token_type": "bearer", "scope": "", "expires_in": 28800})
}

// userFor returns the login of a live user token; caller holds mu.
func (s *Server) userFor(cred string) (string, bool) {
	if s.st.oauth == nil || !strings.HasPrefix(cred, "ghu_") {
		return "", false
	}
	t, ok := s.st.oauth.userTokens[cred]
	if !ok || !s.now().Before(t.expires) {
		return "", false
	}
	return t.login, true
}

// serveUser answers GET /api/v3/user for a user token.
func (s *Server) serveUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.Method != http.MethodGet {
		s.violate(r, "only GET /user is expected")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(notFound().body)
		return
	}
	login, ok := s.userFor(bearer(r))
	if !ok {
		s.violate(r, "GET /user without a live user token")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(badCredentials().body)
		return
	}
	body := s.userJSON(login)
	// The public-user shape, as GET /user answers for a token without the
	// user scope.
	created := ts(s.now().Add(-365 * 24 * time.Hour))
	for k, v := range map[string]any{
		"user_view_type": "public", "name": nil, "company": nil, "blog": "", "location": nil, "email": nil,
		"hireable": nil, "bio": nil, "public_repos": 1, "public_gists": 0, "followers": 0, "following": 0,
		"created_at": created, "updated_at": created,
	} {
		body[k] = v
	}
	payload, _ := json.Marshal(body)
	if err := s.validateAs(r, http.MethodGet, apiPrefix+"/users/"+url.PathEscape(login), payload); err != nil {
		s.violate(r, "response does not match the description: "+err.Error())
	}
	_, _ = w.Write(payload)
}

// authorizeUser checks a user token on a REST operation: only reading a
// repository is expected, and only repositories the user can see (public,
// owned, or with a role) are found; others are 404 as on GitHub. Caller
// holds mu.
func (s *Server) authorizeUser(c *call, login string, out *outcome) *rejection {
	out.identity = "user:" + strings.ToLower(login)
	if out.op != "GET /repos/{owner}/{repo}" {
		return reject(notAccessible(), "user token on "+out.op+" (agentgate uses user tokens only to read repositories)")
	}
	rs, ok := s.st.repos[repoKey(c.params["owner"], c.params["repo"])]
	if !ok {
		return &rejection{reply: notFound()}
	}
	role := userRole(rs, login)
	if role == "none" {
		return &rejection{reply: notFound()}
	}
	c.repo = rs
	c.user = login
	c.userRole = role
	return nil
}

// userRole is login's role on rs: set, owner (admin), public (read), or none.
func userRole(rs *repoState, login string) string {
	role, set := rs.perms[strings.ToLower(login)]
	switch {
	case set:
		return role
	case strings.EqualFold(login, rs.repo.Owner):
		return "admin"
	case rs.repo.Private:
		return "none"
	}
	return "read"
}

// userPermissions is the repository's "permissions" object for a role.
func userPermissions(role string) map[string]any {
	rank := map[string]int{"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}[role]
	return map[string]any{
		"pull": rank >= 1, "triage": rank >= 2, "push": rank >= 3, "maintain": rank >= 4, "admin": rank >= 5,
	}
}

// validateAs checks payload as the 200 answer of the described operation
// method path (path under /api/v3); caller holds mu.
func (s *Server) validateAs(r *http.Request, method, path string, payload []byte) error {
	rr, err := http.NewRequestWithContext(r.Context(), method, s.URL()+path, nil)
	if err != nil {
		return err
	}
	rr.URL.Path = strings.TrimPrefix(rr.URL.Path, apiPrefix)
	route, params, err := s.spec.findRoute(rr)
	if err != nil {
		return err
	}
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: rr, PathParams: params, Route: route},
		Status:                 http.StatusOK,
		Header:                 h,
		Body:                   io.NopCloser(bytes.NewReader(payload)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(r.Context(), in); err != nil {
		return errors.New(oneLine(err))
	}
	return nil
}

// SetPrivate makes a repository private (only its owner and people with a
// role can see it) or public.
func (s *Server) SetPrivate(owner, repo string, private bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rs, ok := s.st.repos[repoKey(owner, repo)]; ok {
		rs.repo.Private = private
	}
}
