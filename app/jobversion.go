package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/agentgate/agentgate/jobs"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// newerJobSnooze is how long a worker leaves a job written by a newer
// binary (job arguments of a newer jobs.Version) before looking at
// it again. A snoozed job keeps its attempts.
const newerJobSnooze = time.Minute

// jobVersionMiddleware snoozes every job whose arguments carry a version
// newer than this binary knows, so during a rolling upgrade an old worker
// neither works a job it would misread nor fails it: an upgraded worker
// takes it. (Kinds this binary does not know at all are never fetched:
// FetchOnlyKnownKinds in newQueue.)
type jobVersionMiddleware struct {
	river.MiddlewareDefaults
	log *slog.Logger
}

// Work implements rivertype.WorkerMiddleware.
func (m *jobVersionMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	var v struct {
		Version int `json:"v"`
	}
	// Arguments that do not parse are the worker's to report.
	if err := json.Unmarshal(job.EncodedArgs, &v); err == nil && jobs.Newer(v.Version) {
		m.log.WarnContext(ctx, "job written by a newer agentgate: left for an upgraded worker",
			"kind", job.Kind, "job_id", job.ID, "job_version", v.Version, "known_version", jobs.Version)
		return river.JobSnooze(newerJobSnooze)
	}
	return doInner(ctx)
}

var _ rivertype.WorkerMiddleware = (*jobVersionMiddleware)(nil)
