package testgh

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxJWTLifetime is how far ahead GitHub accepts an app JWT's exp.
const maxJWTLifetime = 10 * time.Minute

// clockSkew is the leeway allowed on iat and exp.
const clockSkew = 60 * time.Second

// jwtRejection is GitHub's own message for a rejected app JWT, returned
// to the client verbatim.
type jwtRejection string

func (e jwtRejection) Error() string { return string(e) }

// verifyAppJWT checks an app JWT the way GitHub documents it: RS256 signed
// by the app's key, iss = app id, exp in the future and at most ten minutes
// ahead, iat not in the future.
func verifyAppJWT(raw string, key *rsa.PublicKey, appID int64, now time.Time) error {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return jwtRejection("A JSON web token could not be decoded")
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return jwtRejection("A JSON web token could not be decoded")
	}
	if hdr.Alg != "RS256" {
		return jwtRejection(fmt.Sprintf("'Algorithm' %q is not supported; use RS256", hdr.Alg))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return jwtRejection("A JSON web token could not be decoded")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		return jwtRejection("'Signature' could not be verified with the app's public key")
	}
	var claims struct {
		Iss json.RawMessage `json:"iss"`
		Iat *int64          `json:"iat"`
		Exp *int64          `json:"exp"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return jwtRejection("A JSON web token could not be decoded")
	}
	if appID != 0 && issuer(claims.Iss) != strconv.FormatInt(appID, 10) {
		return jwtRejection("'Issuer' claim ('iss') must be an Integer")
	}
	if claims.Exp == nil || claims.Iat == nil {
		return jwtRejection("'Expiration time' claim ('exp') and 'Issued at' claim ('iat') are required")
	}
	exp, iat := time.Unix(*claims.Exp, 0), time.Unix(*claims.Iat, 0)
	if !now.Before(exp) {
		return jwtRejection("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
	}
	if exp.After(now.Add(maxJWTLifetime + clockSkew)) {
		return jwtRejection("'Expiration time' claim ('exp') is too far in the future")
	}
	if iat.After(now.Add(clockSkew)) {
		return jwtRejection("'Issued at' claim ('iat') must be an Integer representing a time in the past")
	}
	return nil
}

// issuer renders iss whether it was sent as a number or a string.
func issuer(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("jwt segment: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("jwt segment: %w", err)
	}
	return nil
}
