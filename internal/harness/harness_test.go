package harness

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"

	"github.com/agentgate/agentgate/internal/testgh"
)

// The demo's embedded copy of GitHub's description is the shared one.
func TestEmbeddedSpecMatchesShared(t *testing.T) {
	wd, _ := os.Getwd()
	shared, err := testgh.FindSpec(wd)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI lays out ../shared: %v", err)
		}
		t.Skipf("no shared/ beside the repository: %v", err)
	}
	want, err := os.ReadFile(shared)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(embeddedSpec))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("internal/harness/github-openapi-subset.json.gz differs from %s: regenerate it with gzip -9", shared)
	}
}
