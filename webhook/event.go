package webhook

// BranchPrefix starts every branch agentgate pushes ("agentgate/<n>-…").
const BranchPrefix = "agentgate/"

// FollowUp makes a run a follow-up on agentgate's own pull request: it
// starts from the head of Branch and pushes a fast-forward commit on it.
type FollowUp struct {
	PR     int    `json:"pr"`
	Issue  int    `json:"issue"` // the issue the pull request fixes
	Branch string `json:"branch"`
	// HeadSHA is the branch head the follow-up was asked on (informative:
	// the run starts from the head it finds when it clones).
	HeadSHA string `json:"head_sha,omitempty"`
	// Feedback is the comments and review comments, in order.
	Feedback []Feedback `json:"feedback"`
	// Iteration counts the follow-ups on this pull request, this one included.
	Iteration int `json:"iteration"`
}

// Feedback is one comment a follow-up answers.
type Feedback struct {
	Author string `json:"author"`
	Body   string `json:"body"`
	Path   string `json:"path,omitempty"`
	Line   int    `json:"line,omitempty"`
}
