package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
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

	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/webhook"
)

// automaticEvents reach every app without a subscription; a manifest may
// not list them.
var automaticEvents = []string{"installation", "installation_repositories", "ping"}

// pendingIntake are events app.yml may subscribe to before intake handles
// them (handlers landing on other branches); empty now that intake routes
// every subscribed event.
var pendingIntake []string

type refusingInserter struct{}

func (refusingInserter) InsertTx(context.Context, *sql.Tx, river.JobArgs, *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return nil, errors.New("test: not enqueued")
}

// TestManifestEventsMatchIntake asks the real intake handler which events
// it acts on (every example payload GitHub publishes, signed) and checks
// that app.yml subscribes to exactly those, less the ones every app gets.
func TestManifestEventsMatchIntake(t *testing.T) {
	b, err := os.ReadFile("../app.yml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		DefaultEvents []string `yaml:"default_events"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
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

	examples := map[string]bool{}
	handled := map[string]bool{}
	for i, f := range files {
		event, _, _ := strings.Cut(filepath.Base(f), ".")
		examples[event] = true
		payload, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write(payload)
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(payload))
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusUnauthorized {
			t.Fatalf("%s: signature refused", f)
		}
		if !strings.Contains(rec.Body.String(), webhook.ReasonEvent) {
			handled[event] = true
		}
	}
	for event := range handled {
		if !slices.Contains(m.DefaultEvents, event) && !slices.Contains(automaticEvents, event) {
			t.Errorf("intake handles %s but app.yml does not subscribe to it", event)
		}
	}
	for _, event := range m.DefaultEvents {
		switch {
		case slices.Contains(automaticEvents, event):
			t.Errorf("app.yml lists %s, which every app receives (GitHub refuses such a manifest)", event)
		case !examples[event]:
			t.Errorf("app.yml subscribes to %s, which has no example payload to check intake against", event)
		case handled[event]:
		case slices.Contains(pendingIntake, event):
			t.Logf("app.yml subscribes to %s; intake does not handle it on this branch yet", event)
		default:
			t.Errorf("app.yml subscribes to %s, which intake ignores: drop it (least privilege)", event)
		}
	}
}
