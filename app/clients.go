package app

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	jwt "github.com/golang-jwt/jwt/v4"
	ghv62 "github.com/google/go-github/v62/github"
	ghtok "github.com/google/go-github/v88/github"

	"github.com/agentgate/agentgate/internal/ghretry"
)

// Clients makes GitHub clients for the app and its installations.
// Installation tokens are minted by ghinstallation when first needed and
// refreshed before they expire, so a run can outlive a token's hour.
type Clients struct {
	// OnToken, when set, learns every token handed out for git and when
	// it expires, so the audit trail can redact it for as long as it is
	// worth something.
	OnToken func(token string, expires time.Time)

	apps   *ghinstallation.AppsTransport
	apiURL string // with trailing slash
	base   http.RoundTripper
}

// NewClients returns Clients for the app's id and PEM key against apiURL.
// base carries every request; unless it is a *ghretry.Transport already, it
// is wrapped in one (rate limits, retries of transient failures, a timeout
// per attempt: internal/ghretry). nil means http.DefaultTransport.
func NewClients(appID int64, key []byte, apiURL string, base http.RoundTripper) (*Clients, error) {
	k, err := parseKey(key)
	if err != nil {
		return nil, err
	}
	if _, ok := base.(*ghretry.Transport); !ok {
		base = ghretry.New(base)
	}
	apps, err := ghinstallation.NewAppsTransportWithOptions(base, appID,
		ghinstallation.WithSigner(skewTolerantSigner{inner: ghinstallation.NewRSASigner(jwt.SigningMethodRS256, k)}))
	if err != nil {
		return nil, fmt.Errorf("app transport: %w", err)
	}
	apiURL = strings.TrimRight(apiURL, "/") + "/"
	apps.BaseURL = strings.TrimRight(apiURL, "/")
	return &Clients{apps: apps, apiURL: apiURL, base: base}, nil
}

// parseKey reads a PEM RSA private key (PKCS#1 or PKCS#8).
func parseKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("not a PEM private key")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("private key is not RSA")
	}
	return rk, nil
}

// clientTimeout bounds one API call, its retries and rate-limit waits
// included (ghretry bounds each attempt to a minute and a wait to 15).
const clientTimeout = 30 * time.Minute

// Scope is what an installation token may do. Tokens are limited to one
// repository and to the permissions of the step that needs them.
type Scope struct {
	RepoID    int64
	RepoNames []string // instead of RepoID: repositories by name (the org's .github)
	Issues    string   // "read" / "write" / ""
	Pulls     string
	Checks    string
	Contents  string
	Members   string // organization members (team memberships)
}

// apiScope is what the review side of a run needs: comments, reactions,
// the pull request and the check run.
func apiScope(repoID int64) Scope {
	return Scope{RepoID: repoID, Issues: "write", Pulls: "write", Checks: "write"}
}

// configScope reads the repository's agentgate configuration.
func configScope(repoID int64) Scope { return Scope{RepoID: repoID, Contents: "read"} }

// cloneScope reads code; pushScope writes the agent's branch.
func cloneScope(repoID int64) Scope { return Scope{RepoID: repoID, Contents: "read"} }
func pushScope(repoID int64) Scope  { return Scope{RepoID: repoID, Contents: "write"} }

func (s Scope) options() *ghtok.InstallationTokenOptions {
	p := &ghtok.InstallationPermissions{Metadata: ghtok.Ptr("read")}
	set := func(dst **string, v string) {
		if v != "" {
			*dst = ghtok.Ptr(v)
		}
	}
	set(&p.Issues, s.Issues)
	set(&p.PullRequests, s.Pulls)
	set(&p.Checks, s.Checks)
	set(&p.Contents, s.Contents)
	set(&p.Members, s.Members)
	if len(s.RepoNames) > 0 {
		return &ghtok.InstallationTokenOptions{Repositories: s.RepoNames, Permissions: p}
	}
	return &ghtok.InstallationTokenOptions{RepositoryIDs: []int64{s.RepoID}, Permissions: p}
}

// transport is an installation transport limited to scope.
func (c *Clients) transport(installationID int64, scope Scope) *ghinstallation.Transport {
	tr := ghinstallation.NewFromAppsTransport(c.apps, installationID)
	tr.InstallationTokenOptions = scope.options()
	return tr
}

// Installation returns a REST client for one installation, limited to scope.
func (c *Clients) Installation(installationID int64, scope Scope) (*ghv62.Client, error) {
	u, err := url.Parse(c.apiURL)
	if err != nil {
		return nil, fmt.Errorf("github api url: %w", err)
	}
	cl := ghv62.NewClient(&http.Client{Transport: c.transport(installationID, scope), Timeout: clientTimeout})
	cl.BaseURL = u // exactly as configured (GHES: https://HOST/api/v3/)
	cl.UploadURL = u
	return cl, nil
}

// Token mints (or reuses) an installation token limited to scope, for git
// over HTTPS. It is never logged.
func (c *Clients) Token(ctx context.Context, installationID int64, scope Scope) (string, error) {
	tr := c.transport(installationID, scope)
	tok, err := tr.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("installation token: %w", err)
	}
	if c.OnToken != nil {
		// GitHub's tokens live an hour; a transport that cannot say
		// keeps the token redacted for that long.
		expires, _, err := tr.Expiry()
		if err != nil || expires.IsZero() {
			expires = time.Now().Add(time.Hour)
		}
		c.OnToken(tok, expires)
	}
	return tok, nil
}
