package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	jwt "github.com/golang-jwt/jwt/v4"
)

// JWT timing of the app's tokens. GitHub refuses an app JWT whose iat is
// in its future or whose exp is more than ten minutes ahead of its clock.
// agentgate dates iat jwtBackdate before its own clock and lets the token
// live jwtLifetime from there, so a host clock up to a minute (and some)
// fast or slow still mints tokens: fast by 60s, iat is 30s in GitHub's
// past and exp 9 minutes ahead; slow by 60s, iat is 2m30s in the past and
// exp 7 minutes ahead. (ghinstallation's own, 30s back and 2 minutes of
// life, fails a clock 90 seconds slow.)
const (
	jwtBackdate = 90 * time.Second
	jwtLifetime = 9*time.Minute + 30*time.Second
	// maxClockSkew is the skew reported at start-up.
	maxClockSkew = time.Minute
)

// skewTolerantSigner re-dates the claims ghinstallation makes before
// signing them.
type skewTolerantSigner struct {
	inner ghinstallation.Signer
	now   func() time.Time
}

// Sign implements ghinstallation.Signer.
func (s skewTolerantSigner) Sign(claims jwt.Claims) (string, error) {
	if rc, ok := claims.(*jwt.RegisteredClaims); ok {
		now := time.Now
		if s.now != nil {
			now = s.now
		}
		iat := now().Add(-jwtBackdate).Truncate(time.Second)
		c := *rc
		c.IssuedAt = jwt.NewNumericDate(iat)
		c.ExpiresAt = jwt.NewNumericDate(iat.Add(jwtLifetime))
		claims = &c
	}
	return s.inner.Sign(claims)
}

// ClockSkew is how far this host's clock is from GitHub's: the Date of
// GitHub's answer to an app request, minus the local time half-way
// through it (positive: the host is slow). Date has one-second resolution.
func (c *Clients) ClockSkew(ctx context.Context) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.apiURL+"app/hook/deliveries?per_page=1", nil)
	if err != nil {
		return 0, fmt.Errorf("clock check: %w", err)
	}
	start := time.Now()
	resp, err := c.apps.RoundTrip(req)
	if err != nil {
		return 0, fmt.Errorf("clock check: %w", err)
	}
	_ = resp.Body.Close()
	mid := start.Add(time.Since(start) / 2)
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return 0, fmt.Errorf("clock check: GitHub's answer has no Date: %w", err)
	}
	return date.Sub(mid).Truncate(time.Second), nil
}

// reportClockSkew logs an error when the host clock is more than
// maxClockSkew from GitHub's: the app's tokens may then be refused.
func reportClockSkew(ctx context.Context, c *Clients, log *slog.Logger) {
	skew, err := c.ClockSkew(ctx)
	if err != nil {
		log.Warn("could not compare the host clock with GitHub's", "err", err)
		return
	}
	if skew > maxClockSkew+time.Second || skew < -maxClockSkew-time.Second {
		log.Error("the host clock is off from GitHub's: the app's JWTs tolerate about a minute either way; run NTP (chrony, systemd-timesyncd)",
			"skew", skew.String(), "host_is", map[bool]string{true: "slow", false: "fast"}[skew > 0])
		return
	}
	log.Debug("host clock agrees with GitHub's", "skew", skew.String())
}
