package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxTimeout is the longest agent.timeout a file may set.
const MaxTimeout = 24 * time.Hour

// Size is a byte count. In the file it is an integer or a string with a
// binary unit: "512MiB", "2GiB", "100k" (k, m, g, t and their KiB/KB
// spellings all mean powers of 1024).
type Size int64

// Duration is a run time, written as a Go duration ("30m", "1h30m").
type Duration time.Duration

// Command is an agent command line: a list of arguments, or in the file a
// single string split on white space.
type Command []string

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"tb", 1 << 40},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// ParseSize parses a size string ("2GiB", "512m", "1048576").
func ParseSize(s string) (Size, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(v, u.suffix); ok {
			mult, v = u.mult, strings.TrimSpace(rest)
			break
		}
	}
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a size (like 512MiB, 2GiB or 1048576)", s)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is too large a size", s)
	}
	if n == 0 {
		return 0, fmt.Errorf("%q: a size must be positive", s)
	}
	return Size(n * mult), nil
}

// sizeOf accepts what the parsed file holds for a size: an integer or a string.
func sizeOf(v any) (Size, error) {
	switch x := v.(type) {
	case int64:
		if x <= 0 {
			return 0, fmt.Errorf("%d: a size must be positive", x)
		}
		return Size(x), nil
	case float64:
		if x != math.Trunc(x) || x <= 0 || x >= math.MaxInt64 {
			return 0, fmt.Errorf("%v is not a size (a whole positive number of bytes)", x)
		}
		return Size(x), nil
	case string:
		return ParseSize(x)
	}
	return 0, fmt.Errorf("%v is not a size", v)
}

// UnmarshalJSON accepts an integer or a size string.
func (s *Size) UnmarshalJSON(b []byte) error {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return fmt.Errorf("size: %w", err)
	}
	if n, ok := v.(json.Number); ok {
		i, err := n.Int64()
		if err != nil {
			return fmt.Errorf("%s is not a size", n)
		}
		v = i
	}
	n, err := sizeOf(v)
	if err != nil {
		return err
	}
	*s = n
	return nil
}

// ParseDuration parses a run time: a Go duration, positive, at most MaxTimeout.
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (like 30m or 1h30m)", s)
	}
	if d < time.Second || d > MaxTimeout {
		return 0, fmt.Errorf("%q is out of range (1s to %s)", s, MaxTimeout)
	}
	return Duration(d), nil
}

// String renders the duration as Go does ("30m0s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON accepts a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("a duration must be a string like 30m")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalJSON accepts a list of strings or one string split on white space.
func (c *Command) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = strings.Fields(s)
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return errors.New("a command must be a string or a list of strings")
	}
	*c = l
	return nil
}
