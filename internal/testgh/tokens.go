package testgh

import (
	"crypto/rand"
	"net/http"
	"slices"
	"strings"
)

// permRank orders access levels.
var permRank = map[string]int{"": 0, "none": 0, "read": 1, "write": 2, "admin": 3}

// grants reports whether perms give at least level on name; every token
// can read metadata.
func grants(perms map[string]string, name, level string) bool {
	have := perms[name]
	if name == "metadata" && have == "" {
		have = "read"
	}
	return permRank[have] >= permRank[level]
}

// newTokenValue returns a fresh "ghs_" token.
func newTokenValue() string {
	return "ghs_" + rand.Text()
}

// bearer extracts the credential from "token X" or "Bearer X".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok {
		return ""
	}
	switch strings.ToLower(scheme) {
	case "token", "bearer":
		return strings.TrimSpace(cred)
	}
	return ""
}

// liveToken returns the minted, unexpired token with this value; caller holds mu.
func (s *Server) liveToken(value string) (*Token, bool) {
	t, ok := s.st.tokens[value]
	if !ok || !s.now().Before(t.ExpiresAt) {
		return nil, false
	}
	return t, true
}

// tokenCovers reports whether t may act on rs at all: the repository
// belongs to the token's installation and is in its repository list, if
// any. Caller holds mu.
func (s *Server) tokenCovers(t *Token, rs *repoState) bool {
	inst, ok := s.st.installations[t.InstallationID]
	if !ok || !strings.EqualFold(inst.account, rs.repo.Owner) {
		return false
	}
	if len(t.Repositories) == 0 {
		return true
	}
	return slices.ContainsFunc(t.Repositories, func(n string) bool { return strings.EqualFold(n, rs.repo.Name) })
}

// TokenAllows is the git server's authorizer: token was minted here, is
// unexpired, covers owner/repo, and has contents:read (contents:write when
// write is set).
func (s *Server) TokenAllows(token, owner, repo string, write bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.liveToken(token)
	if !ok {
		return false
	}
	rs, ok := s.st.repos[repoKey(owner, repo)]
	if !ok || !s.tokenCovers(t, rs) {
		return false
	}
	level := "read"
	if write {
		level = "write"
	}
	return grants(t.Permissions, "contents", level)
}
