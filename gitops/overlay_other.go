//go:build !linux

package gitops

import "fmt"

// canOverlay reports whether this process may mount overlays: never off
// Linux.
func canOverlay() bool { return false }

func mountOverlay(_, _, _, merged string) error {
	return fmt.Errorf("%w: mount overlay at %s: overlayfs is Linux only", errNoOverlay, merged)
}

func unmountOverlay(string) error { return nil }
