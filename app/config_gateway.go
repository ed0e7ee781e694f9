package app

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/agentgate/agentgate/sandbox"
)

// gatewaySettings are the settings of sandbox.GatewayConfig.
func gatewaySettings() []setting {
	// list sets a list and checks the result as the gateway will.
	list := func(p func(*sandbox.GatewayConfig) *[]string) func(*Config, string) error {
		return func(c *Config, v string) error {
			g := c.Network.Gateway
			*p(&g) = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
			if err := g.Policy().Validate(); err != nil {
				return err
			}
			c.Network.Gateway = g
			return nil
		}
	}
	return []setting{
		{key: "gateway-allow-server-tools", help: "server-side tools the model provider may run for the agent, by type without version (web_search, web_fetch, code_execution, file_search, mcp, …); default none", apply: list(func(g *sandbox.GatewayConfig) *[]string { return &g.AllowServerTools })},
		{key: "gateway-allow-betas", help: "Anthropic-Beta / OpenAI-Beta values passed upstream besides the built-in safe list; others are dropped", apply: list(func(g *sandbox.GatewayConfig) *[]string { return &g.AllowBetas })},
		{key: "gateway-allow-provider-state", help: "let requests use state kept on the provider account (OpenAI store, previous_response_id, conversation; file ids; containers) (true/false)", apply: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("not a boolean: %q", v)
			}
			c.Network.Gateway.AllowProviderState = b
			return nil
		}},
		{key: "gateway-allow-fields", help: "extra top-level request fields the gateway passes (options of a compatible server such as keep_alive)", apply: list(func(g *sandbox.GatewayConfig) *[]string { return &g.AllowFields })},
		{key: "llm-output-reservation", help: "tokens reserved from llm-token-budget for a request that states no output cap (0 = 16384)", apply: func(c *Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("not a non-negative integer: %q", v)
			}
			c.Network.Gateway.OutputReservation = n
			return nil
		}},
	}
}
