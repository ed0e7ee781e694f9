package testagent

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

const (
	modulePath = "github.com/agentgate/agentgate"
	dockerfile = "deploy/images/testagent/Dockerfile"
	agentPkg   = "./internal/testagent/cmd/testagent"
	busyboxBin = "/bin/busybox"
)

// moduleRoot walks up from the working directory to agentgate's go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && isModule(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("module root: no go.mod of %s above the working directory", modulePath)
		}
		dir = parent
	}
}

func isModule(gomod []byte) bool {
	for _, l := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "module" {
			return f[1] == modulePath
		}
	}
	return false
}

// buildContext returns the docker build context as a deterministic tar:
// the Dockerfile, the static agent and, when the host has it, busybox with
// a symlink per applet. Identical inputs give identical bytes.
func buildContext(ctx context.Context, root string) ([]byte, error) {
	df, err := os.ReadFile(filepath.Join(root, dockerfile))
	if err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	agent, err := buildAgent(ctx, root)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body []byte) error {
		h.ModTime = time.Unix(0, 0)
		h.Format = tar.FormatPAX
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	entries := []struct {
		h    *tar.Header
		body []byte
	}{
		{&tar.Header{Name: "Dockerfile", Mode: 0o644, Typeflag: tar.TypeReg}, df},
		{&tar.Header{Name: "rootfs/", Mode: 0o755, Typeflag: tar.TypeDir}, nil},
		{&tar.Header{Name: "rootfs/tmp/", Mode: 0o1777, Typeflag: tar.TypeDir}, nil},
		{&tar.Header{Name: "rootfs/usr/", Mode: 0o755, Typeflag: tar.TypeDir}, nil},
		{&tar.Header{Name: "rootfs/usr/local/", Mode: 0o755, Typeflag: tar.TypeDir}, nil},
		{&tar.Header{Name: "rootfs/usr/local/bin/", Mode: 0o755, Typeflag: tar.TypeDir}, nil},
		{&tar.Header{Name: "rootfs/usr/local/bin/testagent", Mode: 0o755, Typeflag: tar.TypeReg}, agent},
	}
	for _, e := range entries {
		if err := add(e.h, e.body); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
	}
	if err := addBusybox(ctx, add); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	return buf.Bytes(), nil
}

// buildAgent compiles the static test agent and returns the binary.
func buildAgent(ctx context.Context, root string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "agentgate-testagent-")
	if err != nil {
		return nil, fmt.Errorf("build agent: %w", err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "testagent")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, agentPkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build agent: go build: %w: %s", err, tail(string(b), 2000))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("build agent: %w", err)
	}
	return b, nil
}

// addBusybox adds the host's busybox and its applet symlinks, if present.
func addBusybox(ctx context.Context, add func(*tar.Header, []byte) error) error {
	fi, err := os.Stat(busyboxBin)
	if err != nil || !fi.Mode().IsRegular() {
		return nil // optional
	}
	bin, err := os.ReadFile(busyboxBin)
	if err != nil {
		return fmt.Errorf("busybox: %w", err)
	}
	list, err := exec.CommandContext(ctx, busyboxBin, "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	applets := strings.Fields(string(list))
	sort.Strings(applets)
	if err := add(&tar.Header{Name: "rootfs/bin/", Mode: 0o755, Typeflag: tar.TypeDir}, nil); err != nil {
		return err
	}
	if err := add(&tar.Header{Name: "rootfs/bin/busybox", Mode: 0o755, Typeflag: tar.TypeReg}, bin); err != nil {
		return err
	}
	for _, a := range applets {
		if a == "busybox" || strings.ContainsAny(a, "/\x00") || a == "." || a == ".." {
			continue
		}
		if err := add(&tar.Header{Name: "rootfs/bin/" + a, Linkname: "busybox", Mode: 0o777, Typeflag: tar.TypeSymlink}, nil); err != nil {
			return err
		}
	}
	return nil
}
