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
			"Warm = fetch (nothing new) + materialise repo.git and the work tree from the mirror; the run then adds its throwaway .git (PrepareSandbox), shown separately.",
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

	var cold, warm, prep, shallow, cli []float64
	mirrorDir, err := e.tempDir("mirror-warm-")
	if err != nil {
		res.Err = err
		return res
	}
	warmCache := &gitops.Mirrors{Dir: mirrorDir, Reader: gitops.ReaderGit}
	warmGoGit := &gitops.Mirrors{Dir: mirrorDir, Reader: gitops.ReaderGoGit} // the same mirror
	var warmGo []float64
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
			if d, done, err = runDir(); err != nil {
				res.Err = err
				return res
			}
			t = time.Now()
			_, err = (&gitops.Mirrors{Dir: cd, Reader: gitops.ReaderGit}).Clone(ctx, gitops.CloneOptions{URL: url, Root: d})
			cold = append(cold, ms(time.Since(t)))
			done()
			_ = os.RemoveAll(cd)
			if err != nil {
				res.Err = err
				return res
			}
		}

		// Warm mirror (the first use warms it and is not counted).
		for first := n == 0; ; first = false {
			if d, done, err = runDir(); err != nil {
				res.Err = err
				return res
			}
			t = time.Now()
			ws, err := warmCache.Clone(ctx, gitops.CloneOptions{URL: url, Root: d})
			took := time.Since(t)
			if err == nil {
				t = time.Now()
				err = ws.PrepareSandbox(ctx)
				if !first {
					warm = append(warm, ms(took))
					prep = append(prep, ms(time.Since(t)))
				}
			}
			done()
			if err != nil {
				res.Err = err
				return res
			}
			if !first {
				break
			}
		}
		// Warm, blobs read with go-git instead of the git CLI.
		if d, done, err = runDir(); err != nil {
			res.Err = err
			return res
		}
		t = time.Now()
		_, err = warmGoGit.Clone(ctx, gitops.CloneOptions{URL: url, Root: d})
		warmGo = append(warmGo, ms(time.Since(t)))
		done()
		if err != nil {
			res.Err = err
			return res
		}
		e.log.Info("bench: workspace", "rep", n, "git_clone_ms", cli[n], "warm_ms", warm[n])
	}
	bp := func(s Stat) *Stat { return &s }
	base := stat(cli)
	w := stat(warm)
	res.Rows = []Row{
		{Metric: "warm start from the mirror", Unit: "ms", Agentgate: w, Baseline: bp(base), BaseName: "`git clone --depth 1`",
			Target: "≤ 0.2× baseline", Met: check(w.Median <= 0.2*base.Median)},
		{Metric: "warm start, blobs read with go-git instead of `git cat-file --batch`", Unit: "ms", Agentgate: stat(warmGo), Baseline: bp(w), BaseName: "with the git CLI"},
		{Metric: "warm start + throwaway .git (PrepareSandbox)", Unit: "ms", Agentgate: addStats(warm, prep), Baseline: bp(base), BaseName: "`git clone --depth 1`"},
		{Metric: "cold: empty cache, whole history fetched", Unit: "ms", Agentgate: stat(cold), Baseline: bp(base), BaseName: "`git clone --depth 1`"},
		{Metric: "shallow go-git clone (cache off)", Unit: "ms", Agentgate: stat(shallow), Baseline: bp(base), BaseName: "`git clone --depth 1`"},
	}
	return res
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
