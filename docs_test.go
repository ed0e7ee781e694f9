package agentgate

import (
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/internal/mdcheck"
)

// docFiles are the documents a reader follows links through: the
// README, SECURITY.md, BENCHMARKS.md and the manual under docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	docs, err := mdcheck.Documents(".")
	if err != nil {
		t.Fatal(err)
	}
	return append(docs, "SECURITY.md", "BENCHMARKS.md")
}

// TestDocLinksResolve renders each document as GitHub does and checks
// every relative link and image: the file it names exists in the
// repository, and its #fragment, if any, is a heading of that markdown
// file (or of the same document). A heading renamed or moved to another
// file without its links fails here.
func TestDocLinksResolve(t *testing.T) {
	reports := map[string]mdcheck.Report{}
	report := func(name string) (mdcheck.Report, error) {
		if r, ok := reports[name]; ok {
			return r, nil
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return mdcheck.Report{}, err
		}
		r, err := mdcheck.Render(string(b))
		if err != nil {
			return mdcheck.Report{}, err
		}
		reports[name] = r
		return r, nil
	}
	checked := 0
	for _, doc := range docFiles(t) {
		r, err := report(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, link := range append(append([]string(nil), r.Links...), r.Images...) {
			u, err := url.Parse(link)
			if err != nil {
				t.Errorf("%s: link %q: %v", doc, link, err)
				continue
			}
			if u.Scheme != "" || u.Host != "" {
				continue // absolute: not this repository's to check
			}
			target := doc
			if u.Path != "" {
				target = path.Join(path.Dir(doc), u.Path)
				if target == ".." || strings.HasPrefix(target, "../") {
					t.Errorf("%s: link %q leaves the repository", doc, link)
					continue
				}
				if _, err := os.Stat(filepath.FromSlash(target)); err != nil {
					t.Errorf("%s: link %q: %v", doc, link, err)
					continue
				}
			}
			checked++
			if u.Fragment == "" {
				continue
			}
			if !strings.HasSuffix(target, ".md") {
				t.Errorf("%s: link %q: a fragment on a file that is not markdown", doc, link)
				continue
			}
			tr, err := report(filepath.FromSlash(target))
			if err != nil {
				t.Errorf("%s: link %q: %v", doc, link, err)
				continue
			}
			if !tr.Anchors()[u.Fragment] {
				t.Errorf("%s: link %q: %s has no heading #%s", doc, link, target, u.Fragment)
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked %d relative links; the documents hold more", checked)
	}
}

// TestManualReachableFromREADME: every page of docs/ is linked from the
// README, so a newcomer finds it from the front page.
func TestManualReachableFromREADME(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	r, err := mdcheck.Render(string(b))
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, l := range r.Links {
		p, _, _ := strings.Cut(l, "#")
		linked[path.Clean(p)] = true
	}
	for _, doc := range docFiles(t) {
		if doc != "README.md" && !linked[filepath.ToSlash(doc)] {
			t.Errorf("README.md does not link %s", doc)
		}
	}
}

// TestREADMEStaysShort: the README is the front page (the pitch, the quick
// start, the trust model, the flow from webhook to pull request and the
// links); the manual belongs in docs/.
func TestREADMEStaysShort(t *testing.T) {
	const maxLines = 250
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n > maxLines {
		t.Errorf("README.md has %d lines, more than %d: move the new text to a page of docs/", n, maxLines)
	}
}
