package mdcheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// Documents are the project's user documents under the repository root
// root: README.md, then every page of the manual in docs/ (sorted). It is
// an error for docs/ to hold no page.
func Documents(root string) ([]string, error) {
	manual, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	if len(manual) == 0 {
		return nil, errors.New("documents: docs/ holds no .md file")
	}
	return append([]string{filepath.Join(root, "README.md")}, manual...), nil
}

// DocLine is the first line of the Documents under root that matches re
// (anchored at the line's start and end), with its submatches, or nil
// when no line does.
func DocLine(root, re string) ([]string, error) {
	rx, err := regexp.Compile(`(?m)^` + re + `$`)
	if err != nil {
		return nil, fmt.Errorf("doc line: %w", err)
	}
	docs, err := Documents(root)
	if err != nil {
		return nil, err
	}
	for _, name := range docs {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("doc line: %w", err)
		}
		if m := rx.FindStringSubmatch(string(b)); m != nil {
			return m, nil
		}
	}
	return nil, nil
}
