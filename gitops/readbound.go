package gitops

import (
	"context"
	"fmt"
	"io"
	"os"
)

// readChunk is how much of an agent-written file is read between two
// looks at the context.
const readChunk = 1 << 20

// sparseSlack is how far a file's size may exceed its allocated blocks
// before it counts as sparse: file systems that keep small files inline,
// or count the last block partly, report a little less than the size.
const sparseSlack = 64 << 10

// readable reports whether the content of the regular file fi (size bytes
// as its open descriptor reports them) may be read whole: when it is at
// most limit bytes, or when its bytes are really on disk (its allocated
// blocks cover its size), so that reading it costs no more than the bounded
// work tree holds. A sparse file (`truncate -s 8E`) larger than limit is
// never read: its holes would read as zeros for ever.
func readable(fi os.FileInfo, limit int64) bool {
	size := fi.Size()
	if size <= limit {
		return true
	}
	alloc, ok := allocatedBytes(fi)
	return ok && size <= alloc+sparseSlack
}

// ctxReader checks ctx before each read of r: a long read of what the
// sandbox wrote stops when the run does.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > readChunk {
		p = p[:readChunk]
	}
	return c.r.Read(p)
}

// errTooSparse says a file was not read because it is larger than the
// bound and not backed by blocks on disk.
func errTooSparse(p string, size, limit int64) error {
	return fmt.Errorf("%w: %q is %d bytes, larger than %d and not backed by blocks on disk (a sparse file): not read", ErrLimit, p, size, limit)
}
