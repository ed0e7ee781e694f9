package testgh

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// tokenLifetime is how long an installation token lives on GitHub.
const tokenLifetime = time.Hour

// createToken implements POST /app/installations/{installation_id}/access_tokens.
func (c *call) createToken() reply {
	st := &c.s.st
	inst, found := st.installations[c.intParam("installation_id")]
	if !found {
		return notFound()
	}
	var req struct {
		Repositories  []string          `json:"repositories"`
		RepositoryIDs []int64           `json:"repository_ids"`
		Permissions   map[string]string `json:"permissions"`
	}
	if r := c.decode(&req); r != nil {
		return *r
	}
	if len(req.Repositories)+len(req.RepositoryIDs) > 500 {
		return validationFailed("Installation", "repositories", "invalid", "at most 500 repositories")
	}
	var scoped []*repoState
	for _, name := range req.Repositories {
		rs, found := st.repos[repoKey(inst.account, name)]
		if !found {
			return ghError(http.StatusUnprocessableEntity, "There is at least one repository that does not exist or is not accessible to the parent installation.")
		}
		scoped = append(scoped, rs)
	}
	for _, id := range req.RepositoryIDs {
		var hit *repoState
		for _, rs := range st.repos {
			if rs.repo.ID == id && strings.EqualFold(rs.repo.Owner, inst.account) {
				hit = rs
			}
		}
		if hit == nil {
			return ghError(http.StatusUnprocessableEntity, "There is at least one repository that does not exist or is not accessible to the parent installation.")
		}
		scoped = append(scoped, hit)
	}
	perms := maps.Clone(inst.permissions)
	if req.Permissions != nil {
		for name, level := range req.Permissions {
			if !grants(inst.permissions, name, level) {
				return ghError(http.StatusUnprocessableEntity, "The permissions requested are not granted to this installation.")
			}
		}
		perms = maps.Clone(req.Permissions)
		if _, set := perms["metadata"]; !set {
			perms["metadata"] = "read"
		}
	}
	t := &Token{
		Value:                  newTokenValue(),
		InstallationID:         inst.id,
		RequestedRepositories:  slices.Clone(req.Repositories),
		RequestedRepositoryIDs: slices.Clone(req.RepositoryIDs),
		RequestedPermissions:   maps.Clone(req.Permissions),
		Permissions:            perms,
		ExpiresAt:              c.s.now().Add(tokenLifetime),
	}
	repos := []any{}
	for _, rs := range scoped {
		if !slices.Contains(t.Repositories, rs.repo.Name) {
			t.Repositories = append(t.Repositories, rs.repo.Name)
			repos = append(repos, c.s.repoJSON(rs, false))
		}
	}
	st.tokens[t.Value] = t
	body := map[string]any{
		"token":                t.Value,
		"expires_at":           ts(t.ExpiresAt),
		"permissions":          perms,
		"repository_selection": "all",
	}
	if len(scoped) > 0 {
		body["repository_selection"] = "selected"
		body["repositories"] = repos
	}
	return created(body)
}
