// Package cputime reads the CPU time this process has used, for
// benchmarks that report CPU per unit of work next to throughput (which
// follows the machine's load far more than CPU time does).
package cputime
