package runner

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// pidsWatch records whether a container's process count reached its limit,
// from the engine's stats stream (about one sample a second).
type pidsWatch struct {
	id      string
	reached atomic.Bool
	exact   atomic.Bool // the kernel's own count (pids.events) was readable
	done    chan struct{}
}

// hit reports whether the limit was reached. Where the kernel's count of
// refused forks is readable (the engine shares this host's cgroups) it is
// read once more and is the answer: exact, and no wait. Otherwise the
// stats stream gets a short moment to deliver a last sample; the engine
// samples about once a second, so an agent that hits the limit for less
// than that may go unreported, while a run that stays at the limit (a fork
// bomb) is always seen. The wait is short because every run pays it.
func (w *pidsWatch) hit() bool {
	if w.reached.Load() {
		return true
	}
	if w.exact.Load() {
		n, ok := pidsEventsMax(w.id)
		return ok && n > 0 || w.reached.Load()
	}
	select {
	case <-w.done:
	case <-time.After(200 * time.Millisecond):
	}
	return w.reached.Load()
}

// watchPids follows the stats of container id until ctx ends or the stream
// closes. Errors only mean less information: the watch is best effort.
func watchPids(ctx context.Context, cli client.APIClient, id string, limit int64) *pidsWatch {
	w := &pidsWatch{id: id, done: make(chan struct{})}
	// Where the engine shares this host's cgroups, the kernel counts every
	// fork the pids limit refused: exact, and read ten times a second.
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			n, ok := pidsEventsMax(id)
			if ok {
				w.exact.Store(true)
			}
			if ok && n > 0 {
				w.reached.Store(true)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	go func() {
		defer close(w.done)
		st, err := cli.ContainerStats(ctx, id, true)
		if err != nil {
			return
		}
		defer st.Body.Close()
		dec := json.NewDecoder(st.Body)
		for {
			var s container.StatsResponse
			if err := dec.Decode(&s); err != nil {
				return
			}
			if limit > 0 && s.PidsStats.Current >= uint64(limit) {
				w.reached.Store(true)
			}
		}
	}()
	return w
}

// pidsEventFiles are where a container's pids.events lives, for cgroup v1
// and v2 with the cgroupfs and systemd drivers.
func pidsEventFiles(id string) []string {
	return []string{
		"/sys/fs/cgroup/pids/docker/" + id + "/pids.events",
		"/sys/fs/cgroup/pids/system.slice/docker-" + id + ".scope/pids.events",
		"/sys/fs/cgroup/docker/" + id + "/pids.events",
		"/sys/fs/cgroup/system.slice/docker-" + id + ".scope/pids.events",
	}
}

// pidsEventsMax reads how many forks the pids limit refused so far.
func pidsEventsMax(id string) (int64, bool) {
	if id == "" || strings.ContainsAny(id, "/.") {
		return 0, false
	}
	for _, f := range pidsEventFiles(id) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		return parsePidsEvents(string(b))
	}
	return 0, false
}

// parsePidsEvents reads the "max N" line of a pids.events file.
func parsePidsEvents(s string) (int64, bool) {
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok && k == "max" {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
