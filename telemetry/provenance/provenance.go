package provenance

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/agentgate/agentgate/telemetry"
)

// PredicateType names agentgate's run provenance predicate.
const PredicateType = "https://agentgate.dev/provenance/run/v1"

// BuildType names what a run is, in SLSA's buildDefinition.
const BuildType = "https://agentgate.dev/run/v1"

// KindSigned is the event that records a run's provenance in its trail.
const KindSigned = "provenance.signed"

// Predicate is the statement's predicate, SLSA-provenance-like.
type Predicate struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition is what the run was asked to do and with what.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   ExternalParameters   `json:"externalParameters"`
	InternalParameters   InternalParameters   `json:"internalParameters"`
	ResolvedDependencies []ResolvedDependency `json:"resolvedDependencies"`
}

// ExternalParameters come from outside agentgate: the trigger and the person.
type ExternalParameters struct {
	Repository string    `json:"repository"`
	Issue      string    `json:"issue,omitempty"`
	Trigger    Trigger   `json:"trigger"`
	Requester  Requester `json:"requester"`
}

// Trigger is the webhook delivery that started the run.
type Trigger struct {
	DeliveryID string `json:"deliveryId"`
	Event      string `json:"event,omitempty"`
	Kind       string `json:"kind,omitempty"` // comment, label, …
	CommentID  string `json:"commentId,omitempty"`
}

// Requester is who asked, and their permission at trigger time.
type Requester struct {
	Login      string `json:"login"`
	Permission string `json:"permission,omitempty"`
	Required   string `json:"required,omitempty"`
}

// InternalParameters are agentgate's own settings for the run.
type InternalParameters struct {
	Agent        string      `json:"agent,omitempty"`
	PolicySHA256 string      `json:"policySha256,omitempty"`
	Network      string      `json:"network,omitempty"`
	Runtime      string      `json:"runtime,omitempty"`
	LLMGateway   *LLMGateway `json:"llmGateway,omitempty"`
	// AgentVersion is the CLI version the agent image reports (its
	// org.agentgate.agent.version label); AgentVersionChecked the one
	// the preset's command line was checked against.
	AgentVersion        string `json:"agentVersion,omitempty"`
	AgentVersionChecked string `json:"agentVersionChecked,omitempty"`
}

// LLMGateway is what the run's LLM gateway let model requests ask the
// provider to do beyond its default (client-side tools only, no provider
// state, built-in beta list).
type LLMGateway struct {
	AllowServerTools   []string `json:"allowServerTools"`
	AllowBetas         []string `json:"allowBetas"`
	AllowProviderState bool     `json:"allowProviderState"`
	AllowFields        []string `json:"allowFields"`
}

// ResolvedDependency is an input pinned by digest.
type ResolvedDependency struct {
	Name   string            `json:"name"`
	URI    string            `json:"uri,omitempty"`
	Digest map[string]string `json:"digest"`
}

// RunDetails is what happened.
type RunDetails struct {
	Builder  Builder  `json:"builder"`
	Metadata Metadata `json:"metadata"`
	Outcome  string   `json:"outcome"`
	Result   Result   `json:"result"`
	Counts   Counts   `json:"decisions"`
	Usage    Usage    `json:"llmUsage"`
}

// Builder identifies agentgate as the builder.
type Builder struct {
	ID string `json:"id"`
}

// Metadata is the run's identity and times.
type Metadata struct {
	InvocationID string `json:"invocationId"`
	StartedOn    string `json:"startedOn,omitempty"`
	FinishedOn   string `json:"finishedOn,omitempty"`
	Events       int    `json:"auditEvents"`
}

// Result is the change the run produced.
type Result struct {
	HeadCommit  string `json:"headCommit,omitempty"`
	Branch      string `json:"branch,omitempty"`
	PullRequest string `json:"pullRequest,omitempty"`
	Files       int    `json:"filesChanged"`
}

// Counts are the run's egress and tool decisions.
type Counts struct {
	EgressAllowed int `json:"egressAllowed"`
	EgressDenied  int `json:"egressDenied"`
	ToolCommands  int `json:"toolCommands"`
	ToolFailed    int `json:"toolFailed"`
	PolicyFlags   int `json:"policyFlags"`
	LimitsHit     int `json:"limitsHit"`
	LLMRequests   int `json:"llmRequests"`
	LLMErrors     int `json:"llmErrors"`
	LLMRefused    int `json:"llmRefused"`
}

// Usage is the model traffic.
type Usage struct {
	InputTokens  int      `json:"inputTokens"`
	OutputTokens int      `json:"outputTokens"`
	Models       []string `json:"models,omitempty"`
}

// FromEvents reads a run's predicate from its events (in seq order).
func FromEvents(events []telemetry.Event) Predicate {
	var p Predicate
	p.BuildDefinition.BuildType = BuildType
	p.RunDetails.Builder.ID = "https://agentgate.dev/agentgate"
	if len(events) == 0 {
		return p
	}
	sum := telemetry.Summarize(events)
	d := &p.BuildDefinition
	r := &p.RunDetails
	r.Metadata.InvocationID = events[0].RunID
	r.Metadata.StartedOn = events[0].Time.UTC().Format(time.RFC3339Nano)
	r.Metadata.FinishedOn = events[len(events)-1].Time.UTC().Format(time.RFC3339Nano)
	r.Metadata.Events = len(events)
	r.Outcome = sum.Outcome
	r.Result.Files = len(sum.Files)
	r.Counts.PolicyFlags = len(sum.Flags)
	r.Counts.LimitsHit = len(sum.LimitsHit)
	r.Counts.LLMRequests, r.Counts.LLMErrors, r.Counts.LLMRefused = sum.LLM.Requests, sum.LLM.Errors, sum.LLM.Refused
	r.Usage = Usage{InputTokens: sum.LLM.InputTokens, OutputTokens: sum.LLM.OutputTokens, Models: sum.LLM.Models}
	for _, h := range sum.Network {
		r.Counts.EgressAllowed += h.Allowed
		r.Counts.EgressDenied += h.Denied
	}
	var base, baseBranch string
	for _, ev := range events {
		a := ev.Attrs
		switch ev.Kind {
		case telemetry.KindWebhookReceived:
			d.ExternalParameters.Repository = telemetry.AttrText(a["repo"])
			d.ExternalParameters.Issue = telemetry.AttrText(a["issue"])
			d.ExternalParameters.Trigger = Trigger{DeliveryID: telemetry.AttrText(a["delivery_id"]), Event: telemetry.AttrText(a["event"]), Kind: telemetry.AttrText(a["trigger"]), CommentID: telemetry.AttrText(a["comment_id"])}
			if d.ExternalParameters.Trigger.CommentID == "0" {
				d.ExternalParameters.Trigger.CommentID = ""
			}
			d.ExternalParameters.Requester.Login = ev.Actor
		case telemetry.KindRunQueued:
			if d.ExternalParameters.Repository == "" {
				d.ExternalParameters.Repository = telemetry.AttrText(a["repo"])
			}
		case telemetry.KindRunAuthorized:
			d.ExternalParameters.Requester.Permission = telemetry.AttrText(a["permission"])
			d.ExternalParameters.Requester.Required = telemetry.AttrText(a["required"])
		case telemetry.KindWorkspaceReady:
			base = telemetry.AttrText(a["base_commit"])
			baseBranch = telemetry.AttrText(a["branch"])
		case telemetry.KindSandboxStarted:
			d.InternalParameters.Agent = telemetry.AttrText(a["agent"])
			d.InternalParameters.PolicySHA256 = telemetry.AttrText(a["policy_sha256"])
			d.InternalParameters.Network = telemetry.AttrText(a["network"])
			d.InternalParameters.Runtime = telemetry.AttrText(a["runtime"])
			d.InternalParameters.AgentVersion = telemetry.AttrText(a["agent_version"])
			d.InternalParameters.AgentVersionChecked = telemetry.AttrText(a["agent_version_checked"])
			if dg := telemetry.AttrText(a["image_digest"]); dg != "" {
				d.ResolvedDependencies = append(d.ResolvedDependencies, ResolvedDependency{Name: "agent-image", URI: telemetry.AttrText(a["image"]), Digest: digestMap(dg)})
			}
		case telemetry.KindLLMGateway:
			d.InternalParameters.LLMGateway = &LLMGateway{
				AllowServerTools:   words(a["allow_server_tools"]),
				AllowBetas:         words(a["allow_betas"]),
				AllowProviderState: a["allow_provider_state"] == true,
				AllowFields:        words(a["allow_fields"]),
			}
		case telemetry.KindAgentCommand:
			r.Counts.ToolCommands++
			if code := telemetry.AttrText(a["exit_code"]); (code != "" && code != "0") || a["failed"] == true {
				r.Counts.ToolFailed++
			}
		case telemetry.KindGitCommitted, telemetry.KindGitPushed:
			r.Result.HeadCommit = telemetry.AttrText(a["commit"])
			if b := telemetry.AttrText(a["branch"]); b != "" {
				r.Result.Branch = b
			}
		case telemetry.KindPROpened:
			r.Result.PullRequest = telemetry.AttrText(a["number"])
		}
	}
	if base != "" {
		dep := ResolvedDependency{Name: "base", Digest: map[string]string{"gitCommit": base}}
		if d.ExternalParameters.Repository != "" {
			dep.URI = "git+https://github.com/" + d.ExternalParameters.Repository
			if baseBranch != "" {
				dep.URI += "@refs/heads/" + baseBranch
			}
		}
		d.ResolvedDependencies = append([]ResolvedDependency{dep}, d.ResolvedDependencies...)
	}
	return p
}

// words splits a space-separated attribute; never nil, so an empty list
// is recorded as [] (nothing allowed), not left out.
func words(v any) []string {
	return append([]string{}, strings.Fields(telemetry.AttrText(v))...)
}

// digestMap turns "sha256:HEX" into {"sha256": "HEX"}.
func digestMap(d string) map[string]string {
	for _, alg := range []string{"sha256", "sha512"} {
		if len(d) > len(alg)+1 && d[:len(alg)+1] == alg+":" {
			return map[string]string{alg: d[len(alg)+1:]}
		}
	}
	return map[string]string{"id": d}
}

// Statement is the in-toto statement for a run whose events are events
// (in seq order, as stored) and whose chain hash after the last of them
// is head. Its subjects are the run (digest: that chain hash) and, when
// the run produced one, the head commit.
func Statement(events []telemetry.Event, head string) (*intoto.Statement, error) {
	if len(events) == 0 {
		return nil, errors.New("provenance: a run without events")
	}
	pred := FromEvents(events)
	ps, err := toStruct(pred)
	if err != nil {
		return nil, err
	}
	subjects := []*intoto.ResourceDescriptor{{
		Name:   "agentgate-run:" + events[0].RunID,
		Digest: map[string]string{"sha256": head},
		Annotations: mustStruct(map[string]any{
			"auditEvents": float64(len(events)),
		}),
	}}
	if c := pred.RunDetails.Result.HeadCommit; c != "" {
		name := "git+https://github.com/" + pred.BuildDefinition.ExternalParameters.Repository
		if b := pred.RunDetails.Result.Branch; b != "" {
			name += "@refs/heads/" + b
		}
		subjects = append(subjects, &intoto.ResourceDescriptor{Name: name, Digest: map[string]string{"gitCommit": c}})
	}
	st := &intoto.Statement{Type: intoto.StatementTypeUri, Subject: subjects, PredicateType: PredicateType, Predicate: ps}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("provenance: statement: %w", err)
	}
	return st, nil
}

// toStruct converts v to a protobuf Struct through its JSON form.
func toStruct(v any) (*structpb.Struct, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("provenance: predicate: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("provenance: predicate: %w", err)
	}
	s, err := structpb.NewStruct(m)
	if err != nil {
		return nil, fmt.Errorf("provenance: predicate: %w", err)
	}
	return s, nil
}

func mustStruct(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		panic(err)
	}
	return s
}

// Run is where a run's provenance comes from: its stored events and the
// head of its chain (store.DB serves both).
type Run interface {
	Events(ctx context.Context, runID string) ([]telemetry.Event, error)
	RunHead(ctx context.Context, runID string) (string, error)
}

// SignRun makes the statement of run runID from what r holds and signs it
// with key: the record the worker keeps with a finished run.
func SignRun(ctx context.Context, r Run, runID string, key ed25519.PrivateKey) (*dsse.Envelope, error) {
	events, err := r.Events(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	head, err := r.RunHead(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	st, err := Statement(events, head)
	if err != nil {
		return nil, err
	}
	return Sign(ctx, st, key)
}

// PayloadType is the DSSE payload type of an in-toto statement.
const PayloadType = "application/vnd.in-toto+json"

// Sign wraps the statement in a DSSE envelope signed with key.
func Sign(ctx context.Context, st *intoto.Statement, key ed25519.PrivateKey) (*dsse.Envelope, error) {
	body, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("provenance: encode statement: %w", err)
	}
	signer, err := dsse.NewEnvelopeSigner(ed25519SV{priv: key, pub: key.Public().(ed25519.PublicKey)})
	if err != nil {
		return nil, fmt.Errorf("provenance: signer: %w", err)
	}
	env, err := signer.SignPayload(ctx, PayloadType, body)
	if err != nil {
		return nil, fmt.Errorf("provenance: sign: %w", err)
	}
	return env, nil
}

// Open checks the envelope's signature with any of keys (the trusted
// audit public keys: the current one and those used before a rotation;
// each signature's keyid picks the key) and returns its statement.
func Open(ctx context.Context, env *dsse.Envelope, keys ...ed25519.PublicKey) (*intoto.Statement, error) {
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("provenance: payload type %q is not %q", env.PayloadType, PayloadType)
	}
	var vs []dsse.Verifier
	for _, k := range keys {
		if len(k) == ed25519.PublicKeySize {
			vs = append(vs, ed25519SV{pub: k})
		}
	}
	if len(vs) == 0 {
		return nil, errors.New("provenance: no key to check the signature with")
	}
	v, err := dsse.NewEnvelopeVerifier(vs...)
	if err != nil {
		return nil, fmt.Errorf("provenance: verifier: %w", err)
	}
	if _, err := v.Verify(ctx, env); err != nil {
		var ids []string
		for _, s := range env.Signatures {
			ids = append(ids, s.KeyID)
		}
		return nil, fmt.Errorf("provenance: signature (key %s) does not verify with any of the %d trusted keys: %w", strings.Join(ids, ", "), len(vs), err)
	}
	body, err := env.DecodeB64Payload()
	if err != nil {
		return nil, fmt.Errorf("provenance: payload: %w", err)
	}
	var st intoto.Statement
	if err := protojson.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("provenance: statement: %w", err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("provenance: statement: %w", err)
	}
	return &st, nil
}

// Covered is how many of the run's events the statement covers and the
// run's chain hash after the last of them, as its run subject says.
func Covered(st *intoto.Statement) (runID string, events int, head string, err error) {
	for _, s := range st.GetSubject() {
		if len(s.GetName()) > len("agentgate-run:") && s.GetName()[:len("agentgate-run:")] == "agentgate-run:" {
			n, _ := s.GetAnnotations().AsMap()["auditEvents"].(float64)
			return s.GetName()[len("agentgate-run:"):], int(n), s.GetDigest()["sha256"], nil
		}
	}
	return "", 0, "", errors.New("provenance: no run subject")
}

// Check verifies the envelope with pub and that it says what the stored
// events say: it covers the run's first N events, whose chain hash is
// hashAt(N), and its predicate is the one those events give.
func Check(ctx context.Context, env *dsse.Envelope, pub ed25519.PublicKey, events []telemetry.Event, hashAt func(seq int64) (string, error)) (*intoto.Statement, error) {
	return CheckAny(ctx, env, []ed25519.PublicKey{pub}, events, hashAt)
}

// CheckAny is Check with a list of trusted keys: a record signed with any
// of them (the current audit key or one used before a rotation) passes.
func CheckAny(ctx context.Context, env *dsse.Envelope, keys []ed25519.PublicKey, events []telemetry.Event, hashAt func(seq int64) (string, error)) (*intoto.Statement, error) {
	st, err := Open(ctx, env, keys...)
	if err != nil {
		return nil, err
	}
	runID, n, head, err := Covered(st)
	if err != nil {
		return nil, err
	}
	if n <= 0 || n > len(events) || (len(events) > 0 && events[0].RunID != runID) {
		return nil, fmt.Errorf("provenance: covers %d events of run %s; the store has %d", n, runID, len(events))
	}
	stored, err := hashAt(int64(n))
	if err != nil {
		return nil, fmt.Errorf("provenance: chain hash at %d: %w", n, err)
	}
	if stored != head {
		return nil, fmt.Errorf("provenance: the run's chain hash at event %d is %s, the record says %s", n, stored, head)
	}
	want, err := Statement(events[:n], stored)
	if err != nil {
		return nil, err
	}
	a, _ := protojson.Marshal(st.GetPredicate())
	b, _ := protojson.Marshal(want.GetPredicate())
	if !jsonEqual(a, b) {
		return nil, errors.New("provenance: the predicate does not match the run's events")
	}
	return st, nil
}

// jsonEqual compares two JSON texts by value.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// Digest is the hex SHA-256 of an envelope's JSON, as the audit trail
// records it.
func Digest(envJSON []byte) string {
	h := sha256.Sum256(envJSON)
	return hex.EncodeToString(h[:])
}

// ed25519SV signs and verifies DSSE's pre-authentication encoding with an
// Ed25519 key; the key id is the SHA-256 of the public key (DER).
type ed25519SV struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

func (s ed25519SV) Sign(_ context.Context, data []byte) ([]byte, error) {
	if s.priv == nil {
		return nil, errors.New("no private key")
	}
	return ed25519.Sign(s.priv, data), nil
}

func (s ed25519SV) Verify(_ context.Context, data, sig []byte) error {
	if !ed25519.Verify(s.pub, data, sig) {
		return errors.New("ed25519: invalid signature")
	}
	return nil
}

func (s ed25519SV) KeyID() (string, error) { return dsse.SHA256KeyID(s.pub) }

func (s ed25519SV) Public() crypto.PublicKey { return s.pub }
