package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Status is the one JSON line the relay prints when its pre-flight is done.
type Status struct {
	Ready  bool   `json:"ready"`
	Reason string `json:"reason,omitempty"` // why not ready
}

// ErrNoStatus is returned by ParseStatus for a line that is not a status.
var ErrNoStatus = errors.New("relay: not a status line")

// ParseStatus reads a status line printed by the relay. Lines that are not
// a JSON object with a "ready" field give ErrNoStatus.
func ParseStatus(line string) (Status, error) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "{") {
		return Status{}, ErrNoStatus
	}
	var raw struct {
		Ready  *bool  `json:"ready"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(line), &raw); err != nil || raw.Ready == nil {
		return Status{}, ErrNoStatus
	}
	return Status{Ready: *raw.Ready, Reason: raw.Reason}, nil
}

// line is s as one JSON line.
func (s Status) line() []byte {
	b, err := json.Marshal(s)
	if err != nil { // cannot happen for this type
		b = []byte(fmt.Sprintf(`{"ready":false,"reason":%q}`, err.Error()))
	}
	return append(b, '\n')
}
