package webhook

import "encoding/json"

// JobVersion is the version of the job arguments this binary writes and
// understands. Every job's arguments carry it ("v"); a job written before
// versions existed reads as 0 and is understood as version 1. Raise it when
// a change to RunJobArgs, EventJobArgs or ActionJobArgs means an older
// worker would do the wrong thing with the job; a worker that meets a
// newer version snoozes the job (SnoozeNewer) instead of working or
// failing it, so a rolling upgrade leaves it to an upgraded worker.
const JobVersion = 1

// Newer reports whether a job's version v is newer than this binary knows.
func Newer(v int) bool { return v > JobVersion }

// withVersion sets v to JobVersion when the caller left it zero.
func withVersion(v int) int {
	if v == 0 {
		return JobVersion
	}
	return v
}

// MarshalJSON writes the arguments with their version.
func (a RunJobArgs) MarshalJSON() ([]byte, error) {
	type plain RunJobArgs
	a.Version = withVersion(a.Version)
	return json.Marshal(plain(a))
}

// MarshalJSON writes the arguments with their version.
func (a EventJobArgs) MarshalJSON() ([]byte, error) {
	type plain EventJobArgs
	a.Version = withVersion(a.Version)
	return json.Marshal(plain(a))
}

// MarshalJSON writes the arguments with their version.
func (a ActionJobArgs) MarshalJSON() ([]byte, error) {
	type plain ActionJobArgs
	a.Version = withVersion(a.Version)
	return json.Marshal(plain(a))
}
