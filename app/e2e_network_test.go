package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/telemetry"
)

// engineEnv is one container's environment as the Docker engine holds it.
type engineEnv struct {
	role string // the runner's role label: "relay", or "agent"
	env  []string
	err  error // the container could not be inspected
}

// watchContainerEnvs records, straight from the engine, the environment
// of every container created for workerID's runs from now on: what the
// sandbox really holds, before any masking of output or redaction of
// events. Call the returned function after the run.
func watchContainerEnvs(t *testing.T, workerID string) func() []engineEnv {
	t.Helper()
	cli := dockertest.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	msgs, errs := cli.Events(ctx, events.ListOptions{
		// Since replays what happened between now and the subscription.
		Since: strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10),
		Filters: filters.NewArgs(
			filters.Arg("type", string(events.ContainerEventType)),
			filters.Arg("event", string(events.ActionCreate)),
			filters.Arg("label", runner.LabelWorker+"="+workerID),
		),
	})
	var (
		mu  sync.Mutex
		out []engineEnv
		wg  sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case m := <-msgs:
				e := engineEnv{role: m.Actor.Attributes[runner.LabelRole]}
				if e.role == "" {
					e.role = "agent"
				}
				if c, err := cli.ContainerInspect(ctx, m.Actor.ID); err != nil {
					e.err = err
				} else {
					e.env = c.Config.Env
				}
				mu.Lock()
				out = append(out, e)
				mu.Unlock()
			case err := <-errs:
				if ctx.Err() == nil {
					mu.Lock()
					out = append(out, engineEnv{err: fmt.Errorf("engine events: %w", err)})
					mu.Unlock()
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	var once sync.Once
	stop := func() []engineEnv {
		once.Do(func() { cancel(); wg.Wait() })
		mu.Lock()
		defer mu.Unlock()
		return out
	}
	t.Cleanup(func() { stop() })
	return stop
}

// runEvents returns every stored event of a run, as JSON lines.
func runEvents(t *testing.T, env *harness.Env, runID string) ([]telemetry.Event, string) {
	t.Helper()
	events, err := env.App.DB().Events(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, ev := range events {
		line, _ := json.Marshal(ev)
		b.Write(line)
		b.WriteByte('\n')
	}
	return events, b.String()
}

func outputTail(events []telemetry.Event) string {
	for _, ev := range events {
		if ev.Kind == telemetry.KindSandboxExited {
			s, _ := ev.Attrs["output_tail"].(string)
			return s
		}
	}
	return ""
}

// The agent reaches an allowlisted host only through the egress proxy; a
// host not on the list, an IP literal and a direct connection fail; every
// decision is recorded and summarised.
func TestEndToEndEgress(t *testing.T) {
	var hits atomic.Int32
	outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "hello from the allowlisted host\n")
	}))
	defer outside.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(outside.URL, "http://"))

	env := startEnv(t, func(c *app.Config) {
		c.Network.Allow = []string{"localhost:" + port}
		c.Network.AllowPrivate = []string{"localhost"} // listed explicitly: an internal mirror
	})
	comment := strings.Join([]string{
		"@agentgate use the network",
		"agentgate-test: proxyget http://localhost:" + port + "/hello",
		"agentgate-test: proxyget http://denied.invalid/",
		"agentgate-test: proxyget http://169.254.169.254/latest/meta-data/",
		"agentgate-test: connect 127.0.0.1:" + port,
		"agentgate-test: lookup registry.npmjs.org", // no resolver in the sandbox: the query cannot leave it
		"agentgate-test: write NET.md done",
	}, "\n")
	d, _ := trigger(t, env, comment, harness.Requester)
	events, _ := runEvents(t, env, d.RunID)
	out := outputTail(events)
	for _, want := range []string{
		"proxyget http://localhost:" + port + "/hello status=200 body=hello from the allowlisted host",
		"proxyget http://denied.invalid/ status=403 body=agentgate egress: host \"denied.invalid\" port 80 is not allowlisted",
		"proxyget http://169.254.169.254/latest/meta-data/ status=403 body=agentgate egress: IP literals are not allowed",
		"connect 127.0.0.1:" + port + " fail",
		"lookup registry.npmjs.org fail",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("agent output lacks %q:\n%s", want, out)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the allowlisted host got %d requests, want 1 (the proxied one)", n)
	}
	var allowed, denied int
	for _, ev := range events {
		switch ev.Kind {
		case telemetry.KindNetAllowed:
			allowed++
			if ev.Attrs["host"] != "localhost" || ev.Attrs["bytes_down"].(float64) <= 0 {
				t.Errorf("allowed event %v", ev.Attrs)
			}
		case telemetry.KindNetDenied:
			denied++
		}
	}
	if allowed != 1 || denied != 2 {
		t.Errorf("net events: %d allowed, %d denied; want 1 and 2", allowed, denied)
	}
	checks := env.GH.CheckRuns(harness.Owner, harness.Repo)
	if len(checks) != 1 {
		t.Fatalf("check runs = %d", len(checks))
	}
	for _, want := range []string{"**Network**", "localhost:" + port, "denied.invalid:80", "not allowlisted"} {
		if !strings.Contains(checks[0].Summary, want) {
			t.Errorf("check run summary lacks %q:\n%s", want, checks[0].Summary)
		}
	}
}

// The LLM key stays on the host: the fake upstream sees it, the sandbox,
// its output, the pushed change and the audit trail never do.
func TestEndToEndLLMKeyNeverInSandbox(t *testing.T) {
	const realKey = "sk-real-upstream-key-0123456789abcdef"
	var sawKey atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+realKey {
			http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
			return
		}
		sawKey.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c1","object":"chat.completion","model":"test-model","choices":[{"index":0,"message":{"role":"assistant","content":"fixed it"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`)
	}))
	defer upstream.Close()
	env := startEnv(t, func(c *app.Config) {
		c.Network.OpenAIURL = upstream.URL
		c.Network.OpenAIKey = realKey
		c.Network.Prices = map[string][2]float64{"test-model": {1, 2}}
	})
	envs := watchContainerEnvs(t, env.Config.WorkerID)
	// The agent sleeps so that its container outlives the inspection.
	d, _ := trigger(t, env, "@agentgate ask the model\nagentgate-test: llm please fix\nagentgate-test: env\nagentgate-test: procs\nagentgate-test: sleep 2", harness.Requester)
	// What the containers really hold, read from the engine: output
	// masking and event redaction would hide a key the sandbox was given.
	var agents int
	for _, e := range envs() {
		if e.err != nil {
			t.Errorf("inspect a %q container of the run: %v", e.role, e.err)
			continue
		}
		all := strings.Join(e.env, "\n")
		if strings.Contains(all, realKey) {
			t.Errorf("the real key is in the environment of the run's %q container", e.role)
		}
		if e.role == "agent" {
			agents++
			// Positive control: this is the agent, holding the placeholder.
			if !strings.Contains(all, "OPENAI_API_KEY=") || !strings.Contains(all, "OPENAI_BASE_URL=http://127.0.0.1:") {
				t.Errorf("the agent container's environment lacks the placeholder and the gateway URL:\n%s", all)
			}
		}
	}
	if agents != 1 {
		t.Errorf("inspected %d agent containers of the run, want 1", agents)
	}
	if sawKey.Load() != 1 {
		t.Fatalf("upstream saw the real key %d times, want 1", sawKey.Load())
	}
	events, all := runEvents(t, env, d.RunID)
	out := outputTail(events)
	if !strings.Contains(out, `llm status=200 reply="fixed it"`) || !strings.Contains(out, "proc 1 cmd=") {
		t.Errorf("agent output:\n%s", out)
	}
	// The agent holds a placeholder (the audit trail redacts even that).
	if !strings.Contains(out, "OPENAI_API_KEY=") || !strings.Contains(out, "OPENAI_BASE_URL=http://127.0.0.1:") {
		t.Errorf("the agent's environment lacks the placeholder and the gateway URL:\n%s", out)
	}
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	for where, text := range map[string]string{
		"agent output":  out,
		"audit events":  all,
		"pull request":  prs[0].Body,
		"check run":     env.GH.CheckRuns(harness.Owner, harness.Repo)[0].Summary,
		"comments":      fmt.Sprint(botComments(env)),
		"pushed change": mustShow(t, env, prs[0].HeadSHA),
	} {
		if strings.Contains(text, realKey) {
			t.Errorf("the real key leaked into the %s", where)
		}
	}
	var llm int
	for _, ev := range events {
		if ev.Kind == telemetry.KindLLMRequest {
			llm++
			if ev.Attrs["input_tokens"].(float64) != 11 || ev.Attrs["output_tokens"].(float64) != 7 {
				t.Errorf("llm event %v, want 11 input and 7 output tokens", ev.Attrs)
			}
		}
	}
	if llm != 1 {
		t.Errorf("llm.request events = %d, want 1", llm)
	}
	if s := env.GH.CheckRuns(harness.Owner, harness.Repo)[0].Summary; !strings.Contains(s, "**LLM usage:** 1 requests, 11 input + 7 output tokens") {
		t.Errorf("check run summary lacks the LLM usage:\n%s", s)
	}
}

// mustShow is the full patch of a commit on the test git server.
func mustShow(t *testing.T, env *harness.Env, sha string) string {
	t.Helper()
	return mustGit(t, env, "show", "--format=%B", sha)
}
