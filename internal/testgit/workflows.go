package testgit

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
)

// WorkflowsAuthorizer reports whether token holds GitHub's `workflows`
// permission on repo ("owner/name").
type WorkflowsAuthorizer func(token, repo string) bool

// envWorkflows tells the pre-receive hook that the pusher may change
// workflow files.
const envWorkflows = "TESTGIT_WORKFLOWS_PERMISSION"

// preReceive refuses, as GitHub does for a GitHub App without the
// `workflows` permission, a push whose new commits create, update or
// delete a file under .github/workflows/.
const preReceive = `#!/bin/sh
[ "$` + envWorkflows + `" = 1 ] && exit 0
zero=0000000000000000000000000000000000000000
status=0
while read old new ref; do
	[ "$new" = "$zero" ] && continue
	for c in $(git rev-list "$new" --not --all); do
		for f in $(git diff-tree --no-commit-id --name-only -r --root "$c" -- .github/workflows); do
			echo "refusing to allow a GitHub App to create or update workflow '$f' without 'workflows' permission" >&2
			status=1
		done
	done
done
exit $status
`

// installHooks writes the server's hooks directory (core.hooksPath of
// every repository served over HTTP) and returns it.
func installHooks(home string) (string, error) {
	dir := filepath.Join(home, "hooks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("testgit: hooks: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pre-receive"), []byte(preReceive), 0o755); err != nil {
		return "", fmt.Errorf("testgit: hooks: %w", err)
	}
	return dir, nil
}

// SetWorkflowsAuthorizer decides which tokens may push changes to
// .github/workflows/ (GitHub's `workflows` permission). Without one, no
// push over HTTP may touch them.
func (s *Server) SetWorkflowsAuthorizer(fn WorkflowsAuthorizer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workflows = fn
}

// backendFor returns the git http-backend handler for one request: the
// pusher's workflows permission is passed to the pre-receive hook.
func (s *Server) backendFor(token, repo string, write bool) http.Handler {
	s.mu.Lock()
	fn := s.workflows
	s.mu.Unlock()
	if !write || fn == nil || !fn(token, repo) {
		return s.backend
	}
	h := *s.backend
	h.Env = append(slices.Clone(h.Env), envWorkflows+"=1")
	return &h
}
