package webhook

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// TestVerifyAny checks the rotation window at the signature level: the
// current and the previous secret verify, anything else does not, and an
// empty previous secret adds nothing.
func TestVerifyAny(t *testing.T) {
	body := []byte(`{"zen":"ok"}`)
	cur, prev, other := []byte("current-secret-1"), []byte("previous-secret-0"), []byte("someone-else-9")
	tests := []struct {
		name    string
		secrets [][]byte
		signer  []byte
		want    error
	}{
		{name: "current", secrets: [][]byte{cur, prev}, signer: cur},
		{name: "previous in the window", secrets: [][]byte{cur, prev}, signer: prev},
		{name: "previous after the window", secrets: [][]byte{cur}, signer: prev, want: ErrBadSignature},
		{name: "empty previous", secrets: [][]byte{cur, nil}, signer: nil, want: ErrBadSignature},
		{name: "another secret", secrets: [][]byte{cur, prev}, signer: other, want: ErrBadSignature},
		{name: "no secret", secrets: [][]byte{nil, nil}, signer: cur, want: ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := VerifyAny(tt.secrets, body, Sign(tt.signer, body)); !errors.Is(err, tt.want) {
				t.Fatalf("VerifyAny = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestPreviousSecretWindow checks intake: a delivery signed with the
// previous secret is accepted while PreviousSecret is set (positive
// control: the current one always is) and refused without it, including
// after SetSecrets closes the window while serving.
func TestPreviousSecretWindow(t *testing.T) {
	prev := []byte("the-old-webhook-secret")
	body := payload(t, "ping.json")
	ping := func(h *harness, secret []byte) int {
		return h.post(t, "ping", uuid.NewString(), body, Sign(secret, body)).Code
	}
	h := newHarness(t)
	if got := ping(h, prev); got != http.StatusUnauthorized {
		t.Fatalf("previous secret without the setting: %d, want 401", got)
	}
	if err := h.srv.SetSecrets(testSecret, prev); err != nil {
		t.Fatal(err)
	}
	if got := ping(h, prev); got != http.StatusOK {
		t.Fatalf("previous secret in the window: %d, want 200", got)
	}
	if got := ping(h, testSecret); got != http.StatusOK {
		t.Fatalf("current secret in the window: %d, want 200", got)
	}
	if got := ping(h, []byte("never-configured")); got != http.StatusUnauthorized {
		t.Fatalf("unknown secret in the window: %d, want 401", got)
	}
	if err := h.srv.SetSecrets(testSecret, nil); err != nil {
		t.Fatal(err)
	}
	if got := ping(h, prev); got != http.StatusUnauthorized {
		t.Fatalf("previous secret after the window: %d, want 401", got)
	}
	if err := h.srv.SetSecrets(nil, prev); err == nil {
		t.Fatal("SetSecrets accepted no current secret")
	}
}
