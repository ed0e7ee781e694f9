// Package telemetry is agentgate's event model and what is built from it:
// every package reports what it did as an Event, the store appends events
// to a run's audit trail, and Summarize folds a run's events into the
// Summary shown on the check run, the pull request and the progress
// comment.
package telemetry
