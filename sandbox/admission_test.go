package sandbox

import (
	"testing"

	"github.com/agentgate/agentgate/runner"
)

func TestAdmission(t *testing.T) {
	lim := func(cpus float64, memMiB int64) runner.Limits {
		return runner.Limits{NanoCPUs: int64(cpus * 1e9), MemoryBytes: memMiB << 20}
	}
	a := &Admission{NanoCPUs: 4e9, Memory: 4096 << 20}
	var releases []func()
	take := func(l runner.Limits, want bool) {
		t.Helper()
		rel, ok := a.TryAcquire(l)
		if ok != want {
			t.Fatalf("TryAcquire(%+v) = %v, want %v (used %d CPU, %d bytes)", l, ok, want, a.usedCPU, a.usedMemory)
		}
		if ok {
			releases = append(releases, rel)
		}
	}
	take(lim(2, 1024), true)
	take(lim(1, 2048), true)
	take(lim(2, 512), false)  // CPU: 3 + 2 > 4
	take(lim(1, 2048), false) // memory: 3072 + 2048 > 4096
	take(lim(1, 1024), true)  // exactly full
	take(lim(0.5, 1), false)
	releases[0]()
	releases[0]() // twice is harmless
	take(lim(2, 1024), true)
	for _, r := range releases {
		r()
	}
	if a.usedCPU != 0 || a.usedMemory != 0 || a.running != 0 {
		t.Fatalf("after releasing everything: %d CPU, %d bytes, %d running", a.usedCPU, a.usedMemory, a.running)
	}
	// Larger than the whole budget: admitted alone, never alongside.
	take(lim(8, 1024), true)
	take(lim(0.5, 1), false)
	releases[len(releases)-1]()
	// No budget: everything fits; a nil Admission too.
	if _, ok := (&Admission{}).TryAcquire(lim(64, 1<<20)); !ok {
		t.Fatal("an empty budget refused a run")
	}
	if _, ok := (*Admission)(nil).TryAcquire(lim(64, 1<<20)); !ok {
		t.Fatal("a nil admission refused a run")
	}
}
