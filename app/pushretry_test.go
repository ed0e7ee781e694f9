package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// TestRetryPush: a transient push failure is retried with the same commit
// (the agent does not run again); a moved branch or a refused token is
// returned at once.
func TestRetryPush(t *testing.T) {
	old := pushBackoff
	pushBackoff = time.Millisecond
	t.Cleanup(func() { pushBackoff = old })
	transient := errors.New("push: unexpected client error: unexpected requesting \"https://github.com/o/r.git/info/refs\" status code: 502")
	tests := []struct {
		name      string
		errs      []error // the push's results in turn; nil after them
		wantCalls int
		wantErr   bool
	}{
		{"502 twice then pushed", []error{transient, transient}, 3, false},
		{"outage longer than the attempts", []error{transient, transient, transient, transient, transient}, pushAttempts, true},
		{"branch moved", []error{fmt.Errorf("push: %w", git.ErrNonFastForwardUpdate)}, 1, true},
		{"token refused", []error{fmt.Errorf("push: %w", transport.ErrAuthorizationFailed)}, 1, true},
		{"pushed at once", nil, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := retryPush(context.Background(), NewLogger(Config{}, io.Discard), func(context.Context) error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			})
			if calls != tt.wantCalls || (err != nil) != tt.wantErr {
				t.Errorf("calls = %d, err = %v; want %d calls, error %v", calls, err, tt.wantCalls, tt.wantErr)
			}
		})
	}
}
