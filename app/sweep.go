package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// sweepRunDirs removes every run directory of this worker. It is called at
// start-up, when none of them can belong to a live run.
func sweepRunDirs(s *Sandbox) (int, error) {
	base := filepath.Join(s.DataDir, "runs", safeName(s.WorkerID))
	entries, err := os.ReadDir(base)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", base, err)
	}
	n := 0
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
