// Package app is agentgate's GitHub App: configuration, GitHub clients,
// the River worker that turns a trigger into a sandboxed run, the review
// side (pull request, check run, progress comment), and one handler per
// event family (handlers.go: commands, feedback, re-runs, closed pull
// requests, check run buttons, installation changes), each working its
// own job type from package jobs.
//
// A run goes authorize → workspace → sandbox → harvest → push → review.
// Runs, event jobs and buttons act on one issue through the same context
// (issue.go: client, once, audit, comment, react, permission,
// configuration). Every step appends an audit event, and every side
// effect on GitHub or git is recorded in the effects journal (package
// journal names its keys) before the next step, so a retried job resumes
// where the last attempt stopped instead of repeating what it did.
package app
