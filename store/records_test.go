package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestInsertDelivery(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		db, _ := openTemp(t)
		ctx := context.Background()
		insert := func(id string, commit bool) bool {
			t.Helper()
			tx, err := db.SQL.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			ok, err := InsertDelivery(ctx, tx, id, "issue_comment")
			if err != nil {
				t.Fatal(err)
			}
			if commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		steps := []struct {
			id     string
			commit bool
			want   bool
		}{
			{"d1", true, true},
			{"d1", true, false}, // duplicate
			{"d2", false, true}, // rolled back: not recorded
			{"d2", true, true},  // so it is new again
			{"d2", true, false},
		}
		for i, s := range steps {
			if got := insert(s.id, s.commit); got != s.want {
				t.Errorf("step %d InsertDelivery(%s) = %v, want %v", i, s.id, got, s.want)
			}
		}
	})
}

func TestEnsureRun(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		db, _ := openTemp(t)
		ctx := context.Background()
		first, err := db.EnsureRun(ctx, Run{ID: "r1", DeliveryID: "d1", Repo: "o/r", Issue: 3, Requester: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		if first.State != "queued" || first.CreatedAt.IsZero() || first.CreatedAt.Location() != time.UTC {
			t.Fatalf("first = %+v", first)
		}
		// A retry with different fields gets the stored row back unchanged.
		again, err := db.EnsureRun(ctx, Run{ID: "r1", DeliveryID: "d9", Repo: "x/y", Issue: 9, State: "running"})
		if err != nil {
			t.Fatal(err)
		}
		if again != first {
			t.Fatalf("EnsureRun again = %+v, want %+v", again, first)
		}
		if err := db.SetRunState(ctx, "r1", "running"); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetRun(ctx, "r1")
		if err != nil || got.State != "running" || got.Repo != "o/r" {
			t.Fatalf("GetRun = %+v, %v", got, err)
		}
		if _, err := db.GetRun(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetRun(missing) = %v, want ErrNotFound", err)
		}
		if err := db.SetRunState(ctx, "nope", "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetRunState(missing) = %v, want ErrNotFound", err)
		}
		if _, err := db.EnsureRun(ctx, Run{}); err == nil {
			t.Error("EnsureRun without id succeeded")
		}
	})
}

func TestLeases(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		db, _ := openTemp(t)
		ctx := context.Background()
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		db.now = func() time.Time { return now }
		const ttl = time.Minute
		steps := []struct {
			name       string
			advance    time.Duration
			release    string // run that releases before acquiring
			run        string
			wantHolder string
			wantOK     bool
		}{
			{name: "free lease", run: "A", wantHolder: "A", wantOK: true},
			{name: "held by A", advance: 30 * time.Second, run: "B", wantHolder: "A", wantOK: false},
			{name: "A re-acquires (retry) and extends", run: "A", wantHolder: "A", wantOK: true},
			{name: "still held at old expiry", advance: 45 * time.Second, run: "B", wantHolder: "A", wantOK: false},
			{name: "B steals after expiry", advance: 16 * time.Second, run: "B", wantHolder: "B", wantOK: true},
			{name: "A now refused", run: "A", wantHolder: "B", wantOK: false},
			{name: "release by non-holder does nothing", release: "A", run: "A", wantHolder: "B", wantOK: false},
			{name: "release by holder frees it", release: "B", run: "A", wantHolder: "A", wantOK: true},
		}
		for _, s := range steps {
			now = now.Add(s.advance)
			if s.release != "" {
				if err := db.ReleaseLease(ctx, "repo#1", s.release); err != nil {
					t.Fatal(err)
				}
			}
			holder, ok, err := db.AcquireLease(ctx, "repo#1", s.run, ttl)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if holder != s.wantHolder || ok != s.wantOK {
				t.Errorf("%s: AcquireLease(%s) = %s, %v; want %s, %v", s.name, s.run, holder, ok, s.wantHolder, s.wantOK)
			}
		}
		// Other keys are independent.
		if holder, ok, err := db.AcquireLease(ctx, "repo#2", "C", ttl); err != nil || !ok || holder != "C" {
			t.Errorf("other key: %s %v %v", holder, ok, err)
		}
		if _, _, err := db.AcquireLease(ctx, "repo#3", "C", 0); err == nil {
			t.Error("zero ttl accepted")
		}
	})
}

func TestEffects(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		db, _ := openTemp(t)
		ctx := context.Background()
		if _, ok, err := db.Effect(ctx, "r1", "comment.progress"); err != nil || ok {
			t.Fatalf("missing effect: ok=%v err=%v", ok, err)
		}
		for _, v := range []string{"101", "202"} {
			if err := db.RecordEffect(ctx, "r1", "comment.progress", v); err != nil {
				t.Fatal(err)
			}
			got, ok, err := db.Effect(ctx, "r1", "comment.progress")
			if err != nil || !ok || got != v {
				t.Fatalf("Effect = %q %v %v, want %q", got, ok, err, v)
			}
		}
		if _, ok, _ := db.Effect(ctx, "r2", "comment.progress"); ok {
			t.Error("effect leaked to another run")
		}
	})
}
