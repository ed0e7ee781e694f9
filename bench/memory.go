package bench

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/internal/imagebuild"
	"github.com/agentgate/agentgate/internal/testagent"
	"github.com/agentgate/agentgate/runner/relayimage"
)

// memory starts `agentgate serve` as a subprocess and reads its resident
// size (VmRSS in /proc/PID/status) idle, then after 10,000 signed
// deliveries are queued as jobs.
func memory(ctx context.Context, e *env) Result {
	jobs := e.size(10_000, 100)
	res := Result{
		Title: "Memory: `agentgate serve` resident size",
		Command: fmt.Sprintf("`agentgate serve` (SQLite, worker concurrency 1) as a subprocess; VmRSS from /proc/PID/status 2 s after /readyz answers, "+
			"and 2 s after %d signed deliveries were answered 202 (the jobs stay queued: the GitHub API address is closed, so each job the worker picks up fails and waits for its retry).", jobs),
	}
	bin := e.opts.Binary
	if bin == "" {
		b, err := e.buildAgentgate(ctx)
		if err != nil {
			res.Err = err
			return res
		}
		bin = b
	}
	if err := ensureImages(ctx); err != nil {
		res.Err = err
		return res
	}
	var idle, loaded, peak []float64
	for n := range min(e.opts.N, 2) {
		i, l, p, err := serveRSS(ctx, e, bin, jobs, n)
		if err != nil {
			res.Err = err
			return res
		}
		idle, loaded, peak = append(idle, i), append(loaded, l), append(peak, p)
		e.log.Info("bench: memory", "rep", n, "idle_mib", i, "queued_mib", l)
	}
	q := stat(loaded)
	res.Rows = []Row{
		{Metric: "resident, idle", Unit: "MiB", Agentgate: stat(idle)},
		{Metric: fmt.Sprintf("resident, %d jobs queued", jobs), Unit: "MiB", Agentgate: q, Target: "< 100 MiB", Met: check(q.Median < 100)},
		{Metric: "peak resident (VmHWM) during intake", Unit: "MiB", Agentgate: stat(peak)},
	}
	return res
}

// ensureImages builds the images serve checks for, when missing.
func ensureImages(ctx context.Context) error {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	defer cli.Close()
	if _, err := testagent.EnsureImage(ctx, cli); err != nil {
		return fmt.Errorf("test agent image: %w", err)
	}
	if _, err := relayimage.EnsureImage(ctx, cli); err != nil {
		return fmt.Errorf("relay image: %w", err)
	}
	return nil
}

// serveRSS runs one serve process: its idle, loaded and peak RSS in MiB.
func serveRSS(ctx context.Context, e *env, bin string, jobs, rep int) (idle, loaded, peak float64, err error) {
	dir, err := e.tempDir("serve-")
	if err != nil {
		return 0, 0, 0, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return 0, 0, 0, err
	}
	keyFile, secretFile := filepath.Join(dir, "app.pem"), filepath.Join(dir, "secret")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return 0, 0, 0, err
	}
	if err := os.WriteFile(secretFile, benchSecret, 0o600); err != nil {
		return 0, 0, 0, err
	}
	closed, err := freePort()
	if err != nil {
		return 0, 0, 0, err
	}
	listen, err := freePort()
	if err != nil {
		return 0, 0, 0, err
	}
	idb := make([]byte, 4)
	_, _ = rand.Read(idb)
	dbPath := filepath.Join(dir, "agentgate.db")
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append(os.Environ(),
		"AGENTGATE_APP_ID=1",
		"AGENTGATE_PRIVATE_KEY_FILE="+keyFile,
		"AGENTGATE_WEBHOOK_SECRET_FILE="+secretFile,
		"AGENTGATE_GITHUB_API_URL=http://"+closed+"/api/v3/",
		"AGENTGATE_LISTEN="+listen,
		"AGENTGATE_ADMIN_LISTEN=127.0.0.1:0",
		"AGENTGATE_DATABASE_URL="+dbPath,
		"AGENTGATE_DATA_DIR="+filepath.Join(dir, "data"),
		"AGENTGATE_WORKER_ID=bench-"+hex.EncodeToString(idb),
		"AGENTGATE_CONCURRENCY=1",
	)
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return 0, 0, 0, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, fmt.Errorf("start serve: %w", err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	base := "http://" + listen
	if err := waitReady(ctx, base+"/readyz", 60*time.Second); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
		return 0, 0, 0, fmt.Errorf("serve did not become ready: %w\n%s", err, tail(string(log), 2000))
	}
	time.Sleep(2 * time.Second)
	if idle, _, err = rss(cmd.Process.Pid); err != nil {
		return 0, 0, 0, err
	}
	bodies, err := commentBodies(5_000_000+rep*jobs, jobs)
	if err != nil {
		return 0, 0, 0, err
	}
	if _, _, err := newSender(base).burst(ctx, fmt.Sprintf("mem-%d", rep), bodies, 16); err != nil {
		return 0, 0, 0, fmt.Errorf("deliveries: %w", err)
	}
	time.Sleep(2 * time.Second)
	if loaded, peak, err = rss(cmd.Process.Pid); err != nil {
		return 0, 0, 0, err
	}
	queued, err := queuedJobs(ctx, dbPath)
	if err != nil {
		return 0, 0, 0, err
	}
	if queued < jobs*9/10 {
		return 0, 0, 0, fmt.Errorf("only %d of %d jobs queued", queued, jobs)
	}
	return idle, loaded, peak, nil
}

// rss reads VmRSS and VmHWM of pid in MiB.
func rss(pid int) (cur, hwm float64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", k, err)
		}
		if k == "VmRSS" {
			cur = kb / 1024
		} else {
			hwm = kb / 1024
		}
	}
	if cur == 0 {
		return 0, 0, errors.New("no VmRSS in /proc status")
	}
	return cur, hwm, nil
}

// queuedJobs counts the jobs not yet finished, read-only.
func queuedJobs(ctx context.Context, dbPath string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state IN ('available', 'retryable', 'scheduled', 'running', 'pending')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count jobs: %w", err)
	}
	return n, nil
}

// freePort is a loopback address nothing listens on (right now).
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// waitReady polls url until it answers 200.
func waitReady(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not ready after %s (last: %v)", url, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// buildAgentgate builds the product binary (cmd/agentgate) from the module
// the working directory is in, as users build it, into a directory of the
// bench's, and returns its path.
func (e *env) buildAgentgate(ctx context.Context) (string, error) {
	root, err := imagebuild.ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("build agentgate: %w", err)
	}
	dir, err := e.tempDir("agentgate-bin-")
	if err != nil {
		return "", fmt.Errorf("build agentgate: %w", err)
	}
	bin := filepath.Join(dir, "agentgate")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/agentgate")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build agentgate: go build ./cmd/agentgate: %w: %s", err, out)
	}
	return bin, nil
}
