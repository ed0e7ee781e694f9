// Package runpage serves the run pages on the operator listener: /runs, a
// filtered list, and /runs/{id}, one run's requester, trigger, timeline,
// commands, network decisions, changed files, model usage, pull request
// state and audit chain verification.
//
// Access is by signing in with GitHub (the app's own user authorization
// flow, /login): a person sees only the runs of repositories GitHub says
// they can read, and any other run is "not found". An operator's admin
// token (Authorization: Bearer) sees every run. Pages are rendered on the
// server with html/template, with inline CSS under a strict
// Content-Security-Policy and no script.
package runpage
