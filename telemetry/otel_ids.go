package telemetry

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"
)

// RunTraceID is the trace id of a run's spans: the run id's 16 bytes when
// it is a UUID (as agentgate's are), so the trace of run
// 0b5e…-…-… is 0b5e……, otherwise the first 16 bytes of its SHA-256. Every
// attempt of a run, on any worker, lands in the same trace.
func RunTraceID(runID string) trace.TraceID {
	var id trace.TraceID
	if u, err := uuid.Parse(runID); err == nil {
		copy(id[:], u[:])
	} else {
		sum := sha256.Sum256([]byte(runID))
		copy(id[:], sum[:16])
	}
	if !id.IsValid() { // the nil UUID
		id[15] = 1
	}
	return id
}

// runKey carries the run id to runIDGenerator through the context.
type runKey struct{}

// runIDGenerator gives a run's root span the run's trace id (RunTraceID)
// and every other span random ids.
type runIDGenerator struct{}

// NewIDs implements sdktrace.IDGenerator.
func (runIDGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	var tid trace.TraceID
	if runID, ok := ctx.Value(runKey{}).(string); ok {
		tid = RunTraceID(runID)
	} else {
		for !tid.IsValid() {
			binary.NativeEndian.PutUint64(tid[:8], rand.Uint64())
			binary.NativeEndian.PutUint64(tid[8:], rand.Uint64())
		}
	}
	return tid, newSpanID()
}

// NewSpanID implements sdktrace.IDGenerator.
func (runIDGenerator) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	return newSpanID()
}

// newSpanID is a random, valid span id.
func newSpanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.NativeEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}
