package gitops

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// outsideSecret is the content of a file beside the work tree: no
// harvested blob may ever contain it.
const outsideSecret = "OUTSIDE-THE-WORK-TREE-7f3a"

// buildTree interprets data as a small program that builds a hostile work
// tree in dir: files, directories (also very deep ones), symlinks to
// anything (absolute host paths, "..", .git), FIFOs, names with control
// characters, .git files and directories. It never creates anything
// outside dir itself: names are single path elements.
func buildTree(dir string, data []byte) {
	cur := dir
	depth := 0
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	name := func() string {
		n := int(next() % 12)
		if n > len(data) {
			n = len(data)
		}
		s := string(data[:n])
		data = data[n:]
		s = strings.Map(func(r rune) rune {
			if r == '/' || r == 0 {
				return '_'
			}
			return r
		}, s)
		switch s {
		case "", ".", "..":
			return "n" + s
		}
		return s
	}
	names := []string{".git", ".gitignore", ".gitattributes", ".gitmodules", "README.md", "dir", "a\nb", "x\x1b[31m", ".GIT.", "git~1", "hooks", "config"}
	targets := []string{"/etc/passwd", "../outside/secret", "..", ".git", ".git/config", "../../../../", "/proc/self/root", "README.md", "dir", "."}
	for steps := 0; len(data) > 0 && steps < 200; steps++ {
		op := next()
		var n string
		if op&0x80 != 0 {
			n = names[int(op>>3)%len(names)]
		} else {
			n = name()
		}
		p := filepath.Join(cur, n)
		if filepath.Dir(p) != filepath.Clean(cur) {
			continue // never leave the directory being built
		}
		switch op % 7 {
		case 0, 1: // file
			content := []byte(name())
			if op%7 == 1 {
				content = bytes.Repeat(content, 1000)
			}
			_ = os.WriteFile(p, content, os.FileMode(0o600|uint32(next())&0o7111))
		case 2: // directory, entered
			if os.Mkdir(p, 0o755) == nil || isDir(p) {
				cur, depth = p, depth+1
			}
		case 3: // leave a directory
			if cur != dir {
				cur, depth = filepath.Dir(cur), depth-1
			}
		case 4: // symlink
			t := targets[int(next())%len(targets)]
			if next()&1 == 0 {
				t = name()
			}
			_ = os.Symlink(t, p)
		case 5: // FIFO or socket-free special file
			_ = syscall.Mkfifo(p, 0o644)
		case 6: // a deep chain of directories
			n := int(next())
			for i := 0; i < n && depth < 300; i++ {
				q := filepath.Join(cur, "d")
				if os.Mkdir(q, 0o755) != nil && !isDir(q) {
					break
				}
				cur, depth = q, depth+1
			}
			_ = os.WriteFile(filepath.Join(cur, "deep.txt"), []byte("deep"), 0o644)
		}
	}
}

func isDir(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.IsDir()
}

// FuzzHarvest harvests arbitrary trees: the harvest returns (no panic, no
// hang on FIFOs), and every path it reports is a clean relative path inside
// the work tree, never under .git, with valid names; no blob holds the
// content of a file outside the work tree.
func FuzzHarvest(f *testing.F) {
	f.Add([]byte("\x00\x05hello\x03abc"))
	f.Add([]byte("\x82\x04\x00\x01"))                       // dir .git... entered, then a file
	f.Add([]byte("\x84\x01\x00\x00"))                       // symlink named .git
	f.Add([]byte("\x04\x05leak1\x01\x00"))                  // symlink to ../outside/secret
	f.Add([]byte("\x05\x04fifo"))                           // FIFO
	f.Add([]byte("\x06\xff\x00\x02ok"))                     // very deep directories
	f.Add([]byte("\x00\x03a\nb\x02xx\x00\x04\x1b[0m\x01z")) // control characters
	f.Add([]byte("\xa2\x02\x8c\x00\x04hook"))               // .git/hooks/…

	base := f.TempDir()
	src := filepath.Join(base, "src")
	for _, args := range [][]string{
		{"init", "-q", "-b", "main", src},
		{"-C", src, "-c", "user.name=u", "-c", "user.email=u@example.test", "commit", "-q", "--allow-empty", "-m", "init"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			f.Skipf("git %v: %v %s", args, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "README.md"), []byte("hello\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	if out, err := exec.Command("git", "-C", src, "-c", "user.name=u", "-c", "user.email=u@example.test", "commit", "-q", "-a", "-m", "x", "--allow-empty").CombinedOutput(); err != nil {
		f.Fatalf("git: %v %s", err, out)
	}
	root := filepath.Join(base, "run")
	if err := os.Mkdir(root, 0o700); err != nil {
		f.Fatal(err)
	}
	ws, err := Clone(context.Background(), CloneOptions{URL: src, Root: root})
	if err != nil {
		f.Fatal(err)
	}
	st, err := ws.storage()
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		top := t.TempDir()
		wt := filepath.Join(top, "work")
		outside := filepath.Join(top, "outside")
		if err := os.Mkdir(wt, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(outside, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(outside, "secret"), []byte(outsideSecret), 0o644); err != nil {
			t.Fatal(err)
		}
		buildTree(wt, data)
		w := &Workspace{Root: ws.Root, WorkTree: wt, BaseCommit: ws.BaseCommit, Branch: ws.Branch}
		ch, err := w.Harvest(context.Background(), HarvestOptions{MaxFiles: 50, MaxFileBytes: 64 << 10, MaxTotal: 1 << 20})
		if err != nil && !errors.Is(err, ErrNoChange) && !errors.Is(err, ErrLimit) {
			t.Fatalf("harvest error that is neither no-change nor a limit: %v", err)
		}
		if ch == nil {
			return
		}
		for _, fc := range ch.Files {
			p := fc.Path
			if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
				t.Fatalf("path %q is not a clean relative path", p)
			}
			if err := validPath(p); err != nil {
				t.Fatalf("path %q: %v", p, err)
			}
			if fc.Op == "deleted" {
				continue
			}
			o, err := st.EncodedObject(plumbing.BlobObject, plumbing.NewHash(fc.Blob))
			if err != nil {
				t.Fatalf("%s: blob %s not stored: %v", p, fc.Blob, err)
			}
			r, err := o.Reader()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r)
			r.Close()
			if bytes.Contains(b, []byte(outsideSecret)) {
				t.Fatalf("%s: the harvest read a file outside the work tree", p)
			}
			if fc.Symlink {
				continue
			}
			// A regular file's blob is what is in the work tree at that path, not a link's target.
			fi, err := os.Lstat(filepath.Join(wt, filepath.FromSlash(p)))
			if err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("%s harvested as a file but is %v (%v)", p, fi, err)
			}
		}
	})
}
