package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/agentgate/agentgate/app"
)

// cmdVersion is `agentgate version`: the release version, the commit it
// was built from (debug.ReadBuildInfo's vcs.revision), the Go version and
// the newest database schema version it knows (a binary refuses to start
// on a database whose schema is newer).
func cmdVersion(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	b := app.Build()
	commit := b.Commit
	if b.Modified {
		commit += " (modified)"
	}
	_, err := fmt.Fprintf(stdout, "agentgate %s\ncommit: %s\ngo: %s\nschema: %d\n", b.Version, commit, b.Go, b.Schema)
	return err
}
