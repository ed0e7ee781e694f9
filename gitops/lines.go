package gitops

import (
	"bytes"

	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"
)

// binarySniff is how much of a file git looks at for a NUL byte.
const binarySniff = 8000

// maxDiffBytes bounds the inputs of an exact line diff; larger text files
// count every old line removed and every new line added.
const maxDiffBytes = 1 << 20

func isBinary(b []byte) bool {
	if len(b) > binarySniff {
		b = b[:binarySniff]
	}
	return bytes.IndexByte(b, 0) >= 0
}

// countLines is the number of lines in b, a last line without newline included.
func countLines(b []byte) int {
	n := bytes.Count(b, []byte{'\n'})
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// lineDiff counts the lines added and removed from old to new.
func lineDiff(old, new []byte) (added, removed int) {
	if len(old) > maxDiffBytes || len(new) > maxDiffBytes {
		return countLines(new), countLines(old)
	}
	for _, d := range diff.Do(string(old), string(new)) {
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			added += countLines([]byte(d.Text))
		case diffmatchpatch.DiffDelete:
			removed += countLines([]byte(d.Text))
		}
	}
	return added, removed
}
