package webhook

import (
	"encoding/json"

	"github.com/agentgate/agentgate/jobs"
)

// MarshalJSON writes the arguments with their version (jobs.Version when
// the caller left it zero; see jobs.Version for what a version means).
func (a RunJobArgs) MarshalJSON() ([]byte, error) {
	type plain RunJobArgs
	a.Version = jobs.WithVersion(a.Version)
	return json.Marshal(plain(a))
}
