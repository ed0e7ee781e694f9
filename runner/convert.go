package runner

import (
	"fmt"
	"strconv"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
)

// Paths inside the sandbox (the agent contract).
const (
	WorkspacePath = "/workspace"
	TaskPath      = "/agentgate/task.md"
	OutPath       = "/agentgate/out"
)

// stopTimeoutSeconds is how long Docker waits after SIGTERM on a stop.
const stopTimeoutSeconds = 5

// Convert turns a Spec into Docker configuration. It is pure.
//
// Output is taken by attaching to the container, so the log driver is
// "none": a flooding agent never fills the engine's disk with a json log.
func Convert(spec Spec) (*container.Config, *container.HostConfig, error) {
	spec, err := normalize(spec)
	if err != nil {
		return nil, nil, err
	}
	env := []string{
		"AGENTGATE_TASK_FILE=" + TaskPath,
		"AGENTGATE_RUN_ID=" + spec.RunID,
		"HOME=/tmp",
	}
	env = append(env, spec.Env...)
	stop := stopTimeoutSeconds
	cfg := &container.Config{
		Image:        spec.Image,
		Env:          env,
		WorkingDir:   WorkspacePath,
		User:         spec.User,
		Labels:       labels(spec),
		StopTimeout:  &stop,
		AttachStdout: true,
		AttachStderr: true,
	}
	if len(spec.Cmd) > 0 {
		cfg.Cmd = append([]string(nil), spec.Cmd...)
	}

	mounts := []mount.Mount{
		bind(spec.WorkTree, WorkspacePath, false),
		bind(spec.TaskFile, TaskPath, true),
	}
	if spec.OutDir != "" {
		mounts = append(mounts, bind(spec.OutDir, OutPath, false))
	}
	pids := spec.Limits.Pids
	init := true
	hc := &container.HostConfig{
		NetworkMode:    "none",
		Mounts:         mounts,
		ReadonlyRootfs: true,
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges:true"},
		Tmpfs: map[string]string{
			"/tmp": "rw,noexec,nosuid,nodev,size=" + strconv.FormatInt(spec.Limits.TmpfsBytes, 10),
		},
		Resources: container.Resources{
			Memory:     spec.Limits.MemoryBytes,
			MemorySwap: spec.Limits.MemoryBytes, // equal to Memory: no swap
			NanoCPUs:   spec.Limits.NanoCPUs,
			PidsLimit:  &pids,
		},
		// docker-init as PID 1 reaps the agent's orphans and forwards
		// signals, so a fork bomb's zombies do not pin the pids limit.
		Init:       &init,
		Runtime:    spec.Runtime,
		IpcMode:    "private",
		LogConfig:  container.LogConfig{Type: "none"},
		Privileged: false,
	}
	return cfg, hc, nil
}

// bind is a bind mount of exactly src at dst. Mounts (not Binds strings)
// keep any ':' or ',' in src from being read as options; NonRecursive keeps
// mounts below src out of the sandbox.
func bind(src, dst string, readOnly bool) mount.Mount {
	return mount.Mount{
		Type:     mount.TypeBind,
		Source:   src,
		Target:   dst,
		ReadOnly: readOnly,
		BindOptions: &mount.BindOptions{
			Propagation:  mount.PropagationRPrivate,
			NonRecursive: true,
		},
	}
}

// normalize validates spec and applies defaults.
func normalize(spec Spec) (Spec, error) {
	if err := validate(spec); err != nil {
		return spec, fmt.Errorf("spec: %w", err)
	}
	if spec.User == "" {
		spec.User = DefaultUserID
	}
	l, err := spec.Limits.withDefaults()
	if err != nil {
		return spec, fmt.Errorf("spec: %w", err)
	}
	spec.Limits = l
	return spec, nil
}
