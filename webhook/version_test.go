package webhook

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestJobArgsCarryVersion: every job kind's arguments are written with
// "v": JobVersion, and arguments written before versions read as 0.
func TestJobArgsCarryVersion(t *testing.T) {
	want := `"v":1`
	for _, args := range []any{RunJobArgs{RunID: "r"}, EventJobArgs{DeliveryID: "d"}, ActionJobArgs{RunID: "r"}, &RunJobArgs{RunID: "p"}} {
		b, err := json.Marshal(args)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%T: %s lacks %s", args, b, want)
		}
	}
	var old RunJobArgs
	if err := json.Unmarshal([]byte(`{"run_id":"r"}`), &old); err != nil || old.Version != 0 || Newer(old.Version) {
		t.Errorf("unversioned args: %+v %v", old, err)
	}
	if !Newer(JobVersion + 1) {
		t.Error("Newer(JobVersion+1) = false")
	}
}
