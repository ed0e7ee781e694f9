// Package gateway is the run's LLM gateway: a reverse proxy for the OpenAI
// and Anthropic APIs that keeps the real API keys on the host.
//
// The sandboxed agent holds only a run-scoped placeholder key. The gateway
// checks it, strips every credential header the client sent, sets the
// operator's real key and forwards the request to the configured upstream
// (OpenAI, Anthropic, or any compatible server such as vLLM or Ollama).
// Responses are passed through unbuffered, server-sent events flushed chunk
// by chunk, while the gateway reads the token usage the upstream reports
// (also inside streams; for OpenAI chat completion streams it asks for it
// with stream_options.include_usage). Every occurrence of a real key in
// what the upstream sends back is redacted before the client sees it.
//
// Routes, relative to the gateway's origin (the container's
// OPENAI_BASE_URL is <origin>/openai/v1, its ANTHROPIC_BASE_URL is
// <origin>/anthropic):
//
//	POST /openai/v1/chat/completions   → OpenAI  /v1/chat/completions
//	POST /openai/v1/responses          → OpenAI  /v1/responses
//	GET  /openai/v1/models[/<id>]      → OpenAI  /v1/models[/<id>]
//	POST /anthropic/v1/messages        → Anthropic /v1/messages
//	POST /anthropic/v1/messages/count_tokens → Anthropic, free (Claude Code)
//
// The same paths without the /openai or /anthropic prefix are accepted for
// agents that ignore the configured base path: the four routes do not
// overlap, so /v1/messages can only mean Anthropic and the others OpenAI.
// Anything else is answered 404 without contacting an upstream.
//
// Each request ends with one Request record (OnRequest), refused ones
// included; Usage sums them. Once the run's token budget is spent, further
// requests are refused with 429 before any upstream is contacted. The
// budget is checked when a request starts, so the request that crosses it
// still completes.
package gateway
