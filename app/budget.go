package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// settingPaused is the operator switch in the database (admin endpoint).
const settingPaused = "paused"

// countedStates are the states of runs that count against budgets: the
// ones that got past planning.
var countedStates = []string{stateRunning, stateFinished, stateCancelled}

// operatorPaused reports whether the operator's kill switch is on, by
// setting or through the admin listener.
func (w *Worker) operatorPaused(ctx context.Context) (bool, error) {
	if w.Config.Controls.Paused {
		return true, nil
	}
	v, err := w.DB.OperatorSetting(ctx, settingPaused)
	if err != nil {
		return false, err
	}
	return v == "true", nil
}

// operatorAllows refuses, before any GitHub API call, a run the operator's kill
// switch stops or whose repository the app no longer has.
func (r *run) operatorAllows(ctx context.Context) (bool, error) {
	a := r.args
	paused, err := r.w.operatorPaused(ctx)
	if err != nil {
		return false, err
	}
	if paused {
		return false, r.finish(ctx, stateDenied, telemetry.KindRunRefused, map[string]any{"reason": "agentgate is paused by its operator"})
	}
	state, err := r.w.DB.RepoAccess(ctx, a.InstallationID, a.RepoID)
	if err != nil {
		return false, err
	}
	if state != "" {
		return false, r.finish(ctx, stateDenied, telemetry.KindRunRefused, map[string]any{"reason": fmt.Sprintf("the app's access to %s/%s is %s", a.Owner, a.Repo, state)})
	}
	return true, nil
}

// usage is what runs used in a window.
type usage struct {
	runs      int
	tokens    int64
	agentTime time.Duration
}

// usageOf adds up the runs, LLM tokens and agent wall time of the runs f
// selects (this run excluded).
func (w *Worker) usageOf(ctx context.Context, f store.RunSelect, self string, detail bool) (usage, error) {
	f.States = countedStates
	ids, err := w.DB.RunIDs(ctx, f)
	if err != nil {
		return usage{}, err
	}
	var u usage
	for _, id := range ids {
		if id == self {
			continue
		}
		u.runs++
		if !detail {
			continue
		}
		evs, err := w.DB.Events(ctx, id)
		if err != nil {
			return usage{}, fmt.Errorf("read events: %w", err)
		}
		t, d := runUsage(evs)
		u.tokens += t
		u.agentTime += d
	}
	return u, nil
}

// runUsage is one run's LLM tokens and agent wall time.
func runUsage(evs []telemetry.Event) (int64, time.Duration) {
	s := telemetry.Summarize(evs)
	var d time.Duration
	for _, ev := range evs {
		if ev.Kind != telemetry.KindSandboxExited {
			continue
		}
		if ms, ok := telemetry.IntAttr(ev.Attrs, "duration_ms"); ok {
			d += time.Duration(ms) * time.Millisecond
		}
	}
	return int64(s.LLM.InputTokens + s.LLM.OutputTokens), d
}

// overBudget returns why the run may not start ("" when it may): the
// per-requester rate limit and budgets (counted within this installation),
// and the per-repository and per-installation budgets, over the last hour
// or 24 hours. Runs are selected by GitHub's ids, never by names.
func (r *run) overBudget(ctx context.Context) (string, error) {
	c := r.w.Config.Controls
	a := r.args
	now := time.Now()
	if c.RunsPerRequesterHour > 0 {
		u, err := r.w.usageOf(ctx, store.RunSelect{Requester: a.RequesterLogin, InstallationID: a.InstallationID, Since: now.Add(-time.Hour)}, a.RunID, false)
		if err != nil {
			return "", err
		}
		if u.runs >= c.RunsPerRequesterHour {
			return fmt.Sprintf("rate limit: @%s started %d runs in the last hour (limit %d)", a.RequesterLogin, u.runs, c.RunsPerRequesterHour), nil
		}
	}
	if c.RunsPerRequesterDay > 0 {
		u, err := r.w.usageOf(ctx, store.RunSelect{Requester: a.RequesterLogin, InstallationID: a.InstallationID, Since: now.Add(-24 * time.Hour)}, a.RunID, false)
		if err != nil {
			return "", err
		}
		if u.runs >= c.RunsPerRequesterDay {
			return fmt.Sprintf("budget: @%s started %d runs in the last 24 hours (limit %d)", a.RequesterLogin, u.runs, c.RunsPerRequesterDay), nil
		}
	}
	for _, sc := range r.budgetScopes() {
		if sc.runs <= 0 && sc.tokens <= 0 && sc.agentTime <= 0 {
			continue
		}
		u, err := r.w.usageOf(ctx, sc.sel(now), a.RunID, sc.tokens > 0 || sc.agentTime > 0)
		if err != nil {
			return "", err
		}
		switch {
		case sc.runs > 0 && u.runs >= sc.runs:
			return fmt.Sprintf("budget: %s had %d runs in the last 24 hours (limit %d)", sc.name, u.runs, sc.runs), nil
		case sc.tokens > 0 && u.tokens >= sc.tokens:
			return fmt.Sprintf("budget: %s used %d LLM tokens in the last 24 hours (limit %d)", sc.name, u.tokens, sc.tokens), nil
		case sc.agentTime > 0 && u.agentTime >= sc.agentTime:
			return fmt.Sprintf("budget: %s used %s of agent time in the last 24 hours (limit %s)", sc.name, u.agentTime.Round(time.Second), sc.agentTime), nil
		}
	}
	return "", nil
}

// budgetScope is one set of 24-hour budgets: a repository's or an
// installation's.
type budgetScope struct {
	name      string // as the refusal names it
	runs      int
	tokens    int64
	agentTime time.Duration
	sel       func(now time.Time) store.RunSelect
}

// budgetScopes are the run's repository and installation budgets.
func (r *run) budgetScopes() []budgetScope {
	c := r.w.Config.Controls
	a := r.args
	return []budgetScope{
		{name: a.Owner + "/" + a.Repo, runs: c.RunsPerRepoDay, tokens: c.TokensPerRepoDay, agentTime: c.AgentTimePerRepoDay,
			sel: func(now time.Time) store.RunSelect {
				return store.RunSelect{RepoID: a.RepoID, Since: now.Add(-24 * time.Hour)}
			}},
		{name: "the installation on " + a.Owner, runs: c.RunsPerInstallationDay, tokens: c.TokensPerInstallationDay, agentTime: c.AgentTimePerInstallationDay,
			sel: func(now time.Time) store.RunSelect {
				return store.RunSelect{InstallationID: a.InstallationID, Since: now.Add(-24 * time.Hour)}
			}},
	}
}

// configAllows applies the org's kill switch, the rate limit and the budgets
// once the configuration is known. A refused requester hears of it at most
// once per issue and day.
func (r *run) configAllows(ctx context.Context) (bool, error) {
	reason := ""
	if r.cfg != nil && r.cfg.Effective.Paused {
		reason = "agentgate is paused for this repository by its configuration (`paused: true`)"
	} else {
		var err error
		if reason, err = r.overBudget(ctx); err != nil {
			return false, err
		}
	}
	if reason == "" {
		return true, nil
	}
	day := time.Now().UTC().Format("2006-01-02")
	if err := r.replyOnce(ctx, "refused-"+day, journal.Refused, func() string {
		return fmt.Sprintf("Sorry @%s, this run did not start: %s.", r.args.RequesterLogin, reason)
	}); err != nil {
		return false, err
	}
	return false, r.finish(ctx, stateDenied, telemetry.KindRunRefused, map[string]any{"reason": reason})
}

// budgetMarkdown is the check summary's budget section: what this run
// used against its limits, and the rolling 24-hour totals.
func (r *run) budgetMarkdown(ctx context.Context, evs []telemetry.Event) string {
	c := r.w.Config.Controls
	a := r.args
	tokens, agent := runUsage(evs)
	limit := func(n int64) string {
		if n <= 0 {
			return "unlimited"
		}
		return fmt.Sprint(n)
	}
	var b strings.Builder
	b.WriteString("\n### Budgets\n\n| budget | used | limit |\n| --- | --- | --- |\n")
	fmt.Fprintf(&b, "| LLM tokens, this run | %d | %s |\n", tokens, limit(r.w.Config.Network.TokenBudget))
	fmt.Fprintf(&b, "| agent time, this run | %s | %s |\n", agent.Round(time.Second), r.runTimeout())
	now := time.Now()
	if u, err := r.w.usageOf(ctx, store.RunSelect{Requester: a.RequesterLogin, InstallationID: a.InstallationID, Since: now.Add(-24 * time.Hour)}, "", false); err == nil {
		fmt.Fprintf(&b, "| runs by @%s, 24 h | %d | %s |\n", a.RequesterLogin, u.runs, limit(int64(c.RunsPerRequesterDay)))
	}
	detail := c.TokensPerRepoDay > 0 || c.AgentTimePerRepoDay > 0
	if u, err := r.w.usageOf(ctx, store.RunSelect{RepoID: a.RepoID, Since: now.Add(-24 * time.Hour)}, "", detail); err == nil {
		fmt.Fprintf(&b, "| runs in %s/%s, 24 h | %d | %s |\n", a.Owner, a.Repo, u.runs, limit(int64(c.RunsPerRepoDay)))
		if detail {
			at := "unlimited"
			if c.AgentTimePerRepoDay > 0 {
				at = c.AgentTimePerRepoDay.String()
			}
			fmt.Fprintf(&b, "| LLM tokens in the repository, 24 h | %d | %s |\n", u.tokens, limit(c.TokensPerRepoDay))
			fmt.Fprintf(&b, "| agent time in the repository, 24 h | %s | %s |\n", u.agentTime.Round(time.Second), at)
		}
	}
	return b.String()
}

// runTimeout is the run's wall-clock limit.
func (r *run) runTimeout() time.Duration {
	if r.policy != nil && r.policy.Limits.Timeout > 0 {
		return r.policy.Limits.Timeout
	}
	return r.w.Config.Limits.Timeout
}
