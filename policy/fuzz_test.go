package policy

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse: Parse never panics, and whatever it returns is either a
// *ConfigError or a Config that merges under no org.
func FuzzParse(f *testing.F) {
	full, _ := os.ReadFile("testdata/full.yml")
	for _, s := range []string{string(full), "", "a: &a [1]\nb: *a\n", "[[[[", "limits: {memory: 2GiB}\n", "- x\n", "<<: {}\n", "network: {allow: ['*.a.b:1']}\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yml", data)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *ConfigError: %v", err, err)
			}
			return
		}
		if _, err := Merge(nil, c); err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("merge error %T is not a *ConfigError: %v", err, err)
			}
		}
	})
}
