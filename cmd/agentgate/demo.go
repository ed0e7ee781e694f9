package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/agentgate/agentgate/internal/harness"
)

// cmdDemo runs agentgate end to end on this machine: a real git server, the
// GitHub stand-in, the real Docker engine and the test agent; it sends a
// signed issue_comment webhook and prints the pull request and check run.
func cmdDemo(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	verbose := fs.Bool("v", false, "log every request of the stand-ins and the worker")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		slog.SetDefault(log)
	}
	dir, err := os.MkdirTemp("", "agentgate-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(stdout, "agentgate demo: building the test agent and relay images and starting a git server, the GitHub stand-in and agentgate…")
	env, err := harness.Start(ctx, harness.Options{Dir: dir, Logger: log})
	if err != nil {
		return err
	}
	defer env.Close(context.WithoutCancel(ctx))

	// The test agent follows "agentgate-test:" lines in its task; this one
	// fixes the README's typo the example issue complains about.
	comment := "@agentgate please fix the spelling in the README\n\n" +
		`agentgate-test: write README.md # Hello-World\n\nMy first commit.\n`
	fmt.Fprintf(stdout, "\ncomment on issue #%d by @%s:\n  %s\n", harness.IssueNumber, harness.Requester, strings.ReplaceAll(comment, "\n", "\n  "))
	body, _, err := env.CommentPayload(comment, harness.Requester, "User")
	if err != nil {
		return err
	}
	start := time.Now()
	d, err := env.Deliver(ctx, "issue_comment", uuid.NewString(), body)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nPOST /webhook (issue_comment.created, signed) → %d in %s, run %s\n", d.Status, time.Since(start).Round(time.Millisecond), d.RunID)
	if d.Status != 202 {
		return fmt.Errorf("intake answered %d: %s", d.Status, d.Body)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	state, err := env.WaitRun(wctx, d.RunID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "run finished in %s (state %s)\n", time.Since(start).Round(time.Millisecond), state)

	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) == 0 {
		for _, c := range env.GH.Comments(harness.Owner, harness.Repo, harness.IssueNumber) {
			fmt.Fprintf(stdout, "\ncomment by %s:\n%s\n", c.User, c.Body)
		}
		return fmt.Errorf("no pull request was opened")
	}
	pr := prs[len(prs)-1]
	rule := strings.Repeat("─", 72)
	fmt.Fprintf(stdout, "\n%s\nPull request #%d: %s\n  %s → %s (head %s)\n%s\n%s\n", rule, pr.Number, pr.Title, pr.Head, pr.Base, short(pr.HeadSHA), rule, pr.Body)
	for _, cr := range env.GH.CheckRuns(harness.Owner, harness.Repo) {
		fmt.Fprintf(stdout, "\n%s\nCheck run %q on %s: %s/%s\n%s\n%s\n", rule, cr.Name, short(cr.HeadSHA), cr.Status, cr.Conclusion, rule, cr.Summary)
	}
	branch, _ := env.Git.Ref(ctx, harness.Owner+"/"+harness.Repo, "refs/heads/"+pr.Head)
	fmt.Fprintf(stdout, "\nbranch %s on the git server is at %s\n", pr.Head, short(branch))
	return nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
