package bench

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/internal/dockertest"
)

// TestSmoke runs every scenario with tiny workloads and checks that the
// report has a filled table for each. The figures mean nothing here.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the smoke run starts the whole service and a serve process (minutes on a loaded machine)")
	}
	cli := dockertest.Client(t) // run overhead and memory need the engine
	_ = cli.Close()
	dir := t.TempDir()
	bin := filepath.Join(dir, "agentgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/agentgate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rep, err := Run(context.Background(), Options{N: 1, Short: true, Dir: dir, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("scenarios failed: %v", err)
	}
	var md strings.Builder
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	if len(rep.Results) != len(Scenarios) {
		t.Fatalf("%d results for %d scenarios", len(rep.Results), len(Scenarios))
	}
	for _, res := range rep.Results {
		if len(res.Rows) == 0 {
			t.Errorf("%s: no rows", res.Scenario)
		}
		if !strings.Contains(out, "### "+res.Title+"\n") {
			t.Errorf("%s: no table titled %q", res.Scenario, res.Title)
		}
		for _, row := range res.Rows {
			if row.Agentgate.N == 0 || row.Agentgate.Median <= 0 {
				t.Errorf("%s: %s: no measurement (%+v)", res.Scenario, row.Metric, row.Agentgate)
			}
			if row.Baseline != nil && row.Baseline.Median <= 0 {
				t.Errorf("%s: %s: no baseline measurement", res.Scenario, row.Metric)
			}
			if !strings.Contains(out, "| "+row.Metric) {
				t.Errorf("%s: row %q missing from the markdown", res.Scenario, row.Metric)
			}
		}
	}
	if !strings.Contains(out, "Machine: ") || !strings.Contains(out, "short run") {
		t.Errorf("markdown lacks the machine line or the short-run warning:\n%s", out)
	}
}

func TestRunRefusesUnknownScenario(t *testing.T) {
	if _, err := Run(context.Background(), Options{Only: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "unknown scenario") {
		t.Fatalf("Run = %v, want an unknown scenario error", err)
	}
}

func TestStatAndFormat(t *testing.T) {
	s := stat([]float64{5, 1, 3})
	if s.Median != 3 || s.Min != 1 || s.Max != 5 || s.N != 3 {
		t.Fatalf("stat = %+v", s)
	}
	for v, want := range map[float64]string{1234567: "1,234,567", 999: "999", 12.345: "12.3", 0.5: "0.50"} {
		if got := fmtNum(v); got != want {
			t.Errorf("fmtNum(%v) = %q, want %q", v, got, want)
		}
	}
	if got := fmtStat(s, "ms"); got != "3.00 ms [1.00–5.00]" {
		t.Errorf("fmtStat = %q", got)
	}
}
