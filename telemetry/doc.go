// Package telemetry is agentgate's event model and what is built from it:
// every package reports what it did as an Event, the store appends events
// to a run's audit trail, and Summarize folds a run's events into the
// Summary shown on the check run, the pull request and the progress
// comment.
//
// It also defines what makes the trail tamper-evident and safe to keep:
// ChainedEvent and ChainLink are the canonical, length-prefixed encodings
// that the store hashes into each run's chain and the global chain, and
// Redactor removes tokens, keys and registered secret values from anything
// before it is stored, logged or exported.
package telemetry
