package telemetry

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// manyEvents is a run with thousands of events: long multibyte paths,
// commands and destinations, enough to overflow the check run limit.
func manyEvents(n int) []Event {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	evs := []Event{{RunID: "r", Seq: 1, Time: t0, Kind: KindWebhookReceived}}
	long := strings.Repeat("é", 280)
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		evs = append(evs,
			Event{RunID: "r", Time: at, Kind: KindFileChanged, Attrs: map[string]any{"path": fmt.Sprintf("dir/%s/%d.go", long, i), "op": "added", "added": 3}},
			Event{RunID: "r", Time: at, Kind: KindAgentCommand, Attrs: map[string]any{"command": fmt.Sprintf("go test ./%s/%d | tee", long, i), "exit_code": i % 3}},
			Event{RunID: "r", Time: at, Kind: KindNetDenied, Attrs: map[string]any{"host": fmt.Sprintf("h%d.%s.example", i, strings.Repeat("x", 200)), "port": 443, "reason": "not allowlisted"}},
			Event{RunID: "r", Time: at, Kind: KindLLMRequest, Attrs: map[string]any{"model": "m", "input_tokens": 10, "output_tokens": 5}},
		)
	}
	evs = append(evs, Event{RunID: "r", Time: t0.Add(time.Hour), Kind: KindSandboxExited, Attrs: map[string]any{"exit_code": 0, "output_tail": strings.Repeat("line\n", 5000)}})
	for i := range evs {
		evs[i].Seq = int64(i + 1)
	}
	return evs
}

func TestMarkdownWithinLimitLinksRunPage(t *testing.T) {
	const url = "https://agentgate.example.com/runs/r-123"
	const footer = "\n**Audit chain head:** `abc` (verify with `agentgate audit verify`)\n"
	for _, n := range []int{10, 1000, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := Summarize(manyEvents(n))
			s.RunURL, s.Footer = url, footer
			md := s.Markdown()
			if len(md) > MaxMarkdown {
				t.Fatalf("%d bytes, over the %d limit", len(md), MaxMarkdown)
			}
			if !strings.HasSuffix(md, footer) {
				t.Fatal("footer missing or not last")
			}
			if !strings.Contains(md, "**Run page:** [") || !strings.Contains(md, "(<"+url+">)") {
				t.Fatal("no link to the run page")
			}
			truncated := strings.Contains(md, "summary truncated")
			if n >= 1000 && !truncated {
				t.Fatalf("%d events: expected a truncated summary", n)
			}
			if n == 10 && truncated {
				t.Fatal("small run truncated")
			}
			if truncated && !strings.Contains(md, "the [run page](<"+url+">) shows everything") {
				t.Fatal("truncation note does not link the run page")
			}
			// Tables are cut between rows, never inside one.
			for _, line := range strings.Split(md, "\n") {
				if strings.HasPrefix(line, "|") && !strings.HasSuffix(line, "|") {
					t.Fatalf("table row cut: %q", line)
				}
			}
			// One table per concern, in order, as far as they fit.
			if i, j := strings.Index(md, "| File |"), strings.Index(md, "| Command |"); i < 0 || (j >= 0 && j < i) {
				t.Fatal("files table missing or out of order")
			}
		})
	}
}

func TestMarkdownWithoutRunURL(t *testing.T) {
	md := Summarize(manyEvents(5000)).Markdown()
	if len(md) > MaxMarkdown || !strings.Contains(md, "_(summary truncated)_") || strings.Contains(md, "Run page") {
		t.Fatalf("len %d, note or link wrong", len(md))
	}
}

func BenchmarkMarkdownThousandsOfEvents(b *testing.B) {
	evs := manyEvents(5000)
	for b.Loop() {
		s := Summarize(evs)
		s.RunURL = "https://x/runs/r"
		_ = s.Markdown()
	}
}
