package deploy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/agentgate/agentgate/internal/dockertest"
)

// TestDockerfileBuildsAndRuns builds deploy/Dockerfile with deploy/build.sh
// (a static binary from this machine on FROM scratch: nothing is
// pulled), runs `agentgate --help` in it and checks the image's user,
// entrypoint and CA bundle.
func TestDockerfileBuildsAndRuns(t *testing.T) {
	cli := dockertest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Skipf("no CA bundle on this machine to copy into the image: %v", err)
	}
	// The README's command, deploy/build.sh, with its optional tag so that
	// the test's image is its own.
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	tag := "agentgate-deploytest:" + hex.EncodeToString(suffix)
	t.Cleanup(func() {
		_, _ = cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	script := exec.CommandContext(ctx, "deploy/build.sh", tag)
	script.Dir = ".."
	logs, err := script.CombinedOutput()
	if err != nil {
		t.Fatalf("deploy/build.sh %s: %v\n%s", tag, err, logs)
	}

	insp, err := cli.ImageInspect(ctx, tag)
	if err != nil {
		t.Fatalf("inspect %s: %v\nbuild output:\n%s", tag, err, logs)
	}
	if insp.Config.User != "65532:65532" {
		t.Errorf("image user %q, want 65532:65532 (intake runs unprivileged)", insp.Config.User)
	}
	if got := strings.Join(insp.Config.Entrypoint, " "); got != "/agentgate" {
		t.Errorf("entrypoint %q, want /agentgate", got)
	}
	if len(insp.RootFS.Layers) != 2 {
		t.Errorf("image has %d layers, want 2 on scratch (CA bundle, binary)", len(insp.RootFS.Layers))
	}

	created, err := cli.ContainerCreate(ctx, &container.Config{Image: tag, Cmd: []string{"--help"}, Labels: map[string]string{"agentgate.test": "deploy"}},
		&container.HostConfig{NetworkMode: "none", ReadonlyRootfs: true, CapDrop: []string{"ALL"}}, nil, nil, "")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() {
		_ = cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	})
	if st, err := cli.ContainerStatPath(ctx, created.ID, "/etc/ssl/certs/ca-certificates.crt"); err != nil || st.Size != int64(len(ca)) {
		t.Errorf("CA bundle in the image: %+v, %v", st, err)
	}
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start: %v", err)
	}
	waitC, errC := cli.ContainerWait(ctx, created.ID, container.WaitConditionNotRunning)
	var code int64
	select {
	case w := <-waitC:
		code = w.StatusCode
	case err := <-errC:
		t.Fatalf("wait: %v", err)
	}
	rc, err := cli.ContainerLogs(ctx, created.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	defer rc.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, rc); err != nil {
		t.Fatalf("logs: %v", err)
	}
	if code != 0 {
		t.Errorf("agentgate --help exited %d: %s%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"Usage:", "agentgate serve"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("agentgate --help printed no %q:\n%s", want, stdout.String())
		}
	}
}
