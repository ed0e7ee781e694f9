// Package relayimage builds the relay image, agentgate/relay:dev, on the
// local Docker engine: FROM scratch with the static agentgate-relay binary
// (cmd/agentgate-relay), built from this module's source with
// CGO_ENABLED=0. Nothing is pulled.
package relayimage
