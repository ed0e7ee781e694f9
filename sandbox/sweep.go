package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SweepRunDirs removes every run directory of this worker. It is called at
// start-up, when none of them can belong to a live run.
func (s *Sandbox) SweepRunDirs() (int, error) {
	// The run sockets' directories (in the temporary directory: socket
	// paths must be short).
	prefix := sockDirPrefix(s.WorkerID)
	socks, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	removed := 0
	for _, d := range socks {
		// os.MkdirTemp's suffix is digits: "w-2"'s directories are not "w"'s.
		rest := strings.TrimPrefix(filepath.Base(d), prefix)
		if rest == "" || strings.Trim(rest, "0123456789") != "" {
			continue
		}
		if os.RemoveAll(d) == nil {
			removed++
		}
	}
	base := filepath.Join(s.DataDir, "runs", safeName(s.WorkerID))
	entries, err := os.ReadDir(base)
	if errors.Is(err, os.ErrNotExist) {
		return removed, nil
	}
	if err != nil {
		return removed, fmt.Errorf("read %s: %w", base, err)
	}
	n := removed
	var errs []error
	for _, e := range entries {
		if err := removeRunDir(filepath.Join(base, e.Name())); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
