package app

import (
	"strings"
	"testing"
)

func TestRoleSettings(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		role    string
		cpus    int64
		mem     int64
		loadErr string // LoadConfig error naming the setting
		valErr  string // ValidateServe error naming the setting
	}{
		{name: "default is all", env: map[string]string{"AGENTGATE_APP_ID": "1", "AGENTGATE_PRIVATE_KEY": testKey}, role: RoleAll},
		{name: "intake needs no app key", args: []string{"--role", "intake"}, role: RoleIntake},
		{name: "worker needs the app key", args: []string{"--role=worker"}, role: RoleWorker, valErr: "private-key"},
		{name: "all needs the app id", env: map[string]string{"AGENTGATE_PRIVATE_KEY": testKey}, role: RoleAll, valErr: "app-id"},
		{name: "flag over environment", args: []string{"--role=worker"}, env: map[string]string{"AGENTGATE_ROLE": "intake", "AGENTGATE_APP_ID": "1", "AGENTGATE_PRIVATE_KEY": testKey}, role: RoleWorker},
		{name: "unknown role", args: []string{"--role", "both"}, loadErr: "setting role"},
		{name: "budget", args: []string{"--role=intake", "--worker-cpus", "1.5", "--worker-memory", "3GiB"}, role: RoleIntake, cpus: 15e8, mem: 3 << 30},
		{name: "bad cpus", args: []string{"--worker-cpus", "-1"}, loadErr: "setting worker-cpus"},
		{name: "bad memory", args: []string{"--worker-memory", "lots"}, loadErr: "setting worker-memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"AGENTGATE_WEBHOOK_SECRET": "s3cret"}
			for k, v := range tt.env {
				vars[k] = v
			}
			cfg, _, err := LoadConfig("serve", tt.args, env(vars), nil)
			if tt.loadErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.loadErr) {
					t.Fatalf("LoadConfig error %v, want one naming %q", err, tt.loadErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Role != tt.role || cfg.WorkerCPUs != tt.cpus || cfg.WorkerMemory != tt.mem {
				t.Errorf("role %q cpus %d memory %d, want %q %d %d", cfg.Role, cfg.WorkerCPUs, cfg.WorkerMemory, tt.role, tt.cpus, tt.mem)
			}
			err = cfg.ValidateServe()
			if tt.valErr == "" && err != nil {
				t.Fatalf("ValidateServe: %v", err)
			}
			if tt.valErr != "" && (err == nil || !strings.Contains(err.Error(), tt.valErr)) {
				t.Fatalf("ValidateServe error %v, want one naming %q", err, tt.valErr)
			}
		})
	}
}
