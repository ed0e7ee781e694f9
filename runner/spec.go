package runner

import "time"

// Spec is everything needed to run one agent in the sandbox. It is plain
// data: Convert turns it into Docker configuration without I/O.
type Spec struct {
	RunID    string // labels every Docker object of the run
	WorkerID string // labels every Docker object of the run; the sweep key

	Image string   // agent image (must exist locally; never pulled)
	Cmd   []string // the whole argv (replaces the image's entrypoint); empty = the image's default
	Env   []string // extra KEY=VALUE for the agent (never secrets)
	// SecretEnv is KEY=VALUE handed to a setup phase only (the operator's
	// setup secrets): never to an agent. Each value is masked in the
	// output.
	SecretEnv []string

	// WorkTree is the host directory bind-mounted read-write at /workspace.
	WorkTree string
	// TaskFile is the host file bind-mounted read-only at /agentgate/task.md.
	TaskFile string
	// OutDir is the host directory mounted read-write at /agentgate/out
	// (the agent may write summary.md there). Optional.
	OutDir string
	// CAFile, when set, is a host PEM file (the run's inspection CA
	// bundled with the system roots) bind-mounted read-only at CAPath and
	// named in every variable of CAEnv, so common clients trust it.
	CAFile string
	// CanaryEnv is KEY=VALUE of the run's planted canaries: fake
	// credentials shaped like real ones (so Env's credential check does
	// not apply to them), which the egress proxy and the LLM gateway
	// refuse to let out.
	CanaryEnv []string
	// Files are host files bind-mounted read-only into the sandbox, keyed
	// by their absolute path inside it, which must lie under /tmp (HOME)
	// (the run's planted canaries, e.g. /tmp/.npmrc).
	Files map[string]string

	// Runtime is the OCI runtime: "" (runc) or "runsc".
	Runtime string
	// User is the uid:gid the agent runs as (default "65532:65532").
	User string

	Limits Limits

	// Network, when set, relays the loopback ports of Network.Ports to
	// Unix sockets on the host; nil keeps the sandbox without any network.
	Network *Network
}

// Limits bound what one run may use.
type Limits struct {
	Timeout     time.Duration // wall clock for the agent (default 30m)
	MemoryBytes int64         // default 2 GiB
	NanoCPUs    int64         // default 1 CPU
	Pids        int64         // default 256
	TmpfsBytes  int64         // /tmp size, default 256 MiB
	OutputBytes int64         // output kept, default 1 MiB; the rest is counted and dropped
}

// Result is what a finished sandbox run reports.
type Result struct {
	ExitCode     int
	TimedOut     bool
	OOMKilled    bool
	Output       []byte // stdout+stderr, at most Limits.OutputBytes, secrets masked
	OutputBytes  int64  // total bytes the agent wrote
	DroppedBytes int64  // bytes counted but not kept
	StartedAt    time.Time
	FinishedAt   time.Time
	// LimitsHit names each limit the run ran into: "timeout", "memory",
	// "output", "pids", "disk".
	LimitsHit []string
}

// Network gives the agent a relayed network: loopback ports inside the
// sandbox forwarded to Unix sockets on the host. The agent shares the
// network namespace of the run's relay container, which has no interface
// but loopback; nothing else is reachable.
type Network struct {
	// SocketDir is the host directory holding the sockets (e.g.
	// egress.sock, gateway.sock); bind-mounted read-only into the relay
	// only, at RelaySocketPath. The sockets must be connectable by the
	// sandbox user (Spec.User).
	SocketDir string
	// RelayImage is the relay image (default DefaultRelayImage).
	RelayImage string
	// Ports maps a loopback port in the sandbox to a socket file name in
	// SocketDir, e.g. {3128: "egress.sock", 4000: "gateway.sock"}.
	Ports map[int]string
	// ProbeDeniedHost is a host the egress proxy must refuse: the relay's
	// pre-flight sends CONNECT to it on port 443 and wants 403 (default
	// DefaultProbeDeniedHost).
	ProbeDeniedHost string
	// EgressPort is the port of Ports that leads to the egress proxy; the
	// agent's HTTP_PROXY and the pre-flight use it.
	EgressPort int
}
