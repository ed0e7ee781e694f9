package app

import "fmt"

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
	return []setting{
		{key: "role", help: "what this process does: all, intake (webhooks to the queue) or worker (queue to sandboxes)", apply: func(c *Config, v string) error {
			switch v {
			case RoleAll, RoleIntake, RoleWorker:
				c.Role = v
				return nil
			}
			return fmt.Errorf("%q is not all, intake or worker", v)
		}},
	}
}

// intake reports whether the process serves webhooks.
func (c Config) intake() bool { return c.Role != RoleWorker }

// works reports whether the process works jobs.
func (c Config) works() bool { return c.Role != RoleIntake }
