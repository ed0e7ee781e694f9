package telemetry

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Phases of a run, the names of its phase spans and the phase label of
// agentgate_phase_duration_seconds.
const (
	PhaseIntake  = "intake"
	PhasePlan    = "plan"
	PhaseClone   = "clone"
	PhaseSandbox = "sandbox"
	PhaseHarvest = "harvest"
	PhasePush    = "push"
	PhaseReview  = "review"
)

// Phases lists the phases of a run in order.
var Phases = []string{PhaseIntake, PhasePlan, PhaseClone, PhaseSandbox, PhaseHarvest, PhasePush, PhaseReview}

// Span attribute keys set on a run's spans.
const (
	AttrRunID      = "agentgate.run_id"
	AttrRepo       = "agentgate.repo"
	AttrIssue      = "agentgate.issue"
	AttrOutcome    = "agentgate.outcome"
	AttrTrigger    = "agentgate.trigger"
	AttrRequester  = "agentgate.requester"
	AttrAttempt    = "agentgate.attempt"
	AttrDeliveryID = "agentgate.delivery_id"
	AttrPhase      = "agentgate.phase"
)

// tracerName is the instrumentation scope of agentgate's spans.
const tracerName = "github.com/agentgate/agentgate"

// runSpanKey carries a run's root span in the contexts derived from
// StartRun's, for SpanEvent.
type runSpanKey struct{}

// runSpanName is the name of a run's root span.
const runSpanName = "run"

// RunAttrs describe a run on its root span. Zero fields are left out.
type RunAttrs struct {
	Repo       string // "owner/name"
	Issue      int
	Trigger    string // "comment", "label", ...
	Requester  string // the login that asked
	Attempt    int    // the queue's attempt number, 1 first
	DeliveryID string // X-GitHub-Delivery
}

// RunTrace is the trace of one attempt of a run: a root span named "run"
// whose children are the run's phases, with the run's audit events as
// span events. The zero RunTrace records nothing, as does every RunTrace
// when tracing is not configured. Its methods are safe for concurrent use.
type RunTrace struct {
	runID    string
	span     trace.Span
	metrics  *Metrics
	redactor *Redactor
}

// StartRun starts the root span of an attempt of run runID and returns a
// context carrying it. The span always starts a new trace (it is no child
// of a span in ctx) whose id is RunTraceID(runID), so every attempt of a
// run shares one trace. End the RunTrace when the attempt ends.
func StartRun(ctx context.Context, runID string, attrs RunAttrs) (context.Context, RunTrace) {
	kv := []attribute.KeyValue{attribute.String(AttrRunID, runID)}
	if attrs.Repo != "" {
		kv = append(kv, attribute.String(AttrRepo, attrs.Repo))
	}
	if attrs.Issue != 0 {
		kv = append(kv, attribute.Int(AttrIssue, attrs.Issue))
	}
	if attrs.Trigger != "" {
		kv = append(kv, attribute.String(AttrTrigger, attrs.Trigger))
	}
	if attrs.Requester != "" {
		kv = append(kv, attribute.String(AttrRequester, attrs.Requester))
	}
	if attrs.Attempt != 0 {
		kv = append(kv, attribute.Int(AttrAttempt, attrs.Attempt))
	}
	if attrs.DeliveryID != "" {
		kv = append(kv, attribute.String(AttrDeliveryID, attrs.DeliveryID))
	}
	// The run id reaches the id generator through a context of its own,
	// so no later root span under ctx inherits the run's trace id.
	idCtx := context.WithValue(ctx, runKey{}, runID)
	_, span := otel.Tracer(tracerName).Start(idCtx, runSpanName,
		trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(kv...))
	ctx = context.WithValue(ctx, runSpanKey{}, span)
	return trace.ContextWithSpan(ctx, span), RunTrace{runID: runID, span: span}
}

// WithMetrics returns t recording each phase's duration in m as well.
func (t RunTrace) WithMetrics(m *Metrics) RunTrace {
	t.metrics = m
	return t
}

// WithRedactor returns t passing error messages through r before they
// are put on a span. Without one, only the built-in secret formats are
// redacted, not the exact values the operator registered.
func (t RunTrace) WithRedactor(r *Redactor) RunTrace {
	t.redactor = r
	return t
}

// Phase starts the span of one phase (see Phases) as a child of the span in
// ctx, or of the run's span when ctx carries none of this run. It returns
// the context for the phase's work and a function that ends the phase:
// a non-nil err marks the span failed. end may be called more than once
// (say, once explicitly and once deferred); only the first call counts.
func (t RunTrace) Phase(ctx context.Context, name string) (context.Context, func(err error)) {
	start := time.Now()
	if t.span == nil {
		var once sync.Once
		return ctx, func(error) { once.Do(func() { t.metrics.ObservePhase(name, time.Since(start)) }) }
	}
	if trace.SpanContextFromContext(ctx).TraceID() != t.span.SpanContext().TraceID() {
		ctx = trace.ContextWithSpan(ctx, t.span)
	}
	ctx, span := otel.Tracer(tracerName).Start(ctx, name,
		trace.WithTimestamp(start),
		trace.WithAttributes(attribute.String(AttrRunID, t.runID), attribute.String(AttrPhase, name)))
	var once sync.Once
	return ctx, func(err error) {
		once.Do(func() {
			t.fail(span, err)
			end := time.Now()
			span.End(trace.WithTimestamp(end))
			t.metrics.ObservePhase(name, end.Sub(start))
		})
	}
}

// RecordPhase records a phase that already happened, from start to end,
// such as intake: from the delivery's arrival (the job's creation time) to
// the worker taking the job.
func (t RunTrace) RecordPhase(ctx context.Context, name string, start, end time.Time, err error) {
	if end.Before(start) {
		end = start
	}
	t.metrics.ObservePhase(name, end.Sub(start))
	if t.span == nil {
		return
	}
	if trace.SpanContextFromContext(ctx).TraceID() != t.span.SpanContext().TraceID() {
		ctx = trace.ContextWithSpan(ctx, t.span)
	}
	_, span := otel.Tracer(tracerName).Start(ctx, name,
		trace.WithTimestamp(start),
		trace.WithAttributes(attribute.String(AttrRunID, t.runID), attribute.String(AttrPhase, name)))
	t.fail(span, err)
	span.End(trace.WithTimestamp(end))
}

// Event adds a stored audit event to the run's span as a span event named
// by its kind, with its seq, actor and attributes (see EventAttributes).
// Pass the event as the store returned it from Append: redacted, with
// Seq and Time. A run.finished, run.failed, run.denied or run.busy event
// also sets the run's outcome.
func (t RunTrace) Event(ev Event) {
	if t.span == nil {
		return
	}
	addSpanEvent(t.span, ev)
	if o := eventOutcome(ev); o != "" {
		t.span.SetAttributes(attribute.String(AttrOutcome, o))
	}
}

// SetOutcome sets the run's outcome attribute.
func (t RunTrace) SetOutcome(outcome string) {
	if t.span != nil {
		t.span.SetAttributes(attribute.String(AttrOutcome, outcome))
	}
}

// End ends the run's span; a non-nil err (the attempt failed and may be
// retried) marks it failed.
func (t RunTrace) End(err error) {
	if t.span == nil {
		return
	}
	t.fail(t.span, err)
	t.span.End()
}

// SpanContext is the run span's identity (trace and span id), for logs.
func (t RunTrace) SpanContext() trace.SpanContext {
	if t.span == nil {
		return trace.SpanContext{}
	}
	return t.span.SpanContext()
}

// fail marks span failed with err's message, redacted and bounded.
func (t RunTrace) fail(span trace.Span, err error) {
	if err == nil {
		return
	}
	r := t.redactor
	if r == nil {
		r = &Redactor{}
	}
	msg := truncateRunes(r.String(err.Error()), maxAttrValue)
	span.AddEvent("exception", trace.WithAttributes(
		attribute.String("exception.type", "error"), attribute.String("exception.message", msg)))
	span.SetStatus(codes.Error, msg)
}

// eventOutcome is the run outcome an event records, or "".
func eventOutcome(ev Event) string {
	switch ev.Kind {
	case KindRunFinished:
		return outcomeOr(ev.Attrs, "succeeded")
	case KindRunFailed:
		return outcomeOr(ev.Attrs, "failed")
	case KindRunDenied:
		return "denied"
	case KindRunBusy:
		return "busy"
	}
	return ""
}
