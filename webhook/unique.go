package webhook

import (
	"fmt"
	"strconv"

	"github.com/riverqueue/river"
)

// InsertOpts makes a run's job unique by its delivery (the field tagged
// river:"unique"): River's unique jobs refuse a second job for one
// delivery even if the deliveries table were bypassed, across any number
// of intake replicas.
func (RunJobArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Replay keys. Every delivery is recorded under its X-GitHub-Delivery id;
// a delivery that acts is also recorded under a key taken from its signed
// body, so the same body sent again under a new delivery id (a replay by
// whoever captured it) acts once. A key names one real event on GitHub:
// two different events must not share one, or the second would be lost.
//
//   - A comment, a review, an inline review comment: its id (GitHub never
//     reuses one). An issue comment edited to add the mention shares the
//     comment's key, so a comment acts at most once: when written, or on
//     one edit within the edit trigger window, never twice.
//   - issues.opened with the mention: the issue's id.
//   - issues.closed, .deleted, .transferred: the action, the issue and its
//     updated_at (a close replayed after a reopen cancels nothing new).
//   - issue_comment.deleted: the comment's id.
//   - check_suite.rerequested: the suite, who asked and its updated_at
//     (as for a check run's Re-run).
//   - issues.labeled: the issue, the label, who added it and the issue's
//     updated_at, which GitHub moves when the label is added. Removing and
//     adding the label again is a new key; the limit is that both within
//     the same second (updated_at has seconds) by the same person count as
//     one.
//   - check_run.rerequested: the check run, who asked, and the check run's
//     completed_at. agentgate answers a re-run with a new run and a new
//     check run, so a second "Re-run" on the same finished check run by
//     the same person is refused as a replay; another person's is not, and
//     `@agentgate retry` stays available.

// commentKey is the replay key of a comment or review of event.
func commentKey(event string, id int64) string {
	if id == 0 {
		return ""
	}
	return event + "/" + strconv.FormatInt(id, 10)
}

// labelKey is the replay key of an issues.labeled trigger.
func labelKey(is *issue, l *label, sender *user) string {
	return fmt.Sprintf("issues.labeled/%d/%d/%d/%s", is.ID, l.ID, sender.id(), capped(is.UpdatedAt.Raw))
}

// rerunKey is the replay key of a check_run.rerequested re-run.
func rerunKey(cr *checkRun, sender *user) string {
	return fmt.Sprintf("check_run.rerequested/%d/%d/%s", cr.ID, sender.id(), capped(string(cr.CompletedAt)))
}

// capped bounds a payload value used in a key (GitHub's are short).
func capped(s string) string {
	const n = 64
	if len(s) > n {
		return s[:n]
	}
	return s
}
