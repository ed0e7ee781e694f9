package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/mdcheck"
)

// The README tests run the README's commands as a new user would: the
// built binaries (agentgate-demo and, for the commands the demo prints,
// agentgate) on PATH, the command line as the README writes it.

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// binaries builds agentgate-demo and agentgate as users do (no test tags)
// into one directory, once per test binary, and returns it; TestMain
// removes it.
func binaries(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "agentgate-demo-bin-")
		if binErr != nil {
			return
		}
		for name, pkg := range map[string]string{"agentgate-demo": ".", "agentgate": "../agentgate"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, name), pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				binErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// readmeLine is the first line of README.md, then docs/*.md, matching re (anchored at a line's
// start), with the submatches.
func readmeLine(t *testing.T, re string) []string {
	t.Helper()
	m, err := mdcheck.DocLine("../..", re)
	if err != nil {
		t.Fatal(err)
	}
	if m == nil {
		t.Fatalf("neither README.md nor docs/*.md has a line matching %q", re)
	}
	return m
}

// userEnv is the environment of a new user: this process's, without any
// agentgate setting, with HOME and XDG_STATE_HOME of its own (so that the
// default state directory is the test's, also as root) plus extra.
func userEnv(home, state string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AGENTGATE_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_STATE_HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "HOME="+home, "XDG_STATE_HOME="+state), extra...)
}

// readmeShell runs a README line as written through sh, in dir, with the
// built binaries on PATH and env added to the user's.
func readmeShell(ctx context.Context, t *testing.T, dir, line string, env []string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(env, "PATH="+binaries(t)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestREADMEBench runs the Benchmarks section's command from a fresh
// directory with its -dir under the test's directory, plus the documented
// -short -n 1 -only audit so that a test can afford it: -out writes the
// tables into the working directory, -dir keeps the working data.
func TestREADMEBench(t *testing.T) {
	args := readmeLine(t, `go run \./cmd/agentgate-demo (bench -dir /var/tmp/agentgate-bench -out BENCHMARKS-tables\.md)`)[1]
	root := t.TempDir()
	cwd, dir := filepath.Join(root, "cwd"), filepath.Join(root, "agentgate-bench")
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	line := "agentgate-demo " + strings.Replace(args, "/var/tmp/agentgate-bench", dir, 1) + " -short -n 1 -only audit"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := readmeShell(ctx, t, cwd, line, userEnv(filepath.Join(root, "home"), filepath.Join(root, "state")))
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	tables, err := os.ReadFile(filepath.Join(cwd, "BENCHMARKS-tables.md"))
	if err != nil || !strings.Contains(string(tables), "### Audit trail") || !strings.Contains(string(tables), "| appends |") {
		t.Errorf("%s: BENCHMARKS-tables.md = %q, %v", line, tables, err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) == 0 {
		t.Errorf("%s: -dir %s kept nothing: %v", line, dir, err)
	}
}
