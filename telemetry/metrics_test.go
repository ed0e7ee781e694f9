package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// scrape GETs /metrics from m's handler and returns the exposition text.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rr := httptest.NewRecorder()
	m.Handler().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rr.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rr.Code)
	}
	return rr.Body.String()
}

// series maps each "name{labels}" line of exposition text to its value.
func series(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		out[line[:i]] = line[i+1:]
	}
	return out
}

// checkSeries fails for every series in want whose value differs (a
// missing series has value "").
func checkSeries(t *testing.T, text string, want map[string]string) {
	t.Helper()
	got := series(text)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// fromJSON returns ev as it reads back from the store: attrs decoded from
// JSON, numbers as float64.
func fromJSON(t *testing.T, ev Event) Event {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var out Event
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMetricsObserveEvent(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	events := []Event{
		{Kind: KindNetAllowed, Attrs: map[string]any{"host": "proxy.golang.org", "port": 443, "reason": "allowlisted"}},
		{Kind: KindNetAllowed, Attrs: map[string]any{"host": "proxy.golang.org", "port": 443, "reason": "allowlisted"}},
		{Kind: KindNetDenied, Attrs: map[string]any{"host": "evil.example", "port": 443, "reason": "not allowlisted"}},
		{Kind: KindNetDenied, Attrs: map[string]any{"host": "10.0.0.1", "port": 80}},
		{Kind: "net.preflight", Attrs: map[string]any{"reason": "not allowlisted"}},
		{Kind: KindLLMRequest, Attrs: map[string]any{"model": "claude-x", "input_tokens": 1200, "output_tokens": 300, "status": 200}},
		{Kind: KindLLMRequest, Attrs: map[string]any{"model": "claude-x", "input_tokens": 800, "output_tokens": 0, "status": 429}},
		{Kind: KindLLMRequest, Attrs: map[string]any{"input_tokens": 5, "error": "upstream failed"}},
		{Kind: KindRunFinished, Attrs: map[string]any{"outcome": "succeeded", "pull_request": 3}},
		{Kind: KindRunFinished, Attrs: map[string]any{"outcome": "no change"}},
		{Kind: KindRunFinished},
		{Kind: KindRunFailed, Attrs: map[string]any{"outcome": "timed out", "reason": "wall clock"}},
		{Kind: KindRunFailed},
		{Kind: KindRunDenied, Attrs: map[string]any{"reason": "bob has read permission"}},
		{Kind: KindRunBusy},
		{Kind: KindFileChanged, Attrs: map[string]any{"path": "a.go"}},
	}
	for _, ev := range events {
		m.ObserveEvent(fromJSON(t, ev)) // as read back from the store
	}
	checkSeries(t, scrape(t, m), map[string]string{
		`agentgate_egress_decisions_total{decision="allowed",reason="allowlisted"}`:    "2",
		`agentgate_egress_decisions_total{decision="denied",reason="not allowlisted"}`: "1",
		`agentgate_egress_decisions_total{decision="denied",reason="unknown"}`:         "1",
		`agentgate_llm_tokens_total{direction="input",model="claude-x"}`:               "2000",
		`agentgate_llm_tokens_total{direction="output",model="claude-x"}`:              "300",
		`agentgate_llm_tokens_total{direction="input",model="unknown"}`:                "5",
		`agentgate_llm_requests_total{model="claude-x",result="ok"}`:                   "1",
		`agentgate_llm_requests_total{model="claude-x",result="error"}`:                "1",
		`agentgate_llm_requests_total{model="unknown",result="error"}`:                 "1",
		`agentgate_runs_total{outcome="succeeded"}`:                                    "2",
		`agentgate_runs_total{outcome="no change"}`:                                    "1",
		`agentgate_runs_total{outcome="timed out"}`:                                    "1",
		`agentgate_runs_total{outcome="failed"}`:                                       "1",
		`agentgate_runs_total{outcome="denied"}`:                                       "1",
		`agentgate_runs_total{outcome="busy"}`:                                         "1",
		`agentgate_events_total{kind="net.allowed"}`:                                   "2",
		`agentgate_events_total{kind="net.preflight"}`:                                 "1",
		`agentgate_events_total{kind="file.changed"}`:                                  "1",
		`agentgate_llm_tokens_total{direction="output",model="unknown"}`:               "", // zero output tokens add no series
	})
}

func TestMetricsBoundedLabels(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	for i := 0; i < maxModels+5; i++ {
		m.LLMTokens(fmt.Sprintf("model-%02d", i), 10, 1)
	}
	m.LLMTokens("model-00", 10, 0) // a known model keeps its label
	m.Egress(false, "bad\x1b[31m\u202e "+strings.Repeat("r", 200))
	text := scrape(t, m)
	checkSeries(t, text, map[string]string{
		`agentgate_llm_tokens_total{direction="input",model="model-00"}`:                                                       "20",
		`agentgate_llm_tokens_total{direction="input",model="model-19"}`:                                                       "10",
		`agentgate_llm_tokens_total{direction="input",model="model-20"}`:                                                       "",
		`agentgate_llm_tokens_total{direction="input",model="other"}`:                                                          "50",
		`agentgate_llm_tokens_total{direction="output",model="other"}`:                                                         "5",
		`agentgate_egress_decisions_total{decision="denied",reason="bad[31m ` + strings.Repeat("r", 64-len("bad[31m ")) + `"}`: "1",
	})
	if n := strings.Count(text, "agentgate_llm_tokens_total{direction=\"input\""); n != maxModels+1 {
		t.Errorf("%d input token series, want %d", n, maxModels+1)
	}
}

func TestMetricsRecorders(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	m.RunFinished("failed")
	m.RunFinished("")
	m.ObservePhase(PhaseClone, 300*time.Millisecond)
	m.ObservePhase(PhaseClone, 2*time.Second)
	m.ObservePhase(PhaseSandbox, -time.Second) // ignored
	m.SetQueueDepth(4)
	m.Delivery(DeliveryQueued)
	m.Delivery(DeliveryDuplicate)
	m.Delivery("something new")
	checkSeries(t, scrape(t, m), map[string]string{
		`agentgate_runs_total{outcome="failed"}`:                          "1",
		`agentgate_runs_total{outcome="unknown"}`:                         "1",
		`agentgate_phase_duration_seconds_count{phase="clone"}`:           "2",
		`agentgate_phase_duration_seconds_sum{phase="clone"}`:             "2.3",
		`agentgate_phase_duration_seconds_bucket{phase="clone",le="0.5"}`: "1",
		`agentgate_phase_duration_seconds_bucket{phase="clone",le="2.5"}`: "2",
		`agentgate_phase_duration_seconds_count{phase="sandbox"}`:         "",
		`agentgate_queue_depth`:                                           "4",
		`agentgate_webhook_deliveries_total{result="queued"}`:             "1",
		`agentgate_webhook_deliveries_total{result="duplicate"}`:          "1",
		`agentgate_webhook_deliveries_total{result="error"}`:              "1",
		`agentgate_webhook_deliveries_total{result="too_large"}`:          "0",
	})

	// A second NewMetrics on the same registry shares the metrics.
	reg := prometheus.NewRegistry()
	a, b := NewMetrics(reg), NewMetrics(reg)
	a.RunFinished("succeeded")
	b.RunFinished("succeeded")
	checkSeries(t, scrape(t, a), map[string]string{`agentgate_runs_total{outcome="succeeded"}`: "2"})

	// A nil *Metrics records nothing and does not panic.
	var none *Metrics
	none.RunFinished("x")
	none.ObserveEvent(Event{Kind: KindRunFinished})
	none.Delivery(DeliveryQueued)
	none.SetQueueDepth(1)
	none.LLMTokens("m", 1, 1)
	none.Egress(true, "x")
	none.ObservePhase("x", time.Second)

	// The default registry of NewMetrics(nil) carries the Go collectors.
	if text := scrape(t, NewMetrics(nil)); !strings.Contains(text, "go_goroutines") || !strings.Contains(text, "agentgate_queue_depth 0") {
		t.Error("NewMetrics(nil) does not serve the Go collectors and its own metrics")
	}
}

func TestPollQueueDepth(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.PollQueueDepth(ctx, 5*time.Millisecond, func(context.Context) (int, error) {
			if calls.Add(1) == 2 {
				return 0, fmt.Errorf("database gone")
			}
			return 7, nil
		})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	checkSeries(t, scrape(t, m), map[string]string{`agentgate_queue_depth`: "7"})
}

func TestInstrumentWebhook(t *testing.T) {
	tests := []struct {
		path   string
		status int
		body   string
		want   string // "" when not counted
	}{
		{"/webhook", http.StatusAccepted, `{"run_id":"x"}`, DeliveryQueued},
		{"/webhook", http.StatusOK, "duplicate delivery\n", DeliveryDuplicate},
		{"/webhook", http.StatusOK, "ignored: not a trigger\n", DeliveryIgnored},
		{"/webhook", http.StatusOK, "pong\n", DeliveryIgnored},
		{"/webhook", 0, "implicit 200\n", DeliveryIgnored},
		{"/webhook", http.StatusUnauthorized, "bad signature\n", DeliveryUnauthorized},
		{"/webhook", http.StatusRequestEntityTooLarge, "too large\n", DeliveryTooLarge},
		{"/webhook", http.StatusBadRequest, "malformed JSON\n", DeliveryBadRequest},
		{"/webhook", http.StatusMethodNotAllowed, "", DeliveryBadRequest},
		{"/webhook", http.StatusServiceUnavailable, "try again later\n", DeliveryError},
		{"/healthz", http.StatusOK, "ok\n", ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d %s", tt.path, tt.status, strings.TrimSpace(tt.body)), func(t *testing.T) {
			m := NewMetrics(prometheus.NewRegistry())
			h := m.InstrumentWebhook(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				_, _ = io.WriteString(w, tt.body)
			}))
			rr := httptest.NewRecorder()
			h.ServeHTTP(rr, httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader("{}")))
			if rr.Body.String() != tt.body {
				t.Errorf("body passed through as %q", rr.Body.String())
			}
			got := series(scrape(t, m))
			total := 0
			for _, r := range []string{DeliveryQueued, DeliveryDuplicate, DeliveryIgnored, DeliveryUnauthorized, DeliveryTooLarge, DeliveryBadRequest, DeliveryError} {
				v := got[`agentgate_webhook_deliveries_total{result="`+r+`"}`]
				switch {
				case r == tt.want && v != "1":
					t.Errorf("result %s = %q, want 1", r, v)
				case r != tt.want && v != "0":
					t.Errorf("result %s = %q, want 0", r, v)
				}
				if v == "1" {
					total++
				}
			}
			if tt.want == "" && total != 0 {
				t.Errorf("%s counted as a delivery", tt.path)
			}
		})
	}
}

func TestRunTraceMetricsWithoutTracing(t *testing.T) {
	clearOTELEnv(t)
	if _, err := SetupTracing(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(prometheus.NewRegistry())
	ctx, rt := StartRun(context.Background(), "r", RunAttrs{})
	rt = rt.WithMetrics(m)
	_, end := rt.Phase(ctx, PhaseHarvest)
	end(nil)
	end(nil)
	t0 := time.Now()
	rt.RecordPhase(ctx, PhaseIntake, t0, t0.Add(45*time.Second), nil)
	var zero RunTrace // the zero RunTrace is usable too
	_, end = zero.WithMetrics(m).Phase(ctx, PhasePush)
	end(nil)
	checkSeries(t, scrape(t, m), map[string]string{
		`agentgate_phase_duration_seconds_count{phase="harvest"}`:         "1",
		`agentgate_phase_duration_seconds_count{phase="intake"}`:          "1",
		`agentgate_phase_duration_seconds_bucket{phase="intake",le="30"}`: "0",
		`agentgate_phase_duration_seconds_bucket{phase="intake",le="60"}`: "1",
		`agentgate_phase_duration_seconds_count{phase="push"}`:            "1",
	})
}
