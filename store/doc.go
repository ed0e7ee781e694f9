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
// Open runs River's migrations and agentgate's own, idempotently, on every
// start. The SQL is kept to what SQLite and Postgres share (ON CONFLICT,
// TEXT and BIGINT columns, fixed-width UTC timestamps in TEXT) so a Postgres
// dialect can be added without changing callers.
package store
