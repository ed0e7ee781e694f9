package runpage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	ghv62 "github.com/google/go-github/v62/github"
	"golang.org/x/oauth2"
)

// github is the part of GitHub the pages talk to: the app's user
// authorization (web application flow), who the user is, and whether they
// can read a repository, each asked with the user's own token.
type github struct {
	api, web               string
	client                 *http.Client
	clientID, clientSecret string
	redirect               string
}

// oauth is the flow's configuration.
func (g *github) oauth() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     g.clientID,
		ClientSecret: g.clientSecret,
		RedirectURL:  g.redirect,
		Endpoint: oauth2.Endpoint{
			AuthURL:   g.web + "/login/oauth/authorize",
			TokenURL:  g.web + "/login/oauth/access_token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// authorizeURL is GitHub's authorize page for state.
func (g *github) authorizeURL(state string) string {
	return g.oauth().AuthCodeURL(state)
}

// exchange trades the callback's code for a user access token.
func (g *github) exchange(ctx context.Context, code string) (string, error) {
	if code == "" {
		return "", errors.New("no code")
	}
	tok, err := g.oauth().Exchange(context.WithValue(ctx, oauth2.HTTPClient, g.client), code)
	if err != nil {
		return "", fmt.Errorf("exchange code: %w", err)
	}
	return tok.AccessToken, nil
}

// rest is a REST client acting as the user.
func (g *github) rest(token string) (*ghv62.Client, error) {
	u, err := url.Parse(g.api)
	if err != nil {
		return nil, fmt.Errorf("github api url: %w", err)
	}
	c := ghv62.NewClient(g.client).WithAuthToken(token)
	c.BaseURL, c.UploadURL = u, u
	return c, nil
}

// user is the login of the token's user (GET /user).
func (g *github) user(ctx context.Context, token string) (string, error) {
	c, err := g.rest(token)
	if err != nil {
		return "", err
	}
	u, _, err := c.Users.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("get user: %w", err)
	}
	if u.GetLogin() == "" {
		return "", errors.New("get user: no login")
	}
	return u.GetLogin(), nil
}

// canRead asks GitHub whether the token's user can read repo: GET
// /repos/{owner}/{repo} as the user; not found (or forbidden) is no, and
// so is an answer without pull permission. It returns the id of the
// repository that has that name now, which need not be the one a run was
// recorded in (renamed, transferred, or deleted and created again).
func (g *github) canRead(ctx context.Context, token, repo string) (int64, bool, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" {
		return 0, false, nil
	}
	c, err := g.rest(token)
	if err != nil {
		return 0, false, err
	}
	r, resp, err := c.Repositories.Get(ctx, owner, name)
	if resp != nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("get repository %s: %w", repo, err)
	}
	return r.GetID(), r.GetPermissions()["pull"], nil
}
