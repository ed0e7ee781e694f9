package webhook

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/store"
)

// TestRunJobUniqueByDelivery: River itself refuses a second job for one
// delivery, whatever its run id, behind the deliveries table.
func TestRunJobUniqueByDelivery(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	client, err := river.NewClient(db.RiverDriver(), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	insert := func(runID, delivery string) bool {
		t.Helper()
		res, err := client.Insert(ctx, RunJobArgs{RunID: runID, DeliveryID: delivery, Owner: "o", Repo: "r", IssueNumber: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return !res.UniqueSkippedAsDuplicate
	}
	if !insert("run-1", "d-1") {
		t.Fatal("first job for d-1 skipped")
	}
	if insert("run-2", "d-1") {
		t.Fatal("second job for delivery d-1 inserted")
	}
	if !insert("run-3", "d-2") {
		t.Fatal("job for another delivery skipped")
	}
}
