package testgh

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
)

const (
	testAppID   = 42
	testInstall = 7
	headSHA     = "1111111111111111111111111111111111111111"
	baseSHA     = "2222222222222222222222222222222222222222"
)

// keys are generated once per test binary.
var keys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var k [2]*rsa.PrivateKey
	for i := range k {
		var err error
		if k[i], err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	}
	return k
})

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// fixture is a server with installation 7 on "octo", repositories
// octo/app (issue 1, branch agentgate/1-fix) and octo/other.
type fixture struct {
	s     *Server
	clock *clock
	key   *rsa.PrivateKey
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := &clock{t: time.Now().UTC()}
	key := keys()[0]
	s, err := New(Options{AppID: testAppID, AppPublicKey: &key.PublicKey, ValidateResponses: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.AddInstallation(testInstall, "octo")
	s.AddRepo(Repo{Owner: "octo", Name: "app"})
	s.AddRepo(Repo{Owner: "octo", Name: "other", Private: true})
	s.AddIssue("octo", "app", 1, "Flaky test", "It fails on Tuesdays.", "alice")
	s.SetBranch("octo", "app", "main", baseSHA)
	s.SetBranch("octo", "app", "agentgate/1-fix", headSHA)
	return &fixture{s: s, clock: clk, key: key}
}

// jwt signs an app JWT with claims.
func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// appJWT is a valid JWT for the fixture's app.
func (f *fixture) appJWT(t *testing.T) string {
	now := f.clock.Now()
	return signJWT(t, f.key, map[string]any{"iss": "42", "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix()})
}

// do sends a raw request and returns status and body.
func do(t *testing.T, method, url, auth string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				t.Fatal(err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// mint asks for an installation token with the given request body.
func (f *fixture) mint(t *testing.T, req map[string]any) string {
	t.Helper()
	var payload any
	if req != nil {
		payload = req
	}
	status, body := do(t, "POST", f.s.APIURL()+"app/installations/7/access_tokens", "Bearer "+f.appJWT(t), payload)
	if status != http.StatusCreated {
		t.Fatalf("mint: %d %s", status, body)
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Token
}

// client is a go-github client with token, aimed at the stand-in.
func (f *fixture) client(t *testing.T, token string) *github.Client {
	t.Helper()
	c, err := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(f.s.APIURL(), f.s.URL()+"/api/uploads/")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// noViolations fails the test when the server recorded any violation.
func (f *fixture) noViolations(t *testing.T) {
	t.Helper()
	if v := f.s.Violations(); len(v) != 0 {
		t.Fatalf("violations: %q", v)
	}
}
