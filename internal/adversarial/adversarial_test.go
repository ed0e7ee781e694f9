package adversarial_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/adversarial"
	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/runner/relayimage"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// realKey is the LLM key the operator configures: it must never be
// readable in the sandbox (the baseline hands it over in the environment,
// as naive runners do).
const realKey = "sk-adversarial-real-upstream-key-5c1e7"

// world is what the attacks aim at: a secret file and a directory on the
// host, listeners on the host's bridge address that stand for "the
// outside" and the metadata service, and another container.
type world struct {
	dir, secret, secretValue string
	tcp, udp                 *listener
	victim                   string // ip:port of another container
	victimName               string
	label                    string
}

// listener counts what reaches a host address.
type listener struct {
	mu    sync.Mutex
	hits  []string
	addr  string
	close func()
}

func (l *listener) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.hits)
}

func (l *listener) reset() {
	l.mu.Lock()
	l.hits = nil
	l.mu.Unlock()
}

func (l *listener) add(s string) {
	l.mu.Lock()
	l.hits = append(l.hits, s)
	l.mu.Unlock()
}

// bridgeIP is the host's address on Docker's default bridge, which every
// container on that bridge can reach.
func bridgeIP(t *testing.T) string {
	t.Helper()
	ifi, err := net.InterfaceByName("docker0")
	if err != nil {
		t.Fatalf("docker0: %v", err)
	}
	addrs, _ := ifi.Addrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
	}
	t.Fatal("docker0 has no IPv4 address")
	return ""
}

func tcpListener(t *testing.T, ip string) *listener {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	l := &listener{addr: ln.Addr().String(), close: func() { ln.Close() }}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(2 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				l.add(strings.TrimSpace(line))
				_, _ = c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: 26\r\n\r\n{\"AccessKeyId\":\"AKIAHOST\"}"))
			}()
		}
	}()
	return l
}

func udpListener(t *testing.T, ip string) *listener {
	t.Helper()
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	l := &listener{addr: pc.LocalAddr().String(), close: func() { pc.Close() }}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			l.add(string(buf[:n]))
		}
	}()
	return l
}

func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=u", "-c", "user.email=u@example.test"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func newRepo(t *testing.T, dir string) string {
	t.Helper()
	if out, err := exec.Command("git", "init", "-q", "-b", "main", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "init")
	return dir
}

func setup(t *testing.T) *world {
	t.Helper()
	cli := dockertest.Client(t)
	dockertest.RequireRoot(t)
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatal("the baseline needs the docker CLI")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := adversarial.EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	if _, err := relayimage.EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	w := &world{label: "dev.agentgate.adversarial=" + rand.Text()[:12]}
	w.dir = filepath.Join(t.TempDir(), "host")
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w.secret = filepath.Join(w.dir, "secret.txt")
	w.secretValue = "HOST-SECRET-" + rand.Text()
	if err := os.WriteFile(w.secret, []byte(w.secretValue+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ip := bridgeIP(t)
	w.tcp, w.udp = tcpListener(t, ip), udpListener(t, ip)
	t.Cleanup(w.tcp.close)
	t.Cleanup(w.udp.close)
	w.victimName = "agentgate-adv-victim-" + strings.ToLower(rand.Text()[:10])
	docker(t, "run", "-d", "--label", w.label, "--name", w.victimName, adversarial.Image, "serve", "0.0.0.0:8080")
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", w.victimName).Run() })
	w.victim = docker(t, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", w.victimName) + ":8080"
	return w
}

// task is the adversary's configuration: the attacks and their targets.
func (w *world) task(attacks string, extra ...string) string {
	lines := []string{
		"attacks: " + attacks,
		"host-secret: " + w.secret,
		"host-dir: " + w.dir,
		"tcp: " + w.tcp.addr,
		"udp: " + w.udp.addr,
		"victim: " + w.victim,
	}
	return strings.Join(append(lines, extra...), "\n") + "\n"
}

func (w *world) victimHits(t *testing.T) int {
	return strings.Count(docker(t, "logs", w.victimName), "accepted")
}

// verdicts maps attack to "ESCAPED"/"BLOCKED" and the whole line.
type verdicts map[string]string

func (v verdicts) add(text string) {
	f := strings.SplitN(text, " ", 4)
	if len(f) >= 3 && f[0] == "ADV" {
		v[f[1]] = strings.Join(f[2:], " ")
	}
}

func (v verdicts) escaped(a string) bool { return strings.HasPrefix(v[a], "ESCAPED") }

// sandboxRun is one attack run through the real sandbox.
type sandboxRun struct {
	res     *app.LocalResult
	events  []telemetry.Event
	said    verdicts
	repo    string
	flags   []string
	changed map[string]bool
	limits  []string
}

func runSandbox(t *testing.T, w *world, task string, adjust func(*app.Config)) *sandboxRun {
	t.Helper()
	dir := t.TempDir()
	repo := newRepo(t, filepath.Join(dir, "repo"))
	cfg := app.DefaultConfig()
	cfg.DatabaseURL = filepath.Join(dir, "a.db")
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.WorkerID = "adversarial-" + strings.ToLower(rand.Text()[:8])
	cfg.AgentImage = adversarial.Image
	cfg.AgentCmd = []string{"/usr/local/bin/adversary"}
	cfg.Limits.Timeout = time.Minute
	cfg.Limits.MemoryBytes = 128 << 20
	cfg.Limits.Pids = 64
	cfg.WorkspaceBytes = 24 << 20
	cfg.WorkspaceInodes = 3000
	cfg.Network.OpenAIURL = "http://127.0.0.1:9" // never reached: the key is what matters
	cfg.Network.OpenAIKey = realKey
	if adjust != nil {
		adjust(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := app.RunLocal(ctx, cfg, app.LocalRun{RepoPath: repo, Task: task}, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	events, err := db.Events(ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	r := &sandboxRun{res: res, events: events, said: verdicts{}, repo: repo, changed: map[string]bool{}}
	for _, ev := range events {
		switch ev.Kind {
		case telemetry.KindAgentMessage:
			s, _ := ev.Attrs["text"].(string)
			r.said.add(s)
		case telemetry.KindPolicyFlagged:
			s, _ := ev.Attrs["reason"].(string)
			r.flags = append(r.flags, s)
		case telemetry.KindFileChanged:
			s, _ := ev.Attrs["path"].(string)
			r.changed[s] = true
		case telemetry.KindLimitHit:
			s, _ := ev.Attrs["limit"].(string)
			r.limits = append(r.limits, s)
		}
	}
	if n := leftovers(t, cfg.WorkerID); n > 0 {
		t.Errorf("%d containers of the run left behind", n)
	}
	t.Logf("sandbox run %s: %s (%s)\nflags: %q\nlimits: %v", res.RunID, res.Outcome, res.Reason, r.flags, r.limits)
	return r
}

func leftovers(t *testing.T, worker string) int {
	out := docker(t, "ps", "-aq", "--filter", "label=dev.agentgate.worker="+worker)
	return len(strings.Fields(out))
}

func (r *sandboxRun) flagged(sub string) bool {
	return slices.ContainsFunc(r.flags, func(f string) bool { return strings.Contains(f, sub) })
}

func (r *sandboxRun) events2(kind string) []telemetry.Event {
	var out []telemetry.Event
	for _, ev := range r.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// baselineRun is the same adversary with nothing in its way: a plain
// `docker run` as root on the default bridge with the repository and the
// host directory bind-mounted, the LLM key in its environment, a proxy
// process beside it in the same container, no limits; then the host's git
// on the tree and a naive reader of the changed files.
type baselineRun struct {
	said     verdicts
	repo     string
	output   string
	duration time.Duration
}

func runBaseline(t *testing.T, w *world, task string) *baselineRun {
	t.Helper()
	repo := newRepo(t, filepath.Join(w.dir, "baseline-repo"))
	taskFile := filepath.Join(w.dir, "baseline-task.md")
	if err := os.WriteFile(taskFile, []byte(task), 0o644); err != nil {
		t.Fatal(err)
	}
	name := "agentgate-adv-baseline-" + strings.ToLower(rand.Text()[:10])
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", name).Run() })
	start := time.Now()
	cmd := exec.Command("docker", "run", "--name", name, "--label", w.label,
		"-u", "0", "-v", w.dir+":"+w.dir, "-v", repo+":/workspace", "-v", taskFile+":/agentgate/task.md:ro",
		"-e", "AGENTGATE_TASK_FILE=/agentgate/task.md", "-e", "OPENAI_API_KEY="+realKey,
		"--entrypoint", "/bin/sh", adversarial.Image,
		"-c", "/usr/local/bin/adversary serve 127.0.0.1:3128 & sleep 0.3; /usr/local/bin/adversary")
	out, err := cmd.CombinedOutput()
	b := &baselineRun{said: verdicts{}, repo: repo, output: string(out), duration: time.Since(start)}
	if err != nil {
		t.Logf("baseline container: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		var m struct{ Text string }
		if json.Unmarshal([]byte(line), &m) == nil {
			b.said.add(m.Text)
		}
	}
	t.Logf("baseline verdicts: %q", b.said)
	return b
}

// hostGit is what a naive host does with the agent's tree: its own git,
// then reading every changed path to post it.
func hostGit(t *testing.T, repo string) string {
	t.Helper()
	var read strings.Builder
	out, _ := exec.Command("git", "-C", repo, "status", "--porcelain").CombinedOutput()
	_ = exec.Command("git", "-C", repo, "-c", "user.name=h", "-c", "user.email=h@example.test", "add", "-A").Run()
	_ = exec.Command("git", "-C", repo, "-c", "user.name=h", "-c", "user.email=h@example.test", "commit", "-q", "-m", "agent").Run()
	for _, l := range strings.Split(string(out), "\n") {
		if len(l) > 3 {
			p := strings.Trim(l[3:], "\"")
			if b, err := os.ReadFile(filepath.Join(repo, p)); err == nil && len(b) < 1<<20 {
				read.Write(b)
			}
		}
	}
	return read.String()
}

func decodeLoot(t *testing.T, hexText string) string {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimSpace(hexText))
	if err != nil {
		t.Fatalf("loot.hex: %v", err)
	}
	return string(b)
}

const cheapAttacks = "read-host write-outside reach-host other-container dns-tunnel symlinks plant-git special-files bad-names workflows kill-relay metadata loot"

// TestAdversarial runs each attack through the real sandbox, asserting
// that it failed and was recorded, and once in the unprotected baseline,
// asserting that it worked there.
func TestAdversarial(t *testing.T) {
	w := setup(t)
	markerFile := filepath.Join(w.dir, "git-ran-agent-code")
	pwned := filepath.Join(w.dir, "pwned-by-agent")

	// The baseline first: every attack works there.
	t.Run("baseline", func(t *testing.T) {
		task := w.task(cheapAttacks+" many-files giant forkbomb balloon flood sleep",
			"files: 5000", "giant: 48000000", "forks: 200", "balloon: 200000000", "flood: 2000000", "sleep: 6")
		b := runBaseline(t, w, task)
		read := hostGit(t, b.repo)
		checks := []struct {
			attack string
			worked bool
		}{
			{"read-host", b.said.escaped("read-host")},
			{"write-outside", fileExists(pwned)},
			{"reach-host", slices.Contains(w.tcp.seen(), "reach-host")},
			{"metadata", slices.ContainsFunc(w.tcp.seen(), func(s string) bool { return strings.Contains(s, "/latest/meta-data/") })},
			{"other-container", w.victimHits(t) > 0},
			{"dns-tunnel", slices.ContainsFunc(w.udp.seen(), func(s string) bool { return strings.Contains(s, "73746f6c656e") })},
			{"symlinks (host reads through them)", strings.Contains(read, w.secretValue)},
			{"plant-git (host git ran agent code)", fileExists(markerFile)},
			{"special-files (root setuid file and device node on the host)", setuidRoot(filepath.Join(b.repo, "suid-sh")) && isDevice(filepath.Join(b.repo, "dev-sda"))},
			{"bad-names", fileExists(filepath.Join(b.repo, "new\nline.txt"))},
			{"kill-relay", b.said.escaped("kill-relay")},
			{"loot", strings.Contains(decodeLoot(t, readFile(filepath.Join(b.repo, "loot.hex"))), realKey) && slices.Contains(lootKeys(t, b.said["loot"]), realKey)},
			{"many-files", b.said.escaped("many-files")},
			{"giant", b.said.escaped("giant")},
			{"forkbomb", b.said.escaped("forkbomb")},
			{"balloon", b.said.escaped("balloon")},
			{"flood", b.said.escaped("flood") && strings.Count(b.output, strings.Repeat("F", 1023)) >= 1900},
			{"sleep", b.said.escaped("sleep") && b.duration >= 6*time.Second},
		}
		for _, c := range checks {
			if !c.worked {
				t.Errorf("baseline: attack %s did not work, so its sandbox test proves nothing", c.attack)
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	for _, p := range []string{pwned, markerFile} {
		_ = os.Remove(p)
	}
	w.tcp.reset()
	w.udp.reset()
	victimBefore := w.victimHits(t)

	t.Run("sandbox/escapes", func(t *testing.T) {
		r := runSandbox(t, w, w.task(cheapAttacks), nil)
		for _, a := range strings.Fields(cheapAttacks) {
			if _, ok := r.said[a]; !ok {
				t.Errorf("%s: no report from the adversary in the run's events", a)
			} else if r.said.escaped(a) {
				t.Errorf("%s escaped: %s", a, r.said[a])
			}
		}
		// Host files: not read, not written.
		if fileExists(pwned) {
			t.Errorf("write-outside: %s exists", pwned)
		}
		// Network: nothing reached the host, the metadata stand-in or the other container.
		if h := w.tcp.seen(); len(h) > 0 {
			t.Errorf("reach-host/metadata: the host listener saw %q", h)
		}
		if h := w.udp.seen(); len(h) > 0 {
			t.Errorf("dns-tunnel: the host resolver stand-in got %d packets", len(h))
		}
		if w.victimHits(t) != victimBefore {
			t.Errorf("other-container: the victim container was reached")
		}
		// The proxy attempt at the metadata stand-in was refused and recorded.
		denied := false
		for _, ev := range r.events2(telemetry.KindNetDenied) {
			if h, _ := ev.Attrs["host"].(string); strings.Contains(w.tcp.addr, h) {
				denied = true
			}
		}
		if !denied {
			t.Errorf("metadata: no net.denied event for %s", w.tcp.addr)
		}
		// The policy refuses symlinks and binary files: nothing reaches a
		// branch, and every skipped or refused entry is on record.
		if r.res.Outcome != sandbox.OutcomeRejected || r.res.Branch != "" {
			t.Errorf("outcome %q branch %q, want rejected by policy without a branch", r.res.Outcome, r.res.Branch)
		}
		if got := gitIn(t, r.repo, "for-each-ref", "--format=%(refname)"); got != "refs/heads/main" {
			t.Errorf("refs after a rejected run: %q", got)
		}
		for _, want := range []string{
			"leak-host-secret\" -> \"" + w.secret + "\" (outside the work tree)", // recorded as a link, never read through
			"`leak-dotgit` is a symlink",
			"nested .git skipped: \"nested/.git\"", "nested .git skipped: \"gitfile/.git\"",
			"special file skipped: fifo",
			"control character in name",
		} {
			if !r.flagged(want) {
				t.Errorf("not flagged: %q in %q", want, r.flags)
			}
		}
		if !strings.Contains(r.said["special-files"], "mknod block: operation not permitted") {
			t.Errorf("special-files: %q", r.said["special-files"])
		}
		for _, ev := range r.events2(telemetry.KindFileChanged) {
			p, _ := ev.Attrs["path"].(string)
			if strings.HasPrefix(p, "dev-") || p == "fifo" || strings.Contains(p, ".git/") || strings.ContainsAny(p, "\n\t\x1b") {
				t.Errorf("harvested %q", p)
			}
			if m, _ := ev.Attrs["mode"].(string); p == "suid-sh" && m != "100755" {
				t.Errorf("suid-sh harvested with mode %q", m)
			}
		}
		all, _ := json.Marshal(r.events)
		if strings.Contains(string(all), w.secretValue) {
			t.Errorf("the host secret is in the audit trail")
		}
		// Planted git metadata never runs on the host, also when the
		// user's own git works in the repository afterwards.
		gitIn(t, r.repo, "status")
		gitIn(t, r.repo, "log", "--oneline")
		if fileExists(markerFile) {
			t.Errorf("plant-git: the host ran the agent's git hook or fsmonitor")
		}
		// .github/workflows: in the change and reported (the policy flags it
		// when the repository protects the path).
		if !r.changed[".github/workflows/evil.yml"] || !strings.Contains(r.res.Summary, ".github/workflows/evil.yml") {
			t.Errorf("workflows: the change to .github/workflows is not reported:\n%s", r.res.Summary)
		}
		// The key: only a placeholder was there to steal.
		keys := lootKeys(t, r.said["loot"])
		if !slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, "agentgate-"+r.res.RunID) }) {
			t.Errorf("loot: the adversary did not even find the placeholder key: %q", keys)
		}
		if slices.Contains(keys, realKey) {
			t.Errorf("loot: the real LLM key was readable in the sandbox")
		}
	})

	t.Run("sandbox/disk", func(t *testing.T) {
		r := runSandbox(t, w, w.task("many-files giant", "files: 20000", "giant: 64000000"), nil)
		for _, a := range []string{"many-files", "giant"} {
			if r.said.escaped(a) || r.said[a] == "" {
				t.Errorf("%s: %q", a, r.said[a])
			}
		}
		// The bounded work tree stopped both; the run is refused, on record.
		if r.res.Outcome != sandbox.OutcomeRejected || len(r.flags) == 0 || !slices.Contains(r.limits, "disk") {
			t.Errorf("outcome %q (%s), flags %q, limits %v: want rejected by policy, flagged, with the disk limit", r.res.Outcome, r.res.Reason, r.flags, r.limits)
		}
	})

	t.Run("sandbox/resources", func(t *testing.T) {
		r := runSandbox(t, w, w.task("forkbomb balloon flood sleep", "forks: 500", "balloon: 300000000", "flood: 4000000", "sleep: 40"), func(c *app.Config) {
			c.Limits.Timeout = 10 * time.Second
			c.Limits.OutputBytes = 64 << 10
		})
		for _, a := range []string{"forkbomb", "balloon"} {
			if r.said.escaped(a) || r.said[a] == "" {
				t.Errorf("%s: %q", a, r.said[a])
			}
		}
		if r.said.escaped("sleep") {
			t.Errorf("sleep: the agent slept past its timeout")
		}
		if r.res.Outcome != sandbox.OutcomeTimedOut {
			t.Errorf("outcome %q, want timed out", r.res.Outcome)
		}
		for _, l := range []string{"timeout", "memory", "output", "pids"} {
			if !slices.Contains(r.limits, l) {
				t.Errorf("limit %q not reported: %v", l, r.limits)
			}
		}
	})
}

// lootKeys decodes the key-shaped strings the adversary reported.
func lootKeys(t *testing.T, said string) []string {
	t.Helper()
	_, list, _ := strings.Cut(said, "key-shaped: ")
	var out []string
	for _, h := range strings.Split(strings.TrimSpace(list), ",") {
		if b, err := hex.DecodeString(h); err == nil && len(b) > 0 {
			out = append(out, string(b))
		}
	}
	return out
}

func fileExists(p string) bool { _, err := os.Lstat(p); return err == nil }

func readFile(p string) string { b, _ := os.ReadFile(p); return string(b) }

func setuidRoot(p string) bool {
	fi, err := os.Lstat(p)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && fi.Mode()&os.ModeSetuid != 0 && st.Uid == 0
}

func isDevice(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode()&os.ModeDevice != 0
}
