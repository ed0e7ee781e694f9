//go:build crashtest

package app

import (
	"fmt"
	"os"
	"syscall"
)

// crashPoint kills the process with SIGKILL at the point named by
// AGENTGATE_TEST_CRASH_AT, as a power cut would: nothing is flushed, no
// deferred function runs. Only crash-test builds (-tags crashtest) have it.
func crashPoint(name string) {
	if at := os.Getenv("AGENTGATE_TEST_CRASH_AT"); at != "" && at == name {
		fmt.Fprintf(os.Stderr, "crashtest: SIGKILL at %s\n", name)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // never returns
	}
}
