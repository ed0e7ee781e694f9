package sandbox

import (
	"strings"
	"time"

	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/runner/gateway"
)

// NetworkConfig is the sandbox's relayed network: the egress allowlist and
// the LLM gateway. Keys stay on the host; the agent gets placeholders.
type NetworkConfig struct {
	Mode         string   // "relay" (default): allowlisted egress and the LLM gateway; "none": no network at all
	RelayImage   string   // the relay image (built locally by `agentgate images`)
	Allow        []string // egress allowlist: host, *.suffix, optional :port
	AllowPrivate []string // destinations allowed to resolve to private addresses (internal mirrors)
	MaxBytes     int64    // per-run egress byte budget
	MaxConns     int      // per-run concurrent egress connections
	// Inspect are the inspected hosts of the run's policy (rules and
	// credential names; values stay in Config.EgressCredentials);
	// InspectAll inspects every allowed host.
	Inspect    []policy.HostRules
	InspectAll bool
	// UpstreamCAFile is a PEM file of CAs the proxy trusts, besides the
	// system roots, for inspected internal hosts (egress-upstream-ca).
	UpstreamCAFile string

	OpenAIURL    string
	OpenAIKey    string // never logged, never in the sandbox
	AnthropicURL string
	AnthropicKey string                // never logged, never in the sandbox
	TokenBudget  int64                 // input+output tokens per run; 0 = unlimited
	Prices       map[string][2]float64 // model → USD per million input, output tokens
	Gateway      GatewayConfig         // what model requests may ask the provider to do

	// setupPhase marks the network of a setup phase: its decisions are
	// the setup's, not the agent's.
	setupPhase bool
}

// LLMConfigured reports whether the gateway has any upstream.
func (n NetworkConfig) LLMConfigured() bool {
	return (n.OpenAIURL != "" && n.OpenAIKey != "") || (n.AnthropicURL != "" && n.AnthropicKey != "")
}

// GatewayConfig is what the operator lets an agent's model requests ask
// the provider to do on its own (see gateway.Policy). The zero value is
// the safe default: client-side tools only. It is part of the run's
// policy digest and recorded in the run's provenance.
type GatewayConfig struct {
	AllowServerTools   []string `json:",omitempty"` // server-side tools by name (web_search, mcp, …)
	AllowBetas         []string `json:",omitempty"` // beta header values besides gateway.DefaultBetas
	AllowProviderState bool     `json:",omitempty"` // OpenAI store / previous_response_id / conversation, file ids, containers
	AllowFields        []string `json:",omitempty"` // extra top-level request fields (compatible servers)
	OutputReservation  int64    `json:",omitempty"` // tokens reserved for a request without an output cap; 0 = the gateway's default
}

// Policy is the gateway's form of the configuration.
func (g GatewayConfig) Policy() gateway.Policy {
	return gateway.Policy{
		AllowServerTools: g.AllowServerTools, AllowBetas: g.AllowBetas,
		AllowProviderState: g.AllowProviderState, AllowFields: g.AllowFields,
	}
}

// attrs is the configuration as the attributes of the run's llm.gateway
// event, which the provenance records.
func (g GatewayConfig) attrs() map[string]any {
	return map[string]any{
		"allow_server_tools":   strings.Join(g.AllowServerTools, " "),
		"allow_betas":          strings.Join(g.AllowBetas, " "),
		"allow_provider_state": g.AllowProviderState,
		"allow_fields":         strings.Join(g.AllowFields, " "),
		"output_reservation":   g.OutputReservation,
	}
}

// SetupPlan is the setup phase of one run.
type SetupPlan struct {
	Command []string
	Allow   []string // egress allowlist of the setup phase
	Secrets []string `json:"-"` // NAME=VALUE, handed to the setup phase only; never serialised
	// SecretNames are the names of Secrets (what a digest may show).
	SecretNames []string
	Timeout     time.Duration
	// Inputs are the globs of the files the setup command reads or runs
	// (nil: every path), and OnUntrusted what happens when one differs
	// from the default branch (policy.SetupWithoutSecrets or
	// policy.SetupStop); see Sandbox.setupTrust.
	Inputs      []string `json:",omitempty"`
	OnUntrusted string   `json:",omitempty"`
}
