package gitops

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// Reader values of Mirrors.Reader: how blobs are read from the mirror.
const (
	ReaderGoGit = "go-git" // go-git's pack reader, in process
	ReaderGit   = "git"    // one `git cat-file --batch` (C zlib, mmap'd packs)
)

// gitAvailable reports whether the git CLI can be run.
func gitAvailable() bool {
	_, err := exec.LookPath("git")
	return err == nil
}

// checkoutCatFile is checkout with the blobs streamed from one
// `git cat-file --batch` on the mirror, in path order, written by
// checkoutWorkers goroutines through work's os.Root. The mirror is the
// host's own bare repository (no hooks, no config the runs control); git
// runs with no system or global configuration.
func checkoutCatFile(ctx context.Context, mirrorDir string, bi *baseIndex, paths []string, work string, got func(p string, h plumbing.Hash, data []byte)) error {
	root, err := os.OpenRoot(work)
	if err != nil {
		return fmt.Errorf("checkout: %w", err)
	}
	defer root.Close()
	if err := makeDirs(root, bi); err != nil {
		return err
	}
	// Each blob is read once, for every path that holds it.
	var order []plumbing.Hash
	holders := map[plumbing.Hash][]string{}
	for _, p := range paths {
		e := bi.files[p]
		if e.mode == filemode.Submodule { // an empty directory, as git leaves it
			if err := root.Mkdir(p, 0o755); err != nil {
				return fmt.Errorf("checkout: %w", err)
			}
			continue
		}
		if _, ok := holders[e.hash]; !ok {
			order = append(order, e.hash)
		}
		holders[e.hash] = append(holders[e.hash], p)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	cmd := exec.CommandContext(ctx, "git", "--git-dir="+mirrorDir, "cat-file", "--batch")
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("checkout: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("checkout: %w", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("checkout: git cat-file: %w", err)
	}
	go func() {
		w := bufio.NewWriter(stdin)
		for _, h := range order {
			if _, err := w.WriteString(h.String() + "\n"); err != nil {
				break
			}
		}
		_ = w.Flush()
		_ = stdin.Close()
	}()
	type job struct {
		path string
		e    baseEntry
		data []byte
	}
	jobs := make(chan job, 256)
	var wg sync.WaitGroup
	for range checkoutWorkers {
		wg.Go(func() {
			for j := range jobs {
				if err := writeBlob(root, j.path, j.e, j.data); err != nil {
					cancel(fmt.Errorf("checkout: %w", err))
				}
			}
		})
	}
	rerr := func() error {
		br := bufio.NewReaderSize(stdout, 1<<20)
		for _, h := range order {
			data, err := readBatch(br, h)
			if err != nil {
				return err
			}
			for _, p := range holders[h] {
				got(p, h, data)
				select {
				case jobs <- job{path: p, e: bi.files[p], data: data}:
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			}
		}
		return nil
	}()
	close(jobs)
	wg.Wait()
	if rerr != nil {
		cancel(rerr)
	}
	_, _ = io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("%w: git cat-file: %w: %s", errMirror, werr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// readBatch reads one `cat-file --batch` answer, which must be blob h.
func readBatch(br *bufio.Reader, h plumbing.Hash) ([]byte, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("%w: git cat-file: %w", errMirror, err)
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != h.String() || f[1] != "blob" {
		return nil, fmt.Errorf("%w: git cat-file: blob %s: %q", errMirror, h, strings.TrimSpace(line))
	}
	n, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: git cat-file: size %q", errMirror, f[2])
	}
	data := make([]byte, n+1) // content and its newline
	if _, err := io.ReadFull(br, data); err != nil {
		return nil, fmt.Errorf("%w: git cat-file: %w", errMirror, err)
	}
	if data[n] != '\n' {
		return nil, fmt.Errorf("%w: git cat-file: framing", errMirror)
	}
	return data[:n], nil
}

// makeDirs creates every directory of bi under root, parents first.
func makeDirs(root *os.Root, bi *baseIndex) error {
	dirs := make([]string, 0, len(bi.dirs))
	for d := range bi.dirs {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	for _, d := range dirs {
		if err := checkPath(d); err != nil {
			return fmt.Errorf("checkout: %w", err)
		}
		if err := root.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("checkout: %w", err)
		}
	}
	return nil
}

// writeBlob writes a regular file, executable or symlink at p.
func writeBlob(root *os.Root, p string, e baseEntry, data []byte) error {
	switch e.mode {
	case filemode.Symlink:
		return root.Symlink(string(data), p)
	case filemode.Executable:
		return root.WriteFile(p, data, 0o755)
	case filemode.Regular, filemode.Deprecated:
		return root.WriteFile(p, data, 0o644)
	}
	return errors.New(p + ": unsupported mode " + e.mode.String())
}
