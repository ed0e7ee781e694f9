package secretforms

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// ScanJSON is Scan for a JSON document: b as it is, then the text of its
// strings (values and keys) decoded, so a secret written with JSON
// escapes ("\u0041KIA…", "\/") is found as well. Without a backslash
// in b the decoded strings are b's own bytes and the first scan suffices.
// A body that is not JSON, or stops being JSON partway, has the strings
// before that point scanned. It reports whether the hit was in the
// decoded strings.
func (s *Scanner) ScanJSON(b []byte) (h Hit, decoded, found bool) {
	if h, ok := s.Scan(b); ok {
		return h, false, true
	}
	if s.Len() == 0 || bytes.IndexByte(b, '\\') < 0 {
		return Hit{}, false, false
	}
	if h, ok := s.Scan(JSONStrings(b)); ok {
		return h, true, true
	}
	return Hit{}, false, false
}

// JSONStrings is the decoded text of every string in the JSON document b
// (object keys and values, at any depth), one per line, as far as b
// parses; b need not be one complete document (concatenated or
// newline-delimited documents are read in turn).
func JSONStrings(b []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	var out []byte
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			return out // as far as it parsed
		}
		if v, ok := tok.(string); ok {
			out = append(out, v...)
			out = append(out, '\n')
		}
	}
}
