package gitops

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// isDotGit reports whether git itself would refuse name as a path
// component because some file system takes it for ".git": git's
// verify_path with core.protectHFS and core.protectNTFS (is_hfs_dotgit,
// is_ntfs_dotgit). That is ".git" in any case; on HFS+ with code points
// HFS+ ignores anywhere in it (".g\u200cit"); on NTFS with trailing dots
// or spaces (".git. "), an alternate data stream (".git::$INDEX_ALLOCATION")
// or as its 8.3 short name ("git~1").
func isDotGit(name string) bool {
	return isHFSDot(name, "git") || isNTFSDotGit(name)
}

// isHFSDot reports whether HFS+ takes name for "."+needle (needle lower
// case ASCII): git's is_hfs_dot_generic. HFS+ ignores some code points
// entirely and folds case.
func isHFSDot(name, needle string) bool {
	rs := make([]rune, 0, len(needle)+1)
	for _, r := range name {
		if r == utf8.RuneError {
			return false // malformed UTF-8 is never taken for .git
		}
		if hfsIgnored(r) {
			continue
		}
		if len(rs) > len(needle) {
			return false
		}
		rs = append(rs, r)
	}
	if len(rs) != len(needle)+1 || rs[0] != '.' {
		return false
	}
	for i, r := range rs[1:] {
		if r > unicode.MaxASCII || unicode.ToLower(r) != rune(needle[i]) {
			return false
		}
	}
	return true
}

// hfsIgnored is the code points HFS+ drops from a name when comparing
// (git's next_hfs_char).
func hfsIgnored(r rune) bool {
	switch {
	case r >= 0x200c && r <= 0x200f, // zero width (non-)joiner, LTR/RTL marks
		r >= 0x202a && r <= 0x202e, // bidi embeddings and overrides
		r >= 0x206a && r <= 0x206f, // deprecated format characters
		r == 0xfeff:                // zero width no-break space
		return true
	}
	return false
}

// isNTFSDotGit is git's is_ntfs_dotgit for one path component: ".git" or
// "git~1" in any case, followed by nothing but dots and spaces, up to
// the end or a ':' (an alternate data stream, which NTFS opens as the
// file itself) or a backslash (a directory separator there).
func isNTFSDotGit(name string) bool {
	var rest string
	switch {
	case len(name) >= 4 && name[0] == '.' && strings.EqualFold(name[1:4], "git"):
		rest = name[4:]
	case len(name) >= 5 && strings.EqualFold(name[:3], "git") && name[3:5] == "~1":
		rest = name[5:]
	default:
		return false
	}
	return onlyDotsAndSpaces(rest)
}

// onlyDotsAndSpaces reports whether s, up to its end, a ':' or a
// backslash, holds only dots and spaces.
func onlyDotsAndSpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ':', '\\':
			return true
		case '.', ' ':
		default:
			return false
		}
	}
	return true
}

// isNTFSDot is git's is_ntfs_dot_generic: whether NTFS takes name for
// "."+needle (lower case ASCII), by its long name with trailing dots,
// spaces or a stream, or by one of its 8.3 short names: the first six
// characters of needle then ~1 to ~4, or prefix (git's precomputed
// fallback) then ~ and digits.
func isNTFSDot(name, needle, prefix string) bool {
	n := len(needle)
	if len(name) >= n+1 && name[0] == '.' && strings.EqualFold(name[1:n+1], needle) {
		return onlyDotsAndSpaces(name[n+1:])
	}
	if len(name) >= 8 && strings.EqualFold(name[:6], needle[:6]) && name[6] == '~' && name[7] >= '1' && name[7] <= '4' {
		return onlyDotsAndSpaces(name[8:])
	}
	sawTilde := false
	i := 0
	for ; i < 8; i++ {
		switch c := byteAt(name, i); {
		case c == 0:
			return false
		case sawTilde:
			if c < '0' || c > '9' {
				return false
			}
		case c == '~':
			i++
			if c := byteAt(name, i); c < '1' || c > '9' {
				return false
			}
			sawTilde = true
		case i >= 6, c >= 0x80:
			return false
		case toLowerASCII(c) != prefix[i]:
			return false
		}
	}
	return onlyDotsAndSpaces(name[min(i, len(name)):])
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func toLowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// nameProblem says why a directory entry name cannot be committed as is,
// or "" when it can. ".git" and its look-alikes are handled separately.
func nameProblem(name string) string {
	switch {
	case name == "" || name == "." || name == "..":
		return "reserved name"
	case strings.ContainsAny(name, "/\x00"):
		return "slash or NUL in name"
	case !utf8.ValidString(name):
		return "invalid UTF-8 in name"
	}
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f || unicode.Is(unicode.Cc, r):
			return "control character in name"
		case unicode.Is(unicode.Cf, r), r == 0x2028, r == 0x2029:
			// Bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E,
			// U+200F, U+061C) and zero-width characters (U+200B–U+200D,
			// U+2060, U+FEFF) make a name show as another one.
			return "bidi or invisible character in name"
		}
	}
	return ""
}

// gitMetaFiles are the files git interprets, with the prefix of their
// fallback NTFS short names (git's path.c); a symlink with one of these
// names, or a name a file system takes for one, is never read and never
// committed.
var gitMetaFiles = []struct{ name, ntfsPrefix string }{
	{"gitignore", "gi250a"},
	{"gitattributes", "gi7d29"},
	{"gitmodules", "gi7eba"},
	{"mailmap", "maba30"},
}

func isGitMetaFile(name string) bool {
	for _, m := range gitMetaFiles {
		if isHFSDot(name, m.name) || isNTFSDot(name, m.name, m.ntfsPrefix) {
			return true
		}
	}
	return false
}

// validPath checks a slash path from a Change before it goes into a tree.
func validPath(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	for _, c := range strings.Split(p, "/") {
		if isDotGit(c) {
			return errors.New("path component .git")
		}
		if why := nameProblem(c); why != "" {
			return errors.New(why)
		}
	}
	return nil
}
