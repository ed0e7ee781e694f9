// Package webhook is agentgate's HTTP intake for GitHub App deliveries.
//
// A delivery is read up to Config.MaxBody bytes within a shared budget of
// bytes in memory (body.go), its X-Hub-Signature-256 is verified before
// anything in it is parsed, and Route decides cheaply, through a dispatch
// table of event and action and decoding only the fields each route reads
// (payload.go), what it starts: a run (ParseTrigger: a comment that starts
// with the mention, or the configured label being added; never anything a
// bot did), an event family's job (package jobs: a command parsed by
// ParseCommand, feedback on agentgate's pull request, a check re-run, a
// closed pull request, an installation change, a check run button) or
// nothing. The delivery id and the body's replay key (unique.go) are
// recorded and the job inserted in one database transaction; only after
// the commit does intake answer 202. Everything else is answered at once
// with a 2xx and no job. Intake makes no GitHub API calls and does no git
// work: the worker applies the repository's own configuration and
// authorization later.
package webhook
