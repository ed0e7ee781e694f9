package runner

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
)

// Paths inside the sandbox (the agent contract).
const (
	WorkspacePath = "/workspace"
	TaskPath      = "/agentgate/task.md"
	OutPath       = "/agentgate/out"
	CAPath        = "/agentgate/ca-bundle.pem"
)

// CAEnv are the variables that name a CA bundle for the usual clients:
// OpenSSL and Go (SSL_CERT_FILE), curl, git, Node, Python requests, pip,
// cargo.
var CAEnv = []string{"SSL_CERT_FILE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "NODE_EXTRA_CA_CERTS",
	"REQUESTS_CA_BUNDLE", "PIP_CERT", "CARGO_HTTP_CAINFO"}

// stopTimeoutSeconds is how long Docker waits after SIGTERM on a stop.
const stopTimeoutSeconds = 5

// Convert turns a Spec without Network into Docker configuration: the
// agent gets NetworkMode none. It is pure. A Spec with Network is converted
// by ConvertAgent and ConvertRelay.
//
// Output is taken by attaching to the container, so the log driver is
// "none": a flooding agent never fills the engine's disk with a json log.
func Convert(spec Spec) (*container.Config, *container.HostConfig, error) {
	if spec.Network != nil {
		return nil, nil, fmt.Errorf("spec: the agent of a spec with a network joins its relay; use ConvertAgent")
	}
	return convertAgent(spec, "")
}

// ConvertAgent turns a Spec with Network into the agent's Docker
// configuration: it joins the network namespace of the relay container
// relayID, and its proxy variables point at the relay's egress port. It is
// pure.
func ConvertAgent(spec Spec, relayID string) (*container.Config, *container.HostConfig, error) {
	if spec.Network == nil {
		return nil, nil, fmt.Errorf("spec: no network; use Convert")
	}
	if err := checkID("relay container id", relayID); err != nil {
		return nil, nil, fmt.Errorf("spec: %w", err)
	}
	return convertAgent(spec, relayID)
}

// convertAgent is Convert (relayID "") or ConvertAgent.
func convertAgent(spec Spec, relayID string) (*container.Config, *container.HostConfig, error) {
	spec, err := normalize(spec)
	if err != nil {
		return nil, nil, err
	}
	env := []string{
		"AGENTGATE_TASK_FILE=" + TaskPath,
		"AGENTGATE_RUN_ID=" + spec.RunID,
		"HOME=/tmp",
	}
	networkMode := container.NetworkMode("none")
	if relayID != "" {
		networkMode = container.NetworkMode("container:" + relayID)
		env = append(env, proxyVars(spec.Network.EgressPort)...)
	}
	for _, kv := range spec.Env {
		k, _, _ := strings.Cut(kv, "=")
		if spec.CAFile != "" && slices.Contains(CAEnv, k) {
			continue // the run's CA bundle names these
		}
		env = append(env, kv)
	}
	env = append(env, spec.CanaryEnv...)
	if spec.CAFile != "" {
		for _, k := range CAEnv {
			env = append(env, k+"="+CAPath)
		}
	}
	env = append(env, spec.SecretEnv...)
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
		// The command is the whole argv: it replaces the image's
		// entrypoint too, so an agent preset runs exactly what it says.
		cfg.Entrypoint = []string{spec.Cmd[0]}
		cfg.Cmd = append([]string{}, spec.Cmd[1:]...)
	}

	mounts := []mount.Mount{
		bind(spec.WorkTree, WorkspacePath, false),
		bind(spec.TaskFile, TaskPath, true),
	}
	if spec.OutDir != "" {
		mounts = append(mounts, bind(spec.OutDir, OutPath, false))
	}
	if spec.CAFile != "" {
		mounts = append(mounts, bind(spec.CAFile, CAPath, true))
	}
	for _, dst := range slices.Sorted(maps.Keys(spec.Files)) {
		mounts = append(mounts, bind(spec.Files[dst], dst, true))
	}
	pids := spec.Limits.Pids
	init := true
	hc := &container.HostConfig{
		NetworkMode:    networkMode,
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
		return spec, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	if spec.User == "" {
		spec.User = DefaultUserID
	}
	l, err := spec.Limits.withDefaults()
	if err != nil {
		return spec, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	spec.Limits = l
	if spec.Network != nil {
		spec.Network = spec.Network.withDefaults()
	}
	return spec, nil
}
