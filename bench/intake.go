package bench

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/webhook"
)

//go:embed testdata/issue_comment.created.json
var commentExample []byte

// benchSecret signs the benchmark's deliveries.
var benchSecret = []byte("agentgate bench webhook secret")

// commentBodies returns n distinct triggering comment deliveries (intake
// dedupes a replayed comment, so each must be new), numbered from first.
func commentBodies(first, n int) ([][]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(commentExample, &doc); err != nil {
		return nil, err
	}
	comment, _ := doc["comment"].(map[string]any)
	if comment == nil {
		return nil, errors.New("example payload has no comment")
	}
	doc["installation"] = map[string]any{"id": 1}
	out := make([][]byte, n)
	for i := range out {
		id := first + i
		comment["id"] = id
		comment["body"] = fmt.Sprintf("@agentgate fix %d", id)
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// intakeServer is an httptest server and what to close with it.
type intakeServer struct {
	url   string
	close func()
}

// agentgateIntake starts the real intake on a fresh SQLite store, as
// serve wires it (River insert-only client on the store's driver).
func agentgateIntake(ctx context.Context, dir string, noBatch bool) (*intakeServer, error) {
	db, err := store.Open(ctx, filepath.Join(dir, "intake.db"))
	if err != nil {
		return nil, err
	}
	client, err := river.NewClient(db.RiverDriver(), &river.Config{})
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	srv, err := webhook.New(webhook.Config{Secret: benchSecret, NoBatch: noBatch}, db.SQL, client, slog.New(slog.DiscardHandler))
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	ts := httptest.NewServer(srv.Handler())
	return &intakeServer{url: ts.URL, close: func() { ts.Close(); _ = db.Close() }}, nil
}

// bareIntake is the baseline: read the body, verify the signature, 202.
func bareIntake() *intakeServer {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, webhook.DefaultMaxBody+1))
		if err != nil || webhook.Verify(benchSecret, body, r.Header.Get("X-Hub-Signature-256")) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	return &intakeServer{url: ts.URL, close: ts.Close}
}

// sender posts signed deliveries.
type sender struct {
	client *http.Client
	url    string
}

func newSender(url string) *sender {
	return &sender{client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}, url: url + "/webhook"}
}

// post sends one delivery and checks the answer is 202.
func (s *sender) post(ctx context.Context, delivery string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "issue_comment")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", webhook.Sign(benchSecret, body))
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("delivery %s: status %d", delivery, resp.StatusCode)
	}
	return nil
}

// burst sends bodies from `senders` concurrent senders as fast as they
// are answered; it returns the latencies (sorted) and deliveries/s.
func (s *sender) burst(ctx context.Context, tag string, bodies [][]byte, senders int) ([]time.Duration, float64, error) {
	lat := make([]time.Duration, len(bodies))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for range senders {
		wg.Go(func() {
			for i := range next {
				t0 := time.Now()
				if err := s.post(ctx, fmt.Sprintf("%s-%d", tag, i), bodies[i]); err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					continue
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	for i := range bodies {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return lat, float64(len(bodies)) / elapsed.Seconds(), firstErr
}

// paced sends bodies at a fixed rate (an open loop: a slow answer does not
// delay the next send) and returns the latencies, sorted, and how many
// deliveries were not answered 202 (an error only when none was).
func (s *sender) paced(ctx context.Context, tag string, bodies [][]byte, rate float64) ([]time.Duration, int, error) {
	lat := make([]time.Duration, len(bodies))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	refused := 0
	start := time.Now()
	for i := range bodies {
		at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		time.Sleep(time.Until(at))
		wg.Go(func() {
			t0 := time.Now()
			err := s.post(ctx, fmt.Sprintf("%s-%d", tag, i), bodies[i])
			lat[i] = time.Since(t0) // a refused delivery counts with its latency
			if err != nil {
				mu.Lock()
				refused++
				firstErr = cmpErr(firstErr, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(lat)
	if refused == len(bodies) {
		return lat, refused, firstErr
	}
	return lat, refused, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// intake measures signed deliveries to a durable 202: a burst of 1,000
// from 16 senders (deliveries/s, p50, p99) and an open loop at 300/s
// (p99), next to the bare handler; the unbatched intake is measured too.
func intake(ctx context.Context, e *env) Result {
	res := Result{
		Title: "Intake: signed delivery → durable 202",
		Command: "In-process HTTP over loopback; agentgate = signature, dedupe, trigger parsing and the River job committed to SQLite (WAL) " +
			"before the 202, concurrent deliveries sharing one transaction; baseline = a bare `net/http` handler that reads the body and verifies the signature.",
	}
	burstN, senders := e.size(1000, 40), 16
	rate, pacedN := 300.0, e.size(1500, 30) // 5 s at 300/s
	type series struct {
		rps, p50, p99, pacedP99 []float64
		refused                 int
	}
	kinds := []string{"agentgate", "unbatched", "bare"}
	got := map[string]*series{}
	for _, k := range kinds {
		got[k] = &series{}
	}
	next := 1_000_000
	for n := range e.opts.N {
		for _, k := range kinds {
			dir, err := e.tempDir("intake-")
			if err != nil {
				res.Err = err
				return res
			}
			var srv *intakeServer
			switch k {
			case "bare":
				srv = bareIntake()
			default:
				srv, err = agentgateIntake(ctx, dir, k == "unbatched")
				if err != nil {
					res.Err = err
					return res
				}
			}
			bodies, err := commentBodies(next, burstN+pacedN)
			if err != nil {
				srv.close()
				res.Err = err
				return res
			}
			next += burstN + pacedN
			s := newSender(srv.url)
			lat, rps, err := s.burst(ctx, fmt.Sprintf("%s-%d-burst", k, n), bodies[:burstN], senders)
			if err == nil {
				var plat []time.Duration
				var refused int
				plat, refused, err = s.paced(ctx, fmt.Sprintf("%s-%d-paced", k, n), bodies[burstN:], rate)
				got[k].pacedP99 = append(got[k].pacedP99, quantile(plat, 0.99))
				got[k].refused += refused
			}
			srv.close()
			if err != nil {
				res.Err = fmt.Errorf("%s: %w", k, err)
				return res
			}
			got[k].rps = append(got[k].rps, rps)
			got[k].p50 = append(got[k].p50, quantile(lat, 0.50))
			got[k].p99 = append(got[k].p99, quantile(lat, 0.99))
			e.log.Info("bench: intake", "kind", k, "rep", n, "deliveries/s", int(rps), "p99_ms", quantile(lat, 0.99))
		}
	}
	ag, un, bare := got["agentgate"], got["unbatched"], got["bare"]
	bp := func(s Stat) *Stat { return &s }
	rps := stat(ag.rps)
	paced := stat(ag.pacedP99)
	res.Rows = []Row{
		{Metric: fmt.Sprintf("deliveries/s, %d deliveries from %d senders", burstN, senders), Unit: "/s", Agentgate: rps,
			Baseline: bp(stat(bare.rps)), BaseName: "bare handler", Target: "≥ 1,000/s", Met: check(rps.Median >= 1000)},
		{Metric: "p50 latency, same burst", Unit: "ms", Agentgate: stat(ag.p50), Baseline: bp(stat(bare.p50)), BaseName: "bare handler"},
		{Metric: "p99 latency, same burst", Unit: "ms", Agentgate: stat(ag.p99), Baseline: bp(stat(bare.p99)), BaseName: "bare handler"},
		{Metric: fmt.Sprintf("p99 latency at a steady %.0f/s (%d deliveries)", rate, pacedN), Unit: "ms", Agentgate: paced,
			Baseline: bp(stat(bare.pacedP99)), BaseName: "bare handler", Target: "< 50 ms", Met: check(paced.Median < 50 && ag.refused == 0),
			Note: fmt.Sprintf("%d of %d refused with 503 over all repetitions", ag.refused, pacedN*e.opts.N)},
		{Metric: "deliveries/s without group commit (one transaction per delivery)", Unit: "/s", Agentgate: stat(un.rps),
			Baseline: bp(rps), BaseName: "with group commit"},
		{Metric: "p99 at the steady rate without group commit", Unit: "ms", Agentgate: stat(un.pacedP99),
			Baseline: bp(paced), BaseName: "with group commit", Note: fmt.Sprintf("%d refused", un.refused)},
	}
	return res
}
