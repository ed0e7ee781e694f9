package telemetry

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// IntAttr reads a whole number from attrs. Attrs written in process hold
// Go ints; attrs read back from JSON hold float64. Fractions, NaN and
// values out of int range are rejected.
func IntAttr(attrs map[string]any, key string) (int, bool) {
	return intValue(attrs[key])
}

// AttrText shows an attribute value as text: strings as they are, whole
// numbers without a fraction (however they were decoded), nil as "".
func AttrText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	if n, ok := intValue(v); ok {
		return strconv.Itoa(n)
	}
	return fmt.Sprint(v)
}

// intValue is v as a whole number, if it is one.
func intValue(v any) (int, bool) {
	switch v := v.(type) {
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
