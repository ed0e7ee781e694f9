package mdcheck

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDocumentsAndDocLine(t *testing.T) {
	root := t.TempDir()
	if _, err := Documents(root); err == nil {
		t.Error("Documents without docs/: no error")
	}
	write := func(name, text string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# x\nrun `a`\n")
	write("docs/b.md", "go run ./cmd/x -n 1\n")
	write("docs/a.md", "go run ./cmd/x -n 2\n")
	docs, err := Documents(root)
	if err != nil || len(docs) != 3 || filepath.Base(docs[0]) != "README.md" || filepath.Base(docs[1]) != "a.md" {
		t.Fatalf("Documents = %q, %v", docs, err)
	}
	m, err := DocLine(root, `go run \./cmd/x (-n \d)`)
	if err != nil || len(m) != 2 || m[1] != "-n 2" {
		t.Errorf("DocLine = %q, %v; want the first page's line", m, err)
	}
	if m, err := DocLine(root, `run`); err != nil || m != nil {
		t.Errorf("DocLine of a partial line = %q, %v; want none", m, err)
	}
}
