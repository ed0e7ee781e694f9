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
// The gateway is not a network path for the provider either. Each model
// request body is parsed and checked against a Policy before anything is
// forwarded: only client-side tools (function and custom tools, and the
// provider-defined tools the client runs: Anthropic bash, text_editor,
// computer and memory; OpenAI local_shell, apply_patch, computer use and a
// shell without a hosted environment) pass by default. Server-side tools
// (web search and fetch, code execution, tool search, file search, image
// generation, MCP servers and toolsets, any tool type the gateway does not
// know), media the provider would download from a URL, references to state
// kept on the provider account (previous_response_id, conversation, stored
// prompts, item references, file ids, containers), unknown top-level fields
// and JSON objects with a duplicate key are refused with 400 and the
// error code ErrRefused, in the API's own error shape, and recorded
// (Request.Refused). OpenAI store is forced to false. Policy lets the
// operator allow named server-side tools, provider state and extra fields.
// Anthropic-Beta and OpenAI-Beta values pass only from DefaultBetas and
// Policy.AllowBetas; others are dropped (Request.DroppedBetas), so an
// agent's new beta does not break its requests but cannot switch on a
// feature the operator has not allowed.
//
// Each request ends with one Request record (OnRequest), refused ones
// included; Usage sums them. With a token budget, each model request
// reserves its worst case before it is forwarded (its input, estimated
// from the body's size, plus its output cap: max_tokens,
// max_output_tokens, max_completion_tokens times n, or
// Options.OutputReservation when it states none) and is refused with 429
// when that no longer fits beside what was used and what requests in
// flight reserved; the reservation is settled to the reported usage when
// the request ends. Requests in flight together therefore cannot overshoot
// the budget. The input estimate (4 bytes a token) is an estimate, and a
// chat completion request without an output cap can generate more than
// OutputReservation; a Responses request without one is sent with
// OutputReservation as its max_output_tokens.
package gateway
