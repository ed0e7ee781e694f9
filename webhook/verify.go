package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// Signature errors returned by Verify.
var (
	// ErrNoSecret means no webhook secret is configured; nothing verifies.
	ErrNoSecret = errors.New("webhook: no secret configured")
	// ErrNoSignature means the X-Hub-Signature-256 header is missing.
	ErrNoSignature = errors.New("webhook: missing X-Hub-Signature-256")
	// ErrBadSignature means the header is malformed or does not match.
	ErrBadSignature = errors.New("webhook: signature does not match")
)

// signaturePrefix starts every X-Hub-Signature-256 value.
const signaturePrefix = "sha256="

// Verify checks signatureHeader, the X-Hub-Signature-256 value, against
// the HMAC-SHA256 of body keyed by secret, in constant time.
func Verify(secret, body []byte, signatureHeader string) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	if signatureHeader == "" {
		return ErrNoSignature
	}
	hexSig, ok := strings.CutPrefix(signatureHeader, signaturePrefix)
	if !ok || len(hexSig) != 2*sha256.Size {
		return ErrBadSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return ErrBadSignature
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// Sign returns the X-Hub-Signature-256 value for body under secret, as
// GitHub computes it (for tests and local tools).
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}
