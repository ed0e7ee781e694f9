package app

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/store"
)

// TestRedeliverySchedule runs a worker's queue with a short
// redeliver-interval against the GitHub stand-in's delivery log: the
// scheduled passes redeliver each event that never got through exactly
// once (a redelivered event that succeeded is not asked again, however
// many passes run), give up on one GitHub already redelivered three times
// in vain, and never touch those that succeeded or fell outside the
// window.
func TestRedeliverySchedule(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const appID = 4712
	gh, err := testgh.New(testgh.Options{AppID: appID, AppPublicKey: &key.PublicKey, ValidateResponses: true})
	if err != nil {
		t.Fatal(err)
	}
	defer gh.Close()
	now := time.Now().UTC()
	add := func(guid string, ago time.Duration, code int, redelivery bool) int64 {
		return gh.AddHookDelivery(testgh.HookDelivery{GUID: guid, DeliveredAt: now.Add(-ago), StatusCode: code, Status: "x",
			Event: "issue_comment", Action: "created", Redelivery: redelivery, InstallationID: 7, RepositoryID: 99, Duration: 0.1})
	}
	rollout := add("during-rollout", 20*time.Minute, 503, false)
	add("accepted", 19*time.Minute, 202, false)
	add("too-old", 3*time.Hour, 503, false)
	add("refused", 30*time.Minute, 400, false)
	for i := range 3 {
		add("refused", time.Duration(29-i)*time.Minute, 400, true)
	}
	late := add("late", time.Minute, 0, false)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "agentgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := DefaultConfig()
	cfg.AppID = appID
	cfg.PrivateKey = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	cfg.GitHubAPIURL = gh.APIURL()
	cfg.WorkerID = "redeliver-test"
	cfg.Deploy.RedeliverInterval = time.Second
	cfg.Deploy.RedeliverWindow = time.Hour
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := newQueue(ctx, db, cfg, &Worker{Config: cfg, DB: db, Logger: log}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = q.worker.StopAndCancel(sctx)
	}()

	want := []int64{rollout, late}
	for !slices.Equal(gh.Redeliveries(), want) {
		if ctx.Err() != nil || len(gh.Redeliveries()) > len(want) {
			t.Fatalf("redelivered %v, want %v", gh.Redeliveries(), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// More passes: nothing is asked twice.
	var passes int
	for passes < 3 && ctx.Err() == nil {
		time.Sleep(time.Second)
		passes = 0
		for _, r := range gh.Requests() {
			if r.Operation == "GET /app/hook/deliveries" {
				passes++
			}
		}
	}
	passesBefore := passes
	time.Sleep(3 * time.Second)
	if got := gh.Redeliveries(); !slices.Equal(got, want) {
		t.Errorf("after more passes: redelivered %v, want %v once each", got, want)
	}
	passes = 0
	for _, r := range gh.Requests() {
		if r.Operation == "GET /app/hook/deliveries" {
			passes++
		}
	}
	if passes <= passesBefore {
		t.Errorf("the schedule stopped: %d list requests, then %d", passesBefore, passes)
	}
	if v := gh.Violations(); len(v) != 0 {
		t.Errorf("violations: %q", v)
	}
}
