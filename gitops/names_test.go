package gitops

import "testing"

// TestIsDotGit: the names git's verify_path refuses as ".git" on HFS+ and
// NTFS (is_hfs_dotgit, is_ntfs_dotgit; cases from git's t0060), and near
// misses it accepts.
func TestIsDotGit(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{".git", true},
		{".GIT", true},
		{".gIt", true},
		{".g\u200cit", true}, // zero width non-joiner: HFS+ ignores it
		{"\u200d.git", true}, // zero width joiner
		{".git\u200e", true}, // left-to-right mark
		{".\u202egit", true}, // right-to-left override
		{".gi\u206at", true}, // inhibit symmetric swapping
		{".git\ufeff", true}, // zero width no-break space
		{".git.", true},      // NTFS drops trailing dots
		{".git ", true},      // and spaces
		{".git. . ..", true}, //
		{".git::$INDEX_ALLOCATION", true},
		{".git:stream", true},
		{".GIT . :x", true},
		{".git\\hooks", true}, // a directory separator on NTFS
		{"git~1", true},       // the 8.3 short name
		{"GIT~1", true},
		{"Git~1. ", true},
		{"git~1:$DATA", true},

		{"git", false},
		{".gitx", false},
		{"..git", false},
		{"x.git", false},
		{".gitignore", false},
		{".git~1", false},
		{"git~2", false}, // .git is always the first: only ~1 is its
		{"git~10", false},
		{".git.x", false},
		{".g\u200bit", false}, // zero width space is not ignored by HFS+ (nameProblem refuses it)
		{".gıt", false},       // dotless i: not ASCII
		{".git\xff", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isDotGit(tt.name); got != tt.want {
			t.Errorf("isDotGit(%+q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestIsGitMetaFile: the names HFS+ and NTFS take for .gitmodules,
// .gitattributes, .gitignore and .mailmap (git's is_hfs_dotgitmodules,
// is_ntfs_dotgitmodules and friends), which are never read through or
// committed as symlinks.
func TestIsGitMetaFile(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{".gitmodules", true},
		{".GITMODULES", true},
		{".git\u200cmodules", true},
		{".gitmodules ", true},
		{".gitmodules.. .", true},
		{".gitmodules:$DATA", true},
		{"GITMOD~1", true},
		{"gitmod~4", true},
		{"GI7EBA~1", true},
		{"GI7EBA~9", true},
		{"GI7EB~10", true},
		{"GI7EB~99", true},
		{"GI7E~123", true},
		{".gitattributes", true},
		{"gitatt~2", true},
		{"gi7d29~1", true},
		{".gitignore", true},
		{"GITIGN~1", true},
		{"gi250a~1", true},
		{".mailmap", true},
		{"MAILMA~1", true},
		{"maba30~3", true},

		{".gitmodulesx", false},
		{"gitmodules", false},
		{"GITMOD~5", false},
		{"GI7EBA~", false},
		{"GI7EBA~0", false},
		{"GI7EBA~~1", false},
		{"GI7EBA~X", false},
		{"Gx7EBA~1", false},
		{"GI7EBX~1", false},
		{"GI7EB~1", false}, // short of eight characters
		{"GI7EB~01", false},
		{"GI7EB~1X", false},
		{".gitmodules\u200b", false},
		{"README.md", false},
	}
	for _, tt := range tests {
		if got := isGitMetaFile(tt.name); got != tt.want {
			t.Errorf("isGitMetaFile(%+q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestNameProblem: control, bidi and invisible characters are refused;
// ordinary Unicode names are not.
func TestNameProblem(t *testing.T) {
	tests := []struct {
		name, want string
	}{
		{"ok.txt", ""},
		{"ü.txt", ""},
		{"日本語.md", ""},
		{"emoji 😀.png", ""},
		{"a b-c_d.e", ""},
		{"", "reserved name"},
		{"..", "reserved name"},
		{"a\nb", "control character in name"},
		{"a\x1bb", "control character in name"},
		{"a\u0085b", "control character in name"}, // C1 next line
		{"a\x7fb", "control character in name"},
		{"bad\xff", "invalid UTF-8 in name"},
		{"invoice\u202efdp.exe", "bidi or invisible character in name"}, // right-to-left override
		{"a\u2066b\u2069", "bidi or invisible character in name"},       // isolates
		{"a\u200eb", "bidi or invisible character in name"},
		{"a\u061cb", "bidi or invisible character in name"}, // Arabic letter mark
		{"zero\u200bwidth", "bidi or invisible character in name"},
		{"a\u200db", "bidi or invisible character in name"},
		{"a\u2060b", "bidi or invisible character in name"}, // word joiner
		{"\ufeffbom", "bidi or invisible character in name"},
		{"soft\u00adhyphen", "bidi or invisible character in name"},
		{"line\u2028sep", "bidi or invisible character in name"},
	}
	for _, tt := range tests {
		if got := nameProblem(tt.name); got != tt.want {
			t.Errorf("nameProblem(%+q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
