package telemetry

import (
	"encoding/json"
	"math"
)

// IntAttr reads a whole number from attrs. Attrs written in process hold
// Go ints; attrs read back from JSON hold float64. Fractions, NaN and
// values out of int range are rejected.
func IntAttr(attrs map[string]any, key string) (int, bool) {
	switch v := attrs[key].(type) {
	case int:
		return v, true
	case int32:
		return int(v), true
	case int64:
		if v < math.MinInt || v > math.MaxInt {
			return 0, false
		}
		return int(v), true
	case float64:
		if v != math.Trunc(v) || v < math.MinInt || v >= math.MaxInt {
			return 0, false
		}
		return int(v), true
	case json.Number:
		n, err := v.Int64()
		if err != nil || n < math.MinInt || n > math.MaxInt {
			return 0, false
		}
		return int(n), true
	}
	return 0, false
}

// boolAttr reads a boolean from attrs; anything but true is false.
func boolAttr(attrs map[string]any, key string) bool {
	b, _ := attrs[key].(bool)
	return b
}

// stringAttr reads a string from attrs; anything but a string is "".
func stringAttr(attrs map[string]any, key string) string {
	s, _ := attrs[key].(string)
	return s
}
