package gitops

import (
	"errors"
	"time"
)

// ErrNoChange is returned by Harvest when the work tree equals the base commit.
var ErrNoChange = errors.New("gitops: nothing changed")

// ErrLimit is wrapped by Harvest when the change exceeds a HarvestOptions
// bound (file size, file count, total size).
var ErrLimit = errors.New("gitops: harvest limit exceeded")

// CloneOptions says what to clone and where.
type CloneOptions struct {
	URL    string // https://…, http://127.0.0.1… (loopback only), or a local path
	Branch string // branch to clone (the default branch); empty = remote HEAD
	Token  string // installation token, sent as x-access-token basic auth; never logged
	Root   string // run directory (must exist, may be a bounded mount); holds repo.git/ and work/
	// MaxTreeBytes and MaxTreeEntries are the work tree's bounds (bytes,
	// counting each file in whole 4 KiB blocks, and files plus
	// directories); 0 is unbounded. A base tree that would not fit is
	// refused with ErrTreeTooLarge, measured from its objects before
	// anything of it is written or cached (a git bomb's nested trees
	// reusing the same blobs are measured as what they expand to, at the
	// cost of what they are).
	MaxTreeBytes   int64
	MaxTreeEntries int64
}

func (o CloneOptions) bounds() treeBounds {
	return treeBounds{bytes: max(o.MaxTreeBytes, 0), entries: max(o.MaxTreeEntries, 0)}
}

// Workspace is one run's host repository and work tree.
type Workspace struct {
	Root       string // run directory
	WorkTree   string // Root/work: what the sandbox sees at /workspace
	BaseCommit string // hex hash the work tree was checked out from
	Branch     string // the branch that was cloned
	// basePack, when set, is a pack in repo.git holding exactly the base
	// tree's trees and blobs: PrepareSandbox copies it instead of
	// re-encoding them.
	basePack string
	// sandboxIndex, when set with basePack, is the index of the work tree
	// as checked out (made once per cached checkout): PrepareSandbox
	// copies it instead of reading the tree and every file's stat.
	sandboxIndex string
	// release, when set, unmounts the work tree's overlay and lets go of
	// the cached checkout under it (see Close).
	release func() error
	// bounds are the work tree's (CloneOptions): another tree fetched
	// for the run (the default branch's) is measured against its entries
	// bound before it is indexed or compared.
	bounds treeBounds
}

// FileChange is one path that differs between the base commit and the work tree.
type FileChange struct {
	Path    string `json:"path"`
	Op      string `json:"op"`       // "added", "modified", "deleted", "mode"
	Mode    string `json:"mode"`     // new git mode: "100644", "100755", "120000"; "" when deleted
	OldMode string `json:"old_mode"` // "" when added
	Size    int64  `json:"size"`     // new size in bytes
	Added   int    `json:"added"`    // lines added (0 for binary)
	Removed int    `json:"removed"`  // lines removed (0 for binary)
	Binary  bool   `json:"binary"`
	Symlink bool   `json:"symlink"`
	// Blob is the hex hash of the new content, already stored in the host
	// repository by Harvest; "" when deleted. Commit uses it.
	Blob string `json:"blob,omitempty"`
}

// Change is the harvested difference, sorted by path.
type Change struct {
	Files   []FileChange `json:"files"`
	Added   int          `json:"added"`
	Removed int          `json:"removed"`
	// Flags are policy findings (e.g. "symlink: a -> /etc/passwd",
	// "special file skipped: fifo"); they never abort the harvest on their own.
	Flags []string `json:"flags,omitempty"`
}

// HarvestOptions bound what a harvest accepts.
type HarvestOptions struct {
	MaxFileBytes int64 // default 10 MiB; a larger file fails the harvest
	MaxFiles     int   // default 1000 changed files
	MaxTotal     int64 // default 100 MiB of changed content
	// Baseline, when set, leaves out every path still exactly as it
	// records (see Baseline).
	Baseline *Baseline
}

// Signature is a git identity.
type Signature struct {
	Name  string
	Email string
	When  time.Time
}

// PushOptions says where a commit goes.
type PushOptions struct {
	URL    string // remote URL (as for Clone)
	Token  string
	Commit string // hash to push
	Branch string // e.g. "agentgate/12-fix-readme"; refs/heads/ is added
	Force  bool   // the branch is agentgate's own; follow-ups overwrite it
}
