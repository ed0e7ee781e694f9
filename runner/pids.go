package runner

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// pidsWatch records whether a container's process count reached its limit,
// from the engine's stats stream (about one sample a second).
type pidsWatch struct {
	reached atomic.Bool
	done    chan struct{}
}

// hit reports whether the limit was reached, after giving the stream a
// short moment to deliver a last sample. The engine samples about once a
// second, so an agent that hits the limit for less than that may go
// unreported; a run that stays at the limit (a fork bomb) is always seen.
// The wait is short because every run pays it.
func (w *pidsWatch) hit() bool {
	select {
	case <-w.done:
	case <-time.After(200 * time.Millisecond):
	}
	return w.reached.Load()
}

// watchPids follows the stats of container id until ctx ends or the stream
// closes. Errors only mean less information: the watch is best effort.
func watchPids(ctx context.Context, cli client.APIClient, id string, limit int64) *pidsWatch {
	w := &pidsWatch{done: make(chan struct{})}
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
