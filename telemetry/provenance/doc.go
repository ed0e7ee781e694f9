// Package provenance makes and checks a run's signed provenance record: an
// in-toto Statement (v1) whose predicate, modelled on SLSA provenance,
// names what started the run (delivery, event, comment), who asked and
// with which permission, the base commit, the agent image digest, the
// hash of the policy in force, the egress and tool decision counts, the
// model usage and the resulting head commit, all read from the run's audit
// events. The statement is signed in a DSSE envelope with an Ed25519 key.
//
// The record is bound to the audit trail: its subject includes the run's
// chain hash after the last event it covers, so Check can recompute the
// predicate from the stored events and find a record that no longer
// matches them.
package provenance
