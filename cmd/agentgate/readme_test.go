package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/mdcheck"
	"github.com/agentgate/agentgate/internal/pgtest"
	"github.com/agentgate/agentgate/internal/testagent"
	"github.com/agentgate/agentgate/runner/relayimage"
	"github.com/agentgate/agentgate/store"
)

// The README tests run the commands of README.md and docs/ as a new user
// would: the built binary, the command line as the page writes it, no path flag,
// from a fresh empty directory as the working directory. They prove that
// the defaults work from anywhere: every path is absolute and every
// directory exists before anything opens it.

var (
	plainBinOnce sync.Once
	plainBin     string
	plainBinErr  error
)

// plainBinary builds agentgate as users do (no test tags), once per test
// binary; TestMain removes it.
func plainBinary(t *testing.T) string {
	t.Helper()
	plainBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "agentgate-bin-")
		if err != nil {
			plainBinErr = err
			return
		}
		plainBin = filepath.Join(dir, "agentgate")
		cmd := exec.Command("go", "build", "-o", plainBin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			plainBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if plainBinErr != nil {
		t.Fatal(plainBinErr)
	}
	return plainBin
}

// docFiles are the documents whose commands these tests run as written:
// README.md and every page of the manual in docs/, README first.
func docFiles(t *testing.T) []string {
	t.Helper()
	docs, err := mdcheck.Documents("../..")
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// readDoc is the text of one of docFiles.
func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeLine is the first line of the documents (README.md, then docs/)
// matching re (anchored at a line's start), with the submatches.
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

// docSection is the text of the documents from the heading line on, in
// the one document (README.md or a page of docs/) that holds it.
func docSection(t *testing.T, heading string) string {
	t.Helper()
	for _, name := range docFiles(t) {
		s := readDoc(t, name)
		if i := strings.Index(s, "\n"+heading+"\n"); i >= 0 {
			return s[i+1:]
		}
	}
	t.Fatalf("neither README.md nor docs/*.md has the heading %q", heading)
	return ""
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

// checkEmpty fails when a command wrote into its working directory.
func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("the command wrote %s into its working directory %s", e.Name(), dir)
	}
}

func TestREADMELocalRunFromFreshDirectory(t *testing.T) {
	cli := dockertest.Client(t)
	dockertest.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := testagent.EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	if _, err := relayimage.EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	bin := plainBinary(t)
	// go run ./cmd/agentgate run --repo ~/src/myproj --task "agentgate-test: write NOTES.md hello"
	args := readmeLine(t, `go run \./cmd/agentgate (run --repo ~/src/myproj --task .*)`)[1]

	root := t.TempDir()
	home, state, cwd := filepath.Join(root, "home"), filepath.Join(root, "state"), filepath.Join(root, "cwd")
	repo := filepath.Join(home, "src", "myproj")
	for _, d := range []string{repo, cwd} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=u", "-c", "user.email=u@example.test"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	git("commit", "-q", "--allow-empty", "-m", "init")

	// The line as written, through a shell (which expands ~), with the
	// built binary for `go run ./cmd/agentgate`.
	cmd := exec.CommandContext(ctx, "sh", "-c", bin+" "+args)
	cmd.Dir = cwd
	cmd.Env = userEnv(home, state)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("agentgate %s: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
	}
	m := regexp.MustCompile(`Branch (agentgate/local-[0-9a-f-]+) \(commit`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no branch reported:\n%s", stdout.String())
	}
	if got := git("show", m[1]+":NOTES.md"); got != "hello" {
		t.Errorf("NOTES.md on %s = %q, want hello", m[1], got)
	}
	checkEmpty(t, cwd)
	for _, f := range []string{"agentgate.db", "audit.key"} {
		if _, err := os.Stat(filepath.Join(state, "agentgate", f)); err != nil {
			t.Errorf("default state directory: %v", err)
		}
	}

	// The audit trail of that run is found from any other directory.
	other := t.TempDir()
	runID := strings.TrimPrefix(m[1], "agentgate/local-")
	for _, sub := range [][]string{{"audit", "verify"}, {"audit", "show", runID}} {
		c := exec.CommandContext(ctx, bin, sub...)
		c.Dir = other
		c.Env = userEnv(home, state)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Errorf("agentgate %s from %s: %v\n%s", strings.Join(sub, " "), other, err, out)
		}
		if sub[1] == "show" && !strings.Contains(string(out), "git.pushed") {
			t.Errorf("agentgate audit show %s does not show the run's push:\n%s", runID, out)
		}
	}
	checkEmpty(t, other)
}

func TestREADMEServeFromFreshDirectory(t *testing.T) {
	cli := dockertest.Client(t)
	dockertest.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := testagent.EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	if _, err := relayimage.EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	bin := plainBinary(t)

	// The Single host section: four exported settings, then
	// `agentgate serve --listen :8080`.
	root := t.TempDir()
	etc := filepath.Join(root, "etc")
	if err := os.MkdirAll(etc, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"AGENTGATE_PRIVATE_KEY_FILE":    pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"AGENTGATE_WEBHOOK_SECRET_FILE": []byte("readme-webhook-secret\n"),
	}
	var settings []string
	section := docSection(t, "### Single host")
	for _, m := range regexp.MustCompile(`(?m)^export (AGENTGATE_[A-Z_]+)=(\S+)$`).FindAllStringSubmatch(section[:strings.Index(section, "agentgate serve --listen")], -1) {
		name, value := m[1], m[2]
		switch {
		case files[name] != nil:
			value = filepath.Join(etc, filepath.Base(value))
			if err := os.WriteFile(value, files[name], 0o600); err != nil {
				t.Fatal(err)
			}
		case name == "AGENTGATE_AGENT_IMAGE":
			value = testagent.Image // my-agent:latest is the reader's
		}
		settings = append(settings, name+"="+value)
	}
	if len(settings) != 4 {
		t.Fatalf("the Single host section exports %q, want the four settings this test knows", settings)
	}
	// Nothing may leave the machine: GitHub is a closed loopback port, and
	// the worker id is the test's so that its start-up sweep touches only
	// its own containers.
	settings = append(settings, "AGENTGATE_GITHUB_API_URL=http://127.0.0.1:9/", "AGENTGATE_WORKER_ID=readme-"+strings.ToLower(rand.Text()[:8]))
	serveArgs := strings.Fields(readmeLine(t, `agentgate (serve --listen :8080)`)[1])

	// The Postgres scale-out section: the same settings plus
	// AGENTGATE_DATABASE_URL, then its two lines.
	intakeArgs := strings.Fields(readmeLine(t, `agentgate (serve --role intake --listen :8080)\s+#.*`)[1])
	workerArgs := strings.Fields(readmeLine(t, `agentgate (worker --worker-id docker-host-1 --audit-key-file /etc/agentgate/audit.key)\s+#.*`)[1])
	// The audit key the section makes once for every replica: only its
	// path differs here.
	sharedKey := filepath.Join(root, "audit.key")
	if _, err := store.LoadAuditKey(sharedKey, true); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		args     []string
		postgres bool
	}{
		{"serve", serveArgs, false},
		{"worker", []string{"worker"}, false},
		{"postgres-intake", intakeArgs, true},
		{"postgres-worker", workerArgs, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			settings := settings
			if tc.postgres {
				settings = append(slices.Clone(settings), "AGENTGATE_DATABASE_URL="+pgtest.NewDatabase(t))
			}
			state, cwd := filepath.Join(root, tc.name, "state"), filepath.Join(root, tc.name, "cwd")
			if err := os.MkdirAll(cwd, 0o755); err != nil {
				t.Fatal(err)
			}
			args := append([]string(nil), tc.args...)
			var addr string
			for i, a := range args {
				if a == "/etc/agentgate/audit.key" {
					args[i] = sharedKey
				}
				if a == ":8080" {
					// Only the port differs: a free loopback one.
					ln, err := net.Listen("tcp", "127.0.0.1:0")
					if err != nil {
						t.Fatal(err)
					}
					addr = ln.Addr().String()
					_ = ln.Close()
					args[i] = addr
				}
			}
			cmd := exec.Command(bin, args...)
			cmd.Dir = cwd
			cmd.Env = userEnv(filepath.Join(root, "home"), state, settings...)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string, 1000)
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					select {
					case lines <- sc.Text():
					default:
					}
				}
				close(lines)
			}()
			exited := make(chan error, 1)
			var log []string
			serving := false
			for deadline := time.After(2 * time.Minute); !serving; {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("agentgate %s exited before serving:\n%s", strings.Join(args, " "), strings.Join(log, "\n"))
					}
					log = append(log, l)
					serving = strings.Contains(l, "agentgate serving")
				case <-deadline:
					_ = cmd.Process.Kill()
					t.Fatalf("agentgate %s not serving after 2m:\n%s", strings.Join(args, " "), strings.Join(log, "\n"))
				}
			}
			go func() {
				for l := range lines {
					_ = l
				}
				exited <- cmd.Wait()
			}()
			if addr != "" {
				ready := false
				for deadline := time.Now().Add(time.Minute); !ready && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
					resp, err := http.Get("http://" + addr + "/readyz")
					if err == nil {
						ready = resp.StatusCode == http.StatusOK
						_ = resp.Body.Close()
					}
				}
				if !ready {
					t.Errorf("GET /readyz never answered 200")
				}
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("agentgate %s after SIGTERM: %v\n%s", strings.Join(args, " "), err, strings.Join(log, "\n"))
				}
			case <-time.After(time.Minute):
				_ = cmd.Process.Kill()
				t.Fatalf("agentgate %s did not drain within a minute of SIGTERM", strings.Join(args, " "))
			}
			checkEmpty(t, cwd)
			if tc.postgres {
				if _, err := os.Stat(filepath.Join(state, "agentgate", "agentgate.db")); err == nil {
					t.Errorf("agentgate %s with a Postgres database-url opened a SQLite database", strings.Join(args, " "))
				}
				return
			}
			for _, f := range []string{"agentgate.db", "audit.key"} {
				if _, err := os.Stat(filepath.Join(state, "agentgate", f)); err != nil {
					t.Errorf("default state directory: %v", err)
				}
			}
		})
	}
}
