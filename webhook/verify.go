package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
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
	return VerifyAny([][]byte{secret}, body, signatureHeader)
}

// VerifyAny checks signatureHeader against the HMAC-SHA256 of body keyed
// by each non-empty secret (the current webhook secret and, during a
// rotation, the previous one). Every secret is tried, whichever matches,
// and each comparison is constant-time, so the answer's timing says
// neither which secret matched nor how much of the signature did.
func VerifyAny(secrets [][]byte, body []byte, signatureHeader string) error {
	keys := 0
	for _, s := range secrets {
		if len(s) > 0 {
			keys++
		}
	}
	if keys == 0 {
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
	match := 0
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		mac := hmac.New(sha256.New, s)
		mac.Write(body)
		match |= subtle.ConstantTimeCompare(got, mac.Sum(nil))
	}
	if match != 1 {
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
