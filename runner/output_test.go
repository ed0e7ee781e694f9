package runner

import (
	"bytes"
	"strings"
	"testing"
)

func TestCollector(t *testing.T) {
	token := "ghs_" + strings.Repeat("A", 36)
	long := strings.Repeat("y", maxLine+10)
	tests := []struct {
		name        string
		limit       int64
		writes      []string
		wantOut     string
		wantLines   []string
		wantDropped int64
		wantFull    bool
	}{
		{name: "lines across writes", limit: 100, writes: []string{"hel", "lo\nwor", "ld\n", "tail"},
			wantOut: "hello\nworld\ntail", wantLines: []string{"hello", "world", "tail"}},
		{name: "cap cuts and counts", limit: 8, writes: []string{"abcdef\n", "ghijkl\n", "mnop\n"},
			wantOut: "abcdef\ng", wantLines: []string{"abcdef"}, wantDropped: 6 + 5, wantFull: true},
		{name: "secret masked", limit: 100, writes: []string{"token=" + token + "\n"},
			wantOut: "token=" + masked + "\n", wantLines: []string{"token=" + masked}},
		{name: "long line split", limit: 1 << 20, writes: []string{long + "\n"},
			wantOut: long + "\n", wantLines: []string{long[:maxLine], "yyyyyyyyyy"}},
		{name: "empty lines kept", limit: 10, writes: []string{"\n\n"}, wantOut: "\n\n", wantLines: []string{"", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines []string
			c := newCollector(tt.limit, func(l string) { lines = append(lines, l) })
			s := c.stream()
			var total int64
			for _, w := range tt.writes {
				n, err := s.Write([]byte(w))
				if err != nil || n != len(w) {
					t.Fatalf("Write = %d, %v", n, err)
				}
				total += int64(len(w))
			}
			s.flush()
			if string(c.out) != tt.wantOut {
				t.Errorf("out = %q, want %q", c.out, tt.wantOut)
			}
			if strings.Join(lines, "|") != strings.Join(tt.wantLines, "|") {
				t.Errorf("lines = %q, want %q", lines, tt.wantLines)
			}
			if c.total != total || c.dropped != tt.wantDropped || c.full != tt.wantFull {
				t.Errorf("total %d dropped %d full %v; want %d %d %v", c.total, c.dropped, c.full, total, tt.wantDropped, tt.wantFull)
			}
		})
	}
}

func TestCollectorPanickingCallback(t *testing.T) {
	calls := 0
	c := newCollector(100, func(string) { calls++; panic("boom") })
	s := c.stream()
	s.Write([]byte("a\nb\nc\n"))
	if calls != 1 || string(c.out) != "a\nb\nc\n" {
		t.Fatalf("calls %d out %q", calls, c.out)
	}
}

func TestCollectorBoundedMemory(t *testing.T) {
	c := newCollector(1<<10, nil)
	s := c.stream()
	chunk := bytes.Repeat([]byte("z"), 1<<20) // no newline at all
	for i := 0; i < 64; i++ {
		s.Write(chunk)
	}
	if len(c.out) != 1<<10 || cap(s.buf) > maxLine || c.total != 64<<20 || c.dropped != 64<<20-1<<10 {
		t.Fatalf("out %d buf cap %d total %d dropped %d", len(c.out), cap(s.buf), c.total, c.dropped)
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nothing here", "nothing here"},
		{"ghp_" + strings.Repeat("x", 36), masked},
		{"a github_pat_" + strings.Repeat("b", 30) + " z", "a " + masked + " z"},
		{"key sk-ant-" + strings.Repeat("q", 30), "key " + masked},
		{"AKIA" + strings.Repeat("B", 16), masked},
		{"-----BEGIN RSA PRIVATE KEY-----", masked},
		{"ghp_short", "ghp_short"},
	}
	for _, tt := range tests {
		if got := string(mask([]byte(tt.in))); got != tt.want {
			t.Errorf("mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
