package provenance_test

import (
	"slices"
	"testing"

	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/telemetry/provenance"
)

// TestLLMGatewayRecorded checks the run's gateway policy (llm.gateway) and
// its refusals (llm.refused) reach the provenance.
func TestLLMGatewayRecorded(t *testing.T) {
	evs := []telemetry.Event{
		{RunID: "r", Kind: telemetry.KindLLMGateway, Attrs: map[string]any{
			"allow_server_tools": "web_search mcp", "allow_betas": "", "allow_provider_state": false, "allow_fields": "",
		}},
		{RunID: "r", Kind: telemetry.KindLLMRefused, Attrs: map[string]any{"status": 400, "error": "agentgate_request_refused", "refused": `server-side tool "web_fetch_20250910"`}},
		{RunID: "r", Kind: telemetry.KindLLMRequest, Attrs: map[string]any{"status": 200, "input_tokens": 3, "output_tokens": 2}},
	}
	p := provenance.FromEvents(evs)
	g := p.BuildDefinition.InternalParameters.LLMGateway
	if g == nil || !slices.Equal(g.AllowServerTools, []string{"web_search", "mcp"}) || g.AllowBetas == nil || len(g.AllowBetas) != 0 || g.AllowProviderState {
		t.Errorf("llmGateway = %+v", g)
	}
	if c := p.RunDetails.Counts; c.LLMRefused != 1 || c.LLMRequests != 2 || c.LLMErrors != 1 {
		t.Errorf("counts = %+v", c)
	}
	if p := provenance.FromEvents(evs[1:]); p.BuildDefinition.InternalParameters.LLMGateway != nil {
		t.Error("llmGateway recorded without an llm.gateway event")
	}
}
