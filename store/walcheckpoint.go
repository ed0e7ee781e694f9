package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite's write-ahead log is copied back into the database file by a
// checkpoint, which fsyncs. Run by the committing connection (SQLite's
// automatic checkpoint every 1,000 pages), that fsync stalls every
// delivery queued behind the commit: on a busy disk, hundreds of
// milliseconds at the tail of intake latency. So the store's own
// connection checkpoints only as a backstop (walBackstopPages), and a
// second connection checkpoints in the background every
// checkpointInterval. A PASSIVE checkpoint never blocks a writer: the
// writer keeps appending to the log while it runs.
const walBackstopPages = 10_000 // 40 MiB of log with 4 KiB pages

// checkpointInterval is how often the background checkpoint runs (a
// variable for tests).
var checkpointInterval = time.Second

// walCheckpointer runs PASSIVE checkpoints on its own connection.
type walCheckpointer struct {
	db     *sql.DB
	stop   chan struct{}
	done   sync.WaitGroup
	runs   atomic.Int64 // checkpoints done, for tests
	closed sync.Once
	err    error
}

// startWALCheckpointer opens a second connection to the database at path and
// checkpoints from it every interval until close.
func startWALCheckpointer(path string, interval time.Duration) (*walCheckpointer, error) {
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("checkpointer: %w", err)
	}
	db.SetMaxOpenConns(1)
	c := &walCheckpointer{db: db, stop: make(chan struct{})}
	c.done.Add(1)
	go c.loop(interval)
	return c, nil
}

func (c *walCheckpointer) loop(interval time.Duration) {
	defer c.done.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var busy, logFrames, done int
		err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done)
		cancel()
		if err != nil {
			slog.Warn("store: background checkpoint", "err", err)
			continue
		}
		c.runs.Add(1)
	}
}

// close stops the loop and closes the connection; again, it does nothing.
func (c *walCheckpointer) close() error {
	if c == nil {
		return nil
	}
	c.closed.Do(func() {
		close(c.stop)
		c.done.Wait()
		c.err = c.db.Close()
	})
	return c.err
}
