package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/net/html"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/cmd/internal/auditcmd"
	"github.com/agentgate/agentgate/internal/fakellm"
	"github.com/agentgate/agentgate/internal/harness"
)

// demoModel is the model name the demo's built-in agent asks for.
const demoModel = "demo-model"

// demoScript is what the scripted model answers, turn by turn: it
// looks for the misspelling, patches it, checks the result (and tries to
// fetch a word list from a host the egress policy does not allow: the
// relay's proxy denies it, nothing leaves the machine), and finishes. Every tool call runs for real in the sandbox.
func demoScript() []fakellm.Turn {
	return []fakellm.Turn{
		{Text: "Looking for the misspelling the issue reports.",
			ToolCalls:    []fakellm.ToolCall{{Name: "run", Arguments: `{"command":"grep -rn commmit ."}`}},
			PromptTokens: 1180, OutputTokens: 24},
		{ToolCalls: []fakellm.ToolCall{{Name: "apply_patch", Arguments: `{"diff":"--- a/README.md\n+++ b/README.md\n@@ -1,3 +1,3 @@\n # Hello-World\n \n-My first commmit.\n+My first commit.\n"}`}},
			PromptTokens: 1265, OutputTokens: 71},
		{Text: "Checking that no misspelling is left, and against a word list.",
			ToolCalls: []fakellm.ToolCall{
				{Name: "run", Arguments: `{"command":"grep -rn commmit . || echo no misspelling left"}`},
				{Name: "run", Arguments: `{"command":"wget -q -O- http://dictionary.invalid/words.txt"}`},
			},
			PromptTokens: 1390, OutputTokens: 58},
		{ToolCalls: []fakellm.ToolCall{{Name: "finish", Arguments: `{"summary":"Fixed the spelling of \"commit\" (was \"commmit\") in README.md."}`}},
			PromptTokens: 1502, OutputTokens: 22},
	}
}

// cmdDemo runs agentgate end to end on this machine: a real git server, the
// GitHub stand-in, the real Docker engine, the built-in agent in its
// sandbox and a scripted OpenAI-compatible model behind agentgate's LLM
// gateway. It sends a signed issue_comment webhook and prints the pull
// request's diff, the check run, the run page's network and model sections
// and the audit chain's verification.
func cmdDemo(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	verbose := fs.Bool("v", false, "log every request of the stand-ins and the worker")
	dir := fs.String("dir", "", "directory for the demo's git server, database and runs (default: a new temporary directory, kept for `agentgate audit`)")
	serve := fs.Bool("serve", false, "keep agentgate and the run page up after the run, until interrupted")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		slog.SetDefault(log)
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "agentgate-demo-")
		if err != nil {
			return fmt.Errorf("demo directory: %w", err)
		}
		*dir = d
	} else if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("demo directory: %w", err)
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return fmt.Errorf("demo directory: %w", err)
	}
	*dir = abs

	// The model's key lives in agentgate's configuration only: the gateway
	// adds it to each request; the scripted model refuses any other.
	key, adminToken := "sk-demo-"+randomHex(16), randomHex(16)
	model := fakellm.New(demoScript(), fakellm.WithKey(key))
	defer model.Close()

	fmt.Fprintln(stdout, "agentgate-demo: building the agent and relay images and starting a git server, the GitHub stand-in, a scripted model and agentgate…")
	env, err := harness.Start(ctx, harness.Options{Dir: *dir, Logger: log, Config: func(c *app.Config) {
		c.AgentPreset = "builtin"
		c.AgentImage = ""
		c.AgentModel = demoModel
		c.Network.OpenAIURL = model.URL
		c.Network.OpenAIKey = key
		c.AdminToken = adminToken
	}})
	if err != nil {
		return err
	}
	defer env.Close(context.WithoutCancel(ctx))

	comment := "@agentgate please fix the spelling error in the README"
	fmt.Fprintf(stdout, "\nissue #%d %q by @%s:\n  %s\ncomment by @%s:\n  %s\n",
		harness.IssueNumber, harness.IssueTitle, harness.Requester, harness.IssueBody, harness.Requester, comment)
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
	if d.Status != http.StatusAccepted {
		return fmt.Errorf("intake answered %d: %s", d.Status, d.Body)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	state, err := env.WaitRun(wctx, d.RunID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "run finished in %s (state %s); the model answered %d requests, each through the gateway\n",
		time.Since(start).Round(time.Millisecond), state, len(model.Requests()))

	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) == 0 {
		for _, c := range env.GH.Comments(harness.Owner, harness.Repo, harness.IssueNumber) {
			fmt.Fprintf(stdout, "\ncomment by %s:\n%s\n", c.User, c.Body)
		}
		return fmt.Errorf("no pull request was opened")
	}
	pr := prs[len(prs)-1]
	repo := harness.Owner + "/" + harness.Repo
	rule := strings.Repeat("─", 72)
	// The body's head; its report is the check run's, printed below.
	head, _, _ := strings.Cut(pr.Body, "\n## Run")
	fmt.Fprintf(stdout, "\n%s\nPull request #%d: %s\n  %s → %s (head %s)\n%s\n%s\n(then the run's report, as in the check run below, and the agent's summary)\n",
		rule, pr.Number, pr.Title, pr.Head, pr.Base, short(pr.HeadSHA), rule, strings.TrimSpace(head))
	diff, err := env.Git.Git(ctx, repo, "diff", "--no-color", pr.Base+"..."+pr.HeadSHA)
	if err != nil {
		return fmt.Errorf("pull request diff: %w", err)
	}
	fmt.Fprintf(stdout, "\n%s\nThe pull request's diff (git diff %s...%s on the git server)\n%s\n%s", rule, pr.Base, short(pr.HeadSHA), rule, diff)
	for _, cr := range env.GH.CheckRuns(harness.Owner, harness.Repo) {
		fmt.Fprintf(stdout, "\n%s\nCheck run %q on %s: %s/%s\n%s\n%s\n", rule, cr.Name, short(cr.HeadSHA), cr.Status, cr.Conclusion, rule, cr.Summary)
	}

	runURL := "http://" + env.App.AdminAddr() + "/runs/" + d.RunID
	page, err := fetchRunPage(ctx, runURL, adminToken)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%s\nRun page %s (as the operator; requesters sign in with GitHub)\n%s\n%s", rule, runURL, rule, page)

	fmt.Fprintf(stdout, "\n%s\nagentgate audit verify --database-url %s --data-dir %s\n%s\n", rule,
		env.Config.DatabaseURL, env.Config.DataDir, rule)
	code, err := auditcmd.Run(ctx, []string{"verify", "--database-url", env.Config.DatabaseURL, "--data-dir", env.Config.DataDir}, stdout)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if code != 0 {
		return fmt.Errorf("audit verify exited %d", code)
	}

	fmt.Fprintf(stdout, "\n%s\nWhere to look\n%s\n", rule, rule)
	fmt.Fprintf(stdout, "  pull request   #%d, branch %s at %s on the demo's git server\n", pr.Number, pr.Head, short(pr.HeadSHA))
	fmt.Fprintf(stdout, "  check run      \"agentgate\" on %s (above: tokens, tool calls, network)\n", short(pr.HeadSHA))
	fmt.Fprintf(stdout, "  run page       %s (up while the demo runs; `agentgate-demo -serve` keeps it up)\n", runURL)
	fmt.Fprintf(stdout, "  audit trail    agentgate audit show %s --database-url %s --data-dir %s\n", d.RunID, env.Config.DatabaseURL, env.Config.DataDir)
	fmt.Fprintf(stdout, "  demo files     %s (delete it when done)\n", *dir)
	if *serve {
		fmt.Fprintf(stdout, "\nServing the run page at %s\n  curl -H 'Authorization: Bearer %s' %s\nPress Ctrl-C to stop.\n", runURL, adminToken, runURL)
		<-ctx.Done()
	}
	return nil
}

// fetchRunPage reads the run page as the operator (admin token) and
// returns its network and model sections as text.
func fetchRunPage(ctx context.Context, runURL, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, runURL, nil)
	if err != nil {
		return "", fmt.Errorf("run page: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("run page: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("run page: %s", resp.Status)
	}
	doc, err := html.Parse(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return "", fmt.Errorf("run page: %w", err)
	}
	return pageSections(doc, "Network", "LLM usage", "Timeline"), nil
}

// pageSections renders the named <h2> sections of a run page as text: a
// heading line, then one line per table row or definition. Of the
// timeline, only the egress (net.*) and gateway (llm.*) decisions are
// kept, their details cut short.
func pageSections(doc *html.Node, names ...string) string {
	var b strings.Builder
	var in bool
	var section string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "h2":
				title := nodeText(n)
				in = false
				for _, name := range names {
					if title == name {
						in, section = true, name
						fmt.Fprintf(&b, "%s\n", title)
					}
				}
				return
			case "tr":
				if in {
					var cells []string
					for c := n.FirstChild; c != nil; c = c.NextSibling {
						if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
							cells = append(cells, nodeText(c))
						}
					}
					if section == "Timeline" {
						if len(cells) != 5 || !(strings.HasPrefix(cells[2], "net.") || strings.HasPrefix(cells[2], "llm.")) {
							return
						}
						cells = []string{cells[2], cells[3], cutText(cells[4], 140)}
					}
					fmt.Fprintf(&b, "  %s\n", strings.Join(cells, " | "))
				}
				return
			case "dt", "p":
				if in {
					fmt.Fprintf(&b, "  %s", nodeText(n))
					if n.Data == "p" {
						b.WriteString("\n")
					}
				}
				return
			case "dd":
				if in {
					fmt.Fprintf(&b, ": %s\n", nodeText(n))
				}
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return b.String()
}

// nodeText is the text inside n, whitespace collapsed.
func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// cutText keeps the first n runes of s, marking a cut.
func cutText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
