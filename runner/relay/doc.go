// Package relay is the logic of `agentgate-relay`, the tiny process that
// gives a sandboxed agent its only way out.
//
// The relay runs in its own container with NetworkMode none; the agent
// container joins that network namespace, so both see only loopback. The
// relay listens on loopback ports there and forwards every accepted TCP
// connection, byte for byte and half-close aware, to a Unix socket that is
// bind-mounted into the relay alone: the run's egress proxy and LLM gateway
// on the host side. It holds no policy: the host decides.
//
// Before it reports ready, the relay checks the namespace it runs in (the
// agent's, too): only the lo interface, no usable resolver, every socket
// present, and a CONNECT to a host that is never allowlisted refused with
// 403 by the egress proxy through the relay's own port. It then prints one
// JSON line, {"ready":true} or {"ready":false,"reason":"..."}, that the
// runner waits for; a relay that is not ready exits non-zero and the run
// does not start.
package relay
