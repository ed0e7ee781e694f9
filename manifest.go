// Package agentgate holds what belongs to the repository as a whole: the
// GitHub App manifest (app.yml), embedded so that `agentgate setup` works
// from the binary alone.
package agentgate

import _ "embed"

// AppManifest is app.yml: the events agentgate handles and the least
// permissions it needs.
//
//go:embed app.yml
var AppManifest []byte
