package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Options choose what Run measures and how often.
type Options struct {
	// N is how many times each measurement repeats (default 3; the
	// 100 MB cold fetch and the shallow go-git clone run once, memory at
	// most twice).
	N int
	// Short shrinks every workload (a smoke run: every scenario, tiny
	// sizes, figures meaningless).
	Short bool
	// Dir is the working directory; the generated repository is kept
	// there between runs. Default: a temporary directory, removed.
	Dir string
	// Binary is the agentgate executable the memory scenario starts as
	// `serve` (default: cmd/agentgate built from the module's source).
	Binary string
	// Only, when not empty, names the scenarios to run (see Scenarios).
	Only []string
	// Logger reports progress; nil discards it.
	Logger *slog.Logger
}

// Scenarios are the scenario names, in report order.
var Scenarios = []string{"intake", "run", "workspace", "egress", "inspect", "audit", "memory"}

// Stat is a repeated measurement: its median and spread.
type Stat struct {
	Median, Min, Max float64
	N                int
}

// stat summarises xs (which must not be empty).
func stat(xs []float64) Stat {
	s := slices.Clone(xs)
	slices.Sort(s)
	return Stat{Median: s[len(s)/2], Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// Row is one metric of a scenario: agentgate's figure, the baseline's
// from the same run, their ratio and the target.
type Row struct {
	Metric    string
	Unit      string
	Agentgate Stat
	Baseline  *Stat  // nil when there is no baseline
	BaseName  string // what the baseline is
	Target    string // e.g. "≥ 1000", "≤ 1.5× baseline"; "" = none
	Met       *bool  // nil when there is no target
	Note      string
}

// Ratio is agentgate's median over the baseline's (0 without baseline).
func (r Row) Ratio() float64 {
	if r.Baseline == nil || r.Baseline.Median == 0 {
		return 0
	}
	return r.Agentgate.Median / r.Baseline.Median
}

// Result is one scenario's rows.
type Result struct {
	Scenario string
	Title    string
	Command  string // what it runs, in a sentence
	Rows     []Row
	Err      error // the scenario could not run
	Took     time.Duration
}

// Report is a whole run.
type Report struct {
	Machine Machine
	N       int
	Short   bool
	Results []Result
	Took    time.Duration
}

// env is what scenarios share.
type env struct {
	opts Options
	dir  string
	log  *slog.Logger
}

// Run measures the chosen scenarios. A scenario that fails is reported
// with its error; the others still run.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.N <= 0 {
		opts.N = 3
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	for _, s := range opts.Only {
		if !slices.Contains(Scenarios, s) {
			return nil, fmt.Errorf("bench: unknown scenario %q (have %s)", s, strings.Join(Scenarios, ", "))
		}
	}
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "agentgate-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	e := &env{opts: opts, dir: dir, log: opts.Logger}
	rep := &Report{Machine: machine(ctx), N: opts.N, Short: opts.Short}
	start := time.Now()
	runs := map[string]func(context.Context, *env) Result{
		"intake": intake, "run": runOverhead, "workspace": workspace,
		"egress": egressScenario, "inspect": inspectScenario, "audit": audit, "memory": memory,
	}
	for _, name := range Scenarios {
		if len(opts.Only) > 0 && !slices.Contains(opts.Only, name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		e.log.Info("bench: scenario", "name", name)
		// What earlier scenarios (or runs) wrote is flushed first, so
		// that its writeback does not stall this one's disk writes.
		syscall.Sync()
		t0 := time.Now()
		res := runs[name](ctx, e)
		res.Scenario = name
		res.Took = time.Since(t0)
		if res.Err != nil {
			e.log.Error("bench: scenario failed", "name", name, "err", res.Err)
		}
		rep.Results = append(rep.Results, res)
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// Err joins the scenarios' errors.
func (r *Report) Err() error {
	var errs []error
	for _, res := range r.Results {
		if res.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", res.Scenario, res.Err))
		}
	}
	return errors.Join(errs...)
}

// Markdown writes the report as BENCHMARKS.md-ready markdown: the
// machine, then one table per scenario.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "Machine: %d CPU cores, %s memory, Docker %s, kernel %s, %s/%s, Go %s. ",
		m.CPUs, m.Memory, m.Docker, m.Kernel, m.OS, m.Arch, m.Go)
	fmt.Fprintf(&b, "Each figure is the median of %d repetitions, with the spread (min–max) in brackets", r.N)
	if r.Short {
		b.WriteString("; **short run: tiny workloads, figures not meaningful**")
	}
	fmt.Fprintf(&b, ". Whole run: %s.\n", r.Took.Round(time.Second))
	for _, res := range r.Results {
		fmt.Fprintf(&b, "\n### %s\n\n", res.Title)
		if res.Command != "" {
			fmt.Fprintf(&b, "%s\n\n", res.Command)
		}
		if res.Err != nil {
			fmt.Fprintf(&b, "**Not measured:** %v\n", res.Err)
			continue
		}
		b.WriteString("| metric | agentgate | baseline (same run) | ratio | target | met |\n")
		b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
		for _, row := range res.Rows {
			base, ratio := "", ""
			if row.Baseline != nil {
				base = row.BaseName + ": " + fmtStat(*row.Baseline, row.Unit)
				ratio = fmt.Sprintf("%.2f×", row.Ratio())
			}
			met := ""
			if row.Met != nil {
				met = "yes"
				if !*row.Met {
					met = "**no**"
				}
			}
			metric := row.Metric
			if row.Note != "" {
				metric += " (" + row.Note + ")"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", metric, fmtStat(row.Agentgate, row.Unit), base, ratio, row.Target, met)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fmtStat renders a median with its spread.
func fmtStat(s Stat, unit string) string {
	if s.N <= 1 || s.Min == s.Max {
		return fmtNum(s.Median) + " " + unit
	}
	return fmt.Sprintf("%s %s [%s–%s]", fmtNum(s.Median), unit, fmtNum(s.Min), fmtNum(s.Max))
}

// fmtNum prints a figure with sensible precision and thousands separators.
func fmtNum(v float64) string {
	switch {
	case v >= 1000:
		s := fmt.Sprintf("%.0f", v)
		var out []byte
		for i, c := range []byte(s) {
			if i > 0 && (len(s)-i)%3 == 0 {
				out = append(out, ',')
			}
			out = append(out, c)
		}
		return string(out)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// check returns whether ok, for Row.Met.
func check(ok bool) *bool { return &ok }

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// quantile is the q-quantile of sorted durations, in ms.
func quantile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return ms(sorted[int(q*float64(len(sorted)-1))])
}

// size picks the full or the short workload.
func (e *env) size(full, short int) int {
	if e.opts.Short {
		return short
	}
	return full
}

// tempDir is a fresh directory under the run's directory.
func (e *env) tempDir(pattern string) (string, error) {
	return os.MkdirTemp(e.dir, pattern)
}
