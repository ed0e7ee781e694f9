package app

import "testing"

func TestMaxWorkers(t *testing.T) {
	base := DefaultConfig() // concurrency 2, 1 CPU and 2 GiB a run
	tests := []struct {
		name        string
		concurrency int
		cpus, mem   int64
		want        int
	}{
		{"no budget", 8, 0, 0, 8},
		{"cpu bound", 8, 3e9, 0, 3},
		{"memory bound", 8, 0, 5 << 30, 2},
		{"concurrency bound", 2, 16e9, 64 << 30, 2},
		{"budget below one run", 4, 5e8, 0, 1},
	}
	for _, tt := range tests {
		cfg := base
		cfg.Concurrency, cfg.WorkerCPUs, cfg.WorkerMemory = tt.concurrency, tt.cpus, tt.mem
		if got := maxWorkers(cfg); got != tt.want {
			t.Errorf("%s: maxWorkers = %d, want %d", tt.name, got, tt.want)
		}
	}
}
