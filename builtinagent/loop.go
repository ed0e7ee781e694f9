package builtinagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Status is how an agent run ended.
type Status string

// The ways a run ends.
const (
	StatusFinished     Status = "finished"      // the model called finish or answered without a tool call
	StatusStepBudget   Status = "step_budget"   // MaxSteps model calls were used up
	StatusOutputBudget Status = "output_budget" // MaxTotalOutput bytes of tool results were used up
	StatusError        Status = "error"         // the model API failed or the run could not start
)

// Result is the outcome of Run.
type Result struct {
	Status       Status
	Steps        int    // model calls made
	Summary      string // what summary.md holds
	InputTokens  int
	OutputTokens int
}

// ExitCode maps a status to the process exit code of `agentgate agent`:
// 0 finished, 3 a budget used up, 1 anything else.
func (r Result) ExitCode() int {
	switch r.Status {
	case StatusFinished:
		return 0
	case StatusStepBudget, StatusOutputBudget:
		return 3
	default:
		return 1
	}
}

// Run runs the agent loop until the model finishes, a budget is used up
// or the model API fails. The error is nil only for StatusFinished. The
// summary is written to OutDir/summary.md in every case it can be.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	res := Result{Status: StatusError}
	if cfg.BaseURL == "" {
		return res, errors.New("agent: no model API: set OPENAI_BASE_URL")
	}
	task := cfg.Task
	if task == "" {
		b, err := os.ReadFile(cfg.TaskFile)
		if err != nil {
			return res, fmt.Errorf("agent: reading the task: %w", err)
		}
		task = string(b)
	}
	if strings.TrimSpace(task) == "" {
		return res, errors.New("agent: the task is empty")
	}
	ws, err := openWorkspace(cfg.Workspace)
	if err != nil {
		return res, fmt.Errorf("agent: %w", err)
	}
	defer ws.Close()
	ev := &emitter{w: cfg.Events}
	tb := &toolbox{cfg: cfg, ws: ws, ev: ev}
	msgs := []Message{
		{Role: "system", Content: systemPrompt},
		{Role: "user", Content: task},
	}
	lastText := ""
	spent := 0 // bytes of tool results sent
	runErr := func() error {
		for res.Steps < cfg.MaxSteps {
			res.Steps++
			req := chatRequest{Model: cfg.Model, Messages: msgs, Tools: toolDefs, ToolChoice: "auto", Stream: cfg.Stream}
			if cfg.Stream {
				req.StreamOptions = &streamOptions{IncludeUsage: true}
			}
			c, err := complete(ctx, cfg, req)
			if err != nil {
				res.Status = StatusError
				return fmt.Errorf("agent: step %d: %w", res.Steps, err)
			}
			model := c.Model
			if model == "" {
				model = cfg.Model
			}
			res.InputTokens += c.Usage.PromptTokens
			res.OutputTokens += c.Usage.CompletionTokens
			ev.emit(Event{Type: "usage", InputTokens: c.Usage.PromptTokens, OutputTokens: c.Usage.CompletionTokens, Model: model})
			msg := c.Message
			msg.Role = "assistant"
			if strings.TrimSpace(msg.Content) != "" {
				lastText = msg.Content
				ev.emit(Event{Type: "message", Text: msg.Content})
			}
			if c.FinishReason == "length" {
				// A cut answer: its tool calls may be incomplete, so none run.
				cfg.Log.Warn("model answer cut at its length limit", "step", res.Steps)
				msgs = append(msgs, Message{Role: "assistant", Content: msg.Content},
					Message{Role: "user", Content: "Your last answer was cut off at the output length limit (finish_reason: length) and was not executed. Answer with shorter steps: smaller tool calls, and split large files into several writes or patches."})
				continue
			}
			if len(msg.ToolCalls) == 0 {
				if strings.TrimSpace(msg.Content) != "" {
					res.Status = StatusFinished
					return nil
				}
				msgs = append(msgs, msg, Message{Role: "user", Content: "Use the tools to make the change, then call finish with a summary."})
				continue
			}
			for i := range msg.ToolCalls {
				msg.ToolCalls[i].Index = nil
				msg.ToolCalls[i].Type = "function"
				if msg.ToolCalls[i].ID == "" {
					msg.ToolCalls[i].ID = fmt.Sprintf("call_%d_%d", res.Steps, i)
				}
			}
			msgs = append(msgs, msg)
			finished := false
			for _, tc := range msg.ToolCalls {
				ev.emit(Event{Type: "tool", Name: truncate(tc.Function.Name, 100)})
				out, err := tb.call(ctx, tc)
				if errors.Is(err, errFinish) {
					finished = true
				}
				out = truncate(out, cfg.MaxToolOutput)
				spent += len(out)
				msgs = append(msgs, Message{Role: "tool", ToolCallID: tc.ID, Content: out})
				if strings.HasPrefix(out, "error: ") {
					cfg.Log.Info("tool call refused", "tool", truncate(tc.Function.Name, 100), "result", truncate(out, 300))
				}
			}
			if finished {
				res.Status = StatusFinished
				return nil
			}
			if spent > cfg.MaxTotalOutput {
				res.Status = StatusOutputBudget
				return fmt.Errorf("agent: tool output budget of %d bytes used up after %d steps", cfg.MaxTotalOutput, res.Steps)
			}
			if err := ctx.Err(); err != nil {
				res.Status = StatusError
				return fmt.Errorf("agent: %w", err)
			}
		}
		res.Status = StatusStepBudget
		return fmt.Errorf("agent: step budget of %d model calls used up", cfg.MaxSteps)
	}()
	res.Summary = tb.summary
	if res.Summary == "" {
		res.Summary = lastText
	}
	if runErr != nil {
		res.Summary = strings.TrimSpace(res.Summary + "\n\n_The agent stopped before finishing: " + runErr.Error() + "_")
	}
	if err := writeSummary(cfg.OutDir, res.Summary); err != nil {
		cfg.Log.Warn("could not write the summary", "err", err)
	}
	return res, runErr
}

// writeSummary writes summary.md into dir, creating dir.
func writeSummary(dir, summary string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.md"), []byte(truncate(summary, 64<<10)+"\n"), 0o644); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return nil
}
