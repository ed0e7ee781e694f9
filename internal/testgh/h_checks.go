package testgh

import (
	"fmt"
	"regexp"
	"time"
)

// shaPattern is a full commit id (SHA-1 or SHA-256).
var shaPattern = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)

// checkRunFields are the fields POST and PATCH share.
type checkRunFields struct {
	Name        *string    `json:"name"`
	HeadSHA     string     `json:"head_sha"`
	DetailsURL  *string    `json:"details_url"`
	ExternalID  *string    `json:"external_id"`
	Status      *string    `json:"status"`
	Conclusion  *string    `json:"conclusion"`
	StartedAt   *time.Time `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at"`
	Output      *struct {
		Title   *string `json:"title"`
		Summary string  `json:"summary"`
		Text    *string `json:"text"`
	} `json:"output"`
}

// apply copies the set fields onto cr and enforces GitHub's rules: a
// conclusion completes the run, a completed run needs a conclusion, only
// GitHub sets "stale".
func (f *checkRunFields) apply(cr *CheckRun, now time.Time) *reply {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&cr.Name, f.Name)
	set(&cr.DetailsURL, f.DetailsURL)
	set(&cr.ExternalID, f.ExternalID)
	set(&cr.Status, f.Status)
	if f.Status != nil && (*f.Status == "waiting" || *f.Status == "requested" || *f.Status == "pending") {
		r := validationFailed("CheckRun", "status", "invalid", "only GitHub Actions can set status "+*f.Status)
		return &r
	}
	if f.Conclusion != nil {
		if *f.Conclusion == "stale" {
			r := validationFailed("CheckRun", "conclusion", "invalid", "only GitHub can set conclusion stale")
			return &r
		}
		cr.Conclusion, cr.Status = *f.Conclusion, "completed"
	}
	if f.StartedAt != nil {
		cr.StartedAt = *f.StartedAt
	}
	if f.CompletedAt != nil {
		cr.CompletedAt = *f.CompletedAt
	}
	if cr.Status == "completed" && cr.Conclusion == "" {
		r := validationFailed("CheckRun", "conclusion", "missing_field", "conclusion is required when status is completed")
		return &r
	}
	if cr.Status == "completed" && cr.CompletedAt.IsZero() {
		cr.CompletedAt = now
	}
	if f.Output != nil {
		set(&cr.Title, f.Output.Title)
		cr.Summary = f.Output.Summary
		set(&cr.Text, f.Output.Text)
	}
	return nil
}

// createCheckRun implements POST /repos/{owner}/{repo}/check-runs.
func (c *call) createCheckRun() reply {
	var f checkRunFields
	if r := c.decode(&f); r != nil {
		return *r
	}
	if !shaPattern.MatchString(f.HeadSHA) {
		return validationFailed("CheckRun", "head_sha", "invalid", fmt.Sprintf("No commit found for SHA: %s", f.HeadSHA))
	}
	now := c.s.now()
	cr := &CheckRun{ID: c.s.st.id(), HeadSHA: f.HeadSHA, Status: "queued", StartedAt: now}
	if r := f.apply(cr, now); r != nil {
		return *r
	}
	c.repo.checks = append(c.repo.checks, cr)
	return created(c.s.checkRunJSON(c.repo, cr))
}

// updateCheckRun implements PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}.
func (c *call) updateCheckRun() reply {
	id := c.intParam("check_run_id")
	var cr *CheckRun
	for _, x := range c.repo.checks {
		if x.ID == id {
			cr = x
		}
	}
	if cr == nil {
		return notFound()
	}
	var f checkRunFields
	if r := c.decode(&f); r != nil {
		return *r
	}
	next := *cr
	if r := f.apply(&next, c.s.now()); r != nil {
		return *r
	}
	next.Updates++
	*cr = next
	return ok(c.s.checkRunJSON(c.repo, cr))
}

// listCheckRuns implements GET /repos/{owner}/{repo}/commits/{ref}/check-runs;
// ref is a commit sha or a branch name.
func (c *call) listCheckRuns() reply {
	q := c.r.URL.Query()
	sha := c.params["ref"]
	if resolved, found := c.s.resolveBranch(c.repo, sha); found {
		sha = resolved
	}
	latest := map[string]int64{}
	for _, cr := range c.repo.checks {
		if cr.HeadSHA == sha {
			latest[cr.Name] = max(latest[cr.Name], cr.ID)
		}
	}
	var all []*CheckRun
	for i := len(c.repo.checks) - 1; i >= 0; i-- {
		cr := c.repo.checks[i]
		switch {
		case cr.HeadSHA != sha:
		case q.Get("filter") != "all" && latest[cr.Name] != cr.ID:
		case q.Get("check_name") != "" && cr.Name != q.Get("check_name"):
		case q.Get("status") != "" && cr.Status != q.Get("status"):
		default:
			all = append(all, cr)
		}
	}
	lo, hi, links := c.paginate(len(all))
	runs := []any{}
	for _, cr := range all[lo:hi] {
		runs = append(runs, c.s.checkRunJSON(c.repo, cr))
	}
	r := ok(map[string]any{"total_count": len(all), "check_runs": runs})
	r.headers = links
	return r
}
