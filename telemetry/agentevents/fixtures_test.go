package agentevents

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/telemetry"
)

// TestParserFixtures parses every testdata/<format>/*.jsonl, an event
// stream built from the CLI's own type definitions and tests at the
// pinned version (testdata/README.md says which file and commit each came
// from), and compares the events, followed by Flush's, with the .want file
// beside it: one event per line as brief renders it.
func TestParserFixtures(t *testing.T) {
	for _, format := range []string{FormatCodex, FormatClaudeCode} {
		files, err := filepath.Glob(filepath.Join("testdata", format, "*.jsonl"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures for %s: %v", format, err)
		}
		for _, file := range files {
			t.Run(format+"/"+filepath.Base(file), func(t *testing.T) {
				f, err := os.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				p := NewParser(format)
				var evs []telemetry.Event
				sc := bufio.NewScanner(f)
				sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
				n := 0
				for sc.Scan() {
					n++
					if _, ok := decode(sc.Text()); !ok {
						t.Errorf("line %d is not one JSON object", n)
					}
					evs = append(evs, p.Line(sc.Text())...)
				}
				if err := sc.Err(); err != nil {
					t.Fatal(err)
				}
				evs = append(evs, p.Flush()...)
				want, err := os.ReadFile(strings.TrimSuffix(file, ".jsonl") + ".want")
				if err != nil {
					t.Fatal(err)
				}
				if got := brief(evs); got != strings.TrimSuffix(string(want), "\n") {
					t.Errorf("events:\n%s\nwant:\n%s", got, want)
				}
			})
		}
	}
}
