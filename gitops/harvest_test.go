package gitops

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

type harvestCase struct {
	name    string
	opts    HarvestOptions
	setup   func(t *testing.T, ws *Workspace)
	wantErr error // errors.Is
	// want maps path to op; every other path must be absent from the change.
	want  map[string]string
	flags []string // substrings each of which some flag must contain
	check func(t *testing.T, ws *Workspace, ch *Change)
}

func TestHarvest(t *testing.T) {
	s := newServer(t)
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("TOP SECRET\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(outside, "rules"), []byte("*\n"), 0o644))

	tests := []harvestCase{
		{name: "nothing changed", setup: func(t *testing.T, ws *Workspace) {}, wantErr: ErrNoChange},
		{
			name:  "added file",
			setup: func(t *testing.T, ws *Workspace) { write(t, ws.WorkTree, "new/x.txt", "one\ntwo\n", 0o644) },
			want:  map[string]string{"new/x.txt": "added"},
			check: func(t *testing.T, ws *Workspace, ch *Change) {
				f := fileOf(ch, "new/x.txt")
				if f.Added != 2 || f.Removed != 0 || f.Mode != "100644" || f.OldMode != "" || f.Size != 8 {
					t.Fatalf("change = %+v", f)
				}
				if got := blob(t, ws, f.Blob); got != "one\ntwo\n" {
					t.Fatalf("stored blob = %q", got)
				}
				if ch.Added != 2 || ch.Removed != 0 {
					t.Fatalf("totals %d/%d", ch.Added, ch.Removed)
				}
			},
		},
		{
			name:  "modified file",
			setup: func(t *testing.T, ws *Workspace) { write(t, ws.WorkTree, "README.md", "hello\nthere\nworld\n", 0o644) },
			want:  map[string]string{"README.md": "modified"},
			check: func(t *testing.T, ws *Workspace, ch *Change) {
				if f := fileOf(ch, "README.md"); f.Added != 1 || f.Removed != 0 || f.OldMode != "100644" {
					t.Fatalf("change = %+v", f)
				}
			},
		},
		{
			name:  "deleted file",
			setup: func(t *testing.T, ws *Workspace) { must(t, os.Remove(filepath.Join(ws.WorkTree, "docs/guide.md"))) },
			want:  map[string]string{"docs/guide.md": "deleted"},
			check: func(t *testing.T, ws *Workspace, ch *Change) {
				if f := fileOf(ch, "docs/guide.md"); f.Removed != 1 || f.Mode != "" || f.OldMode != "100644" || f.Blob != "" {
					t.Fatalf("change = %+v", f)
				}
			},
		},
		{
			name: "exec bit both ways",
			setup: func(t *testing.T, ws *Workspace) {
				must(t, os.Chmod(filepath.Join(ws.WorkTree, "run.sh"), 0o644))
				must(t, os.Chmod(filepath.Join(ws.WorkTree, "README.md"), 0o755))
			},
			want: map[string]string{"run.sh": "mode", "README.md": "mode"},
			check: func(t *testing.T, ws *Workspace, ch *Change) {
				if f := fileOf(ch, "run.sh"); f.Mode != "100644" || f.OldMode != "100755" || f.Added+f.Removed != 0 {
					t.Fatalf("run.sh = %+v", f)
				}
				if f := fileOf(ch, "README.md"); f.Mode != "100755" || f.OldMode != "100644" {
					t.Fatalf("README.md = %+v", f)
				}
			},
		},
		{
			name: "symlink to /etc/passwd is recorded, not read",
			setup: func(t *testing.T, ws *Workspace) {
				must(t, os.Symlink("/etc/passwd", filepath.Join(ws.WorkTree, "pw")))
				must(t, os.Remove(filepath.Join(ws.WorkTree, "README.md")))
				must(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(ws.WorkTree, "README.md")))
			},
			want:  map[string]string{"pw": "added", "README.md": "modified"},
			flags: []string{`symlink: "pw" -> "/etc/passwd" (outside the work tree)`},
			check: func(t *testing.T, ws *Workspace, ch *Change) {
				f := fileOf(ch, "pw")
				if !f.Symlink || f.Mode != "120000" || f.Size != int64(len("/etc/passwd")) {
					t.Fatalf("pw = %+v", f)
				}
				if got := blob(t, ws, f.Blob); got != "/etc/passwd" {
					t.Fatalf("symlink blob = %q, want the target", got)
				}
				r := fileOf(ch, "README.md")
				if !r.Symlink || r.OldMode != "100644" || strings.Contains(blob(t, ws, r.Blob), "SECRET") {
					t.Fatalf("README.md = %+v", r)
				}
			},
		},
		{
			name: "symlink inside the tree is fine and not descended",
			setup: func(t *testing.T, ws *Workspace) {
				must(t, os.Symlink("docs", filepath.Join(ws.WorkTree, "alias")))
			},
			want:  map[string]string{"alias": "added"},
			flags: []string{`symlink: "alias" -> "docs"`},
		},
		{
			name: "directory replaced by a symlink to outside",
			setup: func(t *testing.T, ws *Workspace) {
				must(t, os.RemoveAll(filepath.Join(ws.WorkTree, "dir")))
				must(t, os.Symlink(outside, filepath.Join(ws.WorkTree, "dir")))
			},
			want:  map[string]string{"dir": "added", "dir/a.txt": "deleted", "dir/b.txt": "deleted"},
			flags: []string{"outside the work tree"},
		},
		{
			name: "symlinked .gitignore is not read",
			setup: func(t *testing.T, ws *Workspace) {
				write(t, ws.WorkTree, "sub/kept.txt", "k\n", 0o644)
				must(t, os.Symlink(filepath.Join(outside, "rules"), filepath.Join(ws.WorkTree, "sub/.gitignore")))
				must(t, os.Symlink("x", filepath.Join(ws.WorkTree, ".gitmodules")))
			},
			want:  map[string]string{"sub/kept.txt": "added"},
			flags: []string{`symlinked .gitignore skipped, not read: "sub/.gitignore"`, "symlinked .gitmodules skipped"},
		},
		{
			name: "fifo does not block",
			setup: func(t *testing.T, ws *Workspace) {
				must(t, syscall.Mkfifo(filepath.Join(ws.WorkTree, "pipe"), 0o644))
				must(t, os.Remove(filepath.Join(ws.WorkTree, "docs/guide.md")))
				must(t, syscall.Mkfifo(filepath.Join(ws.WorkTree, "docs/guide.md"), 0o644))
			},
			want:  map[string]string{"docs/guide.md": "deleted"},
			flags: []string{`special file skipped: fifo "pipe"`, `fifo "docs/guide.md"`},
		},
		{
			name: "socket skipped",
			setup: func(t *testing.T, ws *Workspace) {
				fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
				must(t, err)
				defer syscall.Close(fd)
				must(t, syscall.Bind(fd, &syscall.SockaddrUnix{Name: filepath.Join(ws.WorkTree, "sock")}))
			},
			wantErr: ErrNoChange,
			flags:   []string{`special file skipped: socket "sock"`},
		},
		{
			name: "device skipped",
			setup: func(t *testing.T, ws *Workspace) {
				// /dev/null: 1,3.
				if err := syscall.Mknod(filepath.Join(ws.WorkTree, "null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
					t.Skipf("mknod needs CAP_MKNOD: %v", err)
				}
			},
			wantErr: ErrNoChange,
			flags:   []string{`special file skipped: char device "null"`},
		},
		{
			name: "nested .git ignored",
			setup: func(t *testing.T, ws *Workspace) {
				write(t, ws.WorkTree, "vendor/lib/.git/config", "[core]\n", 0o644)
				write(t, ws.WorkTree, "vendor/lib/x.go", "package x\n", 0o644)
				write(t, ws.WorkTree, "docs/.GIT", "gitdir: /etc\n", 0o644)
				write(t, ws.WorkTree, ".git./hooks/pre-commit", "evil\n", 0o755)
			},
			want:  map[string]string{"vendor/lib/x.go": "added"},
			flags: []string{`nested .git skipped: "vendor/lib/.git"`, `"docs/.GIT"`, `".git."`},
		},
		{
			name: "top-level .git replaced by a file",
			setup: func(t *testing.T, ws *Workspace) {
				must(t, os.RemoveAll(filepath.Join(ws.WorkTree, ".git")))
				write(t, ws.WorkTree, ".git", "gitdir: /etc\n", 0o644)
			},
			wantErr: ErrNoChange,
		},
		{
			name: "top-level .git replaced by a symlink",
			setup: func(t *testing.T, ws *Workspace) {
				must(t, os.RemoveAll(filepath.Join(ws.WorkTree, ".git")))
				must(t, os.Symlink(outside, filepath.Join(ws.WorkTree, ".git")))
			},
			wantErr: ErrNoChange,
		},
		{
			name: "gitignored files not harvested, tracked ones are",
			setup: func(t *testing.T, ws *Workspace) {
				write(t, ws.WorkTree, "debug.log", "noise\n", 0o644)
				write(t, ws.WorkTree, "build/out.bin", "bin\n", 0o644)
				write(t, ws.WorkTree, "keep.log", "changed\n", 0o644)
				write(t, ws.WorkTree, "sub/.gitignore", "*.tmp\n!keep.tmp\n", 0o644)
				write(t, ws.WorkTree, "sub/x.tmp", "x\n", 0o644)
				write(t, ws.WorkTree, "sub/keep.tmp", "k\n", 0o644)
				write(t, ws.WorkTree, "y.tmp", "y\n", 0o644) // the sub rule does not reach up
				// the host's exclude applies, the sandbox's does not
				write(t, ws.Root, "repo.git/info/exclude", "host-secret.txt\n", 0o644)
				write(t, ws.WorkTree, "host-secret.txt", "s\n", 0o644)
				write(t, ws.WorkTree, ".git/info/exclude", "visible.txt\n", 0o644)
				write(t, ws.WorkTree, "visible.txt", "v\n", 0o644)
			},
			want: map[string]string{
				"keep.log": "modified", "sub/.gitignore": "added", "sub/keep.tmp": "added",
				"y.tmp": "added", "visible.txt": "added",
			},
		},
		{
			name:    "oversized file fails",
			opts:    HarvestOptions{MaxFileBytes: 1024},
			setup:   func(t *testing.T, ws *Workspace) { write(t, ws.WorkTree, "big", strings.Repeat("x", 1025), 0o644) },
			wantErr: ErrLimit,
		},
		{
			name:  "file at the size limit passes",
			opts:  HarvestOptions{MaxFileBytes: 1024},
			setup: func(t *testing.T, ws *Workspace) { write(t, ws.WorkTree, "big", strings.Repeat("x", 1024), 0o644) },
			want:  map[string]string{"big": "added"},
		},
		{
			name: "too many files",
			opts: HarvestOptions{MaxFiles: 2},
			setup: func(t *testing.T, ws *Workspace) {
				for _, n := range []string{"a", "b", "c"} {
					write(t, ws.WorkTree, n, n, 0o644)
				}
			},
			wantErr: ErrLimit,
		},
		{
			name: "too much in total",
			opts: HarvestOptions{MaxTotal: 100},
			setup: func(t *testing.T, ws *Workspace) {
				write(t, ws.WorkTree, "a", strings.Repeat("a", 60), 0o644)
				write(t, ws.WorkTree, "b", strings.Repeat("b", 60), 0o644)
			},
			wantErr: ErrLimit,
		},
		{
			name: "unsafe names flagged and skipped",
			setup: func(t *testing.T, ws *Workspace) {
				write(t, ws.WorkTree, "bad\nname", "x", 0o644)
				write(t, ws.WorkTree, "esc\x1b[31m", "x", 0o644)
				write(t, ws.WorkTree, "bad\xffutf8", "x", 0o644)
				write(t, ws.WorkTree, "ok name ü.txt", "x", 0o644)
			},
			want:  map[string]string{"ok name ü.txt": "added"},
			flags: []string{`control character in name`, `"bad\nname"`, "invalid UTF-8"},
		},
		{
			name: "names git takes for .git, bidi and invisible names flagged and skipped",
			setup: func(t *testing.T, ws *Workspace) {
				write(t, ws.WorkTree, ".g\u200cit/hooks/pre-commit", "evil\n", 0o755)
				write(t, ws.WorkTree, "docs/git~1/config", "[core]\n", 0o644)
				write(t, ws.WorkTree, ".git::$INDEX_ALLOCATION/config", "[core]\n", 0o644)
				write(t, ws.WorkTree, "sub/.Git. /config", "[core]\n", 0o644)
				write(t, ws.WorkTree, "invoice\u202efdp.exe", "x", 0o644)
				write(t, ws.WorkTree, "zero\u200bwidth.txt", "x", 0o644)
				must(t, os.Symlink("/etc/passwd", filepath.Join(ws.WorkTree, "GITMOD~1")))
				write(t, ws.WorkTree, "ok.txt", "x", 0o644)
			},
			want: map[string]string{"ok.txt": "added"},
			flags: []string{
				`takes it for .git on HFS+ or NTFS): ".g\u200cit"`, `"docs/git~1"`, `".git::$INDEX_ALLOCATION"`, `"sub/.Git. "`,
				`bidi or invisible character in name): "invoice\u202efdp.exe"`, `"zero\u200bwidth.txt"`,
				`symlinked GITMOD~1 skipped`,
			},
		},
		{
			name:  "binary file",
			setup: func(t *testing.T, ws *Workspace) { write(t, ws.WorkTree, "README.md", "a\x00b\n", 0o644) },
			want:  map[string]string{"README.md": "modified"},
			check: func(t *testing.T, ws *Workspace, ch *Change) {
				if f := fileOf(ch, "README.md"); !f.Binary || f.Added != 0 || f.Removed != 0 {
					t.Fatalf("README.md = %+v", f)
				}
			},
		},
		{
			name: "file becomes a directory",
			setup: func(t *testing.T, ws *Workspace) {
				must(t, os.Remove(filepath.Join(ws.WorkTree, "README.md")))
				write(t, ws.WorkTree, "README.md/inner", "i\n", 0o644)
			},
			want: map[string]string{"README.md": "deleted", "README.md/inner": "added"},
		},
		{
			name: "everything deleted",
			setup: func(t *testing.T, ws *Workspace) {
				entries, _ := os.ReadDir(ws.WorkTree)
				for _, e := range entries {
					if e.Name() != ".git" {
						must(t, os.RemoveAll(filepath.Join(ws.WorkTree, e.Name())))
					}
				}
			},
			want: map[string]string{
				"README.md": "deleted", "run.sh": "deleted", "docs/guide.md": "deleted", "dir/a.txt": "deleted",
				"dir/b.txt": "deleted", "link": "deleted", ".gitignore": "deleted", "keep.log": "deleted",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := cloneWS(t, s)
			must(t, ws.PrepareSandbox(context.Background()))
			tt.setup(t, ws)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done := make(chan struct{})
			var ch *Change
			var err error
			go func() { defer close(done); ch, err = ws.Harvest(ctx, tt.opts) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("Harvest blocked")
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Harvest: %v", err)
			}
			if ch != nil {
				got := map[string]string{}
				for _, f := range ch.Files {
					got[f.Path] = f.Op
				}
				if tt.wantErr == nil && !sameOps(got, tt.want) {
					t.Fatalf("change = %v, want %v", got, tt.want)
				}
				for _, f := range tt.flags {
					if !hasFlag(ch, f) {
						t.Fatalf("no flag containing %q in %q", f, ch.Flags)
					}
				}
				for i := 1; i < len(ch.Files); i++ {
					if ch.Files[i-1].Path >= ch.Files[i].Path {
						t.Fatalf("files not sorted: %q before %q", ch.Files[i-1].Path, ch.Files[i].Path)
					}
				}
				if tt.check != nil {
					tt.check(t, ws, ch)
				}
				if err == nil {
					// Every harvest that succeeds commits into a tree git accepts.
					if _, err := ws.Commit(context.Background(), ch, "test", Signature{Name: "t", Email: "t@example.test"}); err != nil {
						t.Fatalf("Commit: %v", err)
					}
					gitCLI(t, filepath.Join(ws.Root, "repo.git"), "fsck", "--strict", "--no-dangling")
				}
			} else if len(tt.flags) > 0 {
				t.Fatal("no change returned, cannot check flags")
			}
		})
	}
}

func sameOps(got, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for p, op := range want {
		if got[p] != op {
			return false
		}
	}
	return true
}

func fileOf(ch *Change, p string) FileChange {
	for _, f := range ch.Files {
		if f.Path == p {
			return f
		}
	}
	return FileChange{}
}

func hasFlag(ch *Change, sub string) bool {
	for _, f := range ch.Flags {
		if strings.Contains(f, sub) {
			return true
		}
	}
	return false
}

// blob reads a blob from the host repository.
func blob(t *testing.T, ws *Workspace, hash string) string {
	t.Helper()
	st, err := ws.storage()
	must(t, err)
	obj, err := st.EncodedObject(plumbing.BlobObject, plumbing.NewHash(hash))
	must(t, err)
	r, err := obj.Reader()
	must(t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	must(t, err)
	return string(b)
}

func TestHarvestBoundsFlags(t *testing.T) {
	s := newServer(t)
	ws := cloneWS(t, s)
	for i := range maxFlags + 50 {
		must(t, syscall.Mkfifo(filepath.Join(ws.WorkTree, "p"+strconv.Itoa(i)), 0o644))
	}
	deep := strings.Repeat("d/", maxDepth+1) + "f"
	write(t, ws.WorkTree, deep, "x", 0o644)
	ch, err := ws.Harvest(context.Background(), HarvestOptions{})
	if !errors.Is(err, ErrNoChange) {
		t.Fatalf("error %v, want ErrNoChange (all skipped)", err)
	}
	if len(ch.Flags) != maxFlags+1 || ch.Flags[maxFlags] != "51 more flags not listed" {
		t.Fatalf("%d flags, last %q", len(ch.Flags), ch.Flags[len(ch.Flags)-1])
	}
}
