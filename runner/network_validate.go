package runner

import (
	"fmt"
	"regexp"
	"strings"
)

// proxyEnv are set by the runner when the sandbox has a relayed network.
var proxyEnv = []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy"}

// hostName is a DNS name the pre-flight may put in a CONNECT line.
var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// validateNetwork checks a Network section; env is the agent's extra env.
func validateNetwork(n *Network, env []string) error {
	if err := checkHostPath("network socket dir", n.SocketDir); err != nil {
		return err
	}
	if n.RelayImage != "" && strings.ContainsAny(n.RelayImage, " \t\r\n\x00") {
		return fmt.Errorf("relay image %q is not an image reference", n.RelayImage)
	}
	if len(n.Ports) == 0 {
		return fmt.Errorf("network has no ports")
	}
	for port, name := range n.Ports {
		if port < 1 || port > 65535 {
			return fmt.Errorf("network port %d is not 1..65535", port)
		}
		if name == "" || name == "." || name == ".." || len(name) > 100 || strings.ContainsAny(name, "/=,\x00") {
			return fmt.Errorf("network socket name %q for port %d is not a plain file name", name, port)
		}
	}
	if _, ok := n.Ports[n.EgressPort]; !ok {
		return fmt.Errorf("network egress port %d is not one of its ports", n.EgressPort)
	}
	if n.ProbeDeniedHost != "" && (len(n.ProbeDeniedHost) > 253 || !hostName.MatchString(n.ProbeDeniedHost)) {
		return fmt.Errorf("network probe host %q is not a DNS name", n.ProbeDeniedHost)
	}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		for _, p := range proxyEnv {
			if k == p {
				return fmt.Errorf("env %s is set by the runner when the sandbox has a network", k)
			}
		}
	}
	return nil
}

// withDefaults returns a copy of n with its defaults applied.
func (n Network) withDefaults() *Network {
	if n.RelayImage == "" {
		n.RelayImage = DefaultRelayImage
	}
	if n.ProbeDeniedHost == "" {
		n.ProbeDeniedHost = DefaultProbeDeniedHost
	}
	ports := make(map[int]string, len(n.Ports))
	for p, s := range n.Ports {
		ports[p] = s
	}
	n.Ports = ports
	return &n
}
