package webhook

import "github.com/riverqueue/river"

// InsertOpts makes a run's job unique by its delivery (the field tagged
// river:"unique"): River's unique jobs refuse a second job for one
// delivery even if the deliveries table were bypassed, across any number
// of intake replicas.
func (RunJobArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}
