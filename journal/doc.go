// Package journal names what agentgate records about a run beside its
// audit events: the keys of the run's effects journal and the outcomes a
// run ends with.
//
// The effects journal is one value per (run, key) in the store. Each
// external side effect (a comment, a push, a check run) is recorded under
// its key before the next step, and looked up before it is repeated, so a
// retried job does not act twice. Keys are part of the database's schema:
// renaming one forgets what every earlier run recorded under it.
package journal
