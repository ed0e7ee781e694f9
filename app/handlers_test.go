package app

import (
	"context"
	"io"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/agentgate/agentgate/jobs"
	"github.com/agentgate/agentgate/store"
)

// TestHandlersRefuseRemovedRepositories: a job about a repository the app
// no longer has (removed from the installation, or the installation
// suspended) reaches no handler, so no API call is made for it; only the
// families that are not about one repository (installation changes,
// check run buttons, which check the run themselves) are handled.
func TestHandlersRefuseRemovedRepositories(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "agentgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	w := &Worker{Config: DefaultConfig(), DB: db, Logger: NewLogger(Config{}, io.Discard)}
	const inst, kept, removed, suspendedInst = 1, 10, 11, 2
	for _, s := range []struct {
		inst, repo int64
		state      string
	}{{inst, kept, store.StateActive}, {inst, removed, store.StateRemoved}} {
		if err := db.SetInstallationRepo(ctx, s.inst, s.repo, "o/r", s.state); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetInstallation(ctx, inst, "o", store.StateActive); err != nil {
		t.Fatal(err)
	}
	if err := db.SetInstallation(ctx, suspendedInst, "p", store.StateSuspended); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		inst, repo int64
		anyRepo    bool
		want       bool
	}{
		{"repository the app has", inst, kept, false, true},
		{"repository removed from the installation", inst, removed, false, false},
		{"suspended installation", suspendedInst, kept, false, false},
		{"installation change for a removed repository", inst, removed, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handled := false
			f := &family[jobs.Command]{anyRepo: tt.anyRepo, do: func(*eventJob, context.Context, jobs.Command) error {
				handled = true
				return nil
			}}
			job := jobs.Command{Event: jobs.Event{InstallationID: tt.inst, RepoID: tt.repo, Number: 1}, Name: "status"}
			if err := f.Handle(ctx, w, 1, job); err != nil {
				t.Fatal(err)
			}
			if handled != tt.want {
				t.Errorf("handled = %v, want %v", handled, tt.want)
			}
		})
	}
}

// TestOnlyInstallationAndButtonsSkipRepoAccess: the registry lets only the
// families that are not about one repository skip the repository check.
func TestOnlyInstallationAndButtonsSkipRepoAccess(t *testing.T) {
	want := map[string]bool{(jobs.Installation{}).Kind(): true, (jobs.CheckAction{}).Kind(): true}
	for _, h := range handlers() {
		anyRepo := reflect.ValueOf(h).Elem().FieldByName("anyRepo").Bool()
		if anyRepo != want[h.Kind()] {
			t.Errorf("%s: anyRepo = %v", h.Kind(), anyRepo)
		}
	}
}
