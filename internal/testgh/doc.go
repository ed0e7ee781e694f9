// Package testgh is agentgate's one fake: a stateful stand-in for the parts
// of GitHub's REST API that agentgate uses, for tests and `agentgate-demo`.
//
// The server keeps state (installations, repositories, issues, comments,
// reactions, pull requests, check runs, files, installation tokens) and
// validates every request against GitHub's official OpenAPI description
// (the subset in shared/github/github-openapi-subset.json) with
// kin-openapi. A request the description does not allow, an operation the
// stand-in does not implement (deleting a repository, merging, approving),
// a missing or wrong credential, or a token without the needed permission
// gets a GitHub-shaped 4xx answer and is recorded in Violations, so a test
// can insist on len(Violations()) == 0.
//
// The API is served under /api/v3 (the GitHub Enterprise Server layout), so
// a go-github client targets it with
//
//	github.NewClient(nil).WithAuthToken(tok).WithEnterpriseURLs(srv.URL()+"/api/v3/", srv.URL()+"/api/uploads/")
package testgh
