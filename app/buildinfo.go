package app

import (
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentgate/agentgate/store"
)

// Version is agentgate's release version; the release build sets it with
// -ldflags "-X github.com/agentgate/agentgate/app.Version=v1.2.3". Without
// it, the module version Go recorded (or "devel") is used.
var Version = ""

// Commit is the commit the binary was built from when the build could not
// record it (-buildvcs=false, a copy without .git): deploy/build.sh sets it
// with -X github.com/agentgate/agentgate/app.Commit=$(git rev-parse HEAD).
var Commit = ""

// BuildInfo says which agentgate this binary is.
type BuildInfo struct {
	Version  string // release or module version, "devel" for a local build
	Commit   string // vcs.revision ("unknown" when the build did not record it)
	Modified bool   // vcs.modified: built from a work tree with changes
	Go       string // the Go version it was built with
	Schema   int    // the newest database schema version it knows
}

// Build reads the binary's build information (debug.ReadBuildInfo).
func Build() BuildInfo {
	b := BuildInfo{Version: Version, Commit: "unknown", Go: runtime.Version(), Schema: store.SchemaVersion()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Commit == "unknown" && Commit != "" {
		b.Commit = Commit
	}
	if b.Version == "" {
		b.Version = "devel"
	}
	return b
}

// registerBuildInfo adds agentgate_build_info{version,commit,go_version,schema} 1
// to reg.
func registerBuildInfo(reg prometheus.Registerer, b BuildInfo) error {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "agentgate_build_info",
		Help: "Which agentgate is running: version, commit, Go version and database schema version it knows; always 1.",
	}, []string{"version", "commit", "go_version", "schema"})
	g.WithLabelValues(b.Version, b.Commit, b.Go, strconv.Itoa(b.Schema)).Set(1)
	return reg.Register(g)
}
