package telemetry

import (
	"encoding/json"
	"testing"
)

func TestAttrText(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"main", "main"},
		{float64(42), "42"}, // a number read back from JSON
		{1.5, "1.5"},
		{int64(7), "7"},
		{json.Number("12"), "12"},
		{true, "true"},
	} {
		if got := AttrText(tt.in); got != tt.want {
			t.Errorf("AttrText(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
