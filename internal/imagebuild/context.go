package imagebuild

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

const (
	modulePath = "github.com/agentgate/agentgate"
	busyboxBin = "/bin/busybox"
)

// ModuleRoot walks up from the working directory to agentgate's go.mod.
func ModuleRoot() (string, error) {
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

// BuildContext returns the docker build context of spec as a deterministic
// tar: the Dockerfile, the static binary and, when asked and the host has
// it, busybox with a symlink per applet. Identical inputs give identical
// bytes. The binary is built from the module at root; with root "" it is
// spec.Prebuilt's and the Dockerfile spec.DockerfileText.
func BuildContext(ctx context.Context, root string, spec Spec) ([]byte, error) {
	var df, bin []byte
	var err error
	if root == "" {
		if spec.Prebuilt == nil || spec.DockerfileText == nil {
			return nil, fmt.Errorf("build context: %s: no source tree and no prebuilt binary", spec.Name)
		}
		df = spec.DockerfileText
		if bin, err = prebuiltBinary(spec); err != nil {
			return nil, err
		}
	} else {
		if df, err = os.ReadFile(filepath.Join(root, spec.Dockerfile)); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		if bin, err = buildBinary(ctx, root, spec); err != nil {
			return nil, err
		}
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
	dir := func(name string, mode int64) error {
		return add(&tar.Header{Name: name, Mode: mode, Typeflag: tar.TypeDir}, nil)
	}
	if err := add(&tar.Header{Name: "Dockerfile", Mode: 0o644, Typeflag: tar.TypeReg}, df); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	if err := dir("rootfs/", 0o755); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	if spec.TmpDir {
		if err := dir("rootfs/tmp/", 0o1777); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
	}
	// Every parent directory of the binary, outermost first.
	var parents []string
	for d := path.Dir(spec.Binary); d != "." && d != "/"; d = path.Dir(d) {
		parents = append([]string{d}, parents...)
	}
	for _, d := range parents {
		if err := dir("rootfs/"+d+"/", 0o755); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
	}
	if err := add(&tar.Header{Name: "rootfs/" + spec.Binary, Mode: 0o755, Typeflag: tar.TypeReg}, bin); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	if spec.Busybox {
		if err := addBusybox(ctx, add); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	return buf.Bytes(), nil
}

// buildBinary compiles spec.Package statically and returns the binary.
func buildBinary(ctx context.Context, root string, spec Spec) ([]byte, error) {
	dir, err := os.MkdirTemp("", "agentgate-"+spec.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("build binary: %w", err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "bin")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, spec.Package)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build binary: go build %s: %w: %s", spec.Package, err, tail(string(b), 2000))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("build binary: %w", err)
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
