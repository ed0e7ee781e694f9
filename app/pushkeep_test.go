package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/agentgate/agentgate/gitops"
)

// TestDecodeKeptRefuses: a kept change is pushed only when it is the one
// the audit trail recorded and within the harvest's bounds; a tampered,
// oversized or inconsistent record is refused with the reason.
func TestDecodeKeptRefuses(t *testing.T) {
	bounds := gitops.HarvestOptions{MaxFileBytes: 64, MaxFiles: 3, MaxTotal: 100}
	blob := func(s string) string { return plumbing.ComputeHash(plumbing.BlobObject, []byte(s)).String() }
	good := func() keptChange {
		return keptChange{
			V: keptVersion, Base: strings.Repeat("a", 40), Summary: "fixed", CommitAt: time.Unix(1700000000, 0).UTC(),
			Change: &gitops.Change{Files: []gitops.FileChange{
				{Path: "README.md", Op: "modified", Mode: "100644", Size: 5, Blob: blob("fixed")},
				{Path: "old.txt", Op: "deleted"},
			}},
			Blobs: map[string][]byte{blob("fixed"): []byte("fixed")},
		}
	}
	encode := func(kc keptChange) (string, string) {
		b, err := json.Marshal(kc)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		return string(b), hex.EncodeToString(sum[:])
	}
	tests := []struct {
		name string
		// edit changes the record; the digest is the edited record's
		// (as if the audit trail recorded it) unless tamper is set.
		edit   func(kc *keptChange)
		tamper bool
		want   string // in the error; "" = accepted
	}{
		{"as kept", func(*keptChange) {}, false, ""},
		{"content changed after judgement", func(kc *keptChange) { kc.Blobs[blob("fixed")] = []byte("evil!") }, true, "not the"},
		{"file replaced consistently after judgement", func(kc *keptChange) {
			kc.Change.Files[0].Blob, kc.Change.Files[0].Size = blob("evil!"), 5
			kc.Blobs = map[string][]byte{blob("evil!"): []byte("evil!")}
		}, true, "not the"},
		{"content not its hash", func(kc *keptChange) { kc.Blobs[blob("fixed")] = []byte("evil!") }, false, "hashes to"},
		{"path escapes", func(kc *keptChange) { kc.Change.Files[0].Path = "../x" }, false, "`../x`"},
		{"path in .git", func(kc *keptChange) { kc.Change.Files[0].Path = ".git/hooks/post-checkout" }, false, ".git"},
		{"symlink posing as a file", func(kc *keptChange) { kc.Change.Files[0].Mode = "120000" }, false, "symlink flag"},
		{"blob missing", func(kc *keptChange) { kc.Blobs = nil }, false, "missing"},
		{"extra blob", func(kc *keptChange) { kc.Blobs[blob("more")] = []byte("more") }, false, "belongs to no file"},
		{"file over the harvest bound", func(kc *keptChange) {
			big := strings.Repeat("x", 65)
			kc.Change.Files[0].Blob, kc.Change.Files[0].Size = blob(big), 65
			kc.Blobs = map[string][]byte{blob(big): []byte(big)}
		}, false, "over the harvest's limit of 64"},
		{"total over the harvest bound", func(kc *keptChange) {
			kc.Change.Files = nil
			kc.Blobs = map[string][]byte{}
			for _, s := range []string{strings.Repeat("a", 60), strings.Repeat("b", 60)} {
				kc.Change.Files = append(kc.Change.Files, gitops.FileChange{Path: s[:1], Op: "added", Mode: "100644", Size: 60, Blob: blob(s)})
				kc.Blobs[blob(s)] = []byte(s)
			}
		}, false, "120 bytes of content"},
		{"too many files", func(kc *keptChange) {
			for _, p := range []string{"a", "b", "c"} {
				kc.Change.Files = append(kc.Change.Files, gitops.FileChange{Path: p, Op: "deleted"})
			}
		}, false, "5 files"},
		{"encoded record over the bound", func(kc *keptChange) { kc.Summary = strings.Repeat("s", 400<<10) }, false, "over the bound"},
		{"bad base", func(kc *keptChange) { kc.Base = "HEAD" }, false, "no commit hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kc := good()
			_, judged := encode(kc)
			tt.edit(&kc)
			data, sum := encode(kc)
			if tt.tamper {
				sum = judged
			}
			got, err := decodeKept(data, sum, bounds)
			if tt.want == "" {
				if err != nil || got.Change.Files[0].Blob != blob("fixed") || !got.CommitAt.Equal(kc.CommitAt) {
					t.Fatalf("decodeKept = %+v, %v", got, err)
				}
				return
			}
			if !errors.Is(err, errKeptRefused) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a refusal naming %q", err, tt.want)
			}
		})
	}
}
