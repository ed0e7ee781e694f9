package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
)

// keptVersion is the encoding of keptChange.
const keptVersion = 1

// keptChange is what a later attempt needs to push a harvested change
// without the agent: the base it was harvested on, the change (paths,
// modes, blob hashes), the content of each blob, the agent's summary and
// the commit's time (so the commit pushed is the one the first attempt
// made). It is agent-written data: a later attempt checks it again (see
// decodeKept) and then commits it through the same checks a harvest's
// change goes through.
type keptChange struct {
	V        int               `json:"v"`
	Base     string            `json:"base"`
	Change   *gitops.Change    `json:"change"`
	Blobs    map[string][]byte `json:"blobs"` // hex hash → content
	Summary  string            `json:"summary"`
	CommitAt time.Time         `json:"commit_at"`
}

// keptBounds are the harvest's limits, defaults filled in: a kept change
// never holds more than a harvest may.
func keptBounds(h gitops.HarvestOptions) gitops.HarvestOptions {
	if h.MaxFileBytes <= 0 {
		h.MaxFileBytes = gitops.DefaultMaxFileBytes
	}
	if h.MaxFiles <= 0 {
		h.MaxFiles = gitops.DefaultMaxFiles
	}
	if h.MaxTotal <= 0 {
		h.MaxTotal = gitops.DefaultMaxTotal
	}
	return h
}

// maxKeptEncoded bounds the encoded record before it is parsed: the
// blobs in base64, and room for the file list (a path of up to 4 KiB,
// escaped) and the summary (read up to sandbox.MaxAgentSummary bytes, invalid
// UTF-8 replaced, escaped).
func maxKeptEncoded(b gitops.HarvestOptions) int64 {
	return b.MaxTotal/3*4 + 8 + int64(b.MaxFiles)*(10<<10) + 6*maxKeptSummary + 64<<10
}

// maxKeptSummary bounds the agent's summary in a kept record: what
// readAgentSummary returns, each invalid byte replaced by U+FFFD.
const maxKeptSummary = 3 * sandbox.MaxAgentSummary

// errKeptRefused wraps every reason a kept change is not pushed.
var errKeptRefused = errors.New("the kept change was refused")

// encodeKept builds the record of att's change, reading each new blob
// from the host repository, and returns it with its sha256 (hex).
func encodeKept(att *sandbox.Attempt, b gitops.HarvestOptions, at time.Time) (string, string, error) {
	kc := keptChange{V: keptVersion, Base: att.Workspace.BaseCommit, Change: att.Change, Blobs: map[string][]byte{}, Summary: att.AgentSummary, CommitAt: at}
	for _, f := range att.Change.Files {
		if f.Op == "deleted" {
			continue
		}
		if _, ok := kc.Blobs[f.Blob]; ok {
			continue
		}
		data, err := att.Workspace.ReadBlob(f.Blob, b.MaxFileBytes)
		if err != nil {
			return "", "", fmt.Errorf("keep change: %w", err)
		}
		kc.Blobs[f.Blob] = data
	}
	enc, err := json.Marshal(kc)
	if err != nil {
		return "", "", fmt.Errorf("keep change: %w", err)
	}
	sum := sha256.Sum256(enc)
	return string(enc), hex.EncodeToString(sum[:]), nil
}

// decodeKept parses a kept record and checks it against want (the sha256
// the audit trail recorded when the change was judged) and the harvest's
// bounds: every path valid, every mode one a harvest gives, each blob
// present, referenced, within the bounds and hashing to its name. A
// record that fails any check is refused (errKeptRefused): what is pushed
// is exactly what was judged, or nothing.
func decodeKept(data, want string, b gitops.HarvestOptions) (*keptChange, error) {
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", errKeptRefused, fmt.Sprintf(format, args...))
	}
	if n := int64(len(data)); n > maxKeptEncoded(b) {
		return nil, refuse("%d bytes, over the bound of %d the harvest limits allow", n, maxKeptEncoded(b))
	}
	sum := sha256.Sum256([]byte(data))
	if got := hex.EncodeToString(sum[:]); want == "" || got != want {
		return nil, refuse("its sha256 %s is not the %q the audit trail recorded when it was judged", got, want)
	}
	var kc keptChange
	if err := json.Unmarshal([]byte(data), &kc); err != nil {
		return nil, refuse("%v", err)
	}
	switch {
	case kc.V != keptVersion:
		return nil, refuse("version %d, want %d", kc.V, keptVersion)
	case len(kc.Base) != 40 || !plumbing.IsHash(kc.Base):
		return nil, refuse("base commit %q is no commit hash", kc.Base)
	case kc.Change == nil || len(kc.Change.Files) == 0:
		return nil, refuse("no files")
	case len(kc.Change.Files) > b.MaxFiles:
		return nil, refuse("%d files, over the harvest's limit of %d", len(kc.Change.Files), b.MaxFiles)
	case len(kc.Summary) > maxKeptSummary:
		return nil, refuse("summary of %d bytes, over %d", len(kc.Summary), maxKeptSummary)
	}
	used := map[string]bool{}
	for _, f := range kc.Change.Files {
		if err := gitops.ValidPath(f.Path); err != nil {
			return nil, refuse("%s: %v", telemetry.CodeText(f.Path), err)
		}
		if f.Op == "deleted" {
			continue
		}
		if f.Symlink != (f.Mode == "120000") {
			return nil, refuse("%s: symlink flag does not match mode %q", telemetry.CodeText(f.Path), f.Mode)
		}
		content, ok := kc.Blobs[f.Blob]
		if !ok {
			return nil, refuse("%s: blob %q missing", telemetry.CodeText(f.Path), f.Blob)
		}
		if int64(len(content)) != f.Size {
			return nil, refuse("%s: %d bytes, the change says %d", telemetry.CodeText(f.Path), len(content), f.Size)
		}
		used[f.Blob] = true
	}
	var total int64
	for h, content := range kc.Blobs {
		if !used[h] {
			return nil, refuse("blob %q belongs to no file", h)
		}
		if n := int64(len(content)); n > b.MaxFileBytes {
			return nil, refuse("blob %s is %d bytes, over the harvest's limit of %d", h, n, b.MaxFileBytes)
		}
		total += int64(len(content))
		if got := plumbing.ComputeHash(plumbing.BlobObject, content).String(); got != h {
			return nil, refuse("blob %s hashes to %s", h, got)
		}
	}
	if total > b.MaxTotal {
		return nil, refuse("%d bytes of content, over the harvest's limit of %d", total, b.MaxTotal)
	}
	return &kc, nil
}

// keep records the sha256 of att's judged change in the audit trail, then
// the change itself for runID before its push: a later attempt pushes the
// stored record only if it hashes to that digest. It sets the commit's
// time.
func (r *run) keep(ctx context.Context, att *sandbox.Attempt) error {
	at := time.Now().UTC().Truncate(time.Second)
	data, sum, err := encodeKept(att, keptBounds(r.w.Harvest), at)
	if err != nil {
		return err
	}
	// The digest first: a record is only ever stored with its digest
	// already recorded (a crash between the two leaves a digest and no
	// record, and the next attempt runs the agent).
	if err := r.auditEvent(ctx, telemetry.KindChangeKept, "agentgate", map[string]any{
		"sha256": sum, "files": len(att.Change.Files), "bytes": len(data), "base_commit": att.Workspace.BaseCommit,
	}); err != nil {
		return err
	}
	crashPoint("between:" + telemetry.KindChangeKept)
	if err := r.w.DB.KeepChange(ctx, r.args.RunID, data); err != nil {
		return err
	}
	r.commitAt = at
	crashPoint("after:" + telemetry.KindChangeKept)
	return nil
}

// keptDigest is the sha256 the run's last change.kept event recorded.
func (r *run) keptDigest(ctx context.Context) (string, error) {
	events, err := r.w.DB.Events(ctx, r.args.RunID)
	if err != nil {
		return "", fmt.Errorf("read events: %w", err)
	}
	want := ""
	for _, ev := range events {
		if ev.Kind == telemetry.KindChangeKept {
			want, _ = ev.Attrs["sha256"].(string)
		}
	}
	return want, nil
}

// commitTime is when the harvested change is committed: the time kept
// with it, so a resumed push makes the same commit.
func (r *run) commitTime() time.Time {
	if !r.commitAt.IsZero() {
		return r.commitAt
	}
	return time.Now().UTC()
}

// sandboxOrResume pushes the change an earlier attempt kept, when there
// is one, and otherwise runs the agent (sandboxAndPush). A kept change
// refused by its checks ends the run with the reason; one whose base
// branch moved since is dropped and the agent runs anew. The kept change
// is dropped once the run has pushed or failed for good.
func (r *run) sandboxOrResume(ctx context.Context) (pushed, agentSummary string, outcome sandbox.Outcome, reason string, err error) {
	data, ok, err := r.w.DB.KeptChange(ctx, r.args.RunID)
	if err != nil {
		return "", "", "", "", err
	}
	if ok {
		pushed, agentSummary, outcome, reason, err = r.resumePush(ctx, data)
		if errors.Is(err, errBaseMoved) || errors.Is(err, errKeptUnrecorded) {
			r.log.Info("kept change not resumed; running the agent again", "err", err)
			if err := r.w.DB.DropKeptChange(ctx, r.args.RunID); err != nil {
				return "", "", "", "", err
			}
			ok = false
		}
	}
	if !ok {
		pushed, agentSummary, outcome, reason, err = r.sandboxAndPush(ctx)
	}
	if err != nil {
		return "", "", "", "", err // kept for the next attempt
	}
	if err := r.w.DB.DropKeptChange(ctx, r.args.RunID); err != nil {
		return "", "", "", "", err
	}
	return pushed, agentSummary, outcome, reason, nil
}

// errBaseMoved: the branch the kept change was harvested on has moved.
var errBaseMoved = sandbox.ErrBaseMoved

// errKeptUnrecorded: a kept change whose digest the audit trail does not
// hold (written by a version that stored the record first and stopped
// before its event): it cannot be checked, so it is dropped, not pushed.
var errKeptUnrecorded = errors.New("the audit trail holds no digest for the kept change")

// resumePush pushes a kept change: a fresh clone of the run's branch (no
// setup, no agent), the kept blobs written into it after decodeKept's
// checks (Sandbox.Resume), the policy's judgement made again, then
// commitAndPush as after a harvest.
func (r *run) resumePush(ctx context.Context, data string) (pushed, agentSummary string, outcome sandbox.Outcome, reason string, err error) {
	a := r.args
	w := r.w
	want, err := r.keptDigest(ctx)
	if err != nil {
		return "", "", "", "", err
	}
	if want == "" {
		return "", "", "", "", errKeptUnrecorded
	}
	kc, err := decodeKept(data, want, keptBounds(w.Harvest))
	if err != nil {
		_ = r.auditEvent(ctx, telemetry.KindPolicyFlagged, "agentgate", map[string]any{"reason": err.Error()})
		return "", "", sandbox.OutcomeRejected, err.Error(), nil
	}
	pol := r.policy
	if pol == nil {
		pol = &sandbox.RunPolicy{Limits: w.Config.Limits, WorkspaceBytes: w.Config.WorkspaceBytes, Network: w.Config.networkFor(Tenant{})}
	}
	changed := make([]sandbox.ChangedFile, len(kc.Change.Files))
	for i, f := range kc.Change.Files {
		changed[i] = sandbox.ChangedFile{Path: f.Path, Added: f.Added, Removed: f.Removed, Binary: f.Binary, Symlink: f.Symlink}
	}
	if v := pol.Violations(changed); len(v) > 0 {
		return "", "", sandbox.OutcomeRejected, "the change breaks the repository's policy: " + strings.Join(v, "; "), nil
	}
	cloneTok, err := w.Clients.Token(ctx, a.InstallationID, cloneScope(a.RepoID))
	if err != nil {
		return "", "", "", "", err
	}
	if err := r.requireLease(ctx); err != nil {
		return "", "", "", "", err
	}
	att, err := w.Sandbox.Resume(ctx, sandbox.ResumeTask{
		RunID: a.RunID, CloneURL: a.CloneURL, Branch: r.cloneBranch(), Token: cloneTok,
		WorkspaceBytes: pol.WorkspaceBytes, Base: kc.Base, Blobs: kc.Blobs,
	})
	if err != nil {
		return "", "", "", "", err
	}
	defer func() {
		if cerr := att.Close(); cerr != nil {
			r.log.Warn("run directory cleanup", "err", cerr)
		}
	}()
	if att.Outcome != "" {
		return "", "", att.Outcome, fmt.Sprintf("%v: %s", errKeptRefused, att.Reason), nil
	}
	att.Outcome, att.Change, att.AgentSummary = sandbox.OutcomeSucceeded, kc.Change, kc.Summary
	att.Workflows, att.Protected = pol.ProtectedChanges(changed)
	r.commitAt = kc.CommitAt
	if err := r.auditEvent(ctx, telemetry.KindPushResumed, "agentgate", map[string]any{
		"sha256": want, "files": len(kc.Change.Files), "base_commit": kc.Base,
	}); err != nil {
		return "", "", "", "", err
	}
	if err := r.progress(ctx, "pushing", "The agent finished on an earlier attempt; pushing its change."); err != nil {
		return "", "", "", "", err
	}
	ctx, endPush := r.rt.Phase(ctx, telemetry.PhasePush)
	defer func() { endPush(err) }()
	pushed, outcome, reason, err = r.commitAndPush(ctx, att)
	if err != nil || outcome != sandbox.OutcomeSucceeded {
		return "", kc.Summary, outcome, reason, err
	}
	return pushed, kc.Summary, sandbox.OutcomeSucceeded, "", nil
}
