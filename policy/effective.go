package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Defaults of every setting a file leaves out (the org's file and the
// repository's alike).
const (
	DefaultMinPermission = "write"
	DefaultPreset        = "builtin"
	DefaultTimeout       = 30 * time.Minute
	DefaultSetupTimeout  = 10 * time.Minute
	DefaultMemory        = 2 << 30   // bytes
	DefaultCPUs          = 1.0       // CPUs
	DefaultPids          = 256       // processes
	DefaultTmpSize       = 256 << 20 // bytes of /tmp
	DefaultOutput        = 1 << 20   // bytes of agent output kept
	DefaultWorkspaceSize = 2 << 30   // bytes of work tree
	DefaultNetworkMode   = "relay"
	DefaultMaxFiles      = 1000
	DefaultMaxLines      = 10000
)

// EffectiveConfig is the configuration in force for one repository: the org's
// file, narrowed by the repository's, with every gap filled by the
// defaults above. Lists are sorted and free of duplicates so that Hash is
// canonical.
type EffectiveConfig struct {
	MinPermission string `json:"min_permission"`
	// AllowedUsers and AllowedTeams restrict who may trigger; both empty
	// means anyone holding MinPermission.
	AllowedUsers []string `json:"allowed_users"`
	AllowedTeams []string `json:"allowed_teams"`

	Agent   EffectiveAgent   `json:"agent"`
	Setup   EffectiveSetup   `json:"setup"`
	Limits  EffectiveLimits  `json:"limits"`
	Network EffectiveNetwork `json:"network"`

	ProtectedPaths []string `json:"protected_paths"` // DefaultProtectedPaths ∪ org ∪ repo
	MaxFiles       int      `json:"max_files"`
	MaxLines       int      `json:"max_lines"`
	AllowBinary    bool     `json:"allow_binary"`
	AllowSymlinks  bool     `json:"allow_symlinks"`
	Draft          bool     `json:"draft"`
	Paused         bool     `json:"paused"`
	Mode           string   `json:"mode"` // ModeDirect or ModePlan
	Reviewers      []string `json:"reviewers"`
	TeamReviewers  []string `json:"team_reviewers"`
	Labels         []string `json:"labels"`

	Verify EffectiveVerify `json:"verify"`
	// CIHold keeps the repository's CI off agentgate's commits (a skip
	// marker) until a maintainer approves; see docs/configuration.md, "CI isolation".
	CIHold bool `json:"ci_hold"`
	// CommitMethod is how commits reach GitHub: auto, api or git.
	CommitMethod string `json:"commit_method"`

	// Presets and Images are the org's lists a repository picks from;
	// empty means the org does not restrict the choice.
	Presets []string `json:"presets"`
	Images  []string `json:"images"`
}

// EffectiveAgent is the agent a run uses. Image and Command empty mean
// the preset's (or the operator's) defaults.
type EffectiveAgent struct {
	Preset  string        `json:"preset"`
	Image   string        `json:"image"`
	Command []string      `json:"command"`
	Timeout time.Duration `json:"timeout_ns"`
}

// EffectiveSetup is the setup phase; an empty Command means none.
type EffectiveSetup struct {
	Command []string      `json:"command"`
	Allow   []string      `json:"allow"`
	Secrets []string      `json:"secrets"`
	Timeout time.Duration `json:"timeout_ns"`
	// Inputs are the globs of setup.inputs; nil means every path.
	Inputs []string `json:"inputs,omitempty"`
	// OnUntrusted is SetupWithoutSecrets or SetupStop when a setup phase
	// is configured.
	OnUntrusted string `json:"on_untrusted,omitempty"`
}

// EffectiveLimits are the sandbox's limits in plain units.
type EffectiveLimits struct {
	MemoryBytes    int64   `json:"memory_bytes"`
	CPUs           float64 `json:"cpus"`
	Pids           int64   `json:"pids"`
	TmpBytes       int64   `json:"tmp_bytes"`
	OutputBytes    int64   `json:"output_bytes"`
	WorkspaceBytes int64   `json:"workspace_bytes"`
}

// EffectiveNetwork is the sandbox's network. An empty Allow with mode
// relay still reaches the LLM gateway, and no other host.
type EffectiveNetwork struct {
	Mode  string   `json:"mode"`
	Allow []string `json:"allow"`
	// Hosts are the inspected hosts, the org's entries first; a request
	// to one must pass the rules of every entry that names its host.
	Hosts      []HostRules `json:"hosts,omitempty"`
	InspectAll bool        `json:"inspect_all,omitempty"`
}

// Defaults returns the EffectiveConfig when neither the org nor
// the repository has a file.
func Defaults() EffectiveConfig {
	e, _ := Merge(nil, nil) // cannot fail: nothing to conflict
	return e
}

// Hash is the hex SHA-256 of e's canonical JSON (fields in declaration
// order, lists sorted, empty lists as []). An approval names the hash of
// the policy it was given under; a changed policy voids it.
func (e EffectiveConfig) Hash() string {
	b, err := json.Marshal(e.canonical())
	if err != nil {
		panic("policy: EffectiveConfig does not marshal: " + err.Error()) // plain data; cannot happen
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// canonical returns e with every nil list as an empty one, so that a nil
// and an empty list hash alike.
func (e EffectiveConfig) canonical() EffectiveConfig {
	for _, l := range []*[]string{&e.AllowedUsers, &e.AllowedTeams, &e.Agent.Command, &e.Network.Allow,
		&e.ProtectedPaths, &e.Verify.Command, &e.Verify.Allow, &e.Reviewers, &e.TeamReviewers, &e.Labels, &e.Presets, &e.Images,
		&e.Setup.Command, &e.Setup.Allow, &e.Setup.Secrets} {
		if *l == nil {
			*l = []string{}
		}
	}
	return e
}
