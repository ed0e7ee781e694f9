package gitops

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// maxIgnoreBytes bounds how much of one ignore file is read.
const maxIgnoreBytes = 1 << 20

// parseIgnore turns ignore-file content into patterns for the directory
// domain (its path components).
func parseIgnore(data []byte, domain []string) []gitignore.Pattern {
	var ps []gitignore.Pattern
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxIgnoreBytes)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	return ps
}

// hostExclude reads the host repository's info/exclude, if any. It is the
// host's own file (the sandbox never sees repo.git), so a plain bounded
// read is enough.
func hostExclude(repoDir string) ([]gitignore.Pattern, error) {
	f, err := os.Open(repoDir + "/info/exclude")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxIgnoreBytes))
	if err != nil {
		return nil, err
	}
	return parseIgnore(data, nil), nil
}

// splitPath is p's components ("" is the root: none).
func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
