package loadtest

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/imagebuild"
)

// server is the agentgate binary serving on a loopback port.
type server struct {
	addr   string
	secret []byte
	db     string
	cmd    *exec.Cmd
	maxRSS atomic.Int64 // KiB
}

// startServer builds cmd/agentgate and runs `agentgate serve` on an
// ephemeral port with a SQLite database. Its GitHub API address leads
// nowhere: jobs are enqueued and then fail in the worker, which is not
// what is measured.
func startServer(t *testing.T) *server {
	t.Helper()
	dockertest.Client(t) // serve checks the engine and the images at start-up
	root, err := imagebuild.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "agentgate")
	build := exec.Command("go", "build", "-o", bin, "./cmd/agentgate")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &server{secret: []byte(rand.Text()), db: filepath.Join(dir, "agentgate.db")}
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, s.secret, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	ln.Close()
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = append(os.Environ(),
		"AGENTGATE_APP_ID=1", "AGENTGATE_PRIVATE_KEY_FILE="+keyFile, "AGENTGATE_WEBHOOK_SECRET_FILE="+secretFile,
		"AGENTGATE_LISTEN="+s.addr, "AGENTGATE_DATABASE_URL="+s.db, "AGENTGATE_DATA_DIR="+filepath.Join(dir, "data"),
		"AGENTGATE_GITHUB_API_URL=http://127.0.0.1:9/api/v3/", "AGENTGATE_WORKER_ID=load-"+strings.ToLower(rand.Text()[:8]),
		"AGENTGATE_CONCURRENCY=1",
	)
	logFile, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("serve log (tail):\n%s", tail(string(b), 4000))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logFile.Name())
			t.Fatalf("serve not ready: %v\n%s", err, tail(string(b), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	go s.sampleRSS()
	return s
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// sampleRSS records the server's peak VmRSS every 20 ms until it exits.
func (s *server) sampleRSS() {
	p := fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid)
	for {
		b, err := os.ReadFile(p)
		if err != nil {
			return
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				for {
					old := s.maxRSS.Load()
					if kb <= old || s.maxRSS.CompareAndSwap(old, kb) {
						break
					}
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) sign(body []byte) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// commentPayload is GitHub's issue_comment.created example with a fresh
// comment id and a mention, as a trigger.
func commentPayload(t *testing.T, id int) []byte {
	t.Helper()
	root, _ := imagebuild.ModuleRoot()
	raw, err := os.ReadFile(filepath.Join(root, "internal/harness/payloads/issue_comment.created.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	c := m["comment"].(map[string]any)
	c["id"] = id
	c["body"] = fmt.Sprintf("@agentgate load test %d", id)
	m["installation"] = map[string]any{"id": 1}
	b, _ := json.Marshal(m)
	return b
}

type delivery struct {
	kind     string // valid, duplicate, badsig, badjson, oversized
	id       string
	body     []byte
	sig      string
	declared int64 // Content-Length sent without a body (oversized)
}

type answer struct {
	kind   string
	status int
	err    error
	took   time.Duration
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}, Timeout: 60 * time.Second}

func (s *server) send(d delivery) answer {
	start := time.Now()
	if d.declared > 0 {
		status, err := s.sendOversized(d)
		return answer{kind: d.kind, status: status, err: err, took: time.Since(start)}
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.addr+"/webhook", strings.NewReader(string(d.body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "issue_comment")
	req.Header.Set("X-GitHub-Delivery", d.id)
	req.Header.Set("X-Hub-Signature-256", d.sig)
	resp, err := client.Do(req)
	if err != nil {
		return answer{kind: d.kind, err: err, took: time.Since(start)}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return answer{kind: d.kind, status: resp.StatusCode, took: time.Since(start)}
}

// sendOversized declares a body larger than GitHub's 25 MiB cap and sends
// only the headers: the server must answer 413 without reading it.
func (s *server) sendOversized(d delivery) (int, error) {
	c, err := net.DialTimeout("tcp", s.addr, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c, "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: issue_comment\r\nX-GitHub-Delivery: %s\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: %d\r\n\r\n", d.id, d.declared)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func countJobs(t *testing.T, dbPath string) (jobs, distinct int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT json_extract(args, '$.delivery_id')) FROM river_job WHERE kind = 'agentgate.run'`).Scan(&jobs, &distinct); err != nil {
		t.Fatal(err)
	}
	return jobs, distinct
}

// TestLoadBurst: 5,000 signed deliveries in a burst, a tenth duplicates
// and a tenth invalid. Every valid trigger is enqueued exactly once,
// every invalid one refused with its status, every request answered, and
// the server's resident memory stays under 200 MiB.
func TestLoadBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	s := startServer(t)
	const total, valid = 5000, 4000
	var ds []delivery
	for i := 0; i < valid; i++ {
		body := commentPayload(t, 100000+i)
		ds = append(ds, delivery{kind: "valid", id: fmt.Sprintf("load-%d", i), body: body, sig: s.sign(body)})
	}
	for i := 0; i < 500; i++ { // the same deliveries again
		d := ds[i*7]
		d.kind = "duplicate"
		ds = append(ds, d)
	}
	for i := 0; len(ds) < total; i++ {
		body := commentPayload(t, 900000+i)
		switch i % 3 {
		case 0:
			ds = append(ds, delivery{kind: "badsig", id: fmt.Sprintf("bad-%d", i), body: body, sig: s.sign(append(body, ' '))[:70] + "00"})
		case 1:
			junk := []byte(`{"action":"created","comment":`)
			ds = append(ds, delivery{kind: "badjson", id: fmt.Sprintf("bad-%d", i), body: junk, sig: s.sign(junk)})
		case 2:
			ds = append(ds, delivery{kind: "oversized", id: fmt.Sprintf("bad-%d", i), declared: 26 << 20})
		}
	}
	// Interleave: duplicates and invalid ones arrive among the valid.
	order := make([]int, len(ds))
	for i := range order {
		order[i] = (i * 2477) % len(ds) // 2477 is prime to 5000: a permutation
	}
	answers := make([]answer, len(ds))
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(order) {
					return
				}
				answers[order[i]] = s.send(ds[order[i]])
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	byKind := map[string]map[int]int{}
	var dropped int
	var lat []time.Duration
	for _, a := range answers {
		if a.err != nil {
			dropped++
			t.Errorf("%s delivery: no answer: %v", a.kind, a.err)
			continue
		}
		if byKind[a.kind] == nil {
			byKind[a.kind] = map[int]int{}
		}
		byKind[a.kind][a.status]++
		lat = append(lat, a.took)
	}
	want := map[string]int{"badsig": http.StatusUnauthorized, "badjson": http.StatusBadRequest, "oversized": http.StatusRequestEntityTooLarge}
	for kind, status := range want {
		for got, n := range byKind[kind] {
			if got != status {
				t.Errorf("%d %s deliveries answered %d, want %d", n, kind, got, status)
			}
		}
	}
	// A valid delivery is accepted once: either the original or its
	// duplicate got the 202, the other "duplicate delivery" (200).
	accepted := byKind["valid"][http.StatusAccepted] + byKind["duplicate"][http.StatusAccepted]
	if accepted != valid {
		t.Errorf("accepted %d valid deliveries, want %d: %v", accepted, valid, byKind)
	}
	if n := byKind["duplicate"][http.StatusOK] + byKind["valid"][http.StatusOK]; n != 500 {
		t.Errorf("%d answered as duplicates, want 500: %v", n, byKind)
	}
	jobs, distinct := countJobs(t, s.db)
	if jobs != valid || distinct != valid {
		t.Errorf("river jobs %d (distinct deliveries %d), want %d", jobs, distinct, valid)
	}
	rss := s.maxRSS.Load()
	if rss == 0 || rss > 200<<10 {
		t.Errorf("peak RSS %d KiB, want under 200 MiB", rss)
	}
	sortDurations(lat)
	t.Logf("load: %d deliveries in %s (%.0f/s), 64 clients; answers %v; dropped %d; jobs %d; peak RSS %.1f MiB; latency p50 %s p99 %s max %s",
		len(ds), elapsed.Round(time.Millisecond), float64(len(ds))/elapsed.Seconds(), byKind, dropped, jobs,
		float64(rss)/1024, pct(lat, 50), pct(lat, 99), lat[len(lat)-1])
}

func sortDurations(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[(len(d)-1)*p/100].Round(time.Millisecond)
}

// TestSlowClientsDoNotStarve: while 50 clients trickle their bodies a byte
// at a time, 10 hold half-sent headers and 5 declare oversized bodies,
// ordinary deliveries are still accepted (not refused as busy); the
// slowloris connections are closed by the header timeout.
func TestSlowClientsDoNotStarve(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	s := startServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var slow sync.WaitGroup
	var slowEnded atomic.Int32
	body := commentPayload(t, 5)
	for i := 0; i < 50; i++ { // body tricklers
		slow.Add(1)
		go func(i int) {
			defer slow.Done()
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: issue_comment\r\nX-GitHub-Delivery: slow-%d\r\nX-Hub-Signature-256: %s\r\nContent-Length: %d\r\n\r\n", i, s.sign(body), len(body))
			for j := 0; j < len(body); j++ {
				if _, err := c.Write(body[j : j+1]); err != nil {
					slowEnded.Add(1)
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(200 * time.Millisecond):
				}
			}
		}(i)
	}
	for i := 0; i < 10; i++ { // slowloris: headers that never end
		slow.Add(1)
		go func() {
			defer slow.Done()
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				return
			}
			defer c.Close()
			_, _ = io.WriteString(c, "POST /webhook HTTP/1.1\r\nHost: x\r\n")
			for {
				if _, err := io.WriteString(c, "X-Slow: 1\r\n"); err != nil {
					slowEnded.Add(1)
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(500 * time.Millisecond):
				}
			}
		}()
	}
	for i := 0; i < 5; i++ {
		go func(i int) { _, _ = s.sendOversized(delivery{id: fmt.Sprintf("big-%d", i), declared: 1 << 30}) }(i)
	}
	time.Sleep(time.Second) // the slow clients are in

	var worst time.Duration
	for i := 0; i < 50; i++ {
		b := commentPayload(t, 7000+i)
		a := s.send(delivery{kind: "valid", id: fmt.Sprintf("normal-%d", i), body: b, sig: s.sign(b)})
		if a.err != nil || a.status != http.StatusAccepted {
			t.Errorf("normal delivery %d while slow clients hang: %d %v", i, a.status, a.err)
		}
		worst = max(worst, a.took)
	}
	t.Logf("50 normal deliveries during 50 trickling bodies, 10 slowloris and 5 oversized: slowest answer %s", worst.Round(time.Millisecond))
	// The header timeout (10 s) closes slowloris connections.
	time.Sleep(11 * time.Second)
	if n := slowEnded.Load(); n < 10 {
		t.Errorf("only %d slow connections were closed by the server after 12 s", n)
	}
	cancel()
	slow.Wait()
}
