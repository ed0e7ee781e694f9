package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

func TestEventAttributes(t *testing.T) {
	many := map[string]any{}
	for i := 0; i < maxAttrs+5; i++ {
		many[strings.Repeat("k", 1+i/26)+string(rune('a'+i%26))] = i
	}
	tests := []struct {
		name string
		ev   Event
		want map[attribute.Key]attribute.Value
		// absent keys must not be there
		absent []attribute.Key
	}{
		{
			name: "typed values",
			ev: Event{RunID: "r", Seq: 3, Kind: KindLLMRequest, Actor: "agent", Attrs: map[string]any{
				"model": "m1", "stream": true, "input_tokens": 10, "cost_usd": 0.25, "status": float64(200),
				"n": json.Number("42"), "list": []string{"a", "b"}, "none": nil,
			}},
			want: map[attribute.Key]attribute.Value{
				AttrRunID: attribute.StringValue("r"), AttrSeq: attribute.Int64Value(3), AttrActor: attribute.StringValue("agent"),
				"model": attribute.StringValue("m1"), "stream": attribute.BoolValue(true), "input_tokens": attribute.IntValue(10),
				"cost_usd": attribute.Float64Value(0.25), "status": attribute.Int64Value(200), "n": attribute.Int64Value(42),
				"list": attribute.StringValue(`["a","b"]`), "none": attribute.StringValue(""),
			},
			absent: []attribute.Key{AttrDroppedAttrs},
		},
		{
			name: "long strings cut, invalid UTF-8 replaced",
			ev:   Event{RunID: "r", Attrs: map[string]any{"tail": strings.Repeat("x", 5000), "bad": "a\xffb"}},
			want: map[attribute.Key]attribute.Value{
				"tail": attribute.StringValue(strings.Repeat("x", maxAttrValue-len("…")) + "…"),
				"bad":  attribute.StringValue("a\uFFFDb"),
			},
			absent: []attribute.Key{AttrActor},
		},
		{
			name: "too many attributes",
			ev:   Event{RunID: "r", Attrs: many},
			want: map[attribute.Key]attribute.Value{AttrDroppedAttrs: attribute.IntValue(5), "ka": attribute.IntValue(0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[attribute.Key]attribute.Value{}
			for _, kv := range EventAttributes(tt.ev) {
				got[kv.Key] = kv.Value
			}
			for k, want := range tt.want {
				if got[k] != want {
					t.Errorf("%s = %v (%s), want %v (%s)", k, got[k].String(), got[k].Type(), want.String(), want.Type())
				}
			}
			for _, k := range tt.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s present", k)
				}
			}
			if len(got) > 3+maxAttrs+1 {
				t.Errorf("%d attributes, more than the bound", len(got))
			}
		})
	}
}

func TestObserve(t *testing.T) {
	var seen []Event
	obs := func(_ context.Context, ev Event) { seen = append(seen, ev) }
	f := &fakeRecorder{}
	rec := Observe(f, obs, obs)
	got, err := rec.Append(context.Background(), Event{RunID: "r", Kind: KindGitPushed})
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 1 || len(seen) != 2 || seen[0].Seq != 1 || seen[1].Time.IsZero() {
		t.Errorf("observers saw %+v, append returned %+v; want the stored event twice", seen, got)
	}
	f.err = errors.New("disk full")
	if _, err := rec.Append(context.Background(), Event{RunID: "r"}); err == nil {
		t.Fatal("append error swallowed")
	}
	if len(seen) != 2 {
		t.Errorf("observers told of a failed append")
	}
}
