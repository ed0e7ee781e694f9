// Package loadtest holds the intake's load and slow-client tests: the
// agentgate binary runs as a subprocess (so its resident memory is its
// own) and receives bursts of signed, duplicate, invalid and oversized
// deliveries and slow clients. It has no non-test code.
package loadtest
