// Package egress is a run's allowlisting egress proxy: the only way out of
// the sandbox.
//
// The agent container has no interface but loopback; its relay forwards
// the proxy port over a Unix socket to a Proxy served in the worker. The
// proxy speaks HTTP/1.1 CONNECT (tunnels, for HTTPS) and plain-HTTP
// absolute-form forwarding (GET http://host/path) and nothing else.
//
// Every request goes through the same steps, and the first that fails
// refuses it with a short text body that tells the agent why:
//
//  1. the target is a host name, never an IP literal (no v4, v6, bracketed,
//     decimal, octal or hex forms);
//  2. the run's request, connection and byte limits are not spent;
//  3. host and port match the Policy's allowlist;
//  4. the name is resolved once; if any answer is a loopback, private,
//     link-local, CGNAT, multicast, unspecified, reserved or metadata
//     address the request is refused before anything is dialled, unless
//     the operator listed the name or the address' range in
//     Policy.AllowPrivate (metadata, multicast and unspecified addresses
//     are refused even then);
//  5. the proxy dials exactly the address it resolved, so a resolver that
//     answers differently the second time (DNS rebinding) gains nothing.
//
// Each decision, allowed or denied, is reported once through
// Options.OnDecision with host, port, dialled address, reason, status,
// bytes each way and duration, and summed in Stats.
//
// Hosts the Policy inspects (Policy.Inspect, Policy.InspectAll) are not
// tunnelled: the proxy ends the client's TLS with a certificate from the
// run's CA (for the CONNECT's name, whatever SNI the client sends), judges
// each request (method and path rules, the secrets of Options.Secrets),
// adds the host's credential, and sends it over its own verified TLS to
// the name the allowlist checked (inspect.go). Each request is a Decision
// of its own with Inspected set.
//
// Known limit: inside a plain CONNECT tunnel the proxy does not see TLS,
// so a client can present a different SNI name to a server at an
// allowlisted name's address (domain fronting on shared CDNs), and
// nothing it sends is read. Plain-HTTP forwarding always sends the Host
// the allowlist checked.
package egress
