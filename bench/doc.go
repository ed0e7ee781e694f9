// Package bench measures agentgate's hot paths next to baselines in the
// same run: intake (signed delivery → durable 202) against a bare
// net/http handler that only verifies the signature; run overhead for a
// no-op agent against `docker run --rm` plus the git CLI; workspace cold
// and warm (mirror cache) against `git clone --depth 1`; the egress proxy
// against the direct path; audit appends and verification; and the
// server's resident size idle and with 10,000 queued jobs.
//
// Run repeats each measurement, reports medians with their spread, and
// renders BENCHMARKS.md-ready markdown tables. `agentgate-demo bench` is its
// command line.
package bench
