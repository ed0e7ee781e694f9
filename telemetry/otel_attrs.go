package telemetry

import (
	"encoding/json"
	"math"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Bounds of an event's attributes on a span.
const (
	// maxAttrs is how many of an event's attributes become span
	// attributes (in key order); the rest are counted in
	// agentgate.dropped_attrs.
	maxAttrs = 48
	// maxAttrValue bounds a string attribute, in bytes.
	maxAttrValue = 1024
	// maxAttrKey bounds an attribute key, in bytes.
	maxAttrKey = 128
)

// Span event attribute keys every event carries.
const (
	AttrSeq          = "agentgate.seq"
	AttrActor        = "agentgate.actor"
	AttrDroppedAttrs = "agentgate.dropped_attrs"
)

// EventAttributes flattens an event into span attributes: agentgate.run_id,
// agentgate.seq, agentgate.actor, then its attrs under their own keys, in
// key order. Strings, booleans and numbers keep their type; anything else
// (maps, lists) becomes its JSON text. Strings are cut to 1 KiB and at most
// 48 attrs are kept, so a large event (an output tail) cannot blow up a
// span. Nothing is redacted here: pass events as the store returned them.
func EventAttributes(ev Event) []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, 3+min(len(ev.Attrs), maxAttrs)+1)
	kv = append(kv, attribute.String(AttrRunID, ev.RunID), attribute.Int64(AttrSeq, ev.Seq))
	if ev.Actor != "" {
		kv = append(kv, attribute.String(AttrActor, boundString(ev.Actor, maxAttrValue)))
	}
	keys := make([]string, 0, len(ev.Attrs))
	for k := range ev.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == maxAttrs {
			kv = append(kv, attribute.Int(AttrDroppedAttrs, len(keys)-maxAttrs))
			break
		}
		kv = append(kv, attrValue(boundString(k, maxAttrKey), ev.Attrs[k]))
	}
	return kv
}

// attrValue converts one event attribute.
func attrValue(k string, v any) attribute.KeyValue {
	switch x := v.(type) {
	case string:
		return attribute.String(k, boundString(x, maxAttrValue))
	case bool:
		return attribute.Bool(k, x)
	case int:
		return attribute.Int(k, x)
	case int32:
		return attribute.Int64(k, int64(x))
	case int64:
		return attribute.Int64(k, x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
			return attribute.Int64(k, int64(x)) // JSON numbers read back from the store
		}
		return attribute.Float64(k, x)
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return attribute.Int64(k, n)
		}
		if f, err := x.Float64(); err == nil {
			return attribute.Float64(k, f)
		}
		return attribute.String(k, boundString(x.String(), maxAttrValue))
	case time.Time:
		return attribute.String(k, x.UTC().Format(time.RFC3339Nano))
	case nil:
		return attribute.String(k, "")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return attribute.String(k, "(unencodable)")
	}
	return attribute.String(k, boundString(string(b), maxAttrValue))
}

// boundString makes s valid UTF-8 and cuts it to at most n bytes, marking
// the cut with "…".
func boundString(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	return truncateRunes(s, n-len("…")) + "…"
}

// addSpanEvent adds ev to span as an event named by its kind, at its time.
func addSpanEvent(span trace.Span, ev Event) {
	opts := []trace.EventOption{trace.WithAttributes(EventAttributes(ev)...)}
	if !ev.Time.IsZero() {
		opts = append(opts, trace.WithTimestamp(ev.Time))
	}
	name := ev.Kind
	if name == "" {
		name = "event"
	}
	span.AddEvent(boundString(name, maxAttrKey), opts...)
}
