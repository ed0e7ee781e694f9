// Package fakellm is a scripted fake of an OpenAI-compatible chat
// completions API for tests: each request gets the next turn of the
// script, a response (text and/or tool calls, usage, finish_reason) served
// as JSON or as a server-sent event stream with tool-call arguments split
// in fragments, or an error (a status with Retry-After, a malformed body).
// Every request is recorded for assertions. It answers on
// /v1/chat/completions and /chat/completions, so it works with the base URL
// (server URL + "/v1") directly or behind runner/gateway (server URL as the
// upstream).
package fakellm
