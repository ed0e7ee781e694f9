package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/agentgate/agentgate/bench"
)

// cmdBench runs the benchmark suite and prints (or writes) its markdown.
func cmdBench(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	n := fs.Int("n", 3, "repetitions of each measurement")
	short := fs.Bool("short", false, "tiny workloads: checks every scenario runs (figures meaningless)")
	dir := fs.String("dir", "", "working directory, kept (the generated repository is reused); default a temporary one")
	out := fs.String("out", "", "write the markdown to this file instead of standard output")
	only := fs.String("only", "", "comma-separated scenarios to run: "+strings.Join(bench.Scenarios, ","))
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := bench.Options{N: *n, Short: *short, Dir: *dir, Logger: log}
	if *only != "" {
		opts.Only = strings.Split(*only, ",")
	}
	rep, err := bench.Run(ctx, opts)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := rep.Markdown(w); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return rep.Err()
}
