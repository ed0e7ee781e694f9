package app

import (
	"fmt"
	"strconv"
)

// Roles of a serve process (setting role).
const (
	// RoleAll is intake and worker in one process (the default).
	RoleAll = "all"
	// RoleIntake is the webhook listener and enqueueing only: no Docker
	// engine, no GitHub App key is used.
	RoleIntake = "intake"
	// RoleWorker works the queue with the Docker engine: no webhook
	// listener (the operator listener stays).
	RoleWorker = "worker"
)

// roleSettings are the scale-out settings (appended to settings()).
func roleSettings() []setting {
	return append([]setting{
		{key: "role", help: "what this process does: all, intake (webhooks to the queue) or worker (queue to sandboxes)", apply: func(c *Config, v string) error {
			switch v {
			case RoleAll, RoleIntake, RoleWorker:
				c.Role = v
				return nil
			}
			return fmt.Errorf("%q is not all, intake or worker", v)
		}},
		{key: "worker-cpus", help: "CPUs this worker gives sandboxes in all (e.g. 4, 1.5); each run's cpus count against it; 0 = no budget", apply: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1e6 {
				return fmt.Errorf("not a CPU count: %q", v)
			}
			c.WorkerCPUs = int64(f * 1e9)
			return nil
		}},
		{key: "worker-memory", help: "memory this worker gives sandboxes in all (e.g. 16GiB); each run's memory counts against it; 0 = no budget", apply: func(c *Config, v string) error {
			n, err := parseSize(v)
			if err != nil {
				return err
			}
			c.WorkerMemory = n
			return nil
		}},
	}, opsSettings()...)
}

// intake reports whether the process serves webhooks.
func (c Config) intake() bool { return c.Role != RoleWorker }

// works reports whether the process works jobs.
func (c Config) works() bool { return c.Role != RoleIntake }
