package store

import (
	"context"
	"testing"
)

// Kept feedback follows its comment until a follow-up claims it: an edit
// replaces the text, a deletion drops the item; a claimed item is the
// claiming run's as it was.
func TestFeedbackEditedAndDropped(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	const pr = "acme/a#5"
	for _, it := range []FeedbackItem{{Key: "c1", Author: "ann", Body: "one"}, {Key: "c2", Author: "bob", Body: "two"}, {Key: "c3", Author: "cy", Body: "three"}} {
		if err := db.AddFeedback(ctx, pr, it); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		do   func() (bool, error)
		want bool
	}{
		{"edit", func() (bool, error) { return db.UpdateFeedback(ctx, pr, "c1", "one, edited") }, true},
		{"drop", func() (bool, error) { return db.DropFeedback(ctx, pr, "c2") }, true},
		{"edit of an unknown item", func() (bool, error) { return db.UpdateFeedback(ctx, pr, "c9", "x") }, false},
		{"drop of an unknown item", func() (bool, error) { return db.DropFeedback(ctx, pr, "c9") }, false},
		{"another pull request", func() (bool, error) { return db.DropFeedback(ctx, "acme/a#6", "c3") }, false},
	} {
		if got, err := tt.do(); err != nil || got != tt.want {
			t.Errorf("%s = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	got, err := db.ClaimFeedback(ctx, pr, "run-1")
	if err != nil || len(got) != 2 || got[0].Body != "one, edited" || got[1].Key != "c3" {
		t.Fatalf("claimed = %+v, %v", got, err)
	}
	if ok, _ := db.UpdateFeedback(ctx, pr, "c1", "too late"); ok {
		t.Error("a claimed item was edited")
	}
	if ok, _ := db.DropFeedback(ctx, pr, "c3"); ok {
		t.Error("a claimed item was dropped")
	}
	if again, _ := db.ClaimFeedback(ctx, pr, "run-1"); len(again) != 2 || again[0].Body != "one, edited" {
		t.Errorf("claimed again = %+v", again)
	}
}
