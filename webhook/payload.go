package webhook

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// The payload types below name only the fields agentgate reads. A route
// decodes a delivery into them and nothing else, so a field agentgate does
// not use (a timestamp in a format go-github's types refuse, as in
// GitHub's own check_run example, or a field GitHub adds later) can never
// turn a delivery into a 400. A field agentgate does use, of the wrong
// JSON type, is still a malformed payload.

// user is a payload's sender, or a comment's or review's author.
type user struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	Type  string `json:"type"`
}

// installation is the payload's installation.
type installation struct {
	ID      int64 `json:"id"`
	Account *user `json:"account"`
}

// id is the installation id, 0 for none.
func (i *installation) id() int64 {
	if i == nil {
		return 0
	}
	return i.ID
}

// repository is the payload's repository.
type repository struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Owner         user   `json:"owner"`
	CloneURL      string `json:"clone_url"`
	DefaultBranch string `json:"default_branch"`
}

// issue is an issue (or the issue side of a pull request).
type issue struct {
	ID        int64     `json:"id"`
	Number    int       `json:"number"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	HTMLURL   string    `json:"html_url"`
	User      *user     `json:"user"`
	UpdatedAt timestamp `json:"updated_at"`
	// PullRequest is set (to anything) when the issue is a pull request.
	PullRequest *json.RawMessage `json:"pull_request"`
}

// comment is an issue comment or an inline review comment.
type comment struct {
	ID                  int64     `json:"id"`
	Body                string    `json:"body"`
	HTMLURL             string    `json:"html_url"`
	User                *user     `json:"user"`
	CreatedAt           timestamp `json:"created_at"`
	UpdatedAt           timestamp `json:"updated_at"`
	AuthorAssociation   string    `json:"author_association"`
	PullRequestReviewID int64     `json:"pull_request_review_id"`
	Path                string    `json:"path"`
	Line                int       `json:"line"`
}

// label is the label an issues.labeled delivery adds.
type label struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// pullRequest is a pull request's fields agentgate reads.
type pullRequest struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
	Head   struct {
		Ref  string `json:"ref"`
		SHA  string `json:"sha"`
		Repo *struct {
			ID int64 `json:"id"`
		} `json:"repo"`
	} `json:"head"`
	Merged   bool  `json:"merged"`
	MergedBy *user `json:"merged_by"`
}

// review is a pull request review.
type review struct {
	ID                int64  `json:"id"`
	Body              string `json:"body"`
	State             string `json:"state"`
	User              *user  `json:"user"`
	AuthorAssociation string `json:"author_association"`
}

// checkRun is a check run's fields agentgate reads.
type checkRun struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	ExternalID string `json:"external_id"`
	HeadSHA    string `json:"head_sha"`
	// CompletedAt is kept as GitHub wrote it: it only tells one
	// re-request of a check run from another (see rerunKey).
	CompletedAt json.RawMessage `json:"completed_at"`
	App         *struct {
		ID int64 `json:"id"`
	} `json:"app"`
	CheckSuite *struct {
		HeadBranch string `json:"head_branch"`
	} `json:"check_suite"`
}

// envelope is what every routed payload shares.
type envelope struct {
	Action       string        `json:"action"`
	Installation *installation `json:"installation"`
	Repo         *repository   `json:"repository"`
	Sender       *user         `json:"sender"`
}

// timestamp is a time GitHub wrote, in whatever format: RFC 3339, GitHub's
// older "2006-01-02 15:04:05", or Unix seconds. One it cannot read is the
// zero time, never an error: agentgate only reports these times.
type timestamp struct {
	time.Time
	// Raw is the value as it was in the payload (JSON), for dedupe keys.
	Raw string
}

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (t *timestamp) UnmarshalJSON(b []byte) error {
	t.Raw = string(b)
	t.Time = time.Time{}
	var s string
	if json.Unmarshal(b, &s) == nil {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
			if v, err := time.Parse(layout, s); err == nil {
				t.Time = v
				return nil
			}
		}
		return nil
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
		t.Time = time.Unix(n, 0)
	}
	return nil
}

// stamp formats t as RFC 3339 in UTC, "" when unset or unreadable.
func (t timestamp) stamp() string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// login, id and kind read a possibly absent user.
func (u *user) login() string {
	if u == nil {
		return ""
	}
	return u.Login
}

func (u *user) id() int64 {
	if u == nil {
		return 0
	}
	return u.ID
}

func (u *user) kind() string {
	if u == nil {
		return ""
	}
	return u.Type
}
