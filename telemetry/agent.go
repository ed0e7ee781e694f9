package telemetry

// Event kinds an agent reports about itself (parsed from its output by
// telemetry/agentevents). They are the agent's own claims: file.changed
// events carrying source "agent" never replace the changes agentgate
// computes from the work tree.
const (
	KindAgentCommand = "agent.command" // attrs: command, exit_code?, duration_ms?, failed?, declined? (not run), finished?
	KindAgentMessage = "agent.message" // attrs: text, error?
	KindLLMUsage     = "llm.usage"     // attrs: input_tokens (all processed, cache included), output_tokens, model?, cache_*?
	KindAgentTool    = "agent.tool"    // attrs: name, a tool the model called
)

// SourceAgent is the "source" attr of events an agent reported itself.
const SourceAgent = "agent"
