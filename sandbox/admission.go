package sandbox

import (
	"sync"

	"github.com/agentgate/agentgate/runner"
)

// Admission is a worker's budget for sandboxes (settings worker-cpus and
// worker-memory): each running sandbox counts its own limits (the run's
// policy's, after the repository's configuration) against it, and a run
// that does not fit waits in the queue. A zero budget is unlimited.
type Admission struct {
	NanoCPUs int64 // total CPU for sandboxes, in 1e-9 CPUs
	Memory   int64 // total memory for sandboxes, in bytes

	mu         sync.Mutex
	usedCPU    int64
	usedMemory int64
	running    int
}

// TryAcquire reserves l's CPU and memory. It returns a release function,
// or false when the budget has no room. A run larger than the whole budget
// is admitted only when nothing else runs, so it is never starved.
func (a *Admission) TryAcquire(l runner.Limits) (func(), bool) {
	if a == nil {
		return func() {}, true
	}
	cpu, mem := l.NanoCPUs, l.MemoryBytes
	a.mu.Lock()
	defer a.mu.Unlock()
	fits := func(used, want, budget int64) bool {
		return budget <= 0 || used+want <= budget || (a.running == 0 && want > budget)
	}
	if !fits(a.usedCPU, cpu, a.NanoCPUs) || !fits(a.usedMemory, mem, a.Memory) {
		return nil, false
	}
	a.usedCPU += cpu
	a.usedMemory += mem
	a.running++
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			a.usedCPU -= cpu
			a.usedMemory -= mem
			a.running--
			a.mu.Unlock()
		})
	}, true
}
