package app

import "flag"

// settingDefaults are the defaults `-h` shows, as a setting's value text
// (DefaultConfig's values; TestSettingDefaultsMatchDefaultConfig keeps the
// two in step). Settings without an entry default to empty / off.
var settingDefaults = map[string]string{
	"app-slug":           "agentgate",
	"github-api-url":     "https://api.github.com/",
	"listen":             ":8080",
	"database-url":       "<data-dir>/agentgate.db",
	"data-dir":           "$XDG_STATE_HOME/agentgate, /var/lib/agentgate as root, else ~/.local/state/agentgate",
	"audit-key-file":     "<data-dir>/audit.key",
	"role":               RoleAll,
	"mention":            "@agentgate",
	"label":              "agentgate",
	"min-permission":     "write",
	"agent-image":        "agentgate/testagent:dev",
	"timeout":            "30m",
	"memory":             "2GiB",
	"cpus":               "1",
	"pids":               "256",
	"tmp-size":           "256MiB",
	"output-limit":       "1MiB",
	"workspace-size":     "2GiB",
	"workspace-inodes":   "200000",
	"concurrency":        "2",
	"network":            "relay",
	"relay-image":        "agentgate/relay:dev",
	"egress-max-bytes":   "1GiB",
	"egress-max-conns":   "32",
	"openai-url":         "https://api.openai.com",
	"anthropic-url":      "https://api.anthropic.com",
	"mirror-max-bytes":   "10GiB",
	"mirror-overlay":     "auto",
	"mirror-checkouts":   "3",
	"untrusted":          "pending",
	"on-busy":            "refuse",
	"max-follow-ups":     "5",
	"follow-up-delay":    "10s",
	"log-format":         "text",
	"log-level":          "info",
	"database-pool-size": "0",
}

// derivedDefaults are defaults that are not one value (computed at start).
var derivedDefaults = map[string]bool{"audit-key-file": true, "database-url": true, "data-dir": true}

// showDefaults makes `-h` print each setting's default. Only the text
// shown changes: a setting is applied only when it is given.
func showDefaults(fs *flag.FlagSet) {
	for k, v := range settingDefaults {
		if f := fs.Lookup(k); f != nil {
			f.DefValue = v
		}
	}
}
