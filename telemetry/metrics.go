package telemetry

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Webhook delivery results, the values of the result label of
// agentgate_webhook_deliveries_total.
const (
	DeliveryQueued       = "queued"
	DeliveryDuplicate    = "duplicate"
	DeliveryIgnored      = "ignored"
	DeliveryUnauthorized = "unauthorized"
	DeliveryTooLarge     = "too_large"
	DeliveryBadRequest   = "bad_request"
	DeliveryError        = "error"
)

// Label bounds: how many distinct values a label with open-ended input
// (model names, reasons, outcomes, phases) takes before further values are
// counted as "other".
const (
	maxModels   = 20
	maxReasons  = 32
	maxOutcomes = 16
	maxPhases   = 16
	maxKinds    = 64
)

// phaseBuckets spans a fast plan step to an hour-long agent run, in seconds.
var phaseBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600}

// Metrics is agentgate's Prometheus instrumentation: runs by outcome,
// phase durations, queue depth, webhook deliveries, egress decisions and
// LLM tokens. Its methods are safe for concurrent use and never block on
// I/O; a nil *Metrics records nothing.
type Metrics struct {
	gatherer prometheus.Gatherer

	runs       *prometheus.CounterVec
	phases     *prometheus.HistogramVec
	queue      prometheus.Gauge
	deliveries *prometheus.CounterVec
	egress     *prometheus.CounterVec
	tokens     *prometheus.CounterVec
	llmReqs    *prometheus.CounterVec
	events     *prometheus.CounterVec

	models, reasons, outcomes, phaseNames, kinds *boundedLabel
}

// NewMetrics creates agentgate's metrics and registers them with reg.
// With a nil reg it uses a new registry of its own that also holds the Go
// runtime and process collectors. A registry that already holds
// agentgate's metrics (a second NewMetrics on it) shares them. Handler
// serves reg when reg is also a prometheus.Gatherer (a *prometheus.Registry
// is), otherwise prometheus.DefaultGatherer.
//
// NewMetrics panics when reg refuses a metric for another reason than that
// it is already registered (a name clash with a different metric): that is
// a programming error.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		r := prometheus.NewRegistry()
		r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg = r
	}
	m := &Metrics{
		models:     newBoundedLabel(maxModels),
		reasons:    newBoundedLabel(maxReasons),
		outcomes:   newBoundedLabel(maxOutcomes),
		phaseNames: newBoundedLabel(maxPhases, Phases...),
		kinds:      newBoundedLabel(maxKinds),
	}
	if g, ok := reg.(prometheus.Gatherer); ok {
		m.gatherer = g
	} else {
		m.gatherer = prometheus.DefaultGatherer
	}
	m.runs = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agentgate_runs_total",
		Help: "Runs finished, by outcome (succeeded, failed, timed out, no change, denied, busy, ...).",
	}, []string{"outcome"}))
	m.phases = register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "agentgate_phase_duration_seconds",
		Help:    "Duration of a run's phases (intake, plan, clone, sandbox, harvest, push, review).",
		Buckets: phaseBuckets,
	}, []string{"phase"}))
	m.queue = register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "agentgate_queue_depth",
		Help: "Runs waiting in the queue.",
	}))
	m.deliveries = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agentgate_webhook_deliveries_total",
		Help: "Webhook deliveries, by result (queued, duplicate, ignored, unauthorized, too_large, bad_request, error).",
	}, []string{"result"}))
	m.egress = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agentgate_egress_decisions_total",
		Help: "Egress proxy decisions on the agents' network requests, by decision (allowed, denied) and reason.",
	}, []string{"decision", "reason"}))
	m.tokens = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agentgate_llm_tokens_total",
		Help: "LLM tokens through the gateway, by direction (input, output) and model.",
	}, []string{"direction", "model"}))
	m.llmReqs = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agentgate_llm_requests_total",
		Help: "LLM requests through the gateway, by model and result (ok, error).",
	}, []string{"model", "result"}))
	m.events = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agentgate_events_total",
		Help: "Audit events appended, by kind.",
	}, []string{"kind"}))
	// Every delivery result is exposed from the start, at zero.
	for _, r := range []string{DeliveryQueued, DeliveryDuplicate, DeliveryIgnored, DeliveryUnauthorized, DeliveryTooLarge, DeliveryBadRequest, DeliveryError} {
		m.deliveries.WithLabelValues(r)
	}
	return m
}

// register registers c with reg, or returns the collector already
// registered under the same description.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("telemetry: register metric: " + err.Error())
	}
	return c
}

// Handler serves the metrics in the Prometheus exposition format, for
// GET /metrics on the metrics listener (never the webhook listener, nor
// the operator listener that serves run pages).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}

// RunFinished counts a finished run by its outcome.
func (m *Metrics) RunFinished(outcome string) {
	if m == nil {
		return
	}
	if outcome == "" {
		outcome = "unknown"
	}
	m.runs.WithLabelValues(m.outcomes.value(outcome)).Inc()
}

// ObservePhase records how long a run's phase took.
func (m *Metrics) ObservePhase(phase string, d time.Duration) {
	if m == nil || d < 0 {
		return
	}
	m.phases.WithLabelValues(m.phaseNames.value(phase)).Observe(d.Seconds())
}

// SetQueueDepth sets the number of runs waiting in the queue.
func (m *Metrics) SetQueueDepth(n int) {
	if m == nil {
		return
	}
	m.queue.Set(float64(n))
}

// PollQueueDepth sets the queue depth from count every interval until ctx
// ends. A failed count leaves the last value and is retried at the next
// tick. It blocks: run it in its own goroutine.
func (m *Metrics) PollQueueDepth(ctx context.Context, interval time.Duration, count func(context.Context) (int, error)) {
	if m == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, interval)
		n, err := count(cctx)
		cancel()
		if err == nil {
			m.SetQueueDepth(n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Delivery counts a webhook delivery by result (one of the Delivery*
// constants; anything else is counted as DeliveryError).
func (m *Metrics) Delivery(result string) {
	if m == nil {
		return
	}
	switch result {
	case DeliveryQueued, DeliveryDuplicate, DeliveryIgnored, DeliveryUnauthorized, DeliveryTooLarge, DeliveryBadRequest, DeliveryError:
	default:
		result = DeliveryError
	}
	m.deliveries.WithLabelValues(result).Inc()
}

// Egress counts an egress proxy decision.
func (m *Metrics) Egress(allowed bool, reason string) {
	if m == nil {
		return
	}
	decision := "denied"
	if allowed {
		decision = "allowed"
	}
	if reason == "" {
		reason = "unknown"
	}
	m.egress.WithLabelValues(decision, m.reasons.value(reason)).Inc()
}

// LLMTokens counts the tokens of one model request. The first maxModels
// distinct models get a label each; later ones are counted as "other".
func (m *Metrics) LLMTokens(model string, in, out int) {
	if m == nil {
		return
	}
	if model == "" {
		model = "unknown"
	}
	model = m.models.value(model)
	if in > 0 {
		m.tokens.WithLabelValues("input", model).Add(float64(in))
	}
	if out > 0 {
		m.tokens.WithLabelValues("output", model).Add(float64(out))
	}
}

// ObserveEvent updates the metrics from one appended audit event: every
// event counts in agentgate_events_total; net.allowed and net.denied are
// egress decisions; llm.request is model usage; run.finished, run.failed,
// run.denied and run.busy end a run. Feed it each event once, as the store
// returned it from Append.
func (m *Metrics) ObserveEvent(ev Event) {
	if m == nil {
		return
	}
	m.events.WithLabelValues(m.kinds.value(ev.Kind)).Inc()
	a := ev.Attrs
	switch ev.Kind {
	case KindNetAllowed, KindNetDenied:
		m.Egress(ev.Kind == KindNetAllowed, stringAttr(a, "reason"))
	case KindLLMRequest, KindLLMRefused:
		in, _ := IntAttr(a, "input_tokens")
		out, _ := IntAttr(a, "output_tokens")
		model := stringAttr(a, "model")
		if model == "" {
			model = "unknown"
		}
		model = m.models.value(model)
		result := "ok"
		if st, _ := IntAttr(a, "status"); st >= 400 || stringAttr(a, "error") != "" {
			result = "error"
		}
		m.llmReqs.WithLabelValues(model, result).Inc()
		m.LLMTokens(model, in, out)
	case KindRunFinished:
		m.RunFinished(outcomeOr(a, "succeeded"))
	case KindRunFailed:
		m.RunFinished(outcomeOr(a, "failed"))
	case KindRunDenied:
		m.RunFinished("denied")
	case KindRunBusy:
		m.RunFinished("busy")
	}
}

// outcomeOr is the event's outcome attribute, or def when it has none.
func outcomeOr(attrs map[string]any, def string) string {
	if o := stringAttr(attrs, "outcome"); o != "" {
		return o
	}
	return def
}
