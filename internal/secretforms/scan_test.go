package secretforms

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func TestScanner(t *testing.T) {
	const v = "canary-VALUE-0123456789"
	s := NewScanner(Secret{Name: "canary:x", Value: v}, Secret{Name: "short", Value: "abc"})
	for _, tc := range []struct {
		in, form string
	}{
		{"a " + v + " b", "literal"},
		{base64.StdEncoding.EncodeToString([]byte("prefix:" + v)), "base64"},
		{"q=" + url.QueryEscape(v+"/"), "literal"}, // the literal is inside the escape
		{"%63%61%6E%61%72%79%2D%56%41%4C%55%45%2D%30%31%32%33%34%35%36%37%38%39", "url-encoded"},
	} {
		h, ok := s.ScanString(tc.in)
		if !ok || h.Name != "canary:x" || h.Form != tc.form {
			t.Errorf("%q: %+v %v, want %s", tc.in, h, ok, tc.form)
		}
	}
	// positive control: ordinary text, and the short value is not looked for
	if h, ok := s.ScanString("nothing here; abc abc"); ok {
		t.Errorf("false hit %+v", h)
	}
	var nilScanner *Scanner
	if _, ok := nilScanner.ScanString(v); ok || nilScanner.Len() != 0 {
		t.Error("a nil scanner found something")
	}
	s.Add(Secret{Name: "later", Value: "minted-token-0123456789"})
	if h, ok := s.ScanString("x minted-token-0123456789"); !ok || h.Name != "later" {
		t.Errorf("added secret not found: %+v", h)
	}
}

// BenchmarkScan1MiB scans a 1 MiB body (a long model conversation) for
// a run's secrets: four canaries and twelve real ones.
func BenchmarkScan1MiB(b *testing.B) {
	var secrets []Secret
	for i := range 16 {
		secrets = append(secrets, Secret{Name: "s", Value: "secret-value-" + string(rune('a'+i)) + "-0123456789abcdefghij"})
	}
	s := NewScanner(secrets...)
	body := make([]byte, 1<<20)
	for i := range body {
		body[i] = "abcdefghijklmnopqrstuvwxyz {}\":,0123456789"[i%42]
	}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		if _, ok := s.Scan(body); ok {
			b.Fatal("hit")
		}
	}
}

// TestScannerAgreesWithNaiveSearch checks the filtered scan against
// bytes.Contains over every form, with each form placed at every offset
// of a short text (start and end included).
func TestScannerAgreesWithNaiveSearch(t *testing.T) {
	secrets := []Secret{{Name: "a", Value: "AKIAAGENTGATE0000001"}, {Name: "b", Value: "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}}
	s := NewScanner(secrets...)
	for _, sec := range secrets {
		for _, f := range Forms(sec.Value) {
			for off := 0; off <= 9; off++ {
				body := []byte(strings.Repeat("x", off) + f.Value + strings.Repeat("y", 9-off))
				if h, ok := s.Scan(body); !ok || h.Name != sec.Name {
					t.Errorf("%s form %s at %d: %+v %v", sec.Name, f.Kind, off, h, ok)
				}
				if _, ok := s.Scan(body[:off+len(f.Value)-1]); ok && !strings.Contains(string(body[:off+len(f.Value)-1]), sec.Value) {
					// a cut form may still hold another form whole; only
					// a hit with no form inside is wrong
					found := false
					for _, g := range Forms(sec.Value) {
						found = found || strings.Contains(string(body[:off+len(f.Value)-1]), g.Value)
					}
					if !found {
						t.Errorf("%s form %s cut short at %d: false hit", sec.Name, f.Kind, off)
					}
				}
			}
		}
	}
}
