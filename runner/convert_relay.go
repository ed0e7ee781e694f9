package runner

import (
	"fmt"
	"path"
	"sort"
	"strconv"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
)

// RelaySocketPath is where the relay container sees Network.SocketDir.
const RelaySocketPath = "/agentgate/sock"

// LabelRole marks the relay container of a run with "relay".
const LabelRole = "dev.agentgate.role"

// ConvertRelay turns a Spec with Network into the relay container's Docker
// configuration: NetworkMode none, the sandbox user, no capabilities,
// no-new-privileges, a read-only root, small memory and pids limits, and
// the socket directory read-only at RelaySocketPath as its only host path.
// It is pure.
func ConvertRelay(spec Spec) (*container.Config, *container.HostConfig, error) {
	if spec.Network == nil {
		return nil, nil, fmt.Errorf("spec: no network, no relay")
	}
	spec, err := normalize(spec)
	if err != nil {
		return nil, nil, err
	}
	n := spec.Network
	ports := make([]int, 0, len(n.Ports))
	for p := range n.Ports {
		ports = append(ports, p)
	}
	sort.Ints(ports)
	// "relay" first: relay images built before agentgate-relay run the
	// agentgate binary, whose relay command it names; agentgate-relay
	// accepts it too, so a worker and a relay image pinned by digest need
	// not be upgraded together.
	cmd := []string{"relay", "--egress", loopback(n.EgressPort), "--probe-host", n.ProbeDeniedHost}
	for _, p := range ports {
		cmd = append(cmd, "--listen", loopback(p)+"="+path.Join(RelaySocketPath, n.Ports[p]))
	}
	lbl := labels(spec)
	lbl[LabelRole] = "relay"
	stop := 1
	cfg := &container.Config{
		Image:        n.RelayImage,
		Cmd:          cmd,
		User:         spec.User,
		Labels:       lbl,
		StopTimeout:  &stop,
		AttachStdout: true,
		AttachStderr: true,
	}
	pids := int64(relayPids)
	hc := &container.HostConfig{
		NetworkMode:    "none",
		Mounts:         []mount.Mount{bind(n.SocketDir, RelaySocketPath, true)},
		ReadonlyRootfs: true,
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges:true"},
		Resources: container.Resources{
			Memory:     relayMemoryBytes,
			MemorySwap: relayMemoryBytes,
			NanoCPUs:   relayNanoCPUs,
			PidsLimit:  &pids,
		},
		Runtime:    spec.Runtime,
		IpcMode:    "private",
		LogConfig:  container.LogConfig{Type: "none"},
		Privileged: false,
	}
	return cfg, hc, nil
}

// proxyVars is the agent's proxy environment for the relay's egress port.
func proxyVars(port int) []string {
	u := "http://" + loopback(port)
	return []string{
		"HTTP_PROXY=" + u, "HTTPS_PROXY=" + u, "http_proxy=" + u, "https_proxy=" + u,
		"NO_PROXY=localhost,127.0.0.1", "no_proxy=localhost,127.0.0.1",
	}
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
