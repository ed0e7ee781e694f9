// Package app is agentgate's GitHub App: configuration, GitHub clients,
// the River worker that turns a trigger into a sandboxed run, and the
// review side (pull request, check run, progress comment).
//
// A run goes plan → workspace → sandbox → harvest → push → review. Every
// step appends a telemetry event, and every side effect on GitHub or git is
// recorded under the run id before the next step, so a retried job resumes
// where the last attempt stopped instead of repeating what it did.
package app
