package gitops

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Harvest limits used when HarvestOptions leaves a field zero.
const (
	DefaultMaxFileBytes int64 = 10 << 20
	DefaultMaxFiles           = 1000
	DefaultMaxTotal     int64 = 100 << 20
)

// Harvest computes, on the host, the change the agent made: the work tree
// against BaseCommit as `git add -A` would see it, .gitignore honoured, the
// throwaway .git ignored, never following a symlink, never opening anything
// but regular files. Blobs are written to the host repository as they are read.
//
// What cannot be committed safely (FIFOs, devices, sockets, nested .git,
// names with control characters, symlinked .gitignore and friends) is
// skipped and reported in Change.Flags. A bound of opts exceeded fails the
// harvest with an error wrapping ErrLimit. When nothing differs the result
// is the (empty, possibly flagged) Change together with ErrNoChange.
func (w *Workspace) Harvest(ctx context.Context, opts HarvestOptions) (*Change, error) {
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = DefaultMaxFiles
	}
	if opts.MaxTotal <= 0 {
		opts.MaxTotal = DefaultMaxTotal
	}
	st, err := w.storage()
	if err != nil {
		return nil, fmt.Errorf("harvest: %w", err)
	}
	base, err := w.base(st)
	if err != nil {
		return nil, fmt.Errorf("harvest: %w", err)
	}
	bi, err := indexTree(st, base.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("harvest: %w", err)
	}
	exclude, err := hostExclude(filepath.Join(w.Root, repoDirName))
	if err != nil {
		return nil, fmt.Errorf("harvest: exclude: %w", err)
	}
	root, err := os.OpenRoot(w.WorkTree)
	if err != nil {
		return nil, fmt.Errorf("harvest: %w", err)
	}
	defer root.Close()

	h := &harvester{
		ctx: ctx, root: root, st: st, opts: opts, base: bi,
		seen: map[string]bool{}, ch: &Change{},
	}
	top, err := root.Lstat(".")
	if err != nil {
		return nil, fmt.Errorf("harvest: %w", err)
	}
	if err := h.walkDir("", top, exclude, false); err != nil {
		return nil, fmt.Errorf("harvest: %w", err)
	}
	if err := h.deletions(); err != nil {
		return nil, fmt.Errorf("harvest: %w", err)
	}
	ch := h.ch
	sort.Slice(ch.Files, func(i, j int) bool { return ch.Files[i].Path < ch.Files[j].Path })
	for _, f := range ch.Files {
		ch.Added += f.Added
		ch.Removed += f.Removed
	}
	if len(ch.Files) == 0 {
		return ch, ErrNoChange
	}
	return ch, nil
}

// harvester is one Harvest's state.
type harvester struct {
	ctx     context.Context
	root    *os.Root
	st      *filesystem.Storage
	opts    HarvestOptions
	base    *baseIndex
	seen    map[string]bool // base files found in the work tree
	ch      *Change
	total   int64
	dropped int // flags beyond maxFlags
	// snap, when set, makes the walk build a Baseline instead of a Change.
	snap *Baseline
}

// Bounds on what a hostile work tree can make the walk produce.
const (
	maxFlags = 200 // further flags are counted in one last flag
	maxDepth = 256 // directories deeper than this are skipped
)

func (h *harvester) flag(format string, args ...any) {
	switch n := len(h.ch.Flags); {
	case n < maxFlags:
		h.ch.Flags = append(h.ch.Flags, fmt.Sprintf(format, args...))
	case n == maxFlags:
		h.ch.Flags = append(h.ch.Flags, "")
		fallthrough
	default:
		h.dropped++
		h.ch.Flags[maxFlags] = fmt.Sprintf("%d more flags not listed", h.dropped)
	}
}

// keep marks every base file at or under p as present, so that skipping
// an entry never turns into deleting what the base had there.
func (h *harvester) keep(p string) {
	if _, ok := h.base.files[p]; ok {
		h.seen[p] = true
	}
	if h.base.dirs[p] {
		for f := range h.base.files {
			if strings.HasPrefix(f, p+"/") {
				h.seen[f] = true
			}
		}
	}
}

// walkDir visits the directory rel ("" = the work tree), whose Lstat was
// dirInfo, with the ignore patterns in force above it. ignored says rel
// itself is ignored: then only base paths below it are looked at.
func (h *harvester) walkDir(rel string, dirInfo os.FileInfo, patterns []gitignore.Pattern, ignored bool) error {
	name := rel
	if name == "" {
		name = "."
	}
	d, err := h.root.Open(name)
	if err != nil {
		return err
	}
	defer d.Close()
	if fi, err := d.Stat(); err != nil || !fi.IsDir() || !os.SameFile(fi, dirInfo) {
		h.flag("changed during harvest, skipped: %s", rel)
		h.keep(rel)
		return nil
	}
	entries, err := d.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if !ignored {
		patterns = h.readIgnore(rel, patterns)
	}
	m := gitignore.NewMatcher(patterns)
	for _, e := range entries {
		if err := h.ctx.Err(); err != nil {
			return err
		}
		if err := h.visit(rel, e.Name(), m, patterns, ignored); err != nil {
			return err
		}
	}
	return nil
}

// visit handles one directory entry.
func (h *harvester) visit(dir, name string, m gitignore.Matcher, patterns []gitignore.Pattern, dirIgnored bool) error {
	p := path.Join(dir, name)
	if dir == "" && name == ".git" {
		return nil // the sandbox's throwaway repository, whatever it is now
	}
	if strings.EqualFold(name, ".git") {
		h.flag("nested .git skipped: %s", strconv.Quote(p))
		return nil
	}
	if isDotGit(name) {
		h.flag("unsafe name skipped (git takes it for .git on HFS+ or NTFS): %s", strconv.Quote(p))
		h.keep(p)
		return nil
	}
	if why := nameProblem(name); why != "" {
		h.flag("unsafe name skipped (%s): %s", why, strconv.Quote(p))
		h.keep(p)
		return nil
	}
	if e, ok := h.base.files[p]; ok && e.mode == filemode.Submodule {
		h.seen[p] = true // a gitlink: never looked into, never changed
		return nil
	}
	fi, err := h.root.Lstat(p)
	if err != nil {
		return err
	}
	_, tracked := h.base.files[p]
	ignored := dirIgnored || m.Match(splitPath(p), fi.IsDir())
	switch mode := fi.Mode(); {
	case mode.IsDir():
		if ignored && !h.base.dirs[p] {
			return nil
		}
		if strings.Count(p, "/") >= maxDepth {
			h.flag("directory nested too deep, skipped: %s", strconv.Quote(p))
			h.keep(p)
			return nil
		}
		return h.walkDir(p, fi, patterns, ignored)
	case ignored && !tracked:
		return nil
	case mode.IsRegular():
		return h.file(p, fi)
	case mode&os.ModeSymlink != 0:
		if isGitMetaFile(name) {
			h.flag("symlinked %s skipped, not read: %s", name, strconv.Quote(p))
			h.keep(p)
			return nil
		}
		return h.symlink(p)
	default:
		h.flag("special file skipped: %s %s", kind(mode), strconv.Quote(p))
		return nil
	}
}

func kind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "fifo"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeCharDevice != 0:
		return "char device"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "irregular file"
}

// readIgnore appends the patterns of rel/.gitignore, read only when it is a
// regular file.
func (h *harvester) readIgnore(rel string, patterns []gitignore.Pattern) []gitignore.Pattern {
	p := path.Join(rel, ".gitignore")
	fi, err := h.root.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return patterns // a symlink or special file is flagged by visit
	}
	data, err := h.readRegular(p, fi, maxIgnoreBytes)
	if err != nil {
		h.flag(".gitignore not read: %s", strconv.Quote(p))
		return patterns
	}
	out := make([]gitignore.Pattern, len(patterns), len(patterns)+8)
	copy(out, patterns)
	return append(out, parseIgnore(data, splitPath(rel))...)
}

// readRegular reads at most limit+1 bytes of the regular file p whose
// Lstat was fi. It opens without blocking and checks that it opened that
// same regular file, so a swap for a FIFO or a symlink is refused.
func (h *harvester) readRegular(p string, fi os.FileInfo, limit int64) ([]byte, error) {
	f, err := h.root.OpenFile(p, os.O_RDONLY|oNonblock|oNofollow, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	got, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !got.Mode().IsRegular() || !os.SameFile(fi, got) {
		return nil, fmt.Errorf("%s changed during harvest", p)
	}
	return io.ReadAll(ctxReader{h.ctx, io.LimitReader(f, limit+1)})
}
