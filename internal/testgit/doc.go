// Package testgit is a real git smart-HTTP server for tests and the demo:
// `git http-backend` behind net/http/cgi on a loopback listener, serving bare
// repositories under one directory, with token authentication in the shape
// GitHub uses (basic auth, user "x-access-token", the token as password).
//
// Repositories are created and inspected with the git CLI, so what a test
// asserts is what git itself sees.
package testgit
