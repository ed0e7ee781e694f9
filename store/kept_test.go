package store

import (
	"context"
	"testing"
	"time"
)

// TestKeptChanges: a kept change is found by its run, replaced by a later
// keep, gone once dropped, and swept by PruneRecords when left behind.
func TestKeptChanges(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		ctx := context.Background()
		db, _ := openTemp(t)
		if _, ok, err := db.KeptChange(ctx, "r1"); err != nil || ok {
			t.Fatalf("nothing kept yet: ok=%v err=%v", ok, err)
		}
		for _, v := range []string{`{"v":1}`, `{"v":2}`} {
			if err := db.KeepChange(ctx, "r1", v); err != nil {
				t.Fatal(err)
			}
			if got, ok, err := db.KeptChange(ctx, "r1"); err != nil || !ok || got != v {
				t.Fatalf("KeptChange = %q %v %v, want %q", got, ok, err, v)
			}
		}
		if _, ok, _ := db.KeptChange(ctx, "r2"); ok {
			t.Error("kept change leaked to another run")
		}
		if err := db.DropKeptChange(ctx, "r1"); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := db.KeptChange(ctx, "r1"); err != nil || ok {
			t.Fatalf("after drop: ok=%v err=%v", ok, err)
		}
		if err := db.DropKeptChange(ctx, "r1"); err != nil {
			t.Fatalf("dropping nothing: %v", err)
		}
		// Left behind (a worker stopped for good): the records retention
		// sweeps it.
		if err := db.KeepChange(ctx, "r3", "x"); err != nil {
			t.Fatal(err)
		}
		counts, err := db.PruneRecords(ctx, time.Now().Add(time.Hour))
		if err != nil || counts.KeptChanges != 1 {
			t.Fatalf("PruneRecords = %+v, %v; want one kept change swept", counts, err)
		}
		if _, ok, _ := db.KeptChange(ctx, "r3"); ok {
			t.Error("kept change survived the sweep")
		}
	})
}
