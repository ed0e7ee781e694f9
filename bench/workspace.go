package bench

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/internal/testgit"
	"github.com/agentgate/agentgate/runner"
)

// repoSpec is the generated repository's shape.
type repoSpec struct {
	Files     int // files in the head tree
	FileBytes int // bytes per file in the first commit
	Commits   int // commits after the first
	PerCommit int // files each of them rewrites
	EditBytes int // bytes of each rewrite
}

func (s repoSpec) name() string {
	return fmt.Sprintf("bench/gen-%d-%d-%d-%d-%d", s.Files, s.FileBytes, s.Commits, s.PerCommit, s.EditBytes)
}

// genRepo writes the repository into bare (a path ending in .git) with
// git fast-import: Files files of pseudo-random text, then Commits commits
// rewriting PerCommit files each, so that the history is large and the
// head tree is Files files. The content is deterministic. An existing,
// complete repository (a marker file) is reused.
func genRepo(ctx context.Context, bare string, s repoSpec) error {
	marker := filepath.Join(bare, "agentgate-bench-complete")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	_ = os.RemoveAll(bare)
	if err := os.MkdirAll(filepath.Dir(bare), 0o755); err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, "git", "init", "-q", "--bare", "-b", "main", bare).CombinedOutput(); err != nil {
		return fmt.Errorf("git init: %v: %s", err, out)
	}
	cmd := exec.CommandContext(ctx, "git", "-C", bare, "fast-import", "--quiet")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git fast-import: %w", err)
	}
	w := bufio.NewWriterSize(stdin, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, max(s.FileBytes, s.EditBytes))
	text := func(n int) []byte {
		// base64 lines of random bytes: compresses like source code
		// does not, so the history's size is what it says.
		for i := range raw {
			raw[i] = byte(rng.Uint32())
		}
		enc := base64.StdEncoding.EncodeToString(raw[:n*3/4])
		var b strings.Builder
		for len(enc) > 76 {
			b.WriteString(enc[:76])
			b.WriteByte('\n')
			enc = enc[76:]
		}
		b.WriteString(enc)
		b.WriteByte('\n')
		return []byte(b.String())
	}
	path := func(i int) string { return fmt.Sprintf("pkg%03d/mod%02d/file%05d.txt", i/1000, i/100%10, i) }
	when := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	commit := func(n int, files []int, size int) {
		fmt.Fprintf(w, "commit refs/heads/main\ncommitter Bench <bench@localhost> %d +0000\ndata <<EOT\ncommit %d\nEOT\n", when+int64(n), n)
		for _, f := range files {
			c := text(size)
			fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n", path(f), len(c))
			_, _ = w.Write(c)
			_ = w.WriteByte('\n')
		}
		_ = w.WriteByte('\n')
	}
	all := make([]int, s.Files)
	for i := range all {
		all[i] = i
	}
	commit(0, all, s.FileBytes)
	for n := 1; n <= s.Commits; n++ {
		files := make([]int, s.PerCommit)
		for i := range files {
			files[i] = rng.IntN(s.Files)
		}
		commit(n, files, s.EditBytes)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("git fast-import: %w: %s", err, stderr.String())
	}
	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git fast-import: %w: %s", err, stderr.String())
	}
	return os.WriteFile(marker, nil, 0o644)
}

// workspace measures the run's workspace for a generated repository of
// about 10,000 files and 100 MB of history, over smart HTTP (the real
// `git http-backend`): cold (empty mirror cache), warm (mirror up to
// date), the shallow go-git clone used without the cache, next to
// `git clone --depth 1` with the git CLI.
func workspace(ctx context.Context, e *env) Result {
	spec := repoSpec{Files: 10_000, FileBytes: 2048, Commits: 170, PerCommit: 40, EditBytes: 16 << 10}
	if e.opts.Short {
		spec = repoSpec{Files: 50, FileBytes: 256, Commits: 3, PerCommit: 5, EditBytes: 512}
	}
	res := Result{
		Title: "Workspace: repository → work tree ready",
		Command: fmt.Sprintf("A generated repository of %d files and %d further commits rewriting %d files of %d KiB each, served by `git http-backend` over loopback, into a tmpfs run directory as the service uses (when run as root). "+
			"Warm = fetch (nothing new: one ref listing) + repo.git and the work tree from the mirror; as root the work tree is an overlay whose lower layer is the checkout cached for the commit's tree, otherwise every file is written. The run then adds its throwaway .git (PrepareSandbox), shown separately.",
			spec.Files, spec.Commits, spec.PerCommit, spec.EditBytes>>10),
	}
	gitRoot := filepath.Join(e.dir, "git")
	srv, err := testgit.New(gitRoot, nil)
	if err != nil {
		res.Err = err
		return res
	}
	defer srv.Close()
	t0 := time.Now()
	if err := genRepo(ctx, srv.Path(spec.name()), spec); err != nil {
		res.Err = fmt.Errorf("generate repository: %w", err)
		return res
	}
	packBytes := dirBytes(filepath.Join(srv.Path(spec.name()), "objects"))
	e.log.Info("bench: repository ready", "took", time.Since(t0).Round(time.Millisecond), "history_bytes", packBytes)
	url := srv.CloneURL(spec.name())
	res.Command += fmt.Sprintf(" History: %.0f MB packed.", float64(packBytes)/1e6)

	var cold, warm, prep, fresh, written, writtenGo, shallow, cli []float64
	mirrorDir, err := e.tempDir("mirror-warm-")
	if err != nil {
		res.Err = err
		return res
	}
	// One mirror, three ways to make the work tree from it: an overlay
	// over the checkout cached for the commit's tree (the default as
	// root), and each file written with either blob reader (the path
	// without the overlay, or without root).
	warmCache := &gitops.Mirrors{Dir: mirrorDir, Reader: gitops.ReaderGit}
	writeGit := &gitops.Mirrors{Dir: mirrorDir, Reader: gitops.ReaderGit, Overlay: gitops.OverlayOff}
	writeGoGit := &gitops.Mirrors{Dir: mirrorDir, Reader: gitops.ReaderGoGit, Overlay: gitops.OverlayOff}
	// Run directories are what the service gives a run: a bounded tmpfs
	// mount (as root); the baseline clones into the same kind.
	runDir := func() (string, func(), error) {
		d, err := e.tempDir("run-")
		if err != nil {
			return "", nil, err
		}
		if os.Geteuid() != 0 {
			return d, func() { _ = os.RemoveAll(d) }, nil
		}
		unmount, err := runner.MountWorkspace(d, 2<<30, 200_000)
		if err != nil {
			_ = os.RemoveAll(d)
			return "", nil, err
		}
		return d, func() { _ = unmount(); _ = os.RemoveAll(d) }, nil
	}
	// timed makes one workspace with m in a fresh run directory and
	// returns how long Clone took and then PrepareSandbox.
	timed := func(m *gitops.Mirrors) (clone, sandbox float64, err error) {
		d, done, err := runDir()
		if err != nil {
			return 0, 0, err
		}
		defer done()
		t := time.Now()
		ws, err := m.Clone(ctx, gitops.CloneOptions{URL: url, Root: d})
		if err != nil {
			return 0, 0, err
		}
		defer ws.Close()
		clone = ms(time.Since(t))
		t = time.Now()
		if err := ws.PrepareSandbox(ctx); err != nil {
			return 0, 0, err
		}
		return clone, ms(time.Since(t)), nil
	}
	// The first use fills the mirror (the whole history): not counted.
	if _, _, err := timed(warmCache); err != nil {
		res.Err = err
		return res
	}
	coldN := 1 // a 100 MB fetch: once
	for n := range e.opts.N {
		// git clone --depth 1 (baseline).
		d, done, err := runDir()
		if err != nil {
			res.Err = err
			return res
		}
		t := time.Now()
		if out, err := exec.CommandContext(ctx, "git", "clone", "-q", "--depth", "1", "--no-tags", url, filepath.Join(d, "clone")).CombinedOutput(); err != nil {
			done()
			res.Err = fmt.Errorf("git clone: %v: %s", err, out)
			return res
		}
		cli = append(cli, ms(time.Since(t)))
		done()

		// go-git shallow clone (the path without the cache), once.
		if n == 0 {
			if d, done, err = runDir(); err != nil {
				res.Err = err
				return res
			}
			t = time.Now()
			if _, err := gitops.Clone(ctx, gitops.CloneOptions{URL: url, Root: d}); err != nil {
				done()
				res.Err = err
				return res
			}
			shallow = append(shallow, ms(time.Since(t)))
			done()
		}

		// Cold mirror: an empty cache each time.
		if n < coldN {
			cd, err := e.tempDir("mirror-cold-")
			if err != nil {
				res.Err = err
				return res
			}
			c, _, err := timed(&gitops.Mirrors{Dir: cd, Reader: gitops.ReaderGit})
			_ = os.RemoveAll(cd)
			if err != nil {
				res.Err = err
				return res
			}
			cold = append(cold, c)
		}

		// A new commit on the branch: the mirror fetches it and caches
		// its checkout (the first run of every commit pays this).
		if err := advanceRepo(ctx, srv.Path(spec.name()), n); err != nil {
			res.Err = fmt.Errorf("new commit: %w", err)
			return res
		}
		c, _, err := timed(warmCache)
		if err != nil {
			res.Err = err
			return res
		}
		fresh = append(fresh, c)
		// Warm: nothing new, the checkout cached.
		c, p, err := timed(warmCache)
		if err != nil {
			res.Err = err
			return res
		}
		warm, prep = append(warm, c), append(prep, p)
		// Every file written, with each blob reader.
		if c, _, err = timed(writeGit); err != nil {
			res.Err = err
			return res
		}
		written = append(written, c)
		if c, _, err = timed(writeGoGit); err != nil {
			res.Err = err
			return res
		}
		writtenGo = append(writtenGo, c)
		e.log.Info("bench: workspace", "rep", n, "git_clone_ms", cli[n], "warm_ms", warm[n])
	}
	bp := func(s Stat) *Stat { return &s }
	base := stat(cli)
	w := stat(warm)
	wr := stat(written)
	res.Rows = []Row{
		{Metric: "warm start: overlay over the cached checkout", Unit: "ms", Agentgate: w, Baseline: bp(base), BaseName: "`git clone --depth 1`",
			Target: "≤ 0.2× baseline", Met: check(w.Median <= 0.2*base.Median)},
		{Metric: "warm start + throwaway .git (PrepareSandbox)", Unit: "ms", Agentgate: addStats(warm, prep), Baseline: bp(base), BaseName: "`git clone --depth 1`"},
		{Metric: "new commit: fetch it, cache its checkout, overlay", Unit: "ms", Agentgate: stat(fresh), Baseline: bp(base), BaseName: "`git clone --depth 1`"},
		{Metric: "warm, every file written (no overlay: not root), blobs by `git cat-file --batch`", Unit: "ms", Agentgate: wr, Baseline: bp(base), BaseName: "`git clone --depth 1`"},
		{Metric: "warm, every file written, blobs read with go-git", Unit: "ms", Agentgate: stat(writtenGo), Baseline: bp(wr), BaseName: "with the git CLI"},
		{Metric: "cold: empty cache, whole history fetched", Unit: "ms", Agentgate: stat(cold), Baseline: bp(base), BaseName: "`git clone --depth 1`"},
		{Metric: "shallow go-git clone (cache off)", Unit: "ms", Agentgate: stat(shallow), Baseline: bp(base), BaseName: "`git clone --depth 1`"},
	}
	return res
}

// advanceRepo adds one small commit to main in bare (a new file), as a
// push to the repository would.
func advanceRepo(ctx context.Context, bare string, n int) error {
	content := fmt.Sprintf("advanced %d at %d\n", n, time.Now().UnixNano())
	in := fmt.Sprintf("commit refs/heads/main\ncommitter Bench <bench@localhost> %d +0000\ndata <<EOT\nadvance %d\nEOT\nfrom refs/heads/main^0\nM 100644 inline ADVANCE.txt\ndata %d\n%s\n",
		time.Now().Unix(), n, len(content), content)
	cmd := exec.CommandContext(ctx, "git", "-C", bare, "fast-import", "--quiet")
	cmd.Stdin = strings.NewReader(in)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git fast-import: %v: %s", err, out)
	}
	return nil
}

// addStats is the stat of a[i]+b[i].
func addStats(a, b []float64) Stat {
	s := make([]float64, len(a))
	for i := range a {
		s[i] = a[i] + b[i]
	}
	return stat(s)
}

// dirBytes is the size of the regular files under dir.
func dirBytes(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
