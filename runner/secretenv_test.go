package runner

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestSecretEnv(t *testing.T) {
	const tok = "ghp_abcdefghijklmnopqrstuvwxyz0123456789" // shaped like a real token: allowed here only
	s := baseSpec()
	s.SecretEnv = []string{"NPM_TOKEN=npm-secret-value", "GH_TOKEN=" + tok}
	cfg, _, err := Convert(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range s.SecretEnv {
		if !slices.Contains(cfg.Env, want) {
			t.Errorf("container env lacks %s", strings.SplitN(want, "=", 2)[0])
		}
	}
	bad := []struct {
		name string
		sec  []string
		env  []string
		want string
	}{
		{"not key=value", []string{"NOPE"}, nil, "not KEY=VALUE"},
		{"bad key", []string{"A-B=x"}, nil, "not KEY=VALUE"},
		{"reserved", []string{"HOME=/root"}, nil, "set by the runner"},
		{"twice", []string{"A=x", "A=y"}, nil, "twice"},
		{"also in env", []string{"A=x"}, []string{"A=z"}, "twice"},
		{"nul", []string{"A=x\x00y"}, nil, "NUL"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			s := baseSpec()
			s.SecretEnv, s.Env = tc.sec, tc.env
			_, _, err := Convert(s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			for _, kv := range tc.sec {
				if _, v, _ := strings.Cut(kv, "="); len(v) > 1 && strings.Contains(err.Error(), v) {
					t.Errorf("the error repeats the secret value: %v", err)
				}
			}
		})
	}
}

func TestCollectorMasksSecretValues(t *testing.T) {
	var lines []string
	c := newCollector(1<<20, func(l string) { lines = append(lines, l) })
	c.secrets = secretValues([]string{"A=abc", "B=s3cr3t-value", "C=s3cr3t-value-longer"})
	c.line([]byte("token s3cr3t-value-longer and s3cr3t-value, not abc\n"))
	want := "token [MASKED] and [MASKED], not abc"
	if len(lines) != 1 || lines[0] != want || string(c.out) != want+"\n" {
		t.Errorf("lines %q out %q, want %q", lines, c.out, want)
	}
}

// Setup output is masked in the secret's common encodings too.
func TestCollectorMasksEncodedSecrets(t *testing.T) {
	const secret = "s3cr3t/npm+token=value"
	var lines []string
	c := newCollector(1<<20, func(l string) { lines = append(lines, l) })
	c.secrets = secretValues([]string{"NPM_TOKEN=" + secret})
	for _, enc := range []string{
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.URLEncoding.EncodeToString([]byte("x" + secret)),
		hex.EncodeToString([]byte(secret)),
		url.QueryEscape(secret),
		"eulav=nekot+mpn/t3rc3s",
	} {
		c.line([]byte("leak: " + enc + "\n"))
	}
	c.line([]byte("plain line stays\n"))
	if len(lines) != 6 {
		t.Fatalf("lines %q", lines)
	}
	for _, l := range lines[:5] {
		if !strings.Contains(l, masked) || len(strings.TrimPrefix(l, "leak: ")) > len(masked)+6 {
			t.Errorf("line %q is not masked", l)
		}
	}
	if lines[5] != "plain line stays" {
		t.Errorf("an ordinary line changed: %q", lines[5])
	}
}
