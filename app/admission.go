package app

import (
	"errors"
	"time"
)

// errNoCapacity means the worker's CPU or memory budget has no room for the
// run's sandbox now: the job goes back to the queue for a while.
var errNoCapacity = errors.New("the worker's CPU and memory budget is full")

// maxWorkers is how many jobs River hands this worker at once: the
// concurrency setting, lowered to what the budget holds at the default
// limits (runs with smaller limits may then still wait for a slot; larger
// ones wait for room in the budget).
func maxWorkers(cfg Config) int {
	n := cfg.Concurrency
	if cfg.WorkerCPUs > 0 && cfg.Limits.NanoCPUs > 0 {
		n = min(n, int(cfg.WorkerCPUs/cfg.Limits.NanoCPUs))
	}
	if cfg.WorkerMemory > 0 && cfg.Limits.MemoryBytes > 0 {
		n = min(n, int(cfg.WorkerMemory/cfg.Limits.MemoryBytes))
	}
	return max(n, 1)
}

// admissionSnooze is how long a run that did not fit waits in the queue.
const admissionSnooze = 5 * time.Second
