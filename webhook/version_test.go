package webhook

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/jobs"
)

// TestJobArgsCarryVersion: a run's arguments are written with "v":
// jobs.Version, and arguments written before versions read as 0 (package
// jobs tests the event families').
func TestJobArgsCarryVersion(t *testing.T) {
	want := `"v":1`
	for _, args := range []any{RunJobArgs{RunID: "r"}, &RunJobArgs{RunID: "p"}} {
		b, err := json.Marshal(args)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%T: %s lacks %s", args, b, want)
		}
	}
	var old RunJobArgs
	if err := json.Unmarshal([]byte(`{"run_id":"r"}`), &old); err != nil || old.Version != 0 || jobs.Newer(int(old.Version)) {
		t.Errorf("unversioned args: %+v %v", old, err)
	}
}
