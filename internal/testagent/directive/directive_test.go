package directive

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		task    string
		want    []Directive
		wantErr string
	}{
		{name: "no directives", task: "# Fix the bug\n\nPlease fix it.\n", want: nil},
		{
			name: "text around directives",
			task: "Title\nsome text agentgate-test: exit 3\n  agentgate-test: write a/b.txt hello  world\\n\nagentgate-test:exit 3\n",
			want: []Directive{
				{Line: 3, Verb: "write", Args: []string{"a/b.txt", "hello  world\\n"}},
				{Line: 4, Verb: "exit", Args: []string{"3"}},
			},
		},
		{name: "no-arg verbs", task: "agentgate-test: id\nagentgate-test: probe-net\nagentgate-test: forkbomb", want: []Directive{
			{Line: 1, Verb: "id", Args: nil}, {Line: 2, Verb: "probe-net"}, {Line: 3, Verb: "forkbomb"},
		}},
		{name: "sleep forever", task: "agentgate-test: sleep forever", want: []Directive{{Line: 1, Verb: "sleep", Args: []string{"forever"}}}},
		{name: "sleep fraction", task: "agentgate-test: sleep 0.5", want: []Directive{{Line: 1, Verb: "sleep", Args: []string{"0.5"}}}},
		{name: "flood size", task: "agentgate-test: flood 200M", want: []Directive{{Line: 1, Verb: "flood", Args: []string{"200M"}}}},
		{name: "symlink", task: "agentgate-test: symlink /etc/passwd link", want: []Directive{{Line: 1, Verb: "symlink", Args: []string{"/etc/passwd", "link"}}}},
		{name: "files", task: "agentgate-test: files 100 many", want: []Directive{{Line: 1, Verb: "files", Args: []string{"100", "many"}}}},
		{name: "json verbatim", task: `agentgate-test: json {"type":"message", "text":"hi"}`, want: []Directive{{Line: 1, Verb: "json", Args: []string{`{"type":"message", "text":"hi"}`}}}},
		{name: "summary text", task: "agentgate-test: summary Did  the thing", want: []Directive{{Line: 1, Verb: "summary", Args: []string{"Did  the thing"}}}},
		{name: "network probes", task: "agentgate-test: connect 172.17.0.1:8080\nagentgate-test: lookup example.invalid\nagentgate-test: proxyget http://allowed.test/x", want: []Directive{
			{Line: 1, Verb: "connect", Args: []string{"172.17.0.1:8080"}},
			{Line: 2, Verb: "lookup", Args: []string{"example.invalid"}},
			{Line: 3, Verb: "proxyget", Args: []string{"http://allowed.test/x"}},
		}},
		{name: "connect without port", task: "agentgate-test: connect 172.17.0.1", wantErr: "not host:port"},
		{name: "proxyget ftp", task: "agentgate-test: proxyget ftp://allowed.test/", wantErr: "not an http:// or https:// URL"},
		{name: "proxyleak one arg", task: "agentgate-test: proxyleak https://allowed.test/", wantErr: "argument"},
		{name: "proxyget no host", task: "agentgate-test: proxyget http:///x", wantErr: "not an http:// or https:// URL"},
		{name: "unknown verb", task: "x\nagentgate-test: rm -rf /", wantErr: `line 2: unknown verb "rm"`},
		{name: "empty directive", task: "agentgate-test:   ", wantErr: "empty directive"},
		{name: "write without text", task: "agentgate-test: write a.txt", wantErr: "write: want"},
		{name: "too many args", task: "agentgate-test: delete a b", wantErr: "delete: want <path>"},
		{name: "arg for no-arg verb", task: "agentgate-test: env now", wantErr: "env: want no arguments"},
		{name: "exit out of range", task: "agentgate-test: exit 256", wantErr: "not 0..255"},
		{name: "exit not number", task: "agentgate-test: exit x", wantErr: "not 0..255"},
		{name: "sleep negative", task: "agentgate-test: sleep -1", wantErr: "non-negative"},
		{name: "bad size", task: "agentgate-test: balloon lots", wantErr: "not a byte count"},
		{name: "files negative", task: "agentgate-test: files -3 d", wantErr: "non-negative integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.task)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1024", 1024, true}, {"64K", 64 << 10, true}, {"200M", 200 << 20, true},
		{"2G", 2 << 30, true}, {"", 0, false}, {"-1", 0, false}, {"1T", 0, false},
		{"9999999999999G", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct{ in, want string }{
		{`a\nb`, "a\nb"}, {`a\tb`, "a\tb"}, {`a\\nb`, `a\nb`}, {`a\qb`, `a\qb`}, {`end\`, `end\`}, {"plain", "plain"},
	}
	for _, tt := range tests {
		if got := Unescape(tt.in); got != tt.want {
			t.Errorf("Unescape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestVerbsMatchArities(t *testing.T) {
	for v := range Verbs {
		if _, ok := arities[v]; !ok {
			t.Errorf("verb %q has no arity", v)
		}
	}
	for v := range arities {
		if _, ok := Verbs[v]; !ok {
			t.Errorf("arity for %q has no usage", v)
		}
	}
}
