package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/telemetry"
)

// discardEvents records nothing.
type discardEvents struct{}

func (discardEvents) Append(_ context.Context, ev telemetry.Event) (telemetry.Event, error) {
	return ev, nil
}

// TestRunNetworkSocketsPrivate: the run's socket directory and its egress
// and gateway sockets belong to agentgate and the sandbox user's group
// (0710 and 0660), so no other user of the host reaches the run's egress
// proxy or LLM gateway (TestSocketDirPrivate in runner connects as other
// users; the runner's network tests show the relay still connects).
func TestRunNetworkSocketsPrivate(t *testing.T) {
	_, gid, err := runner.UserIDs(runner.DefaultUser())
	if err != nil {
		t.Fatal(err)
	}
	s := &Sandbox{WorkerID: "socket-test", Events: discardEvents{}}
	n, err := s.startNetwork(context.Background(), "run-1", NetworkConfig{
		Mode: "relay", AnthropicURL: "http://127.0.0.1:1", AnthropicKey: "test-key-0123456789",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	want := map[string]os.FileMode{
		n.spec.SocketDir: os.ModeDir | 0o710,
		filepath.Join(n.spec.SocketDir, "egress.sock"):  os.ModeSocket | 0o660,
		filepath.Join(n.spec.SocketDir, "gateway.sock"): os.ModeSocket | 0o660,
	}
	for p, mode := range want {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); fi.Mode() != mode || int(st.Gid) != gid {
			t.Errorf("%s: %v group %d, want %v group %d", filepath.Base(p), fi.Mode(), st.Gid, mode, gid)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(n.spec.SocketDir); !os.IsNotExist(err) {
		t.Errorf("socket directory left after Close: %v", err)
	}
}
