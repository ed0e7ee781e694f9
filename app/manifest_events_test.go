package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.yaml.in/yaml/v3"

	"github.com/agentgate/agentgate/internal/mdcheck"
	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/webhook"
)

// automaticEvents reach every app without a subscription; a manifest may
// not list them.
var automaticEvents = []string{"installation", "installation_repositories", "ping"}

type refusingInserter struct{}

func (refusingInserter) InsertTx(context.Context, *sql.Tx, river.JobArgs, *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return nil, errors.New("test: not enqueued")
}

// TestManifestEventsMatchIntake checks that app.yml (its events, and the
// actions in each event's line comment) and the event table of
// docs/operating.md (Permissions and events) list
// exactly the events and actions intake's dispatch table routes, less the
// events every app receives, and asks the real intake handler whether it
// agrees: every example payload GitHub publishes, signed, with its action
// set to each routed action is acted on, and with any other action is
// refused for its action.
func TestManifestEventsMatchIntake(t *testing.T) {
	routed := handledActions() // the registry; TestHandlersCoverIntake: the same as intake's routes
	want := map[string][]string{}
	for event, actions := range routed {
		if !slices.Contains(automaticEvents, event) {
			want[event] = actions
		}
	}
	manifest := manifestEvents(t)
	for _, event := range automaticEvents {
		if _, ok := manifest[event]; ok {
			t.Errorf("app.yml lists %s, which every app receives (GitHub refuses such a manifest)", event)
			delete(manifest, event)
		}
	}
	compareEvents(t, "app.yml", manifest, want)
	compareEvents(t, eventTableDoc+"'s event table", readmeEvents(t), want)

	spec, err := testgh.FindSpec(".")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(filepath.Dir(spec), "webhooks", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example payloads: %v", err)
	}
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secret := []byte("manifest-events-secret")
	srv, err := webhook.New(webhook.Config{Secret: secret}, db.SQL, refusingInserter{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	n := 0
	deliver := func(event string, payload []byte) string {
		n++
		mac := hmac.New(sha256.New, secret)
		mac.Write(payload)
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(payload))
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusUnauthorized {
			t.Fatalf("%s: signature refused", event)
		}
		return rec.Body.String()
	}

	examples := map[string]bool{}
	for _, f := range files {
		event, _, _ := strings.Cut(filepath.Base(f), ".")
		examples[event] = true
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(deliver(event, b), webhook.ReasonEvent) {
			if _, ok := routed[event]; ok {
				t.Errorf("%s: intake ignores the event its dispatch table routes", filepath.Base(f))
			}
			continue
		}
		if _, ok := routed[event]; !ok {
			if !slices.Contains(automaticEvents, event) { // ping is answered, not routed
				t.Errorf("%s: intake acts on %s, which its dispatch table does not list", filepath.Base(f), event)
			}
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["action"]; !ok {
			continue
		}
		actions := routed[event]
		for _, action := range slices.Concat(actions, otherActions) {
			m["action"] = action
			p, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			body := deliver(event, p)
			refused := strings.Contains(body, webhook.ReasonAction) || strings.Contains(body, webhook.ReasonEvent)
			switch isRouted := actions == nil || slices.Contains(actions, action); {
			case isRouted && refused:
				t.Errorf("%s with action %s: intake refuses a routed action: %s", filepath.Base(f), action, body)
			case !isRouted && !strings.Contains(body, webhook.ReasonAction):
				t.Errorf("%s with action %s: intake acts on an action its tables do not list: %s", filepath.Base(f), action, body)
			}
		}
	}
	for event := range want {
		if !examples[event] {
			t.Errorf("intake routes %s, which has no example payload to check intake against", event)
		}
	}
}

// otherActions are actions of GitHub's events that the intake's tables
// may or may not route; each must be refused unless routed.
var otherActions = []string{
	"created", "edited", "deleted", "opened", "closed", "reopened", "labeled", "unlabeled",
	"assigned", "transferred", "submitted", "dismissed", "synchronize", "completed",
	"requested", "rerequested", "requested_action",
}

// manifestEvents reads app.yml's default_events, each with the actions
// its line comment lists ("# actions: a, b"; "every" for all).
func manifestEvents(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("../app.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	out := map[string][]string{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "default_events" {
			continue
		}
		for _, item := range root.Content[i+1].Content {
			list, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(item.LineComment, "#")), "actions:")
			if !ok {
				t.Errorf("app.yml: event %s has no \"# actions: ...\" comment", item.Value)
			}
			out[item.Value] = actionList(list)
		}
	}
	return out
}

// eventTableDoc is the page that holds the table of events and actions.
const eventTableDoc = "docs/operating.md"

// readmeEvents reads the table of events and actions of eventTableDoc,
// after checking that no other page (README.md, docs/) holds a second
// copy that could drift.
func readmeEvents(t *testing.T) map[string][]string {
	t.Helper()
	const header = "\n| event | actions | what agentgate does with it |\n| --- | --- | --- |\n"
	pages, err := mdcheck.Documents("..")
	if err != nil {
		t.Fatal(err)
	}
	var table string
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		_, rest, ok := strings.Cut(string(b), header)
		switch {
		case ok && filepath.ToSlash(page) == "../"+eventTableDoc:
			table = rest
		case ok:
			t.Errorf("%s holds a table of events and actions; it belongs in %s alone", page, eventTableDoc)
		}
	}
	if table == "" {
		t.Fatalf("%s has no table of events and actions", eventTableDoc)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			t.Fatalf("%s: event table row %q", eventTableDoc, line)
		}
		out[strings.Trim(strings.TrimSpace(cells[1]), "`")] = actionList(cells[2])
	}
	return out
}

// actionList parses "`a`, `b`" (or "every": nil).
func actionList(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		a = strings.Trim(strings.TrimSpace(a), "`")
		if a == "" || a == "every" {
			continue
		}
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// compareEvents reports every difference between got and want, both ways.
func compareEvents(t *testing.T, where string, got, want map[string][]string) {
	t.Helper()
	for event, actions := range want {
		g, ok := got[event]
		switch {
		case !ok:
			t.Errorf("intake routes %s (actions %q) but %s does not list it", event, actions, where)
		case !slices.Equal(g, actions):
			t.Errorf("%s: %s lists actions %q, intake routes %q", event, where, g, actions)
		}
	}
	for event := range got {
		if _, ok := want[event]; !ok {
			t.Errorf("%s lists %s, which intake does not route: drop it (least privilege)", where, event)
		}
	}
}

// TestHandlersCoverIntake: the handler registry (each event family's
// Handles, and the run triggers) names exactly the deliveries intake
// routes, and no two handlers work one job kind; so every job intake can
// write has a handler, and the manifest's events (above) are the
// registry's.
func TestHandlersCoverIntake(t *testing.T) {
	compareEvents(t, "the handler registry", handledActions(), webhook.RoutedActions())
	kinds := map[string]bool{}
	for _, h := range handlers() {
		if kinds[h.Kind()] {
			t.Errorf("two handlers for %s", h.Kind())
		}
		kinds[h.Kind()] = true
	}
	if len(kinds) != 11 {
		t.Errorf("%d handlers, want one per event family (11)", len(kinds))
	}
}
