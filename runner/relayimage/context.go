package relayimage

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

const (
	modulePath = "github.com/agentgate/agentgate"
	dockerfile = "deploy/images/relay/Dockerfile"
	binaryPkg  = "./cmd/agentgate"
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
// the Dockerfile and the static agentgate binary. Identical inputs give
// identical bytes.
func buildContext(ctx context.Context, root string) ([]byte, error) {
	df, err := os.ReadFile(filepath.Join(root, dockerfile))
	if err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	bin, err := buildBinary(ctx, root)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	entries := []struct {
		h    *tar.Header
		body []byte
	}{
		{&tar.Header{Name: "Dockerfile", Mode: 0o644, Typeflag: tar.TypeReg}, df},
		{&tar.Header{Name: "rootfs/", Mode: 0o755, Typeflag: tar.TypeDir}, nil},
		{&tar.Header{Name: "rootfs/usr/", Mode: 0o755, Typeflag: tar.TypeDir}, nil},
		{&tar.Header{Name: "rootfs/usr/local/", Mode: 0o755, Typeflag: tar.TypeDir}, nil},
		{&tar.Header{Name: "rootfs/usr/local/bin/", Mode: 0o755, Typeflag: tar.TypeDir}, nil},
		{&tar.Header{Name: "rootfs/usr/local/bin/agentgate", Mode: 0o755, Typeflag: tar.TypeReg}, bin},
	}
	for _, e := range entries {
		e.h.ModTime = time.Unix(0, 0)
		e.h.Format = tar.FormatPAX
		e.h.Size = int64(len(e.body))
		if err := tw.WriteHeader(e.h); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	return buf.Bytes(), nil
}

// buildBinary compiles the static agentgate binary and returns it.
func buildBinary(ctx context.Context, root string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "agentgate-relay-")
	if err != nil {
		return nil, fmt.Errorf("build binary: %w", err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "agentgate")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, binaryPkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build binary: go build: %w: %s", err, tail(string(b), 2000))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("build binary: %w", err)
	}
	return b, nil
}

// lockFile takes an exclusive flock on name in os.TempDir, waiting until it
// is free or ctx ends, and returns the function that releases it. The
// kernel releases the lock if the process dies.
func lockFile(ctx context.Context, name string) (func(), error) {
	path := filepath.Join(os.TempDir(), name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
