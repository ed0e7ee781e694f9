package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/agentgate/agentgate/store"
)

// countingInserter is a real River client that records the size of every
// InsertManyTx call, and refuses jobs for issue number poison (0 = none)
// on both paths, as a database constraint would.
type countingInserter struct {
	*river.Client[*sql.Tx]
	poison int
	mu     sync.Mutex
	sizes  []int
}

var errPoison = errors.New("poisoned job")

func (c *countingInserter) InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if a, ok := args.(RunJobArgs); ok && c.poison != 0 && a.IssueNumber == c.poison {
		return nil, errPoison
	}
	return c.Client.InsertTx(ctx, tx, args, opts)
}

func (c *countingInserter) InsertManyTx(ctx context.Context, tx *sql.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	c.mu.Lock()
	c.sizes = append(c.sizes, len(params))
	c.mu.Unlock()
	for _, p := range params {
		if a, ok := p.Args.(RunJobArgs); ok && c.poison != 0 && a.IssueNumber == c.poison {
			return nil, errPoison
		}
	}
	return c.Client.InsertManyTx(ctx, tx, params)
}

func (c *countingInserter) maxBatch() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := 0
	for _, n := range c.sizes {
		m = max(m, n)
	}
	return m
}

func newBatchHarness(t *testing.T, poison int) (*harness, *countingInserter) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "intake.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	client, err := river.NewClient(db.RiverDriver(), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ins := &countingInserter{Client: client, poison: poison}
	srv, err := New(Config{Secret: testSecret}, db.SQL, ins, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if srv.batch == nil {
		t.Fatal("a ManyInserter did not enable batching")
	}
	return &harness{db: db, srv: srv, h: srv.Handler()}, ins
}

// delivery is one concurrent post's input and answer.
type delivery struct {
	id     string
	body   []byte
	status int
}

// postAll sends every delivery at once, from its own goroutine.
func postAll(t *testing.T, h *harness, ds []*delivery) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			d.status = h.post(t, "issue_comment", d.id, d.body, "").Code
		}()
	}
	close(start)
	wg.Wait()
}

func commentBody(t *testing.T, commentID, issue int) []byte {
	return payload(t, "issue_comment.created.json",
		"comment.id", commentID, "comment.body", fmt.Sprintf("@agentgate fix %d", commentID),
		"issue.number", issue, "installation.id", 1)
}

func TestBatchConcurrentDeliveries(t *testing.T) {
	tests := []struct {
		name string
		// make returns the deliveries to send at once.
		make        func(t *testing.T) []*delivery
		wantJobs    int
		wantStatus  map[int]int // status → count
		wantBatched bool
	}{
		{
			name: "distinct deliveries all durable",
			make: func(t *testing.T) []*delivery {
				var ds []*delivery
				for i := range 200 {
					ds = append(ds, &delivery{id: fmt.Sprintf("d-%d", i), body: commentBody(t, 5000+i, 1+i)})
				}
				return ds
			},
			wantJobs:    200,
			wantStatus:  map[int]int{http.StatusAccepted: 200},
			wantBatched: true,
		},
		{
			name: "one delivery id replayed concurrently",
			make: func(t *testing.T) []*delivery {
				var ds []*delivery
				body := commentBody(t, 7000, 7)
				for range 40 {
					ds = append(ds, &delivery{id: "same-delivery", body: body})
				}
				return ds
			},
			wantJobs:   1,
			wantStatus: map[int]int{http.StatusAccepted: 1, http.StatusOK: 39},
		},
		{
			name: "one comment under new delivery ids",
			make: func(t *testing.T) []*delivery {
				var ds []*delivery
				body := commentBody(t, 8000, 8)
				for i := range 40 {
					ds = append(ds, &delivery{id: fmt.Sprintf("replay-%d", i), body: body})
				}
				return ds
			},
			wantJobs:   1,
			wantStatus: map[int]int{http.StatusAccepted: 1, http.StatusOK: 39},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, ins := newBatchHarness(t, 0)
			ds := tc.make(t)
			postAll(t, h, ds)
			got := map[int]int{}
			for _, d := range ds {
				got[d.status]++
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantStatus) {
				t.Errorf("statuses = %v, want %v", got, tc.wantStatus)
			}
			jobs := h.jobs(t)
			if len(jobs) != tc.wantJobs {
				t.Errorf("%d jobs committed, want %d", len(jobs), tc.wantJobs)
			}
			seen := map[string]bool{}
			for _, j := range jobs {
				if seen[j.DeliveryID] {
					t.Errorf("delivery %s has two jobs", j.DeliveryID)
				}
				seen[j.DeliveryID] = true
			}
			if tc.wantBatched && ins.maxBatch() < 2 {
				t.Errorf("largest batch %d: concurrent deliveries never shared a transaction", ins.maxBatch())
			}
		})
	}
}

// A batch that fails is retried delivery by delivery: only the delivery
// that fails on its own gets 503, every other one is durable.
func TestBatchFailureFailsOnlyTheBadDelivery(t *testing.T) {
	const poison = 13
	h, _ := newBatchHarness(t, poison)
	var ds []*delivery
	for i := range 60 {
		ds = append(ds, &delivery{id: fmt.Sprintf("d-%d", i), body: commentBody(t, 9000+i, 1+i)})
	}
	postAll(t, h, ds)
	jobs := h.jobs(t)
	if len(jobs) != len(ds)-1 {
		t.Errorf("%d jobs committed, want %d", len(jobs), len(ds)-1)
	}
	for i, d := range ds {
		want := http.StatusAccepted
		if i+1 == poison {
			want = http.StatusServiceUnavailable
		}
		if d.status != want {
			t.Errorf("delivery %d: status %d, want %d", i, d.status, want)
		}
	}
	for _, j := range jobs {
		if j.IssueNumber == poison {
			t.Error("the refused delivery's job was committed")
		}
	}
	// The refused delivery is not recorded: its redelivery (`agentgate
	// redeliver`) is taken.
	var n int
	if err := h.db.SQL.QueryRow(`SELECT count(*) FROM deliveries WHERE delivery_id = ?`, fmt.Sprintf("d-%d", poison-1)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("refused delivery recorded %d times; its redelivery would be dropped", n)
	}
}
