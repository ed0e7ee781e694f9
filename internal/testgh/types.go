package testgh

import "time"

// Repo is a repository known to the stand-in.
type Repo struct {
	// ID is the repository id; AddRepo assigns one when zero.
	ID int64
	// Owner is the account login (user or organization) owning the repository.
	Owner string
	// Name is the repository name without the owner.
	Name string
	// DefaultBranch defaults to "main".
	DefaultBranch string
	// CloneURL is returned as clone_url (e.g. the test git server's URL).
	CloneURL string
	// Private marks the repository private.
	Private bool
}

// FullName returns "owner/name".
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// Comment is an issue or pull request comment.
type Comment struct {
	ID    int64
	Issue int
	Body  string
	// User is the author's login; for installation-token calls it is the
	// app's bot login, e.g. "agentgate[bot]".
	User string
	// UserType is "Bot" for the app, "User" otherwise.
	UserType string
	// Edits counts successful PATCHes of the comment.
	Edits     int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Reaction is an emoji reaction on an issue (or pull request) or a comment.
type Reaction struct {
	ID int64
	// Subject is "issue" or "comment".
	Subject string
	// SubjectID is the issue number or the comment id.
	SubjectID int64
	// Content is one of +1, -1, laugh, confused, heart, hooray, rocket, eyes.
	Content   string
	User      string
	CreatedAt time.Time
}

// PullRequest is a pull request opened through the API.
type PullRequest struct {
	ID     int64
	Number int
	Title  string
	Body   string
	// Head is the head branch name; HeadSHA its commit when known.
	Head    string
	HeadSHA string
	// Base is the base branch name; BaseSHA its commit when known.
	Base                string
	BaseSHA             string
	Draft               bool
	State               string // "open" or "closed"
	MaintainerCanModify bool
	User                string
	// Issue is the number given in the create request's "issue" field, if any.
	Issue     int
	CreatedAt time.Time
	UpdatedAt time.Time
	// MergeCommitSHA and MergedBy are set by MergePullRequest.
	MergeCommitSHA string
	MergedBy       string
}

// CheckRun is a check run created through the API.
type CheckRun struct {
	ID          int64
	Name        string
	HeadSHA     string
	Status      string
	Conclusion  string
	ExternalID  string
	DetailsURL  string
	Title       string
	Summary     string
	Text        string
	StartedAt   time.Time
	CompletedAt time.Time
	// Updates counts successful PATCHes.
	Updates int
}

// Token is an installation access token minted by the stand-in.
type Token struct {
	Value          string
	InstallationID int64
	// Repositories holds the repository names the token is limited to
	// (requested by name or id); empty means every repository of the installation.
	Repositories []string
	// RequestedRepositories and RequestedRepositoryIDs are the request's own lists.
	RequestedRepositories  []string
	RequestedRepositoryIDs []int64
	// RequestedPermissions is the request's permissions object (nil when absent).
	RequestedPermissions map[string]string
	// Permissions is what the token grants.
	Permissions map[string]string
	ExpiresAt   time.Time
}

// RequestRecord is one request as seen by the stand-in: no body, no token.
type RequestRecord struct {
	Method string
	// Path is the URL path as received (including /api/v3).
	Path string
	// Operation is "METHOD /template" from the description, empty when none matched.
	Operation string
	Status    int
}

// DefaultInstallationPermissions are the permissions AddInstallation grants:
// those agentgate's app manifest asks for.
var DefaultInstallationPermissions = map[string]string{
	"metadata":      "read",
	"contents":      "write",
	"issues":        "write",
	"pull_requests": "write",
	"checks":        "write",
	"members":       "read",
}
