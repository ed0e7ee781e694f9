package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/store"
)

// benchDeliveries is how many signed deliveries one benchmark op sends.
const benchDeliveries = 1000

// BenchmarkIntake measures signed deliveries to a durable 202 (SQLite,
// WAL, River insert in the delivery's transaction) over loopback HTTP with
// 16 concurrent senders, next to a bare net/http handler that only reads
// and verifies the body. It reports p50/p99 latency and deliveries/s.
func BenchmarkIntake(b *testing.B) {
	// Each op sends distinct comments: intake dedupes a comment replayed
	// under a new delivery id, and the benchmark measures real enqueues.
	bodies := func(n int) [][]byte {
		out := make([][]byte, benchDeliveries)
		for i := range out {
			id := 1_000_000 + n*benchDeliveries + i
			out[i] = payload(b, "issue_comment.created.json",
				"comment.id", id, "comment.body", fmt.Sprintf("@agentgate fix %d", id), "installation.id", 1)
		}
		return out
	}
	for _, mode := range []struct {
		name    string
		noBatch bool
	}{{"agentgate", false}, {"agentgate-unbatched", true}} {
		b.Run(mode.name, func(b *testing.B) {
			db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			client, err := river.NewClient(db.RiverDriver(), &river.Config{})
			if err != nil {
				b.Fatal(err)
			}
			srv, err := New(Config{Secret: testSecret, NoBatch: mode.noBatch}, db.SQL, client, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			runIntakeBench(b, srv.Handler(), bodies, http.StatusAccepted)
		})
	}
	b.Run("baseline-verify-only", func(b *testing.B) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, DefaultMaxBody+1))
			if err != nil || Verify(testSecret, body, r.Header.Get("X-Hub-Signature-256")) != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusAccepted)
		})
		runIntakeBench(b, h, bodies, http.StatusAccepted)
	})
}

func runIntakeBench(b *testing.B, h http.Handler, gen func(n int) [][]byte, want int) {
	ts := httptest.NewServer(h)
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	const senders = 16
	var all []time.Duration
	var elapsed time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		bodies := gen(n)
		b.StartTimer()
		start := time.Now()
		lat := make([]time.Duration, len(bodies))
		var wg sync.WaitGroup
		next := make(chan int)
		errs := make(chan error, senders)
		for s := 0; s < senders; s++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					req, _ := http.NewRequest(http.MethodPost, ts.URL+"/webhook", bytes.NewReader(bodies[i]))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-GitHub-Event", "issue_comment")
					req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d-%d", n, i))
					req.Header.Set("X-Hub-Signature-256", Sign(testSecret, bodies[i]))
					t0 := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						errs <- err
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					lat[i] = time.Since(t0)
					if resp.StatusCode != want {
						errs <- fmt.Errorf("delivery %d: status %d", i, resp.StatusCode)
						return
					}
				}
			}()
		}
		for i := range bodies {
			next <- i
		}
		close(next)
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		all = append(all, lat...)
	}
	b.StopTimer()
	slices.Sort(all)
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "deliveries/s")
}
