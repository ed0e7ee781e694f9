// Package harness assembles a complete agentgate on one machine: a real git
// smart-HTTP server, the GitHub stand-in, the real Docker engine and an
// in-process agentgate server, fed with GitHub's real webhook payloads. The
// end-to-end tests and `agentgate-demo` both use it.
package harness
