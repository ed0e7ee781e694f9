package app

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/ghretry"
	"github.com/agentgate/agentgate/internal/testgh"
)

// TestJWTToleratesHostClockSkew: the stand-in checks app JWTs against its
// own clock as GitHub does; with the host clock two minutes fast or slow
// of it, the app still mints an installation token (ghinstallation's own
// dating fails both), and the start-up check reports the skew.
func TestJWTToleratesHostClockSkew(t *testing.T) {
	block, _ := pem.Decode([]byte(testKey))
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		offset time.Duration // GitHub's clock minus the host's
		report bool
	}{
		{"host two minutes fast", -2 * time.Minute, true},
		{"host two minutes slow", 2 * time.Minute, true},
		{"host on time", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gh, err := testgh.New(testgh.Options{AppID: 99, AppPublicKey: &k.PublicKey, Now: func() time.Time { return time.Now().Add(tt.offset) }})
			if err != nil {
				t.Fatal(err)
			}
			defer gh.Close()
			gh.AddInstallation(7, "octo")
			repo := gh.AddRepo(testgh.Repo{Owner: "octo", Name: "app"})
			c, err := NewClients(99, []byte(testKey), gh.APIURL(), &ghretry.Transport{MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Token(context.Background(), 7, cloneScope(repo.ID)); err != nil {
				t.Fatalf("token with the host clock %s: %v", tt.name, err)
			}
			var logs bytes.Buffer
			reportClockSkew(context.Background(), c, NewLogger(Config{}, &logs))
			if got := strings.Contains(logs.String(), "host clock is off"); got != tt.report {
				t.Errorf("reported = %v, want %v; logs: %s", got, tt.report, logs.String())
			}
		})
	}
}
