package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/agentgate/agentgate/runner"
)

// errInstallationBusy means the run's installation already has as many
// runs in sandboxes as the operator allows one installation
// (installation-concurrency): the job goes back to the queue for a while,
// and other installations' runs take the slots meanwhile.
var errInstallationBusy = errors.New("the installation's runs are at the operator's per-installation cap")

// installationSlotKey is the lease of slot k of an installation.
func installationSlotKey(installationID int64, k int) string {
	return fmt.Sprintf("installation-slot:%d:%d", installationID, k)
}

// liveAttempts is the run attempts this process is executing (their lease
// holder names), so that a slot held by an earlier life of this worker can
// be told from one held by a run this process is working now.
type liveAttempts struct{ m sync.Map }

func (l *liveAttempts) add(holder string)           { l.m.Store(holder, struct{}{}) }
func (l *liveAttempts) remove(holder string)        { l.m.Delete(holder) }
func (l *liveAttempts) has(holder string) (ok bool) { _, ok = l.m.Load(holder); return ok }

// admit reserves what the run's sandbox needs before it starts: room in
// this worker's CPU and memory budget (errNoCapacity) and, when the
// operator caps runs per installation, one of the installation's slots
// (errInstallationBusy). The slots are leases in the database, so the cap
// holds across every worker; a slot held by a dead attempt is freed when
// its lease expires, or at once when it was this worker's own earlier
// life. release gives both back.
func (r *run) admit(ctx context.Context, limits runner.Limits) (release func(), err error) {
	w := r.w
	freeBudget, ok := w.Admission.TryAcquire(limits)
	if !ok {
		return nil, errNoCapacity
	}
	n := w.Config.Controls.InstallationConcurrency
	if n <= 0 || r.holder == "" {
		return freeBudget, nil
	}
	for k := range n {
		key := installationSlotKey(r.args.InstallationID, k)
		h, live, err := w.DB.LeaseHolder(ctx, key)
		if err != nil {
			freeBudget()
			return nil, fmt.Errorf("installation slot: %w", err)
		}
		if live && h != r.holder && strings.HasPrefix(h, w.Config.WorkerID+" job:") && !w.live.has(h) {
			r.log.Info("taking over an installation slot from this worker's earlier life", "slot", key, "holder", h)
			if err := w.DB.ReleaseLease(ctx, key, h); err != nil {
				freeBudget()
				return nil, fmt.Errorf("installation slot: %w", err)
			}
		}
		_, ok, err := w.DB.AcquireLease(ctx, key, r.holder, w.runLeaseTTL())
		if err != nil {
			freeBudget()
			return nil, fmt.Errorf("installation slot: %w", err)
		}
		if ok {
			var once sync.Once
			return func() {
				once.Do(func() {
					if err := w.DB.ReleaseLease(context.WithoutCancel(ctx), key, r.holder); err != nil {
						r.log.Warn("release installation slot", "slot", key, "err", err)
					}
					freeBudget()
				})
			}, nil
		}
	}
	freeBudget()
	return nil, errInstallationBusy
}
