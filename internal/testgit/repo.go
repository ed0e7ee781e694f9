package testgit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// File is one file of a commit made by CreateRepoFiles or Commit.
type File struct {
	Path    string
	Content string      // file content, or the link target when Symlink
	Mode    os.FileMode // 0o755 for an executable; anything else is 0o644
	Symlink bool
}

// Files turns a path → content map into regular, non-executable Files.
func Files(m map[string]string) []File {
	out := make([]File, 0, len(m))
	for p, c := range m {
		out = append(out, File{Path: p, Content: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// CreateRepo creates the bare repository "owner/name.git" with one commit
// on "main" holding files, made with the git CLI, and returns its clone URL.
func (s *Server) CreateRepo(ctx context.Context, name string, files map[string]string) (cloneURL string, err error) {
	return s.CreateRepoFiles(ctx, name, Files(files))
}

// CreateRepoFiles is CreateRepo with control over file modes and symlinks.
func (s *Server) CreateRepoFiles(ctx context.Context, name string, files []File) (string, error) {
	name = strings.TrimSuffix(name, ".git")
	if err := validName(name); err != nil {
		return "", fmt.Errorf("testgit: %w", err)
	}
	bare := s.Path(name)
	if _, err := os.Stat(bare); err == nil {
		return "", fmt.Errorf("testgit: repository %s exists", name)
	}
	if _, err := s.git(ctx, "", "init", "--quiet", "--bare", "--initial-branch=main", bare); err != nil {
		return "", err
	}
	if _, err := s.Commit(ctx, name, "main", "initial commit", files); err != nil {
		return "", err
	}
	return s.CloneURL(name), nil
}

// Commit adds one commit on branch of repository name that writes files
// on top of the branch's current tree (or an empty tree for a new branch),
// pushed with the git CLI, and returns its hash.
func (s *Server) Commit(ctx context.Context, name, branch, message string, files []File) (string, error) {
	name = strings.TrimSuffix(name, ".git")
	if err := validName(name); err != nil {
		return "", fmt.Errorf("testgit: %w", err)
	}
	work, err := os.MkdirTemp("", "testgit-work-")
	if err != nil {
		return "", fmt.Errorf("testgit: %w", err)
	}
	defer os.RemoveAll(work)
	if _, err := s.git(ctx, work, "init", "--quiet", "--initial-branch="+branch); err != nil {
		return "", err
	}
	if _, err := s.Ref(ctx, name, "refs/heads/"+branch); err == nil {
		if _, err := s.git(ctx, work, "fetch", "--quiet", s.Path(name), "refs/heads/"+branch); err != nil {
			return "", err
		}
		if _, err := s.git(ctx, work, "reset", "--quiet", "--hard", "FETCH_HEAD"); err != nil {
			return "", err
		}
	}
	for _, f := range files {
		if err := writeFile(work, f); err != nil {
			return "", err
		}
	}
	if _, err := s.git(ctx, work, "add", "-A", "--force"); err != nil {
		return "", err
	}
	if _, err := s.git(ctx, work, "commit", "--quiet", "--allow-empty", "-m", message); err != nil {
		return "", err
	}
	if _, err := s.git(ctx, work, "push", "--quiet", s.Path(name), "HEAD:refs/heads/"+branch); err != nil {
		return "", err
	}
	return s.Ref(ctx, name, "refs/heads/"+branch)
}

func writeFile(work string, f File) error {
	p := filepath.Join(work, filepath.FromSlash(f.Path))
	if !strings.HasPrefix(p, work+string(filepath.Separator)) {
		return fmt.Errorf("testgit: path %q leaves the work tree", f.Path)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("testgit: %w", err)
	}
	_ = os.Remove(p)
	if f.Symlink {
		if err := os.Symlink(f.Content, p); err != nil {
			return fmt.Errorf("testgit: %w", err)
		}
		return nil
	}
	mode := os.FileMode(0o644)
	if f.Mode&0o111 != 0 {
		mode = 0o755
	}
	if err := os.WriteFile(p, []byte(f.Content), mode); err != nil {
		return fmt.Errorf("testgit: %w", err)
	}
	return os.Chmod(p, mode)
}

// Path is the bare repository directory of "owner/name".
func (s *Server) Path(name string) string {
	return filepath.Join(s.root, filepath.FromSlash(strings.TrimSuffix(name, ".git"))+".git")
}

// CloneURL is the HTTP URL of "owner/name".
func (s *Server) CloneURL(name string) string {
	return s.URL() + "/" + strings.TrimSuffix(name, ".git") + ".git"
}

// Ref returns the commit hash rev (a ref such as "refs/heads/main" or any
// revision) resolves to in repository name, or an error if it is missing.
func (s *Server) Ref(ctx context.Context, name, ref string) (string, error) {
	out, err := s.Git(ctx, name, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("testgit: %s: no ref %s: %w", name, ref, err)
	}
	return strings.TrimSpace(out), nil
}

// Show returns the full message of commit rev (`git show -s --format=%B`).
func (s *Server) Show(ctx context.Context, name, rev string) (string, error) {
	return s.Git(ctx, name, "show", "-s", "--format=%B", "--end-of-options", rev)
}

// ReadFile returns the content of path at ref (`git show ref:path`).
func (s *Server) ReadFile(ctx context.Context, name, ref, path string) (string, error) {
	return s.Git(ctx, name, "show", "--end-of-options", ref+":"+path)
}

// Git runs git with args in the bare repository name and returns stdout.
func (s *Server) Git(ctx context.Context, name string, args ...string) (string, error) {
	return s.git(ctx, "", append([]string{"--git-dir=" + s.Path(name)}, args...)...)
}

func (s *Server) git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+s.home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Test Author", "GIT_AUTHOR_EMAIL=author@example.test",
		"GIT_COMMITTER_NAME=Test Author", "GIT_COMMITTER_EMAIL=author@example.test",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("testgit: git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
