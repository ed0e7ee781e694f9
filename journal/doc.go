// Package journal names the keys of a run's effects journal.
//
// The effects journal is one value per (run, key) in the store. Each
// external side effect (a comment, a push, a check run) is recorded under
// its key before the next step, and looked up before it is repeated, so a
// retried job does not act twice. Keys are part of the database's schema:
// renaming one forgets what every earlier run recorded under it. (A run's
// outcomes are package sandbox's; its audit event kinds are telemetry's
// and sandbox's.)
package journal
