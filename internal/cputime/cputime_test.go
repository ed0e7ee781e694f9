//go:build unix

package cputime

import (
	"crypto/sha256"
	"testing"
)

// Process grows with work this process does.
func TestProcessGrows(t *testing.T) {
	start := Process()
	sum := sha256.Sum256(nil)
	for i := 0; i < 1<<22 && Process() == start; i++ {
		sum = sha256.Sum256(sum[:])
	}
	if got := Process(); got <= start {
		t.Fatalf("Process() = %v after work, %v before", got, start)
	}
}
