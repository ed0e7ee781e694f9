package testgh

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestOAuthFlow(t *testing.T) {
	f := newFixture(t)
	s := f.s
	s.SetOAuthApp(OAuthApp{ClientID: "Iv1.c", ClientSecret: "sec"})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func(q url.Values) *http.Response {
		t.Helper()
		resp, err := noFollow.Get(s.URL() + "/login/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	good := url.Values{"client_id": {"Iv1.c"}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "state": {"st8"}}
	if r := authorize(good); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("nobody signed in: %d", r.StatusCode)
	}
	s.SignIn("alice")
	r := authorize(good)
	back, _ := url.Parse(r.Header.Get("Location"))
	code := back.Query().Get("code")
	if r.StatusCode != http.StatusFound || back.Host != "127.0.0.1:1" || back.Query().Get("state") != "st8" || code == "" {
		t.Fatalf("authorize: %d %s", r.StatusCode, back)
	}
	exchange := func(form url.Values) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/login/oauth/access_token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	if m := exchange(url.Values{"client_id": {"Iv1.c"}, "client_secret": {"wrong"}, "code": {code}}); m["error"] != "incorrect_client_credentials" {
		t.Fatalf("bad secret: %v", m)
	}
	if m := exchange(url.Values{"client_id": {"Iv1.c"}, "client_secret": {"sec"}, "code": {code}, "redirect_uri": {"http://evil/cb"}}); m["error"] != "bad_verification_code" && m["error"] != "redirect_uri_mismatch" {
		t.Fatalf("redirect mismatch: %v", m)
	}
	// The code was spent by the attempts above only if they reached it:
	// a fresh code exchanges once.
	code = func() string { b, _ := url.Parse(authorize(good).Header.Get("Location")); return b.Query().Get("code") }()
	m := exchange(url.Values{"client_id": {"Iv1.c"}, "client_secret": {"sec"}, "code": {code}, "redirect_uri": {"http://127.0.0.1:1/cb"}})
	tok, _ := m["access_token"].(string)
	if !strings.HasPrefix(tok, "ghu_") {
		t.Fatalf("exchange: %v", m)
	}
	if m := exchange(url.Values{"client_id": {"Iv1.c"}, "client_secret": {"sec"}, "code": {code}}); m["error"] != "bad_verification_code" {
		t.Fatalf("code reused: %v", m)
	}
	req, _ := http.NewRequest(http.MethodGet, s.APIURL()+"user", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var user map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&user)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || user["login"] != "alice" {
		t.Fatalf("GET /user: %d %v", resp.StatusCode, user)
	}
	// A user token reads only repositories; writing with it is refused.
	req, _ = http.NewRequest(http.MethodPost, s.APIURL()+"repos/octo/app/issues/1/comments", strings.NewReader(`{"body":"x"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("comment with a user token: %d", resp.StatusCode)
	}
	if v := s.Violations(); len(v) != 2 || !strings.Contains(strings.Join(v, "\n"), "bad client credentials") || !strings.Contains(strings.Join(v, "\n"), "user token on POST") {
		t.Fatalf("violations %q", v)
	}
}
