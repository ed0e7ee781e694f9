package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/telemetry/provenance"
)

// attest signs the run's provenance with the audit key once its final
// event is stored, keeps the envelope with the run, and records its digest
// in the audit trail. Without a key (never in serve) nothing is signed.
func (r *run) attest(ctx context.Context) error {
	key := r.w.DB.AuditKey()
	if key == nil {
		return nil
	}
	env, err := r.once(ctx, journal.Provenance, func() (string, error) {
		e, err := provenance.SignRun(ctx, r.w.DB, r.args.RunID, key)
		if err != nil {
			return "", err
		}
		b, err := json.Marshal(e)
		if err != nil {
			return "", fmt.Errorf("provenance: encode: %w", err)
		}
		return string(b), nil
	})
	if err != nil {
		return err
	}
	return r.auditEventOnce(ctx, journal.ProvenanceEvent, provenance.KindSigned, map[string]any{
		"envelope_sha256": provenance.Digest([]byte(env)),
	})
}
