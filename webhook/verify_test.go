package webhook

import (
	"errors"
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	// GitHub's documented test vector (docs: validating webhook deliveries).
	secret := []byte("It's a Secret to Everybody")
	body := []byte("Hello, World!")
	const good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		want   error
	}{
		{name: "github test vector", secret: secret, body: body, header: good},
		{name: "uppercase hex", secret: secret, body: body, header: "sha256=" + strings.ToUpper(good[7:])},
		{name: "missing header", secret: secret, body: body, header: "", want: ErrNoSignature},
		{name: "no secret", secret: nil, body: body, header: good, want: ErrNoSecret},
		{name: "wrong secret", secret: []byte("it's a secret to everybody"), body: body, header: good, want: ErrBadSignature},
		{name: "body changed", secret: secret, body: []byte("Hello, World?"), header: good, want: ErrBadSignature},
		{name: "sha1 header", secret: secret, body: body, header: "sha1=7d38cdd689735b008b3c702edd92eea23791c5f6", want: ErrBadSignature},
		{name: "no prefix", secret: secret, body: body, header: good[7:], want: ErrBadSignature},
		{name: "truncated", secret: secret, body: body, header: good[:len(good)-2], want: ErrBadSignature},
		{name: "not hex", secret: secret, body: body, header: "sha256=" + strings.Repeat("zz", 32), want: ErrBadSignature},
		{name: "trailing space", secret: secret, body: body, header: good + " ", want: ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Verify(tt.secret, tt.body, tt.header); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	if got := Sign(secret, body); got != good {
		t.Errorf("Sign = %s, want %s", got, good)
	}
}

func FuzzVerify(f *testing.F) {
	secret := []byte("It's a Secret to Everybody")
	f.Add([]byte("Hello, World!"), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	for _, name := range []string{"issue_comment.created.json", "issues.labeled.json", "ping.json"} {
		body := payload(f, name)
		f.Add(body, Sign(secret, body))
		f.Add(body, "sha256=")
	}
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		err := Verify(secret, body, header)
		if err == nil && header != Sign(secret, body) && !strings.EqualFold(header, Sign(secret, body)) {
			t.Fatalf("Verify accepted %q for a body it does not sign", header)
		}
	})
}
