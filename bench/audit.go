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
			if err := bulkChain(ctx, vdb, chain); err != nil {
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

// bulkChain inserts n chained events in one transaction, exactly as
// Append chains them (run chain and global chain), so that Verify has a
// real chain to check without n separate appends.
func bulkChain(ctx context.Context, db *store.DB, n int) error {
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	insEv, err := tx.PrepareContext(ctx, `INSERT INTO events (run_id, seq, time, kind, actor, attrs, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	insLink, err := tx.PrepareContext(ctx, `INSERT INTO audit_chain (global_seq, run_id, seq, event_hash, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	link := telemetry.GenesisHash
	prev := map[string]string{}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		run := fmt.Sprintf("run-%07d", i/20)
		e := telemetry.ChainedEvent{RunID: run, Seq: int64(i%20 + 1),
			Time: t0.Add(time.Duration(i) * time.Millisecond).UTC().Format("2006-01-02T15:04:05.000000000Z"),
			Kind: "agent.command", Actor: "runner", Attrs: `{"argv":["go","test","./..."],"exit_code":0}`, PrevHash: telemetry.GenesisHash}
		if p, ok := prev[run]; ok {
			e.PrevHash = p
		}
		h := e.Hash()
		prev[run] = h
		if _, err := insEv.ExecContext(ctx, e.RunID, e.Seq, e.Time, e.Kind, e.Actor, e.Attrs, e.PrevHash, h); err != nil {
			return err
		}
		l := telemetry.ChainLink{GlobalSeq: int64(i + 1), RunID: run, Seq: e.Seq, EventHash: h, PrevHash: link}
		link = l.Hash()
		if _, err := insLink.ExecContext(ctx, l.GlobalSeq, l.RunID, l.Seq, l.EventHash, l.PrevHash, link); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET global_seq = ?, hash = ? WHERE id = 1`, n, link); err != nil {
		return err
	}
	return tx.Commit()
}
