package runpage

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/telemetry/provenance"
)

// Bounds of a page.
const (
	maxListRuns     = 500  // runs listed
	maxTimelineRows = 2000 // events shown on a run page
	maxAttrText     = 400  // characters of an event's attributes shown
)

// listView is the data of /runs.
type listView struct {
	Viewer string
	Admin  bool
	Filter store.RunFilter
	Runs   []store.RunSummary
	// Page is this page's number (from 1); Older and Newer are the
	// neighbouring pages' query strings, "" when there is none.
	Page         int
	Older, Newer string
	// Unchecked counts repositories with runs that were not asked about
	// (more than maxRepoChecks): their runs are not listed.
	Unchecked int
}

// maxRepoChecks bounds how many repositories one listing asks GitHub
// about for a person (answers are cached for the session).
const maxRepoChecks = 1000

// list serves /runs: the runs the viewer can read, newest first, filtered
// by repo, requester and outcome, maxListRuns a page. The viewer's
// repositories are found first (every repository with runs, asked about
// with the viewer's own token and matched by id) and the query selects
// only their runs, so other tenants' activity never pushes the viewer's
// runs off the page.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	v, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	f := store.RunFilter{Repo: q.Get("repo"), Requester: q.Get("requester"), Outcome: q.Get("outcome"),
		Limit: maxListRuns + 1, Offset: (page - 1) * maxListRuns}
	view := listView{Viewer: v.Login(), Admin: v.admin, Filter: f, Page: page}
	if !v.admin {
		repos, err := h.cfg.Store.RunRepos(r.Context(), f.Repo)
		if err != nil {
			h.log.Error("run list: repositories", "err", err)
			h.errorPage(w, r, http.StatusInternalServerError, "The runs could not be read.")
			return
		}
		if len(repos) > maxRepoChecks {
			view.Unchecked = len(repos) - maxRepoChecks
			repos = repos[:maxRepoChecks]
		}
		f.RepoIDs = []int64{}
		for _, repo := range repos {
			ok, err := h.canRead(r.Context(), v, repo.ID, repo.Name)
			if err != nil {
				h.log.Warn("run list: access check", "repo", repo.Name, "err", err)
				h.errorPage(w, r, http.StatusBadGateway, "GitHub could not be asked which repositories you can read; try again.")
				return
			}
			if ok {
				f.RepoIDs = append(f.RepoIDs, repo.ID)
			}
		}
	}
	runs, err := h.cfg.Store.ListRuns(r.Context(), f)
	if err != nil {
		h.log.Error("run list", "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "The runs could not be read.")
		return
	}
	if len(runs) > maxListRuns {
		runs = runs[:maxListRuns]
		view.Older = pageQuery(q, page+1)
	}
	if page > 1 {
		view.Newer = pageQuery(q, page-1)
	}
	view.Runs = runs
	h.render(w, r, http.StatusOK, "list", "Runs", view)
}

// pageQuery is the query string of page n of the same listing.
func pageQuery(q url.Values, n int) string {
	p := url.Values{}
	for k, v := range q {
		p[k] = v
	}
	p.Set("page", strconv.Itoa(n))
	return p.Encode()
}

// runView is the data of /runs/{id}.
type runView struct {
	Viewer    string
	Admin     bool
	Run       store.Run
	Trigger   triggerView
	PR        prView
	Chain     store.RunVerify
	Sum       telemetry.Summary
	Timeline  []eventRow
	Hidden    int // events beyond maxTimelineRows
	GitHubURL string
	Denied    string // run.denied reason
	// Provenance is the digest of the run's signed provenance record, ""
	// when it has none.
	Provenance string
}

// triggerView is what started the run and who was allowed to.
type triggerView struct {
	Event, Trigger, Delivery, Comment string
	Permission, Required              string
}

// prView is the run's pull request and what became of it.
type prView struct {
	Number, Branch, Commit, URL string
	State                       string // "open", "merged", "closed", "" = none
	By                          string
	At                          time.Time
}

// eventRow is one line of the timeline.
type eventRow struct {
	Seq   int64
	Time  time.Time
	Kind  string
	Actor string
	Attrs string
}

// run serves /runs/{id}. A run of a repository the viewer cannot read is
// not found, exactly as a run that does not exist.
func (h *Handler) run(w http.ResponseWriter, r *http.Request) {
	v, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	run, err := h.cfg.Store.GetRun(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "No such run.")
		return
	}
	if err != nil {
		h.log.Error("run page", "run_id", id, "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "The run could not be read.")
		return
	}
	readable, err := h.canRead(r.Context(), v, run.RepoID, run.Repo)
	if err != nil {
		h.log.Warn("run page: access check", "repo", run.Repo, "err", err)
		h.errorPage(w, r, http.StatusBadGateway, "GitHub could not be asked whether you can read this repository; try again.")
		return
	}
	if !readable {
		h.errorPage(w, r, http.StatusNotFound, "No such run.")
		return
	}
	events, err := h.cfg.Store.Events(r.Context(), id)
	if err != nil {
		h.log.Error("run page: events", "run_id", id, "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "The run's events could not be read.")
		return
	}
	chain, err := h.cfg.Store.VerifyRun(r.Context(), id)
	if err != nil {
		h.log.Error("run page: verify", "run_id", id, "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "The run's audit chain could not be read.")
		return
	}
	h.render(w, r, http.StatusOK, "run", "Run "+id, h.runView(v, run, events, chain))
}

// runView folds a run's events into the page's data.
func (h *Handler) runView(v viewer, run store.Run, events []telemetry.Event, chain store.RunVerify) runView {
	view := runView{Viewer: v.Login(), Admin: v.admin, Run: run, Chain: chain, Sum: telemetry.Summarize(events), GitHubURL: h.web}
	for _, ev := range events {
		a := ev.Attrs
		switch ev.Kind {
		case telemetry.KindWebhookReceived:
			view.Trigger.Event, view.Trigger.Trigger = telemetry.AttrText(a["event"]), telemetry.AttrText(a["trigger"])
			view.Trigger.Delivery, view.Trigger.Comment = telemetry.AttrText(a["delivery_id"]), telemetry.AttrText(a["comment_id"])
			if view.Trigger.Comment == "0" {
				view.Trigger.Comment = "" // a label, not a comment
			}
		case telemetry.KindRunAuthorized:
			view.Trigger.Permission, view.Trigger.Required = telemetry.AttrText(a["permission"]), telemetry.AttrText(a["required"])
		case telemetry.KindRunDenied:
			view.Denied = telemetry.AttrText(a["reason"])
		case telemetry.KindPROpened:
			view.PR.Number, view.PR.Branch, view.PR.Commit = telemetry.AttrText(a["number"]), telemetry.AttrText(a["branch"]), telemetry.AttrText(a["commit"])
			view.PR.State = "open"
			view.PR.URL = fmt.Sprintf("%s/%s/pull/%s", h.web, run.Repo, view.PR.Number)
		case provenance.KindSigned:
			view.Provenance = telemetry.AttrText(a["envelope_sha256"])
		case telemetry.KindPRMerged, telemetry.KindPRClosed:
			view.PR.State = "closed"
			if ev.Kind == telemetry.KindPRMerged {
				view.PR.State = "merged"
			}
			view.PR.By, view.PR.At = ev.Actor, ev.Time
			for _, k := range []string{"merged_by", "closed_by", "by"} {
				if s := telemetry.AttrText(a[k]); s != "" {
					view.PR.By = s
				}
			}
		}
	}
	for i, ev := range events {
		if i == maxTimelineRows {
			view.Hidden = len(events) - maxTimelineRows
			break
		}
		view.Timeline = append(view.Timeline, eventRow{Seq: ev.Seq, Time: ev.Time, Kind: ev.Kind, Actor: ev.Actor, Attrs: attrText(ev.Attrs)})
	}
	return view
}

// attrText is an event's attributes as compact JSON with sorted keys,
// bounded.
func attrText(a map[string]any) string {
	if len(a) == 0 {
		return ""
	}
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		j, err := json.Marshal(a[k])
		if err != nil {
			j = []byte("?")
		}
		fmt.Fprintf(&b, "%s=%s", k, j)
	}
	s := b.String()
	if r := []rune(s); len(r) > maxAttrText {
		s = string(r[:maxAttrText]) + "…"
	}
	return s
}

// errorPage answers with a short page.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.render(w, r, status, "error", http.StatusText(status), msg)
}

// render executes a page into a buffer and writes it with the security
// headers: a CSP allowing nothing but the page's own nonce'd style, no
// framing, no referrer, no caching, no sniffing.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	nonceBytes := make([]byte, 16)
	_, _ = rand.Read(nonceBytes)
	nonce := hex.EncodeToString(nonceBytes) // hex: nothing for the template to escape
	var buf bytes.Buffer
	pg := page{Title: title, Nonce: nonce, Data: data, SignIn: h.cfg.ClientID != ""}
	switch d := data.(type) {
	case listView:
		pg.Viewer, pg.Session = d.Viewer, !d.Admin
	case runView:
		pg.Viewer, pg.Session = d.Viewer, !d.Admin
	}
	err := templates.ExecuteTemplate(&buf, name, pg)
	if err != nil {
		h.log.Error("render", "page", name, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("internal error\n")
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; img-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// page is what every template gets.
type page struct {
	Title   string
	Nonce   string
	SignIn  bool
	Viewer  string
	Session bool // signed in with GitHub: can sign out
	Data    any
}
