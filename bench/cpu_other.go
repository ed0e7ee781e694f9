//go:build !unix

package bench

import "time"

// processCPU is not measured here: it is always 0.
func processCPU() time.Duration { return 0 }
