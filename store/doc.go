// Package store is agentgate's database: River's queue tables and
// agentgate's own tables (deliveries, runs, leases, effects, events), shared
// by intake, workers and the audit trail.
//
// SQLite (pure Go, modernc.org/sqlite) is the embedded default. Following
// River's SQLite driver documentation, the pool holds a single connection
// (SetMaxOpenConns(1)): SQLite allows one writer at a time and River's
// concurrent internals otherwise fail with SQLITE_BUSY. WAL journaling, a
// busy timeout and BEGIN IMMEDIATE transactions keep several processes
// (serve and worker) on the same file safe.
//
// Because the pool has one connection, a caller holding a transaction from
// DB.SQL must do all of its work through that transaction: calling a DB
// method (which needs a connection of its own) before committing blocks
// until the context ends.
//
// # Audit trail
//
// Events are tamper-evident. Append redacts an event (telemetry.Redactor:
// secret formats plus values registered with AddSecret) and, in one
// transaction, chains it twice: in its run (prev_hash, hash: SHA-256 over
// the stored fields and the predecessor's hash; RunHead is the newest) and
// in one global chain, audit_chain, with an entry per appended event
// (global_seq, run, seq, event hash, previous entry's hash). A global chain
// of every event, rather than per-run heads checkpointed from time to time,
// was chosen because it leaves no window: deleting a whole run, cutting a
// run's newest events or removing an event from the middle leaves entries
// that point at nothing (or a hole in global_seq) at once, with no
// checkpoint job to run. The single audit_head row is updated by every
// append, which serializes appends (it is the first statement of the
// transaction, a row lock on Postgres) and records where the chain ends;
// with SetAuditKey it is signed, so cutting the newest events off the whole
// chain is caught too. Checkpoint signs the head on demand (Ed25519, the
// operator's audit-key-file) and Prune deletes old runs behind such a
// checkpoint naming them, removing the prefix of the global chain that
// only they used. Verify walks everything and reports the first broken
// link. Without a key, an attacker who can write the database can still
// cut the newest events and rewind the head consistently: the run head
// shown on GitHub's check run is then the outside witness.
//
// Open runs River's migrations and agentgate's own, idempotently, on every
// start. The SQL is kept to what SQLite and Postgres share (ON CONFLICT,
// TEXT and BIGINT columns, fixed-width UTC timestamps in TEXT) so a Postgres
// dialect can be added without changing callers.
package store
