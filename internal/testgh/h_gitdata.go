package testgh

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// GitCommit is a commit created through POST /repos/{owner}/{repo}/git/commits.
type GitCommit struct {
	SHA     string
	Tree    string
	Parents []string
	Message string
	// Verified is true: GitHub signs the commits an app creates through
	// the API without its own author or signature.
	Verified bool
}

func init() {
	handlers["POST /repos/{owner}/{repo}/git/blobs"] = handler{perm: "contents", level: "write", fn: (*call).createBlob}
	handlers["POST /repos/{owner}/{repo}/git/trees"] = handler{perm: "contents", level: "write", fn: (*call).createTree}
	handlers["POST /repos/{owner}/{repo}/git/commits"] = handler{perm: "contents", level: "write", fn: (*call).createCommit}
	handlers["GET /repos/{owner}/{repo}/git/ref/{ref}"] = handler{perm: "contents", level: "read", fn: (*call).getRef}
	handlers["POST /repos/{owner}/{repo}/git/refs"] = handler{perm: "contents", level: "write", fn: (*call).createRef}
	handlers["PATCH /repos/{owner}/{repo}/git/refs/{ref}"] = handler{perm: "contents", level: "write", fn: (*call).updateRef}
}

// gitDir is the repository's bare directory, or a 404 reply (and a
// violation: the test did not connect a git server).
func (c *call) gitDir() (string, *reply) {
	if c.s.opts.GitDir != nil {
		if dir, ok := c.s.opts.GitDir(c.repo.repo.Owner, c.repo.repo.Name); ok {
			return dir, nil
		}
	}
	c.violation = "Git Data API used, but no git directory is connected (Options.GitDir)"
	r := notFound()
	return "", &r
}

// git runs the git CLI on dir with stdin and extra environment.
func (c *call) git(dir string, stdin []byte, env []string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"--git-dir=" + dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// objectType is the type of object sha in dir, "" when it is missing.
func (c *call) objectType(dir, sha string) string {
	if !shaPattern.MatchString(sha) {
		return ""
	}
	t, err := c.git(dir, nil, nil, "cat-file", "-t", sha)
	if err != nil {
		return ""
	}
	return t
}

func (c *call) repoAPI() string { return c.s.api() + "/repos/" + c.repo.repo.FullName() }

// createBlob implements POST /repos/{owner}/{repo}/git/blobs.
func (c *call) createBlob() reply {
	var req struct {
		Content  string `json:"content"`
		Encoding string `json:"encoding"`
	}
	if r := c.decode(&req); r != nil {
		return *r
	}
	dir, rep := c.gitDir()
	if rep != nil {
		return *rep
	}
	data := []byte(req.Content)
	switch req.Encoding {
	case "", "utf-8":
	case "base64":
		b, err := base64.StdEncoding.DecodeString(req.Content)
		if err != nil {
			return validationFailed("Blob", "content", "invalid", "content is not valid Base64")
		}
		data = b
	default:
		return validationFailed("Blob", "encoding", "invalid", "encoding must be utf-8 or base64")
	}
	sha, err := c.git(dir, data, nil, "hash-object", "-w", "--stdin")
	if err != nil {
		return ghError(http.StatusInternalServerError, "testgh: "+err.Error())
	}
	return created(map[string]any{"url": c.repoAPI() + "/git/blobs/" + sha, "sha": sha})
}

// treeEntry is one entry of POST /git/trees.
type treeEntry struct {
	Path    string  `json:"path"`
	Mode    string  `json:"mode"`
	Type    string  `json:"type"`
	SHA     *string `json:"sha"`
	Content *string `json:"content"`
}

// createTree implements POST /repos/{owner}/{repo}/git/trees: the entries
// are applied on top of base_tree (or an empty tree) through a temporary
// index; an entry with sha null deletes the path.
func (c *call) createTree() reply {
	var req struct {
		BaseTree string      `json:"base_tree"`
		Tree     []treeEntry `json:"tree"`
	}
	if r := c.decode(&req); r != nil {
		return *r
	}
	dir, rep := c.gitDir()
	if rep != nil {
		return *rep
	}
	tmp, err := os.MkdirTemp("", "testgh-index-")
	if err != nil {
		return ghError(http.StatusInternalServerError, "testgh: "+err.Error())
	}
	defer os.RemoveAll(tmp)
	// update-index wants a work tree even when it only writes the index.
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(tmp, "index"), "GIT_WORK_TREE=" + tmp}
	if req.BaseTree != "" {
		if c.objectType(dir, req.BaseTree) != "tree" {
			return validationFailed("Tree", "base_tree", "invalid", "base_tree is not a valid tree oid")
		}
		if _, err := c.git(dir, nil, env, "read-tree", req.BaseTree); err != nil {
			return ghError(http.StatusInternalServerError, "testgh: "+err.Error())
		}
	} else if _, err := c.git(dir, nil, env, "read-tree", "--empty"); err != nil {
		return ghError(http.StatusInternalServerError, "testgh: "+err.Error())
	}
	for _, e := range req.Tree {
		if e.Path == "" || strings.HasPrefix(e.Path, "/") || strings.Contains(e.Path, "//") {
			return validationFailed("Tree", "path", "invalid", "tree.path contains a malformed path component")
		}
		if e.SHA == nil && e.Content == nil {
			if _, err := c.git(dir, nil, env, "update-index", "--force-remove", "--", e.Path); err != nil {
				return validationFailed("Tree", "path", "invalid", err.Error())
			}
			continue
		}
		sha := ""
		switch {
		case e.Content != nil:
			if sha, err = c.git(dir, []byte(*e.Content), nil, "hash-object", "-w", "--stdin"); err != nil {
				return ghError(http.StatusInternalServerError, "testgh: "+err.Error())
			}
		default:
			sha = *e.SHA
			if want := map[string]string{"blob": "blob", "tree": "tree", "commit": "commit"}[e.Type]; want == "" || (e.Type != "commit" && c.objectType(dir, sha) != want) {
				return validationFailed("Tree", "sha", "invalid", "tree.sha "+sha+" is not a valid "+e.Type)
			}
		}
		if _, err := c.git(dir, nil, env, "update-index", "--add", "--cacheinfo", e.Mode+","+sha+","+e.Path); err != nil {
			return validationFailed("Tree", "tree", "invalid", err.Error())
		}
	}
	tree, err := c.git(dir, nil, env, "write-tree")
	if err != nil {
		return ghError(http.StatusInternalServerError, "testgh: "+err.Error())
	}
	ls, err := c.git(dir, nil, nil, "ls-tree", "-l", tree)
	if err != nil {
		return ghError(http.StatusInternalServerError, "testgh: "+err.Error())
	}
	entries := []any{}
	for _, line := range strings.Split(ls, "\n") {
		meta, path, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta) // mode type sha size
		if len(f) != 4 {
			continue
		}
		e := map[string]any{"path": path, "mode": f[0], "type": f[1], "sha": f[2], "url": c.repoAPI() + "/git/" + f[1] + "s/" + f[2]}
		if f[3] != "-" {
			var n int64
			fmt.Sscan(f[3], &n)
			e["size"] = n
		}
		entries = append(entries, e)
	}
	return created(map[string]any{"sha": tree, "url": c.repoAPI() + "/git/trees/" + tree, "truncated": false, "tree": entries})
}

// createCommit implements POST /repos/{owner}/{repo}/git/commits. Without
// an author or signature of its own, the commit is the app's and GitHub
// signs it: verification.verified is true.
func (c *call) createCommit() reply {
	var req struct {
		Message string   `json:"message"`
		Tree    string   `json:"tree"`
		Parents []string `json:"parents"`
		Author  *struct {
			Name  string `json:"name"`
			Email string `json:"email"`
		} `json:"author"`
		Signature string `json:"signature"`
	}
	if r := c.decode(&req); r != nil {
		return *r
	}
	dir, rep := c.gitDir()
	if rep != nil {
		return *rep
	}
	if c.objectType(dir, req.Tree) != "tree" {
		return validationFailed("Commit", "tree", "invalid", "Tree SHA does not exist")
	}
	args := []string{"commit-tree", req.Tree}
	for _, p := range req.Parents {
		if c.objectType(dir, p) != "commit" {
			return validationFailed("Commit", "parents", "invalid", "Parent SHA does not exist or is not a commit object")
		}
		args = append(args, "-p", p)
	}
	bot := c.actor()
	email := fmt.Sprintf("%d+%s@users.noreply.github.com", c.s.st.userID(bot), bot)
	name, mail := bot, email
	if req.Author != nil {
		name, mail = req.Author.Name, req.Author.Email
	}
	now := c.s.now()
	date := fmt.Sprintf("%d +0000", now.Unix())
	env := []string{
		"GIT_AUTHOR_NAME=" + name, "GIT_AUTHOR_EMAIL=" + mail, "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=GitHub", "GIT_COMMITTER_EMAIL=noreply@github.com", "GIT_COMMITTER_DATE=" + date,
	}
	sha, err := c.git(dir, []byte(req.Message), env, append(args, "-F", "-")...)
	if err != nil {
		return ghError(http.StatusInternalServerError, "testgh: "+err.Error())
	}
	verified := req.Author == nil && req.Signature == ""
	c.repo.ext.init()
	c.repo.ext.commits[sha] = GitCommit{SHA: sha, Tree: req.Tree, Parents: req.Parents, Message: req.Message, Verified: verified}
	reason, verifiedAt := "unsigned", any(nil)
	if verified {
		reason, verifiedAt = "valid", ts(now)
	}
	parents := []any{}
	for _, p := range req.Parents {
		parents = append(parents, map[string]any{"sha": p, "url": c.repoAPI() + "/git/commits/" + p, "html_url": c.s.URL() + "/" + c.repo.repo.FullName() + "/commit/" + p})
	}
	who := func(n, e string) map[string]any {
		return map[string]any{"name": n, "email": e, "date": now.Format(time.RFC3339)}
	}
	return created(map[string]any{
		"sha": sha, "node_id": nodeID("Commit", c.s.st.id()), "url": c.repoAPI() + "/git/commits/" + sha,
		"html_url": c.s.URL() + "/" + c.repo.repo.FullName() + "/commit/" + sha,
		"author":   who(name, mail), "committer": who("GitHub", "noreply@github.com"),
		"message": req.Message, "tree": map[string]any{"sha": req.Tree, "url": c.repoAPI() + "/git/trees/" + req.Tree},
		"parents":      parents,
		"verification": map[string]any{"verified": verified, "reason": reason, "signature": nil, "payload": nil, "verified_at": verifiedAt},
	})
}

// refJSON renders a git reference.
func (c *call) refJSON(ref, sha string) map[string]any {
	return map[string]any{
		"ref": ref, "node_id": nodeID("Ref", c.s.st.userID("ref:"+c.repo.repo.FullName()+":"+ref)),
		"url":    c.repoAPI() + "/git/" + ref,
		"object": map[string]any{"type": "commit", "sha": sha, "url": c.repoAPI() + "/git/commits/" + sha},
	}
}

// resolve returns the commit a full ref points at.
func (c *call) resolve(dir, ref string) (string, bool) {
	sha, err := c.git(dir, nil, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	return sha, err == nil && sha != ""
}

// getRef implements GET /repos/{owner}/{repo}/git/ref/{ref} (ref is "heads/x").
func (c *call) getRef() reply {
	dir, rep := c.gitDir()
	if rep != nil {
		return *rep
	}
	ref := "refs/" + c.params["ref"]
	sha, found := c.resolve(dir, ref)
	if !found {
		return notFound()
	}
	return ok(c.refJSON(ref, sha))
}

// checkRefUpdate applies the stand-in's rules to moving ref to sha: the
// commit exists; only agentgate's own branches are written (anything
// else is a violation, as agentgate never pushes elsewhere); and, as
// GitHub refuses an app without the workflows permission, no new commit
// touches .github/workflows/.
func (c *call) checkRefUpdate(dir, ref, sha string) *reply {
	if c.objectType(dir, sha) != "commit" {
		r := validationFailed("Reference", "sha", "invalid", "Object does not exist")
		return &r
	}
	if !strings.HasPrefix(ref, "refs/heads/agentgate/") {
		c.violation = "agentgate wrote " + ref + ", outside its own branches"
	}
	if grants(c.token.Permissions, "workflows", "write") {
		return nil
	}
	revs, err := c.git(dir, nil, nil, "rev-list", sha, "--not", "--all")
	if err != nil {
		r := ghError(http.StatusInternalServerError, "testgh: "+err.Error())
		return &r
	}
	for _, rev := range strings.Fields(revs) {
		files, _ := c.git(dir, nil, nil, "diff-tree", "--no-commit-id", "--name-only", "-r", "--root", rev, "--", ".github/workflows")
		if f, _, _ := strings.Cut(files, "\n"); f != "" {
			r := ghError(http.StatusForbidden, fmt.Sprintf("refusing to allow a GitHub App to create or update workflow `%s` without `workflows` permission", f))
			return &r
		}
	}
	return nil
}

// createRef implements POST /repos/{owner}/{repo}/git/refs.
func (c *call) createRef() reply {
	var req struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if r := c.decode(&req); r != nil {
		return *r
	}
	dir, rep := c.gitDir()
	if rep != nil {
		return *rep
	}
	if !strings.HasPrefix(req.Ref, "refs/") || strings.Count(req.Ref, "/") < 2 {
		return validationFailed("Reference", "ref", "invalid", "Reference name must start with 'refs/' and have at least two slashes.")
	}
	if _, exists := c.resolve(dir, req.Ref); exists {
		return validationFailed("Reference", "ref", "already_exists", "Reference already exists")
	}
	if r := c.checkRefUpdate(dir, req.Ref, req.SHA); r != nil {
		return *r
	}
	if _, err := c.git(dir, nil, nil, "update-ref", req.Ref, req.SHA, ""); err != nil {
		return validationFailed("Reference", "ref", "invalid", err.Error())
	}
	return created(c.refJSON(req.Ref, req.SHA))
}

// updateRef implements PATCH /repos/{owner}/{repo}/git/refs/{ref}: a move
// that is not a fast-forward needs force.
func (c *call) updateRef() reply {
	var req struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if r := c.decode(&req); r != nil {
		return *r
	}
	dir, rep := c.gitDir()
	if rep != nil {
		return *rep
	}
	ref := "refs/" + c.params["ref"]
	old, exists := c.resolve(dir, ref)
	if !exists {
		return validationFailed("Reference", "ref", "invalid", "Reference does not exist")
	}
	if r := c.checkRefUpdate(dir, ref, req.SHA); r != nil {
		return *r
	}
	if !req.Force {
		if _, err := c.git(dir, nil, nil, "merge-base", "--is-ancestor", old, req.SHA); err != nil {
			return validationFailed("Reference", "sha", "invalid", "Update is not a fast forward")
		}
	}
	if _, err := c.git(dir, nil, nil, "update-ref", ref, req.SHA, old); err != nil {
		return validationFailed("Reference", "ref", "invalid", err.Error())
	}
	return ok(c.refJSON(ref, req.SHA))
}

// GitCommits returns the commits created through the Git Data API, by sha.
func (s *Server) GitCommits(owner, repo string) map[string]GitCommit {
	out := map[string]GitCommit{}
	s.readRepo(owner, repo, func(rs *repoState) {
		for k, v := range rs.ext.commits {
			out[k] = v
		}
	})
	return out
}
