package sandbox

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/agentgate/agentgate/internal/secretforms"
	"github.com/agentgate/agentgate/telemetry"
)

// phaseSecrets are the secrets a phase's requests must not carry: every
// real secret the worker holds (KnownSecrets), the operator's egress
// credentials, the run's clone token and extra (the run's canaries),
// less any whose value is in held (NAME=VALUE): what the phase is given
// by design, the setup phase's own setup secrets.
func (s *Sandbox) phaseSecrets(token string, extra []secretforms.Secret, held []string) []secretforms.Secret {
	out := append([]secretforms.Secret(nil), s.KnownSecrets...)
	out = append(out, extra...)
	for name, v := range s.Credentials {
		out = append(out, secretforms.Secret{Name: "credential:" + name, Value: v})
	}
	if token != "" {
		out = append(out, secretforms.Secret{Name: "github:clone-token", Value: token})
	}
	if len(held) == 0 {
		return out
	}
	given := map[string]bool{}
	for _, kv := range held {
		if _, v, ok := strings.Cut(kv, "="); ok {
			given[v] = true
		}
	}
	kept := out[:0]
	for _, sec := range out {
		if !given[sec.Value] {
			kept = append(kept, sec)
		}
	}
	return kept
}

// tripwire is one sandboxed phase's exfiltration tripwire: the network
// options that scan the phase's requests for secrets, and a context for
// its sandbox that ends at the first request that carried one. A nil
// tripwire (a phase without a relayed network) never trips.
type tripwire struct {
	phase  string
	hit    atomic.Pointer[map[string]any]
	ctx    context.Context
	cancel context.CancelFunc
	sc     *secretforms.Scanner
}

// newTripwire arms a tripwire for phase ("setup", "verify"; "" is the
// agent's) against secrets. Call stop when the phase is over.
func newTripwire(ctx context.Context, phase string, secrets []secretforms.Secret) *tripwire {
	w := &tripwire{phase: phase, sc: secretforms.NewScanner(secrets...)}
	w.ctx, w.cancel = context.WithCancel(ctx)
	return w
}

// options are the network options that scan the phase's requests.
func (w *tripwire) options() netOptions {
	return netOptions{secrets: w.sc, phase: w.phase, onExfil: func(attrs map[string]any) {
		w.hit.CompareAndSwap(nil, &attrs)
		w.cancel()
	}}
}

// context is the context the phase's sandbox runs in: ctx itself without
// a tripwire.
func (w *tripwire) context(ctx context.Context) context.Context {
	if w == nil {
		return ctx
	}
	return w.ctx
}

// tripped is the first hit's event attributes, nil when none.
func (w *tripwire) tripped() map[string]any {
	if w == nil {
		return nil
	}
	if x := w.hit.Load(); x != nil {
		return *x
	}
	return nil
}

// stop releases the tripwire's context.
func (w *tripwire) stop() {
	if w != nil {
		w.cancel()
	}
}

// setupTripwire arms the setup phase's tripwire: its requests are
// scanned for every secret but the setup secrets it is given (held,
// NAME=VALUE), which it is there to use.
func (s *Sandbox) setupTripwire(ctx context.Context, t Task, planted *canaries, held []string) *tripwire {
	var extra []secretforms.Secret
	if planted != nil {
		extra = planted.secrets
	}
	return newTripwire(ctx, "setup", s.phaseSecrets(t.Token, extra, held))
}

// verifyStopped ends a verification its tripwire stopped: recorded as
// finished with conclusion action_required and the reason, which the
// check run shows.
func (s *Sandbox) verifyStopped(ctx context.Context, t VerifyTask, hit map[string]any) (VerifyResult, error) {
	out := VerifyResult{Conclusion: "action_required", Stopped: exfiltrationReason(hit)}
	if err := s.event(context.WithoutCancel(ctx), t.RunID, telemetry.KindVerifyFinished, "agentgate", map[string]any{
		"commit": t.Commit, "conclusion": out.Conclusion, "stopped": "secret in a request",
	}); err != nil {
		return VerifyResult{}, err
	}
	return out, nil
}

// VerifyNetwork is the operator's network n with the run policy's
// inspected hosts, so the verify command's requests to them are
// inspected (their method and path rules apply, the tripwire scans
// them), but without their injected credentials: the verify command
// never holds an operator credential's use.
func VerifyNetwork(n NetworkConfig, pol *RunPolicy) NetworkConfig {
	if pol == nil {
		return n
	}
	n.InspectAll = n.InspectAll || pol.Network.InspectAll
	n.Inspect = nil
	for _, h := range pol.Network.Inspect {
		h.Inject = nil
		h.Inspect = true // inspected still, with no credential to imply it
		n.Inspect = append(n.Inspect, h)
	}
	return n
}
