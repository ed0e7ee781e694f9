package runpage

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// BenchmarkRunPage renders the page of a run with 10,000 events (reading,
// verifying its chain, folding and rendering), as the admin.
func BenchmarkRunPage(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if _, err := db.EnsureRun(ctx, store.Run{ID: "big", Repo: "acme/open", Requester: "bob", State: "succeeded"}); err != nil {
		b.Fatal(err)
	}
	for i := range 10_000 {
		kind, attrs := "agent.command", map[string]any{"command": fmt.Sprintf("step %d", i), "exit_code": i % 2}
		if i%2 == 1 {
			kind, attrs = telemetry.KindNetDenied, map[string]any{"host": fmt.Sprintf("h%d.example", i%300), "port": 443, "reason": "not allowlisted"}
		}
		if _, err := db.Append(ctx, telemetry.Event{RunID: "big", Kind: kind, Actor: "agent", Attrs: attrs}); err != nil {
			b.Fatal(err)
		}
	}
	h, err := New(Config{Store: db, APIURL: "http://127.0.0.1:1/api/v3/", AdminToken: "t"})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/runs/big", nil)
		req.Header.Set("Authorization", "Bearer t")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
		b.SetBytes(int64(w.Body.Len()))
	}
}
