package webhook

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Fifty deliveries whose bodies never arrive hold one small reservation
// each of the budget: an ordinary delivery is still accepted, and the budget is whole
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
	if !h.srv.bodies.idle() {
		t.Fatal("budget not given back after the slow bodies ended")
	}
}

func TestReadBudgetedSizes(t *testing.T) {
	const limit = 4 * smallBody
	budget := newBodyBudget(limit)
	for _, n := range []int{0, 1, smallBody - 1, smallBody, smallBody + 1, 3*smallBody + 7, limit} {
		for _, known := range []bool{true, false} {
			body := bytes.Repeat([]byte("x"), n)
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			if !known {
				req.ContentLength = -1
			}
			got, release, err := readBudgeted(req, budget, limit, time.Second)
			release()
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("n=%d known=%v: got %d bytes, err %v", n, known, len(got), err)
			}
		}
	}
	// Over the limit: refused, declared or not.
	for _, known := range []bool{true, false} {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, limit+1)))
		if !known {
			req.ContentLength = -1
		}
		_, release, err := readBudgeted(req, budget, limit, time.Second)
		release()
		if !errors.Is(err, errTooLarge) {
			t.Errorf("over the limit, known=%v: %v", known, err)
		}
	}
	if !budget.idle() {
		t.Error("budget leaked")
	}
}

// paddedComment is a signed, valid comment delivery of exactly size bytes
// (the JSON followed by spaces), for comment id id.
func paddedComment(t *testing.T, id, size int) []byte {
	t.Helper()
	body := payload(t, "issue_comment.created.json", "comment.body", "@agentgate go", "comment.id", id)
	if len(body) > size {
		t.Fatalf("payload is %d bytes, more than %d", len(body), size)
	}
	return append(body, bytes.Repeat([]byte(" "), size-len(body))...)
}

// streamed is a request whose body arrives through a pipe in 1 MiB
// pieces, one every 50 ms, as over a network: concurrent bodies are all in
// flight at once. declared sets its Content-Length (-1: chunked). stop
// ends the writer when the handler is done with it.
func streamed(body []byte, declared int64, event string) (req *http.Request, stop func()) {
	pr, pw := io.Pipe()
	req = httptest.NewRequest(http.MethodPost, "/webhook", pr)
	req.ContentLength = declared
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", uuid.NewString())
	req.Header.Set("X-Hub-Signature-256", Sign(testSecret, body))
	go func() {
		for off := 0; off < len(body); off += 1 << 20 {
			if _, err := pw.Write(body[off:min(off+1<<20, len(body))]); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = pw.Close()
	}()
	return req, func() { _ = pr.Close() }
}

// TestBudgetServesBodiesThatFit: bodies that fit the limit are never
// answered 503 because others hold the budget; each gets its turn. Three
// 20 MB deliveries at once (60 MB, more than two fit), four 30 MB chunked
// bodies over the 25 MiB limit (each 413), and a 30 MB declared body (413
// before reading).
func TestBudgetServesBodiesThatFit(t *testing.T) {
	const mb = 1000 * 1000
	tests := []struct {
		name     string
		n        int
		size     int
		declared bool
		want     int
	}{
		{name: "three 20 MB deliveries", n: 3, size: 20 * mb, declared: true, want: http.StatusAccepted},
		{name: "four 30 MB chunked bodies", n: 4, size: 30 * mb, want: http.StatusRequestEntityTooLarge},
		{name: "four 20 MB chunked deliveries", n: 4, size: 20 * mb, want: http.StatusAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			codes := make([]int, tt.n)
			var wg sync.WaitGroup
			for i := range tt.n {
				body := paddedComment(t, 1000+i, tt.size)
				declared := int64(-1)
				if tt.declared {
					declared = int64(len(body))
				}
				req, stop := streamed(body, declared, "issue_comment")
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer stop()
					rec := httptest.NewRecorder()
					h.h.ServeHTTP(rec, req)
					codes[i] = rec.Code
				}()
			}
			wg.Wait()
			for i, c := range codes {
				if c != tt.want {
					t.Errorf("delivery %d: %d, want %d", i, c, tt.want)
				}
			}
			if !h.srv.bodies.idle() {
				t.Error("budget not given back")
			}
		})
	}
	t.Run("declared over the limit", func(t *testing.T) {
		h := newHarness(t)
		pr, pw := io.Pipe() // nothing is ever written
		defer pw.Close()
		req := httptest.NewRequest(http.MethodPost, "/webhook", pr)
		req.ContentLength = 30 * mb
		req.Header.Set("X-GitHub-Event", "issue_comment")
		req.Header.Set("X-GitHub-Delivery", uuid.NewString())
		done := make(chan int)
		go func() {
			rec := httptest.NewRecorder()
			h.h.ServeHTTP(rec, req)
			done <- rec.Code
		}()
		select {
		case c := <-done:
			if c != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413", c)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a body declared over the limit was not refused at once")
		}
	})
}

// TestCutShortBody: a body that ends before its Content-Length, or whose
// read fails, is 400 (cut short), not judged by its signature; the same
// delivery whole is accepted.
func TestCutShortBody(t *testing.T) {
	body := payload(t, "issue_comment.created.json", "comment.body", "@agentgate go")
	t.Run("handler", func(t *testing.T) {
		h := newHarness(t)
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body[:len(body)/2]))
		req.ContentLength = int64(len(body))
		req.Header.Set("X-GitHub-Event", "issue_comment")
		req.Header.Set("X-GitHub-Delivery", uuid.NewString())
		req.Header.Set("X-Hub-Signature-256", Sign(testSecret, body))
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("declared length not reached: %d %q, want 400", rec.Code, rec.Body)
		}
		pr, pw := io.Pipe()
		go func() {
			_, _ = pw.Write(body[:len(body)/2])
			_ = pw.CloseWithError(io.ErrUnexpectedEOF)
		}()
		req = httptest.NewRequest(http.MethodPost, "/webhook", pr)
		req.Header.Set("X-GitHub-Event", "issue_comment")
		req.Header.Set("X-GitHub-Delivery", uuid.NewString())
		req.Header.Set("X-Hub-Signature-256", Sign(testSecret, body))
		rec = httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("chunked body whose read failed: %d %q, want 400", rec.Code, rec.Body)
		}
		if !h.srv.bodies.idle() {
			t.Error("budget not given back")
		}
	})
	// Over TCP: the client sends half the declared body and closes its
	// side; the server answers 400 on the still-open read side. The whole
	// body, the connection left open, is accepted.
	t.Run("tcp", func(t *testing.T) {
		h := newHarness(t)
		ts := httptest.NewServer(h.h)
		defer ts.Close()
		send := func(part []byte, closeWrite bool) string {
			t.Helper()
			c, err := net.Dial("tcp", ts.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: issue_comment\r\nX-GitHub-Delivery: %s\r\nX-Hub-Signature-256: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
				uuid.NewString(), Sign(testSecret, body), len(body))
			_, _ = c.Write(part)
			if closeWrite {
				_ = c.(*net.TCPConn).CloseWrite()
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			return strings.TrimSpace(line)
		}
		if got := send(body[:len(body)/2], true); got != "HTTP/1.1 400 Bad Request" {
			t.Errorf("half a body: %q, want 400", got)
		}
		if got := send(body, false); got != "HTTP/1.1 202 Accepted" { // positive control
			t.Errorf("the whole body: %q, want 202", got)
		}
	})
}
