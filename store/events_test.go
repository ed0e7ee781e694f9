package store

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/agentgate/agentgate/telemetry"
)

func TestAppendEvents(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		db, _ := openTemp(t)
		ctx := context.Background()
		in := []telemetry.Event{
			{RunID: "r1", Kind: telemetry.KindRunQueued, Actor: "webhook", Seq: 99, Time: time.Unix(1, 0)},
			{RunID: "r1", Kind: telemetry.KindSandboxExited, Actor: "runner", Attrs: map[string]any{"exit_code": 3, "timed_out": true, "output_tail": "x"}},
			{RunID: "r2", Kind: telemetry.KindRunQueued, Actor: "webhook"},
			{RunID: "r1", Kind: telemetry.KindRunFinished, Actor: "app", Attrs: map[string]any{"outcome": "succeeded"}},
		}
		wantSeq := []int64{1, 2, 1, 3}
		before := time.Now().UTC().Add(-time.Second)
		var stored []telemetry.Event
		for i, ev := range in {
			got, err := db.Append(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if got.Seq != wantSeq[i] {
				t.Errorf("event %d: seq %d, want %d", i, got.Seq, wantSeq[i])
			}
			if got.Time.Before(before) || got.Time.Location() != time.UTC {
				t.Errorf("event %d: time %v not now UTC", i, got.Time)
			}
			stored = append(stored, got)
		}
		events, err := db.Events(ctx, "r1")
		if err != nil {
			t.Fatal(err)
		}
		want := []telemetry.Event{stored[0], stored[1], stored[3]}
		want[1].Attrs = map[string]any{"exit_code": float64(3), "timed_out": true, "output_tail": "x"}
		if !reflect.DeepEqual(events, want) {
			t.Errorf("Events:\n got %+v\nwant %+v", events, want)
		}
		if s := telemetry.Summarize(events); s.Outcome != "succeeded" || s.ExitCode == nil || *s.ExitCode != 3 {
			t.Errorf("summary of stored events: %+v", s)
		}
		if _, err := db.Append(ctx, telemetry.Event{Kind: "x"}); err == nil {
			t.Error("Append without run id succeeded")
		}
		if _, err := db.Append(ctx, telemetry.Event{RunID: "r1", Kind: "x", Attrs: map[string]any{"f": func() {}}}); err == nil {
			t.Error("Append with unencodable attrs succeeded")
		}
	})
}

func TestAppendConcurrent(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		db, _ := openTemp(t)
		ctx := context.Background()
		const goroutines, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*each)
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if _, err := db.Append(ctx, telemetry.Event{RunID: "r1", Kind: "agent.output", Actor: fmt.Sprintf("g%d-%d", g, i)}); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		events, err := db.Events(ctx, "r1")
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != goroutines*each {
			t.Fatalf("%d events, want %d", len(events), goroutines*each)
		}
		actors := map[string]bool{}
		for i, ev := range events {
			if ev.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d: not gapless", i, ev.Seq)
			}
			actors[ev.Actor] = true
		}
		if len(actors) != goroutines*each {
			t.Errorf("%d distinct events, want %d", len(actors), goroutines*each)
		}
	})
}
