package gateway

import (
	"bytes"
	"strings"
	"testing"
)

func TestRedactString(t *testing.T) {
	r := newRedactor("sk-secret-AAAA", "", "sk-secret-AAAA-longer")
	tests := []struct{ in, want string }{
		{"nothing here", "nothing here"},
		{"key sk-secret-AAAA end", "key [REDACTED] end"},
		{"sk-secret-AAAAsk-secret-AAAA", "[REDACTED][REDACTED]"},
		{"long sk-secret-AAAA-longer!", "long [REDACTED]!"},
		{"almost sk-secret-AAA", "almost sk-secret-AAA"},
	}
	for _, tt := range tests {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRedactWriterSplits feeds streams cut at every possible point (and
// byte by byte) and checks the output equals redacting the whole stream.
func TestRedactWriterSplits(t *testing.T) {
	keys := []string{"sk-proj-0123456789", "aaXaa"} // the second overlaps itself
	inputs := []string{
		`{"error":{"message":"Incorrect API key provided: sk-proj-0123456789."}}`,
		"data: sk-proj-0123456789sk-proj-0123456789\n\n",
		"sk-proj-012345678 is not the key, sk-proj-0123456789 is",
		"xaaXaaXaay aaXa aaXaa",
		"tail sk-proj-01234",
		"",
	}
	r := newRedactor(keys...)
	for _, in := range inputs {
		want := r.String(in)
		for _, k := range keys {
			if strings.Contains(want, k) {
				t.Fatalf("String(%q) still holds %q", in, k)
			}
		}
		for cut := 0; cut <= len(in); cut++ {
			var out bytes.Buffer
			w := r.writer(&out)
			_, _ = w.Write([]byte(in[:cut]))
			_, _ = w.Write([]byte(in[cut:]))
			_ = w.Close()
			if out.String() != want {
				t.Errorf("cut %d of %q: got %q, want %q", cut, in, out.String(), want)
			}
		}
		var out bytes.Buffer
		w := r.writer(&out)
		for i := range len(in) {
			_, _ = w.Write([]byte{in[i]})
		}
		_ = w.Close()
		if out.String() != want {
			t.Errorf("bytewise %q: got %q, want %q", in, out.String(), want)
		}
	}
}

// TestRedactWriterDoesNotHoldEvents checks that a complete SSE event is
// written at once: nothing but a possible key prefix is held back.
func TestRedactWriterDoesNotHoldEvents(t *testing.T) {
	r := newRedactor("sk-proj-0123456789")
	var out bytes.Buffer
	w := r.writer(&out)
	ev := "data: {\"x\":1}\n\n"
	_, _ = w.Write([]byte(ev))
	if out.String() != ev {
		t.Fatalf("after one write: %q, want %q", out.String(), ev)
	}
	_, _ = w.Write([]byte("data: sk-pr"))
	if out.String() != ev+"data: " {
		t.Fatalf("held wrong tail: %q", out.String())
	}
	_ = w.Close()
	if out.String() != ev+"data: sk-pr" {
		t.Fatalf("Close lost the tail: %q", out.String())
	}
}
