package auditcmd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry/provenance"
)

// EffectProvenance is the effect the worker keeps a run's envelope under.
const EffectProvenance = "provenance"

// auditAttest prints a run's signed provenance: the DSSE envelope, then
// (with the key) the statement it carries, checked against the run's events.
func auditAttest(ctx context.Context, db *store.DB, runID string, keys []ed25519.PublicKey, stdout io.Writer) (int, error) {
	if runID == "" {
		return 1, fmt.Errorf("attest: a run id is required")
	}
	raw, ok, err := db.Effect(ctx, runID, EffectProvenance)
	if err != nil {
		return 1, err
	}
	if !ok {
		return 1, fmt.Errorf("attest: run %s has no provenance record (runs that did not finish have none)", runID)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(raw), "", "  "); err != nil {
		return 1, fmt.Errorf("attest: stored envelope: %w", err)
	}
	fmt.Fprintln(stdout, pretty.String())
	if len(keys) == 0 {
		fmt.Fprintln(stdout, "# not checked: no audit key (--audit-key-file or --public-key)")
		return 0, nil
	}
	st, err := checkProvenance(ctx, db, runID, raw, keys)
	if err != nil {
		fmt.Fprintf(stdout, "# BROKEN: %v\n", err)
		return 1, nil
	}
	body, _ := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(st)
	fmt.Fprintf(stdout, "# statement (signature good, matches the run's events):\n%s\n", body)
	return 0, nil
}

// checkProvenance checks one run's envelope: signature, and that it says
// what the run's stored events say.
func checkProvenance(ctx context.Context, db *store.DB, runID, raw string, keys []ed25519.PublicKey) (*intoto.Statement, error) {
	var env dsse.Envelope
	if err := json.Unmarshal([]byte(raw), &env); err != nil {
		return nil, fmt.Errorf("run %s: provenance envelope: %w", runID, err)
	}
	events, err := db.Events(ctx, runID)
	if err != nil {
		return nil, err
	}
	st, err := provenance.CheckAny(ctx, &env, keys, events, func(seq int64) (string, error) { return db.EventHash(ctx, runID, seq) })
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", runID, err)
	}
	return st, nil
}

// verifyProvenance checks every run's provenance record: each signed
// record's signature and content, and that every record the audit trail
// names (provenance.signed) is there, unchanged. It returns the first
// problem ("" when none) and how many records it checked.
func verifyProvenance(ctx context.Context, db *store.DB, keys []ed25519.PublicKey) (string, int, error) {
	records, err := db.EffectsByKey(ctx, EffectProvenance)
	if err != nil {
		return "", 0, err
	}
	signed, err := db.EventsOfKind(ctx, provenance.KindSigned)
	if err != nil {
		return "", 0, err
	}
	if len(records) == 0 && len(signed) == 0 {
		return "", 0, nil
	}
	if len(keys) == 0 {
		return fmt.Sprintf("%d provenance records and no audit key to check them", len(records)), 0, nil
	}
	for _, ev := range signed {
		raw, ok := records[ev.RunID]
		if !ok {
			return fmt.Sprintf("run %s: its provenance record is missing", ev.RunID), 0, nil
		}
		if want, _ := ev.Attrs["envelope_sha256"].(string); want != provenance.Digest([]byte(raw)) {
			return fmt.Sprintf("run %s: its provenance record is not the one the audit trail recorded", ev.RunID), 0, nil
		}
	}
	ids := make([]string, 0, len(records))
	for id := range records {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if _, err := checkProvenance(ctx, db, id, records[id], keys); err != nil {
			return err.Error(), 0, nil
		}
	}
	return "", len(ids), nil
}
