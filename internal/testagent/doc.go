// Package testagent builds the image agentgate/testagent:dev that tests,
// the demo and CI run as the sandboxed agent. EnsureImage compiles the
// static agent in cmd/testagent, adds the host's busybox-static when there
// is one, and builds deploy/images/testagent/Dockerfile on the local Docker
// engine without pulling anything. The directives the agent follows are
// parsed by the directive subpackage.
package testagent
