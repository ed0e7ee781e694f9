package testgh

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-github/v62/github"
)

func TestConcurrentComments(t *testing.T) {
	f := newFixture(t)
	gh := f.client(t, f.mint(t, nil))
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, _, err := gh.Issues.CreateComment(context.Background(), "octo", "app", 1, &github.IssueComment{Body: github.String("x")})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ids := map[int64]bool{}
	for _, c := range f.s.Comments("octo", "app", 1) {
		ids[c.ID] = true
	}
	if len(ids) != n {
		t.Errorf("distinct comment ids = %d, want %d", len(ids), n)
	}
	f.noViolations(t)
}
