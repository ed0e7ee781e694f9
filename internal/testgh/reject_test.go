package testgh

import (
	"net/http"
	"testing"
	"time"
)

func TestRejectedRequestsAreViolations(t *testing.T) {
	f := newFixture(t)
	scoped := f.mint(t, map[string]any{"repositories": []string{"app"}})
	readOnly := f.mint(t, map[string]any{"permissions": map[string]string{"issues": "read"}})
	api := f.s.APIURL()
	tests := []struct {
		name       string
		method     string
		url        string
		auth       string
		body       any
		wantStatus int
		wantIn     string // a fragment of the recorded violation
	}{
		{"check run without status", "POST", api + "repos/octo/app/check-runs", "token " + scoped,
			map[string]any{"name": "agentgate", "head_sha": headSHA}, 422, "does not match the description"},
		{"completed check run without conclusion", "POST", api + "repos/octo/app/check-runs", "token " + scoped,
			map[string]any{"name": "agentgate", "head_sha": headSHA, "status": "completed"}, 422, "does not match the description"},
		{"pull request without head", "POST", api + "repos/octo/app/pulls", "token " + scoped,
			map[string]any{"title": "x", "base": "main"}, 422, "does not match the description"},
		{"bad reaction", "POST", api + "repos/octo/app/issues/1/reactions", "token " + scoped,
			map[string]any{"content": "thumbsup"}, 422, "does not match the description"},
		{"comment body not JSON", "POST", api + "repos/octo/app/issues/1/comments", "token " + scoped,
			[]byte("{body"), 400, "not JSON"},
		{"delete repository", "DELETE", api + "repos/octo/app", "token " + scoped, nil, 403, "not implemented"},
		{"approve pull request", "POST", api + "repos/octo/app/pulls/1/reviews", "token " + scoped,
			map[string]any{"event": "APPROVE"}, 403, "not implemented"},
		{"merge pull request", "PUT", api + "repos/octo/app/pulls/1/merge", "token " + scoped, map[string]any{}, 404, "no operation"},
		{"outside /api/v3", "GET", f.s.URL() + "/repos/octo/app", "token " + scoped, nil, 404, "outside /api/v3"},
		{"no token", "GET", api + "repos/octo/app", "", nil, 401, "no installation token"},
		{"unknown token", "GET", api + "repos/octo/app", "token ghs_forged", nil, 401, "unknown or expired"},
		{"token for app used on other (read)", "GET", api + "repos/octo/other", "token " + scoped, nil, 404, "does not cover octo/other"},
		{"token for app used on other (write)", "POST", api + "repos/octo/other/check-runs", "token " + scoped,
			map[string]any{"name": "a", "head_sha": headSHA, "status": "queued"}, 403, "does not cover octo/other"},
		{"issues:read cannot comment", "POST", api + "repos/octo/app/issues/1/comments", "token " + readOnly,
			map[string]any{"body": "hi"}, 403, "lacks issues:write"},
		{"issues:read cannot open pulls", "POST", api + "repos/octo/app/pulls", "token " + readOnly,
			map[string]any{"title": "x", "head": "agentgate/1-fix", "base": "main"}, 403, "lacks pull_requests:write"},
		{"installation token on app endpoint", "POST", api + "app/installations/7/access_tokens", "token " + scoped, nil, 401, "installation token used on an app endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.s.Violations())
			status, body := do(t, tt.method, tt.url, tt.auth, tt.body)
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d (%s)", status, tt.wantStatus, body)
			}
			vs := f.s.Violations()
			if len(vs) != before+1 || !hasViolation(vs[before:], tt.wantIn) {
				t.Errorf("violations after = %q, want one more containing %q", vs[before:], tt.wantIn)
			}
		})
	}
	if n := len(f.s.CheckRuns("octo", "other")) + len(f.s.PullRequests("octo", "app")) + len(f.s.Comments("octo", "app", 1)); n != 0 {
		t.Errorf("rejected requests changed state (%d objects)", n)
	}
}

func TestExpiredToken(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t, nil)
	if status, _ := do(t, "GET", f.s.APIURL()+"repos/octo/app", "token "+tok, nil); status != http.StatusOK {
		t.Fatalf("fresh token: %d", status)
	}
	f.clock.Add(61 * time.Minute)
	if status, _ := do(t, "GET", f.s.APIURL()+"repos/octo/app", "Bearer "+tok, nil); status != http.StatusUnauthorized {
		t.Errorf("expired token: status %d, want 401", status)
	}
	if !hasViolation(f.s.Violations(), "expired") {
		t.Errorf("violations = %q", f.s.Violations())
	}
}

func TestAppJWT(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	good := map[string]any{"iss": "42", "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix()}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name   string
		key    int
		claims map[string]any
		raw    string
		want   int
	}{
		{"valid", 0, good, "", 201},
		{"numeric iss", 0, with("iss", 42), "", 201},
		{"wrong key", 1, good, "", 401},
		{"wrong app", 0, with("iss", "43"), "", 401},
		{"expired", 0, with("exp", now.Add(-time.Minute).Unix()), "", 401},
		{"exp too far ahead", 0, with("exp", now.Add(time.Hour).Unix()), "", 401},
		{"issued in the future", 0, with("iat", now.Add(5*time.Minute).Unix()), "", 401},
		{"not a JWT", 0, nil, "abc", 401},
		{"alg none", 0, nil, "eyJhbGciOiJub25lIn0.eyJpc3MiOiI0MiJ9.", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jwt := tt.raw
			if jwt == "" {
				jwt = signJWT(t, keys()[tt.key], tt.claims)
			}
			before := len(f.s.Violations())
			status, body := do(t, "POST", f.s.APIURL()+"app/installations/7/access_tokens", "Bearer "+jwt, nil)
			if status != tt.want {
				t.Errorf("status = %d, want %d (%s)", status, tt.want, body)
			}
			if got := len(f.s.Violations()) - before; (tt.want == 201) != (got == 0) {
				t.Errorf("violations added = %d", got)
			}
		})
	}
	if status, _ := do(t, "POST", f.s.APIURL()+"app/installations/99/access_tokens", "Bearer "+f.appJWT(t), nil); status != http.StatusNotFound {
		t.Errorf("unknown installation: %d, want 404", status)
	}
}

func TestTokenRequestLimits(t *testing.T) {
	f := newFixture(t)
	f.s.SetInstallationPermissions(8, "narrow", map[string]string{"issues": "read"})
	f.s.AddRepo(Repo{Owner: "narrow", Name: "x"})
	tests := []struct {
		name string
		inst string
		body map[string]any
		want int
	}{
		{"repo of another account", "7", map[string]any{"repositories": []string{"x"}}, 422},
		{"unknown repo id", "7", map[string]any{"repository_ids": []int64{999999}}, 422},
		{"permission not granted", "8", map[string]any{"permissions": map[string]string{"issues": "write"}}, 422},
		{"permission granted", "8", map[string]any{"permissions": map[string]string{"issues": "read"}}, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(t, "POST", f.s.APIURL()+"app/installations/"+tt.inst+"/access_tokens", "Bearer "+f.appJWT(t), tt.body)
			if status != tt.want {
				t.Errorf("status = %d, want %d (%s)", status, tt.want, body)
			}
		})
	}
}
