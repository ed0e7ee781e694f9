package app

import (
	"fmt"
	"strconv"
	"time"
)

// Controls are the operator's risk controls: who waits for a
// maintainer's approval, what a second trigger does, follow-up limits,
// budgets, rate limits and the operator's kill switch. Zero limits mean
// unlimited.
type Controls struct {
	// Untrusted is what a requester below the trigger permission gets:
	// "pending" (default: a run that starts when a maintainer comments
	// `@agentgate approve`) or "deny".
	Untrusted string
	// OutsideCollaboratorsPending makes every outside collaborator's run
	// wait for approval, whatever their permission.
	OutsideCollaboratorsPending bool
	// OnBusy is what a trigger on an issue with an active run does:
	// "refuse" (default: a reply naming the active run) or "restart"
	// (cancel the active run and start anew).
	OnBusy string
	// MaxFollowUps caps follow-up runs per pull request (default 5).
	MaxFollowUps int
	// FollowUpDelay is how long feedback is gathered before a follow-up
	// starts, so a review's comments become one run (default 10s).
	FollowUpDelay time.Duration
	// Paused stops new runs (the operator's kill switch; also settable at
	// run time through the admin listener).
	Paused bool

	// The per-requester limits count a person's runs within one
	// installation: what they do in another organisation's installation
	// neither uses nor lends them budget.
	RunsPerRequesterHour int           // rate limit
	RunsPerRequesterDay  int           // budget, rolling 24 hours
	RunsPerRepoDay       int           // budget, rolling 24 hours
	TokensPerRepoDay     int64         // LLM tokens through the gateway, rolling 24 hours
	AgentTimePerRepoDay  time.Duration // agent wall time, rolling 24 hours

	// The per-installation budgets bound one tenant (an organisation or
	// account that installed the app) across all its repositories.
	RunsPerInstallationDay      int
	TokensPerInstallationDay    int64
	AgentTimePerInstallationDay time.Duration
	// InstallationConcurrency caps the runs of one installation that hold
	// a sandbox at once, across every worker (0 = no cap): one tenant
	// cannot hold every slot while the others wait.
	InstallationConcurrency int
}

// DefaultControls are the embedded defaults.
func DefaultControls() Controls {
	return Controls{Untrusted: "pending", OnBusy: "refuse", MaxFollowUps: 5, FollowUpDelay: 10 * time.Second}
}

// controlSettings are the settings of Controls.
func controlSettings() []setting {
	integer := func(p func(*Config) *int) func(*Config, string) error {
		return func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("not a non-negative integer: %q", v)
			}
			*p(c) = n
			return nil
		}
	}
	duration := func(p func(*Config) *time.Duration) func(*Config, string) error {
		return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("not a duration: %q", v)
			}
			*p(c) = d
			return nil
		}
	}
	boolean := func(p func(*Config) *bool) func(*Config, string) error {
		return func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("not a boolean: %q", v)
			}
			*p(c) = b
			return nil
		}
	}
	oneOf := func(p func(*Config) *string, values ...string) func(*Config, string) error {
		return func(c *Config, v string) error {
			for _, ok := range values {
				if v == ok {
					*p(c) = v
					return nil
				}
			}
			return fmt.Errorf("%q is not one of %v", v, values)
		}
	}
	return []setting{
		{key: "untrusted", help: "requesters below the trigger permission: pending (a maintainer approves with `@agentgate approve`) or deny", apply: oneOf(func(c *Config) *string { return &c.Controls.Untrusted }, "pending", "deny")},
		{key: "outside-collaborators-pending", help: "every outside collaborator's run waits for a maintainer's approval (true/false)", apply: boolean(func(c *Config) *bool { return &c.Controls.OutsideCollaboratorsPending })},
		{key: "on-busy", help: "a trigger on an issue with an active run: refuse, or restart (cancel it and start anew)", apply: oneOf(func(c *Config) *string { return &c.Controls.OnBusy }, "refuse", "restart")},
		{key: "max-follow-ups", help: "follow-up runs per pull request (0 = none)", apply: integer(func(c *Config) *int { return &c.Controls.MaxFollowUps })},
		{key: "follow-up-delay", help: "how long feedback is gathered before a follow-up starts", apply: duration(func(c *Config) *time.Duration { return &c.Controls.FollowUpDelay })},
		{key: "paused", help: "kill switch: start no new runs (true/false); also POST /admin/pause on the admin listener", apply: boolean(func(c *Config) *bool { return &c.Controls.Paused })},
		{key: "runs-per-requester-hour", help: "rate limit: runs one person may start per hour (0 = unlimited)", apply: integer(func(c *Config) *int { return &c.Controls.RunsPerRequesterHour })},
		{key: "runs-per-requester-day", help: "budget: runs one person may start per 24 hours (0 = unlimited)", apply: integer(func(c *Config) *int { return &c.Controls.RunsPerRequesterDay })},
		{key: "runs-per-repo-day", help: "budget: runs per repository per 24 hours (0 = unlimited)", apply: integer(func(c *Config) *int { return &c.Controls.RunsPerRepoDay })},
		{key: "tokens-per-repo-day", help: "budget: LLM tokens per repository per 24 hours (0 = unlimited)", apply: int64Setting(func(c *Config) *int64 { return &c.Controls.TokensPerRepoDay })},
		{key: "agent-time-per-repo-day", help: "budget: agent wall time per repository per 24 hours (0 = unlimited)", apply: duration(func(c *Config) *time.Duration { return &c.Controls.AgentTimePerRepoDay })},
		{key: "runs-per-installation-day", help: "budget: runs per installation (one organisation or account) per 24 hours (0 = unlimited)", apply: integer(func(c *Config) *int { return &c.Controls.RunsPerInstallationDay })},
		{key: "tokens-per-installation-day", help: "budget: LLM tokens per installation per 24 hours (0 = unlimited)", apply: int64Setting(func(c *Config) *int64 { return &c.Controls.TokensPerInstallationDay })},
		{key: "agent-time-per-installation-day", help: "budget: agent wall time per installation per 24 hours (0 = unlimited)", apply: duration(func(c *Config) *time.Duration { return &c.Controls.AgentTimePerInstallationDay })},
		{key: "installation-concurrency", help: "runs of one installation in sandboxes at once, across all workers (0 = no cap)", apply: integer(func(c *Config) *int { return &c.Controls.InstallationConcurrency })},
	}
}

// int64Setting parses a non-negative integer into the field p returns.
func int64Setting(p func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("not a non-negative integer: %q", v)
		}
		*p(c) = n
		return nil
	}
}
