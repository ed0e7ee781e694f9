package runner

import "testing"

func TestParsePidsEvents(t *testing.T) {
	tests := []struct {
		in   string
		n    int64
		okay bool
	}{
		{"max 0\n", 0, true},
		{"max 17\n", 17, true},
		{"max 3", 3, true},
		{"", 0, false},
		{"max x\n", 0, false},
		{"other 1\nmax 2\n", 2, true},
	}
	for _, tt := range tests {
		n, ok := parsePidsEvents(tt.in)
		if n != tt.n || ok != tt.okay {
			t.Errorf("parsePidsEvents(%q) = %d, %v", tt.in, n, ok)
		}
	}
	if _, ok := pidsEventsMax("../../etc"); ok {
		t.Error("a container id with a path in it was read")
	}
}
