package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// audit measures chained, redacted appends (events/s, one event per
// transaction as a run appends them) and the verification of a chain,
// reported per million events.
func audit(ctx context.Context, e *env) Result {
	appends := e.size(2000, 50)
	chain := e.size(200_000, 2000)
	res := Result{
		Title: "Audit trail",
		Command: fmt.Sprintf("SQLite (WAL). Appends: %d events through Append (redaction, run chain and global chain, one transaction each). "+
			"Verify: a chain of %d events (20 per run) checked end to end by Verify, scaled to one million.", appends, chain),
	}
	var rate, verify []float64
	attrs := map[string]any{"exit_code": 0, "output_tail": "ok\nPASS\nok  \tgithub.com/x/y\t0.01s", "argv": []string{"go", "test", "./..."}}
	for n := range e.opts.N {
		dir, err := e.tempDir("audit-")
		if err != nil {
			res.Err = err
			return res
		}
		db, err := store.Open(ctx, filepath.Join(dir, "audit.db"))
		if err != nil {
			res.Err = err
			return res
		}
		t := time.Now()
		for i := range appends {
			if _, err := db.Append(ctx, telemetry.Event{RunID: "run-" + strconv.Itoa(i/20), Kind: "agent.command", Actor: "runner", Attrs: attrs}); err != nil {
				_ = db.Close()
				res.Err = err
				return res
			}
		}
		rate = append(rate, float64(appends)/time.Since(t).Seconds())
		_ = db.Close()

		if n == 0 { // one chain, built once, verified N times
			vdb, err := store.Open(ctx, filepath.Join(dir, "verify.db"))
			if err != nil {
				res.Err = err
				return res
			}
			if err := vdb.SeedChain(ctx, chain); err != nil {
				_ = vdb.Close()
				res.Err = fmt.Errorf("build chain: %w", err)
				return res
			}
			for range e.opts.N {
				t = time.Now()
				rep, err := vdb.Verify(ctx, nil)
				took := time.Since(t)
				if err != nil || !rep.OK() || rep.Events != chain {
					_ = vdb.Close()
					res.Err = fmt.Errorf("verify: %v (%d events, ok %v)", err, rep.Events, rep.OK())
					return res
				}
				verify = append(verify, took.Seconds()*1e6/float64(chain))
			}
			_ = vdb.Close()
		}
		e.log.Info("bench: audit", "rep", n, "events/s", int(rate[len(rate)-1]))
	}
	res.Rows = []Row{
		{Metric: "appends", Unit: "events/s", Agentgate: stat(rate)},
		{Metric: "verify, per million events", Unit: "s", Agentgate: stat(verify)},
	}
	return res
}
