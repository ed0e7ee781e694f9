package testgh

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// state is everything the server remembers; guarded by Server.mu.
type state struct {
	nextID        int64
	apps          *appsState // manifest flow and app webhook deliveries (appmanifest.go)
	installations map[int64]*installation
	repos         map[string]*repoState // key: lower-case "owner/name"
	users         map[string]int64      // login -> id
	tokens        map[string]*Token
	requests      []RequestRecord
	violations    []string
	failures      []failRule
	rate          map[string]int        // identity -> requests used this window
	oauth         *oauthState           // the user authorization flow (oauth.go)
	teams         map[string]membership // team memberships (h_teams.go)
}

type installation struct {
	id          int64
	account     string
	permissions map[string]string
}

type repoState struct {
	repo       Repo
	created    time.Time
	perms      map[string]string // login (lower) -> role
	issues     map[int]*issue
	nextNumber int
	comments   []*Comment
	reactions  []*Reaction
	pulls      map[int]*PullRequest
	checks     []*CheckRun
	files      map[string][]byte
	branches   map[string]string
	ext        repoExt // reviewers, labels, commits made through the Git Data API
}

type issue struct {
	number    int
	id        int64
	title     string
	body      string
	user      string
	state     string
	isPR      bool
	createdAt time.Time
	updatedAt time.Time
}

func newState() state {
	return state{
		nextID:        1000,
		installations: map[int64]*installation{},
		repos:         map[string]*repoState{},
		users:         map[string]int64{},
		tokens:        map[string]*Token{},
		rate:          map[string]int{},
	}
}

func repoKey(owner, repo string) string { return strings.ToLower(owner + "/" + repo) }

func (st *state) id() int64 { st.nextID++; return st.nextID }

// userID returns a stable id for login.
func (st *state) userID(login string) int64 {
	k := strings.ToLower(login)
	if id, ok := st.users[k]; ok {
		return id
	}
	id := st.id()
	st.users[k] = id
	return id
}

// AddInstallation registers an app installation on account (a user or
// organization login) with DefaultInstallationPermissions.
func (s *Server) AddInstallation(id int64, account string) {
	s.SetInstallationPermissions(id, account, DefaultInstallationPermissions)
}

// SetInstallationPermissions registers or updates an installation with the
// given permissions (e.g. {"issues": "read"} to test a narrow install).
func (s *Server) SetInstallationPermissions(id int64, account string, perms map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.installations[id] = &installation{id: id, account: account, permissions: maps.Clone(perms)}
}

// AddRepo adds (or replaces) a repository and returns a copy with defaults
// filled in (ID, DefaultBranch "main", CloneURL).
func (s *Server) AddRepo(r Repo) *Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ID == 0 {
		r.ID = s.st.id()
	}
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	if r.CloneURL == "" {
		r.CloneURL = s.URL() + "/" + r.FullName() + ".git"
	}
	s.st.repos[repoKey(r.Owner, r.Name)] = &repoState{
		repo:       r,
		created:    s.now(),
		perms:      map[string]string{},
		issues:     map[int]*issue{},
		nextNumber: 1,
		pulls:      map[int]*PullRequest{},
		files:      map[string][]byte{},
		branches:   map[string]string{},
	}
	out := r
	return &out
}

// SetPermission sets login's role on a repository: "admin", "maintain",
// "write", "triage", "read" or "none".
func (s *Server) SetPermission(owner, repo, login, perm string) {
	s.withRepo(owner, repo, func(rs *repoState) { rs.perms[strings.ToLower(login)] = perm })
}

// AddIssue adds an open issue written by user.
func (s *Server) AddIssue(owner, repo string, number int, title, body, user string) {
	s.withRepo(owner, repo, func(rs *repoState) {
		now := s.now()
		rs.issues[number] = &issue{number: number, id: s.st.id(), title: title, body: body, user: user, state: "open", createdAt: now, updatedAt: now}
		if number >= rs.nextNumber {
			rs.nextNumber = number + 1
		}
	})
}

// AddComment adds a comment by a human user (as if written on GitHub) and
// returns its id.
func (s *Server) AddComment(owner, repo string, issueNumber int, body, user string) int64 {
	var id int64
	s.withRepo(owner, repo, func(rs *repoState) {
		now := s.now()
		id = s.st.id()
		rs.comments = append(rs.comments, &Comment{ID: id, Issue: issueNumber, Body: body, User: user, UserType: "User", CreatedAt: now, UpdatedAt: now})
	})
	return id
}

// AddFile makes GET /repos/{owner}/{repo}/contents/{path} return content
// (for every ref).
func (s *Server) AddFile(owner, repo, path string, content []byte) {
	s.withRepo(owner, repo, func(rs *repoState) { rs.files[strings.Trim(path, "/")] = slices.Clone(content) })
}

// SetBranch records a branch head, used for pull request heads and bases
// and for check runs listed by branch name.
func (s *Server) SetBranch(owner, repo, branch, sha string) {
	s.withRepo(owner, repo, func(rs *repoState) { rs.branches[branch] = sha })
}

// withRepo runs f on a repository under the lock; unknown repositories
// panic, as they are a mistake in the test's own setup.
func (s *Server) withRepo(owner, repo string, f func(*repoState)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, ok := s.st.repos[repoKey(owner, repo)]
	if !ok {
		panic("testgh: unknown repository " + owner + "/" + repo + " (call AddRepo first)")
	}
	f(rs)
}

// resolveBranch returns a branch's sha from SetBranch or Options.ResolveRef.
func (s *Server) resolveBranch(rs *repoState, branch string) (string, bool) {
	if sha, ok := rs.branches[branch]; ok {
		return sha, true
	}
	if s.opts.ResolveRef != nil {
		return s.opts.ResolveRef(rs.repo.Owner, rs.repo.Name, branch)
	}
	return "", false
}
