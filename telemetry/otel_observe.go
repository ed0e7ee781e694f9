package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Observer is told of each event after the store appended it, with the
// context of the Append call and the event as stored (redacted, with Seq
// and Time). It must not block.
type Observer func(ctx context.Context, ev Event)

// Observe returns a Recorder that appends to rec and then tells every
// observer of the stored event. A failed Append is reported to nobody.
// Use it to feed metrics and traces from every place that appends:
//
//	rec := telemetry.Observe(db, telemetry.SpanEvent, metrics.Observer())
func Observe(rec Recorder, observers ...Observer) Recorder {
	return observed{rec: rec, observers: observers}
}

// observed is the Recorder Observe returns.
type observed struct {
	rec       Recorder
	observers []Observer
}

// Append implements Recorder.
func (o observed) Append(ctx context.Context, ev Event) (Event, error) {
	stored, err := o.rec.Append(ctx, ev)
	if err != nil {
		return stored, err
	}
	for _, fn := range o.observers {
		fn(ctx, stored)
	}
	return stored, nil
}

// SpanEvent is an Observer that adds the event to the span in ctx (the
// current phase's span, or the run's) when that span is recording and
// belongs to the event's run; an event that ends the run sets the outcome
// on the run's root span. Events appended outside a run's trace are left out.
func SpanEvent(ctx context.Context, ev Event) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() || span.SpanContext().TraceID() != RunTraceID(ev.RunID) {
		return
	}
	addSpanEvent(span, ev)
	if o := eventOutcome(ev); o != "" {
		if run, ok := ctx.Value(runSpanKey{}).(trace.Span); ok && run.SpanContext().TraceID() == span.SpanContext().TraceID() {
			span = run
		}
		span.SetAttributes(attribute.String(AttrOutcome, o))
	}
}

// Observer returns m.ObserveEvent as an Observer.
func (m *Metrics) Observer() Observer {
	return func(_ context.Context, ev Event) { m.ObserveEvent(ev) }
}
