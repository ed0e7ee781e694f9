package stubagent

import (
	"context"

	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/internal/imagebuild"
)

// Image is the tag of the stub image.
const Image = "agentgate/stub:dev"

// RecordFile is where the stub writes its Record when /agentgate/out is
// writable; it always prints the Record as one line prefixed by
// StdoutPrefix too.
const RecordFile = "/agentgate/out/record.json"

// WriteDirective in a task asks a contract stub (codex, claude, aider) to
// do work: "stub:write=README.md" makes it call the gateway the way its
// CLI does, write the model's reply to that work-tree path and report it
// in its CLI's event stream. Without it the stub only checks how it was
// started and records it.
const WriteDirective = "stub:write="

// StdoutPrefix starts the line on standard output that holds the Record.
const StdoutPrefix = "agentgate-stub-record: "

// Spec is what the stub image is made of: the static recorder, installed
// under every preset's program name, the host's busybox for the presets'
// /bin/sh wrapper, and deploy/images/stub/Dockerfile.
var Spec = imagebuild.Spec{
	Name:       "stub",
	Image:      Image,
	Dockerfile: "deploy/images/stub/Dockerfile",
	Package:    "./internal/stubagent/cmd/stubagent",
	Binary:     "usr/local/bin/stubagent",
	Busybox:    true,
	TmpDir:     true,
}

// EnsureImage makes sure the stub image exists and matches the current
// sources, building it when needed (see imagebuild.Ensure).
func EnsureImage(ctx context.Context, cli client.APIClient) (string, error) {
	return imagebuild.Ensure(ctx, cli, Spec)
}

// Record is what the stub saw when it started.
//
// The fields that prove how the agent was started come last: a sandbox
// keeps only the tail of a long output, and the test reads it from there.
type Record struct {
	// Init is the argv of the container's PID 1 (docker-init followed by
	// "--" and the command the container was created with, before any
	// shell wrapper exec'd the stub).
	Init []string `json:"init"`
	// InitEnv is PID 1's environment: exactly what the container was
	// created with (a shell wrapper may add PWD and SHLVL for the agent).
	InitEnv []string `json:"init_env"`
	Env     []string `json:"env"`    // os.Environ(), in order
	UID     int      `json:"uid"`    // real uid
	GID     int      `json:"gid"`    // real gid
	Groups  []int    `json:"groups"` // supplementary groups
	Cwd     string   `json:"cwd"`    // working directory
	Mounts  []Mount  `json:"mounts"` // from /proc/self/mountinfo
	Stdin   string   `json:"stdin"`  // standard input, at most 64 KiB
	Files   []string `json:"files"`  // regular files under /agentgate (paths)
	Errors  []string `json:"errors"` // what the stub could not read
	Argv    []string `json:"argv"`   // os.Args, argv[0] as the program was called
}

// Mount is one mount point the stub can see.
type Mount struct {
	Target  string `json:"target"`
	FSType  string `json:"fstype"`
	Options string `json:"options"` // per-mount options, e.g. "ro,nosuid"
}
