// Package adversarial is agentgate's adversarial agent suite: a hostile
// agent image (agentgate/adversary:dev, built locally from busybox and the
// static program in cmd/adversary) whose attacks each try one way out of
// the sandbox. The tests run every attack through the real sandbox
// (app.RunLocal: relay, egress proxy, LLM gateway, bounded work tree,
// host-side harvest) and assert that it failed and was recorded, and run
// the same attacks once in a deliberately unprotected baseline (a plain
// `docker run` as root with bind mounts on the default bridge, the host's
// own git on the tree) to show that each attack works where nothing stops
// it: a test that cannot fail proves nothing.
package adversarial
