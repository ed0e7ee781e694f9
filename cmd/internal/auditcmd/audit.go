// Package auditcmd is `agentgate audit`: query, export, verify, attest and
// prune the audit trail. It is shared by the agentgate command and the demo
// (agentgate-demo), which verifies the trail its run wrote.
package auditcmd

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/store"
)

const auditUsage = `Usage:
  agentgate audit list   [--repo R] [--requester U] [--outcome O] [--since T] [--limit N]
  agentgate audit show   RUN                the run's timeline, with hashes
  agentgate audit show   RUN --diff [--raw] the diff of a change agentgate kept instead of pushing
                                           (control bytes escaped; --raw: as stored, for git apply)
  agentgate audit export [--since T]       every event as a JSON line, for a SIEM
  agentgate audit verify [--public-key F]… check every chain and provenance record; exit 1 at the first broken link
  agentgate audit attest RUN               the run's signed provenance (in-toto statement in a DSSE envelope)
  agentgate audit prune  --older-than D    delete old runs behind a signed checkpoint

Every subcommand takes --database-url (as serve) and --audit-key-file
(env AGENTGATE_AUDIT_KEY_FILE): the Ed25519 key that signs checkpoints.
verify and attest check signatures against the trusted public keys:
--public-key FILE (repeatable; PEM PUBLIC KEY, e.g. from
openssl pkey -in audit.key -pubout) when given, else the key file's public
half and the audit-public-keys setting (keys used before a rotation).
prune creates the key only on SQLite with an empty trail.
T is RFC 3339 (2024-05-01T00:00:00Z) or a date (2024-05-01).
`

// auditFlags are the flags every audit subcommand takes beside the
// configuration's.
type auditFlags struct {
	keyFile, repo, requester, outcome, since string
	publicKeys                               fileList
	olderThan                                time.Duration
	limit                                    int
	diff, raw                                bool
}

// Run runs `agentgate audit SUBCOMMAND` with args (the subcommand first).
// It returns the exit code: 1 when verify finds a broken link, 2 on a
// usage error.
func Run(ctx context.Context, args []string, stdout io.Writer) (int, error) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, auditUsage)
		if len(args) == 0 {
			return 2, nil
		}
		return 0, nil
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list", "show", "export", "verify", "prune", "attest":
	default:
		fmt.Fprintf(stdout, "agentgate audit: unknown subcommand %q\n\n%s", sub, auditUsage)
		return 2, nil
	}
	var runID string
	if (sub == "show" || sub == "attest") && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		runID, rest = rest[0], rest[1:]
	}
	var f auditFlags
	cfg, fs, err := app.LoadConfig("audit "+sub, rest, os.Getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&f.repo, "repo", "", "list: only this repository (owner/name)")
		fs.StringVar(&f.requester, "requester", "", "list: only runs asked for by this login")
		fs.StringVar(&f.outcome, "outcome", "", "list: only runs in this state (succeeded, failed, denied, …)")
		fs.StringVar(&f.since, "since", "", "list, export: from this time on")
		fs.IntVar(&f.limit, "limit", 0, "list: at most this many runs")
		fs.BoolVar(&f.diff, "diff", false, "show: print the diff kept on the run (a change agentgate did not push) instead of the timeline")
		fs.BoolVar(&f.raw, "raw", false, "show --diff: print the diff's bytes as stored (for git apply), control bytes included")
		fs.DurationVar(&f.olderThan, "older-than", 0, "prune: delete runs whose newest event is older than this (e.g. 2160h)")
		fs.Var(&f.publicKeys, "public-key", "verify, attest: a trusted audit public key (PEM); repeat for keys used before a rotation; no private key needed")
	})
	if err != nil {
		return 1, err
	}
	// The key serve signs with: the configured file, else the data
	// directory's, when there is one.
	f.keyFile = cfg.AuditKeyFile
	if f.keyFile == "" {
		if def := cfg.AuditKeyPath(); fileExists(def) || sub == "prune" {
			f.keyFile = def
		}
	}
	if (sub == "show" || sub == "attest") && runID == "" && fs.NArg() > 0 {
		runID = fs.Arg(0)
	}
	since, err := parseSince(f.since)
	if err != nil {
		return 1, err
	}
	if err := cfg.MakeDirs(false); err != nil {
		return 1, err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return 1, err
	}
	defer func() { _ = db.Close() }()
	switch sub {
	case "list":
		return 0, auditList(ctx, db, store.RunFilter{Repo: f.repo, Requester: f.requester, Outcome: f.outcome, Since: since, Limit: f.limit}, stdout)
	case "show":
		if runID == "" {
			return 1, errors.New("show: a run id is required")
		}
		if f.diff {
			return 0, auditDiff(ctx, db, runID, f.raw, stdout)
		}
		return 0, auditShow(ctx, db, runID, stdout)
	case "export":
		return 0, auditExport(ctx, db, since, stdout)
	case "verify", "attest":
		keys, err := trustedKeys(cfg, f)
		if err != nil {
			return 1, err
		}
		if sub == "verify" {
			return auditVerify(ctx, db, keys, stdout)
		}
		return auditAttest(ctx, db, runID, keys, stdout)
	default: // "prune", the last one checked above
		return 0, auditPrune(ctx, db, cfg, f, stdout)
	}
}

// parseSince reads --since: RFC 3339 or a date; "" is no bound.
func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want RFC 3339 or YYYY-MM-DD", s)
}

// auditList prints the matching runs as a table.
func auditList(ctx context.Context, db *store.DB, f store.RunFilter, stdout io.Writer) error {
	runs, err := db.ListRuns(ctx, f)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tCREATED\tREPO\tISSUE\tREQUESTER\tOUTCOME\tEVENTS\tHEAD")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d\t%s\n", r.ID, r.CreatedAt.Format(time.RFC3339), r.Repo,
			r.Issue, r.Requester, r.State, r.Events, shortHash(r.Head))
	}
	return tw.Flush()
}

// auditShow prints one run's timeline.
func auditShow(ctx context.Context, db *store.DB, runID string, stdout io.Writer) error {
	if r, err := db.GetRun(ctx, runID); err == nil {
		fmt.Fprintf(stdout, "run %s: %s#%d asked by %s, %s\n", termSafe(r.ID), termSafe(r.Repo), r.Issue, termSafe(r.Requester), termSafe(r.State))
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tKIND\tACTOR\tHASH\tATTRS")
	n := 0
	err := db.AuditEvents(ctx, store.EventFilter{RunID: runID}, func(ev store.AuditEvent) error {
		n++
		attrs, _ := json.Marshal(ev.Attrs)
		if ev.Attrs == nil {
			attrs = nil
		}
		_, err := fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", ev.Seq, ev.Time.Format(time.RFC3339Nano), termSafe(ev.Kind),
			termSafe(ev.Actor), shortHash(ev.Hash), oneLine(string(attrs)))
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("run %s: no events", runID)
	}
	head, err := db.RunHead(ctx, runID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "head %s\n", head)
	return nil
}

// auditExport writes every event as one JSON line.
func auditExport(ctx context.Context, db *store.DB, since time.Time, stdout io.Writer) error {
	enc := json.NewEncoder(stdout)
	return db.AuditEvents(ctx, store.EventFilter{Since: since}, func(ev store.AuditEvent) error {
		return enc.Encode(ev)
	})
}

// fileList is a repeatable flag of file names.
type fileList []string

func (l *fileList) String() string { return strings.Join(*l, ",") }

func (l *fileList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// trustedKeys are the public keys verify and attest check signatures
// against: the --public-key files when given (no private key needed),
// else the audit key file's public half and the audit-public-keys setting.
func trustedKeys(cfg app.Config, f auditFlags) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	if len(f.publicKeys) > 0 {
		for _, p := range f.publicKeys {
			k, err := store.LoadAuditPublicKey(p)
			if err != nil {
				return nil, fmt.Errorf("--public-key: %w", err)
			}
			keys = append(keys, k)
		}
		return keys, nil
	}
	if f.keyFile != "" {
		key, err := store.LoadAuditKey(f.keyFile, false)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key.Public().(ed25519.PublicKey))
	}
	earlier, err := cfg.AuditTrustedKeys()
	if err != nil {
		return nil, err
	}
	return append(keys, earlier...), nil
}

// auditVerify checks the trail against the trusted keys; exit code 1 on a
// broken link.
func auditVerify(ctx context.Context, db *store.DB, keys []ed25519.PublicKey, stdout io.Writer) (int, error) {
	rep, err := db.Verify(ctx, keys...)
	if err != nil {
		return 1, err
	}
	fmt.Fprintf(stdout, "runs %d, events %d, chain entries %d, pruned runs %d, checkpoints %d\n",
		rep.Runs, rep.Events, rep.Links, rep.Pruned, rep.Checkpoints)
	if !rep.OK() {
		fmt.Fprintf(stdout, "BROKEN: %s\n", rep.First)
		return 1, nil
	}
	broken, n, err := verifyProvenance(ctx, db, keys)
	if err != nil {
		return 1, err
	}
	if broken != "" {
		fmt.Fprintf(stdout, "BROKEN: provenance: %s\n", broken)
		return 1, nil
	}
	if n > 0 {
		fmt.Fprintf(stdout, "provenance records %d: signatures good, matching their runs\n", n)
	}
	fmt.Fprintf(stdout, "OK: head %s\n", rep.Head)
	return 0, nil
}

// auditPrune deletes old runs behind a signed checkpoint.
func auditPrune(ctx context.Context, db *store.DB, cfg app.Config, f auditFlags, stdout io.Writer) error {
	if f.olderThan <= 0 {
		return errors.New("prune: --older-than is required")
	}
	if f.keyFile == "" {
		return errors.New("prune: --audit-key-file is required")
	}
	key, err := db.OpenAuditKey(ctx, f.keyFile)
	if err != nil {
		return err
	}
	earlier, err := cfg.AuditTrustedKeys()
	if err != nil {
		return err
	}
	db.SetTrustedAuditKeys(earlier...)
	res, err := db.Prune(ctx, time.Now().Add(-f.olderThan), key)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pruned %d runs, %d events\n", len(res.Runs), res.Events)
	return nil
}

// shortHash is the first 12 hex digits of a hash.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// oneLine keeps a table cell on one line, short and safe to print.
func oneLine(s string) string {
	s = termSafe(strings.NewReplacer("\n", `\n`, "\t", " ").Replace(s))
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// auditDiff prints the diff agentgate kept on a run instead of pushing it
// (a change to .github/workflows/), for a maintainer to review and apply
// with `git apply`. The agent wrote it: unless raw, its control bytes are
// escaped (termSafe) so that it cannot drive the maintainer's terminal.
func auditDiff(ctx context.Context, db *store.DB, runID string, raw bool, stdout io.Writer) error {
	diff, ok, err := db.Effect(ctx, runID, app.DiffEffect)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("show: run %s kept no diff (only changes agentgate may not push are kept)", runID)
	}
	if !raw {
		diff = termSafe(diff)
	}
	_, err = io.WriteString(stdout, diff)
	return err
}
