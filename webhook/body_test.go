package webhook

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// Fifty deliveries whose bodies never arrive hold one chunk each of the
// budget: an ordinary delivery is still accepted, and the budget is whole
// again once they give up.
func TestSlowBodiesDoNotStarve(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	var writers []*io.PipeWriter
	for i := 0; i < 50; i++ {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		req := httptest.NewRequest(http.MethodPost, "/webhook", pr)
		req.Header.Set("X-GitHub-Event", "issue_comment")
		req.Header.Set("X-GitHub-Delivery", uuid.NewString())
		req.Header.Set("X-Hub-Signature-256", "sha256=00")
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			h.h.ServeHTTP(rec, req)
		}()
		_, _ = pw.Write([]byte("{")) // one byte, then nothing
	}
	rec := h.post(t, "issue_comment", uuid.NewString(), payload(t, "issue_comment.created.json", "comment.body", "@agentgate go", "installation.id", 1), "")
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d while 50 bodies trickle, want 202", rec.Code)
	}
	for _, pw := range writers {
		_ = pw.CloseWithError(io.ErrUnexpectedEOF)
	}
	wg.Wait()
	all := bodyBudgetBytes(h.srv.cfg.MaxBody)
	if !h.srv.bodies.TryAcquire(all) {
		t.Fatal("budget not given back after the slow bodies ended")
	}
	h.srv.bodies.Release(all)
}

func TestReadBudgetedSizes(t *testing.T) {
	budget := newBodyBudget(100)
	for _, n := range []int{0, 1, bodyChunk - 1, bodyChunk, bodyChunk + 1, 3*bodyChunk + 7} {
		body := bytes.Repeat([]byte("x"), n)
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		got, release, err := readBudgeted(req, budget, int64(4*bodyChunk))
		release()
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("n=%d: got %d bytes, err %v", n, len(got), err)
		}
	}
	// Over the limit: limit+1 bytes come back so the caller can say 413.
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, 10)))
	got, release, err := readBudgeted(req, budget, 5)
	release()
	if err != nil || len(got) != 6 {
		t.Errorf("over the limit: %d bytes, %v", len(got), err)
	}
	if !budget.TryAcquire(bodyBudgetBytes(100)) {
		t.Error("budget leaked")
	}
}
