//go:build !crashtest

package app

// crashPoint is a no-op: only binaries built with the crashtest tag (the
// crash tests') can be told to kill themselves at a named point.
func crashPoint(string) {}
