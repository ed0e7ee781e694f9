// Command testagent is the agent that agentgate's tests and demo run in the
// sandbox. It reads the task file named by $AGENTGATE_TASK_FILE and follows
// the "agentgate-test: <verb> <args>" lines in it (see package directive);
// with no directive it appends one deterministic line to AGENTGATE_TEST.md
// so that a run produces a pull request. It reports each action as a JSON
// line on stdout and exits non-zero when a directive fails.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/agentgate/agentgate/internal/testagent/directive"
)

const (
	defaultTaskFile = "/agentgate/task.md"
	defaultOutDir   = "/agentgate/out"
	maxTaskBytes    = 1 << 20
	// childEnv makes the binary a sleeping child (the fork bomb's fallback
	// when busybox is absent).
	childEnv = "AGENTGATE_TESTAGENT_CHILD"
)

// exitError asks main to exit with a given code.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	if os.Getenv(childEnv) == "sleep" {
		sleepForever()
	}
	os.Exit(run(os.Stdout, os.Args[1:]))
}

// run acts on the task file (AGENTGATE_TASK_FILE, or the one named in args)
// and returns the exit code.
func run(w io.Writer, args []string) int {
	taskPath := envOr("AGENTGATE_TASK_FILE", defaultTaskFile)
	if len(args) > 0 { // a task file named on the command line (a setup or verify command)
		taskPath = args[0]
	}
	task, err := readTask(taskPath)
	if err != nil {
		emitMsg(w, "testagent: "+err.Error())
		return 2
	}
	ds, err := directive.Parse(task)
	if err != nil {
		emitMsg(w, "testagent: "+err.Error())
		return 2
	}
	if len(ds) == 0 {
		return report(w, "default-edit", defaultEdit(w, task))
	}
	for _, d := range ds {
		name := strings.TrimSpace(d.Verb + " " + strings.Join(d.Args, " "))
		err := do(w, d)
		var ee exitError
		if asExit(err, &ee) {
			emitCommand(w, name, ee.code)
			return ee.code
		}
		if code := report(w, name, err); code != 0 {
			return code
		}
	}
	return 0
}

// report emits the command event for one action and returns its exit code.
func report(w io.Writer, name string, err error) int {
	code := 0
	if err != nil {
		code = 1
		emitMsg(w, "testagent: "+name+": "+err.Error())
	}
	emitCommand(w, name, code)
	return code
}

func asExit(err error, ee *exitError) bool {
	e, ok := err.(exitError)
	if ok {
		*ee = e
	}
	return ok
}

func readTask(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read task: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTaskBytes))
	if err != nil {
		return "", fmt.Errorf("read task: %w", err)
	}
	return string(b), nil
}

// commandEvent is the JSON line reporting one action.
type commandEvent struct {
	Type     string `json:"type"`
	Command  string `json:"command"`
	ExitCode int    `json:"exit_code"`
}

// messageEvent is the JSON line carrying a message.
type messageEvent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// emit writes v as one JSON line.
func emit(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(w, "%s\n", b)
}

func emitCommand(w io.Writer, command string, code int) {
	emit(w, commandEvent{Type: "command", Command: command, ExitCode: code})
}

func emitMsg(w io.Writer, text string) {
	emit(w, messageEvent{Type: "message", Text: text})
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}
