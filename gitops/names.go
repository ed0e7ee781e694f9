package gitops

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// isDotGit reports whether name would be taken for ".git" by git on some
// file system: any case, trailing dots or spaces (NTFS), or its 8.3 alias.
func isDotGit(name string) bool {
	n := strings.TrimRight(name, ". ")
	return strings.EqualFold(n, ".git") || strings.EqualFold(name, "git~1")
}

// nameProblem says why a directory entry name cannot be committed as is,
// or "" when it can. ".git" is handled separately.
func nameProblem(name string) string {
	switch {
	case name == "" || name == "." || name == "..":
		return "reserved name"
	case strings.ContainsAny(name, "/\x00"):
		return "slash or NUL in name"
	case !utf8.ValidString(name):
		return "invalid UTF-8 in name"
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "control character in name"
		}
	}
	return ""
}

// gitMetaFiles are the files git interprets; a symlink with one of these
// names is never read and never committed.
var gitMetaFiles = []string{".gitignore", ".gitattributes", ".gitmodules", ".mailmap"}

func isGitMetaFile(name string) bool {
	for _, m := range gitMetaFiles {
		if strings.EqualFold(name, m) {
			return true
		}
	}
	return false
}

// validPath checks a slash path from a Change before it goes into a tree.
func validPath(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	for _, c := range strings.Split(p, "/") {
		if isDotGit(c) {
			return errors.New("path component .git")
		}
		if why := nameProblem(c); why != "" {
			return errors.New(why)
		}
	}
	return nil
}
