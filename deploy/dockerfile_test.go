package deploy_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/agentgate/agentgate/internal/dockertest"
)

// TestDockerfileBuildsAndRuns builds deploy/Dockerfile as deploy/build.sh
// does (a static binary from this machine on FROM scratch: nothing is
// pulled), runs `agentgate --help` in it and checks the image's user,
// entrypoint and CA bundle.
func TestDockerfileBuildsAndRuns(t *testing.T) {
	cli := dockertest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	dir := t.TempDir()
	gobuild := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "agentgate"), "./cmd/agentgate")
	gobuild.Dir = ".."
	gobuild.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := gobuild.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Skipf("no CA bundle on this machine to copy into the image: %v", err)
	}
	dockerfile, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "agentgate"))
	if err != nil {
		t.Fatal(err)
	}
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, dockerfile}, {"ca-certificates.crt", 0o644, ca}, {"agentgate", 0o755, bin}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}

	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	tag := "agentgate-deploytest:" + hex.EncodeToString(suffix)
	resp, err := cli.ImageBuild(ctx, &tarball, build.ImageBuildOptions{
		Tags: []string{tag}, Remove: true, ForceRemove: true, PullParent: false,
		Labels: map[string]string{"agentgate.test": "deploy"},
	})
	if err != nil {
		t.Fatalf("image build: %v", err)
	}
	t.Cleanup(func() {
		_, _ = cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	logs, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	dec := json.NewDecoder(bytes.NewReader(logs))
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err != nil {
			break
		}
		if msg.Error != "" {
			t.Fatalf("image build: %s\n%s", msg.Error, logs)
		}
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
