package runner

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
)

func networkSpec() Spec {
	s := baseSpec()
	s.Network = &Network{
		SocketDir:  "/var/lib/agentgate/runs/run-1/sock",
		Ports:      map[int]string{4000: "gateway.sock", 3128: "egress.sock"},
		EgressPort: 3128,
	}
	return s
}

// checkGolden compares cfg and hc, as JSON, with testdata/name.golden.json.
func checkGolden(t *testing.T, name string, cfg *container.Config, hc *container.HostConfig) {
	t.Helper()
	got, err := json.MarshalIndent(map[string]any{"Config": cfg, "HostConfig": hc}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("mismatch for %s (run go test -update after checking):\n%s", path, got)
	}
}

func TestConvertNetworkGolden(t *testing.T) {
	cfg, hc, err := ConvertAgent(networkSpec(), "relay0123456789")
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "convert_network_agent", cfg, hc)
	cfg, hc, err = ConvertRelay(networkSpec())
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "convert_network_relay", cfg, hc)
}

// TestConvertNetworkInvariants checks the security settings of both
// containers directly.
func TestConvertNetworkInvariants(t *testing.T) {
	s := networkSpec()
	cfg, hc, err := ConvertAgent(s, "relay0123456789")
	if err != nil {
		t.Fatal(err)
	}
	if hc.NetworkMode != "container:relay0123456789" || len(hc.PortBindings) != 0 || hc.Privileged || !hc.ReadonlyRootfs {
		t.Errorf("agent network %q privileged %v readonly %v", hc.NetworkMode, hc.Privileged, hc.ReadonlyRootfs)
	}
	for _, m := range hc.Mounts {
		if strings.HasPrefix(m.Source, s.Network.SocketDir) {
			t.Errorf("the socket dir is mounted into the agent: %+v", m)
		}
	}
	for _, want := range []string{"HTTP_PROXY=http://127.0.0.1:3128", "HTTPS_PROXY=http://127.0.0.1:3128", "http_proxy=http://127.0.0.1:3128", "https_proxy=http://127.0.0.1:3128", "NO_PROXY=localhost,127.0.0.1"} {
		if !slices.Contains(cfg.Env, want) {
			t.Errorf("agent env lacks %s: %v", want, cfg.Env)
		}
	}

	rcfg, rhc, err := ConvertRelay(s)
	if err != nil {
		t.Fatal(err)
	}
	if rhc.NetworkMode != "none" || rhc.Privileged || !rhc.ReadonlyRootfs || strings.Join(rhc.CapDrop, ",") != "ALL" || len(rhc.CapAdd) != 0 {
		t.Errorf("relay host config %+v", rhc)
	}
	if strings.Join(rhc.SecurityOpt, ",") != "no-new-privileges:true" || rhc.Memory != relayMemoryBytes || rhc.PidsLimit == nil || *rhc.PidsLimit != relayPids {
		t.Errorf("relay security %v memory %d pids %v", rhc.SecurityOpt, rhc.Memory, rhc.PidsLimit)
	}
	if rcfg.User != DefaultUserID || rcfg.Image != DefaultRelayImage {
		t.Errorf("relay user %q image %q", rcfg.User, rcfg.Image)
	}
	if len(rhc.Mounts) != 1 || rhc.Mounts[0].Source != s.Network.SocketDir || rhc.Mounts[0].Target != RelaySocketPath || !rhc.Mounts[0].ReadOnly {
		t.Errorf("relay mounts %+v", rhc.Mounts)
	}
	if rcfg.Labels[LabelRun] != "run-1" || rcfg.Labels[LabelWorker] != "worker-a" || rcfg.Labels[LabelManaged] != "true" || rcfg.Labels[LabelRole] != "relay" {
		t.Errorf("relay labels %v", rcfg.Labels)
	}
	wantCmd := "relay --egress 127.0.0.1:3128 --probe-host preflight.agentgate.invalid " +
		"--listen 127.0.0.1:3128=/agentgate/sock/egress.sock --listen 127.0.0.1:4000=/agentgate/sock/gateway.sock"
	if got := strings.Join(rcfg.Cmd, " "); got != wantCmd {
		t.Errorf("relay cmd %q, want %q", got, wantCmd)
	}
	if s.Network.RelayImage != "" || len(s.Network.Ports) != 2 {
		t.Errorf("Convert changed the caller's Network: %+v", s.Network)
	}
}

func TestConvertNetworkRejects(t *testing.T) {
	tests := []struct {
		name    string
		mut     func(*Spec)
		wantErr string
	}{
		{"relative socket dir", func(s *Spec) { s.Network.SocketDir = "sock" }, "not absolute"},
		{"no ports", func(s *Spec) { s.Network.Ports = nil }, "no ports"},
		{"port zero", func(s *Spec) { s.Network.Ports[0] = "x.sock" }, "not 1..65535"},
		{"port too big", func(s *Spec) { s.Network.Ports[70000] = "x.sock" }, "not 1..65535"},
		{"socket name with slash", func(s *Spec) { s.Network.Ports[4000] = "../x.sock" }, "plain file name"},
		{"socket name dotdot", func(s *Spec) { s.Network.Ports[4000] = ".." }, "plain file name"},
		{"socket name with equals", func(s *Spec) { s.Network.Ports[4000] = "a=b" }, "plain file name"},
		{"egress port not a port", func(s *Spec) { s.Network.EgressPort = 8080 }, "egress port 8080"},
		{"probe host with space", func(s *Spec) { s.Network.ProbeDeniedHost = "a b\r\nHost: x" }, "not a DNS name"},
		{"relay image blank", func(s *Spec) { s.Network.RelayImage = "a b" }, "relay image"},
		{"env overrides proxy", func(s *Spec) { s.Env = []string{"HTTPS_PROXY=http://evil"} }, "set by the runner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := networkSpec()
			tt.mut(&s)
			if _, _, err := ConvertRelay(s); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ConvertRelay error = %v, want %q", err, tt.wantErr)
			}
			if _, _, err := ConvertAgent(s, "relay1"); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ConvertAgent error = %v, want %q", err, tt.wantErr)
			}
		})
	}
	// The pairing of functions and specs is enforced too.
	if _, _, err := Convert(networkSpec()); err == nil || !strings.Contains(err.Error(), "ConvertAgent") {
		t.Errorf("Convert of a network spec = %v", err)
	}
	if _, _, err := ConvertAgent(baseSpec(), "relay1"); err == nil {
		t.Error("ConvertAgent of a spec without network succeeded")
	}
	if _, _, err := ConvertRelay(baseSpec()); err == nil {
		t.Error("ConvertRelay of a spec without network succeeded")
	}
	if _, _, err := ConvertAgent(networkSpec(), ""); err == nil {
		t.Error("ConvertAgent without a relay id succeeded")
	}
	// Without a network the proxy variables are the caller's business.
	s := baseSpec()
	s.Env = []string{"HTTPS_PROXY=http://127.0.0.1:1"}
	if _, _, err := Convert(s); err != nil {
		t.Errorf("Convert without network rejected HTTPS_PROXY: %v", err)
	}
}
