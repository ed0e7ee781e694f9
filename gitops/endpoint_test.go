package gitops

import (
	"strings"
	"testing"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

func TestEndpoint(t *testing.T) {
	tests := []struct {
		url, token string
		wantAuth   bool
		errText    string
	}{
		{url: "https://github.com/o/r.git", token: "s3cr3t", wantAuth: true},
		{url: "https://github.com/o/r.git"},
		{url: "http://127.0.0.1:8080/o/r.git", token: "s3cr3t", wantAuth: true},
		{url: "http://[::1]:8080/o/r.git", token: "s3cr3t", wantAuth: true},
		{url: "http://localhost/o/r.git", token: "s3cr3t", wantAuth: true},
		{url: "http://github.com/o/r.git", token: "s3cr3t", errText: "loopback"},
		{url: "http://10.0.0.1/o/r.git", errText: "loopback"},
		{url: "http://127.0.0.1.evil.test/o/r.git", token: "s3cr3t", errText: "loopback"},
		{url: "https://x-access-token:s3cr3t@github.com/o/r.git", errText: "credentials"},
		{url: "ssh://git@github.com/o/r.git", token: "s3cr3t", errText: "unsupported scheme"},
		{url: "git@github.com:o/r.git", errText: "scp-like"},
		{url: "https:///o/r.git", errText: "no host"},
		{url: "", errText: "empty"},
		{url: "/srv/repo.git", token: "s3cr3t"},
		{url: "./relative/repo", token: "s3cr3t"},
		{url: "file:///srv/repo.git", token: "s3cr3t"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, auth, err := endpoint(tt.url, tt.token)
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("error %v, want %q", err, tt.errText)
				}
				if strings.Contains(err.Error(), "s3cr3t") {
					t.Fatalf("error echoes credentials: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u == "" {
				t.Fatal("empty URL")
			}
			if got := auth != nil; got != tt.wantAuth {
				t.Fatalf("auth sent = %v, want %v", got, tt.wantAuth)
			}
			if ba, ok := auth.(*githttp.BasicAuth); ok {
				if ba.Username != "x-access-token" || ba.Password != tt.token {
					t.Fatalf("auth = %s", ba)
				}
				if strings.Contains(ba.String(), tt.token) {
					t.Fatal("auth String shows the token")
				}
			}
		})
	}
}
