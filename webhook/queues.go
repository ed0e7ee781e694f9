package webhook

import "github.com/riverqueue/river"

// QueueEvents is the River queue of event and button-click jobs: comment
// commands (cancel, approve, status), feedback, closed pull requests and
// installation changes. They are short (a few API calls) and have their
// own worker slots, so they never wait behind runs that hold every run
// slot for an hour — a maintainer's cancel reaches a run at once.
const QueueEvents = "events"

// InsertOpts puts event jobs on QueueEvents.
func (EventJobArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueEvents} }

// InsertOpts puts button clicks on QueueEvents.
func (ActionJobArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueEvents} }
