package telemetry

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMarkdown(t *testing.T) {
	tests := []struct {
		name    string
		s       Summary
		want    []string // substrings that must appear
		notWant []string // substrings that must not appear
	}{
		{
			name: "succeeded with files",
			s: Summary{Outcome: "succeeded", Duration: "1m3s", ExitCode: intPtr(0), Added: 13, Removed: 1,
				Files:      []SummaryFile{{Path: "a.go", Op: "modified", Added: 3, Removed: 1}, {Path: "logo.png", Op: "added", Binary: true}},
				OutputTail: "all good\n"},
			want: []string{
				"**Outcome:** succeeded", "**Duration:** 1m3s", "**Agent exit code:** 0",
				"| ` a.go ` | modified | +3 −1 |", "| ` logo.png ` | added | binary |",
				"**2 files changed**, +13 −1", "```text\nall good\n\n```",
			},
			notWant: []string{"Limits hit", "Policy flags"},
		},
		{
			name:    "running",
			s:       Summary{},
			want:    []string{"**Outcome:** in progress"},
			notWant: []string{"Agent exit code", "```"},
		},
		{
			name: "failed with limits and flags",
			s: Summary{Outcome: "timed out", Reason: "wall clock", ExitCode: intPtr(137), LimitsHit: []string{"timeout", "output"},
				Flags: []string{"binary file: x.bin"}, OutputBytes: 100, DroppedBytes: 40},
			want: []string{"**Outcome:** timed out", "**Reason:** wall clock", "**Agent exit code:** 137",
				"**Limits hit:** timeout, output", "**Policy flags:**\n- binary file\\: x\\.bin", "dropped 40 of 100 bytes"},
		},
		{
			name: "hostile output cannot close the fence",
			s:    Summary{Outcome: "failed", OutputTail: "x\n```\n# pwned\n`````\n@someone <img src=x>"},
			want: []string{"``````text\n", "\n``````\n", "@\u200Bsomeone <img src=x>"},
		},
		{
			name: "hostile path and flag",
			s: Summary{Outcome: "failed", Files: []SummaryFile{{Path: "a|b`c\n| x |", Op: "added"}},
				Flags: []string{"@admin <script>[x](http://e)"}},
			want:    []string{"| `` a\\|b`c\uFFFD\\| x \\| `` |", "- @\u200Badmin \\<script\\>\\[x\\]\\(http\\:\\/\\/e\\)"},
			notWant: []string{"\n| x |", "<script>"},
		},
		{
			name:    "control characters in output replaced",
			s:       Summary{Outcome: "failed", OutputTail: "a\x1b[31mred\x00\u202Eevil\r\n"},
			want:    []string{"a\uFFFD[31mred\uFFFD\uFFFDevil\n"},
			notWant: []string{"\x1b", "\x00", "\u202E", "\r"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := tt.s.Markdown()
			for _, w := range tt.want {
				if !strings.Contains(md, w) {
					t.Errorf("markdown lacks %q:\n%s", w, md)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(md, w) {
					t.Errorf("markdown holds %q:\n%s", w, md)
				}
			}
		})
	}
}

func TestMarkdownBounded(t *testing.T) {
	many := make([]SummaryFile, 5000)
	for i := range many {
		many[i] = SummaryFile{Path: strings.Repeat("d/", 100) + fmt.Sprint(i), Op: "added", Added: 1}
	}
	flags := make([]string, 500)
	for i := range flags {
		flags[i] = strings.Repeat("f", 400)
	}
	tests := []struct {
		name     string
		s        Summary
		wantTail string
	}{
		{name: "huge output keeps its end", s: Summary{Outcome: "failed", OutputTail: strings.Repeat("é", 100000) + "THE END"}, wantTail: "THE END\n```\n"},
		{name: "backtick flood", s: Summary{Outcome: "failed", OutputTail: strings.Repeat("`", 70000) + "END"}},
		{name: "many files and flags", s: Summary{Outcome: "succeeded", Files: many, Flags: flags, OutputTail: strings.Repeat("x", 70000)}},
		{name: "huge reason", s: Summary{Outcome: "failed", Reason: strings.Repeat("r", 100000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := tt.s.Markdown()
			if n := utf8.RuneCountInString(md); n > MaxMarkdown || len(md) > MaxMarkdown {
				t.Fatalf("markdown is %d runes, %d bytes; limit %d", n, len(md), MaxMarkdown)
			}
			if !utf8.ValidString(md) {
				t.Fatal("markdown is not valid UTF-8")
			}
			if tt.wantTail != "" && !strings.HasSuffix(md, tt.wantTail) {
				t.Errorf("markdown ends %q, want suffix %q", md[len(md)-40:], tt.wantTail)
			}
			if strings.Count(md, "```")%2 != 0 && !strings.Contains(md, "````") {
				t.Errorf("unbalanced fences")
			}
		})
	}
	md := Summary{Files: many}.Markdown()
	if !strings.Contains(md, "… and 4800 more files") || !strings.Contains(md, "**5000 files changed**") {
		t.Errorf("file table not capped: %d bytes", len(md))
	}
}

func FuzzMarkdown(f *testing.F) {
	f.Add("a.go", "x\n```\ny", "reason")
	f.Add("a|b`c", strings.Repeat("`", 40), "@x <b>")
	f.Fuzz(func(t *testing.T, path, output, flag string) {
		s := Summary{Outcome: "failed", Files: []SummaryFile{{Path: path, Op: "added"}}, Flags: []string{flag}, OutputTail: output}
		md := s.Markdown()
		if len(md) > MaxMarkdown || !utf8.ValidString(md) {
			t.Fatalf("markdown of %d bytes, valid UTF-8 %v", len(md), utf8.ValidString(md))
		}
		// The output block must end with the fence that opened it.
		if i := strings.Index(md, "\n**Output** (last part):\n\n"); i >= 0 {
			block := md[i+len("\n**Output** (last part):\n\n"):]
			fence := block[:strings.Index(block, "text\n")]
			if strings.Trim(fence, "`") != "" || !strings.HasSuffix(block, "\n"+fence+"\n") ||
				strings.Contains(block[len(fence)+5:len(block)-len(fence)-2], fence) {
				t.Fatalf("output fence %q not closed exactly once:\n%s", fence, block)
			}
		}
		// The files table stays one row per file.
		head, _, _ := strings.Cut(md, "\n**Output** (last part):")
		if n := strings.Count(head, "\n| "); n != 3 {
			t.Fatalf("%d table lines, want header, separator and 1 row:\n%s", n, md)
		}
	})
}
