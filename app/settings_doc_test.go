package app

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// settingsDoc is the page whose table documents every operator setting.
const settingsDoc = "docs/operating.md"

// describedDefaults are the settings whose default is not a value but is
// worked out at start-up; the table states it in words, beginning so.
var describedDefaults = map[string]string{
	"docker-host":   "DOCKER_HOST or the local socket",
	"worker-id":     "host name",
	"agent-model":   "the agent's default",
	"agent-cmd":     "image default",
	"drain-timeout": "the longest job: 2×timeout+22m",
	"public-url":    "http://<admin-listen> when loopback",
}

// requiredSettings may be documented as "required": serve refuses to
// start without them.
var requiredSettings = map[string]bool{"app-id": true, "private-key": true, "webhook-secret": true}

// settingsRow is one row of the operator settings table: its settings,
// grouped as written ("`a`, `b` / `b-file`" is two groups, the second a
// setting with its -file variant), and the default stated for each group.
type settingsRow struct {
	line     string
	groups   [][]string
	defaults []string
}

// readSettingsTable parses the table of settingsDoc whose header is
// "| setting | default | meaning |".
func readSettingsTable(t *testing.T) []settingsRow {
	t.Helper()
	b, err := os.ReadFile("../" + settingsDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "\n| setting | default | meaning |\n| --- | --- | --- |\n")
	if !ok {
		t.Fatalf("%s has no table of operator settings", settingsDoc)
	}
	var rows []settingsRow
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, " | ")
		if len(cells) < 3 {
			t.Fatalf("%s: settings row %q", settingsDoc, line)
		}
		r := settingsRow{line: line}
		for _, g := range strings.Split(strings.TrimPrefix(cells[0], "| "), ",") {
			var keys []string
			for _, k := range strings.Split(g, "/") {
				keys = append(keys, strings.Trim(strings.TrimSpace(k), "`"))
			}
			r.groups = append(r.groups, keys)
		}
		def := strings.ReplaceAll(cells[1], "`", "")
		switch parts := strings.Split(def, ", "); {
		case len(r.groups) == 1:
			r.defaults = []string{def}
		case len(parts) == 1:
			for range r.groups {
				r.defaults = append(r.defaults, def)
			}
		case len(parts) == len(r.groups):
			r.defaults = parts
		default:
			t.Errorf("%s: row %q names %d settings but %d defaults", settingsDoc, line, len(r.groups), len(parts))
			continue
		}
		rows = append(rows, r)
	}
	return rows
}

// firstWord is the value a default cell begins with: "0 (unlimited)" and
// "0: the URL's…" are 0, ":8080" is ":8080".
var firstWord = regexp.MustCompile(`^(\S+?)(?::\s|\s|;|,|$)`)

// TestOperatorSettingsTable keeps docs/operating.md's table of operator
// settings in step with the code: one row for each setting LoadConfig
// knows, none for a setting it does not, and each stated default the one
// the code applies (applying the stated value to DefaultConfig changes
// nothing; "empty", "none", "off", "false" and 0 are the zero value).
func TestOperatorSettingsTable(t *testing.T) {
	byKey := map[string]setting{}
	for _, s := range allSettings() {
		byKey[s.key] = s
	}
	documented := map[string]string{}
	for _, r := range readSettingsTable(t) {
		for i, keys := range r.groups {
			for _, k := range keys {
				if _, ok := byKey[k]; !ok {
					t.Errorf("%s documents %q, which is no setting (row %q)", settingsDoc, k, r.line)
				}
				if prev, ok := documented[k]; ok {
					t.Errorf("%s documents %q twice: %q and %q", settingsDoc, k, prev, r.line)
				}
				documented[k] = r.line
			}
			// The first key of a group carries the value; the others are
			// its -file variants.
			key := keys[0]
			s, ok := byKey[key]
			if !ok {
				continue
			}
			if msg := checkDefault(s, strings.TrimSpace(r.defaults[i])); msg != "" {
				t.Errorf("%s: %s: %s (row %q)", settingsDoc, key, msg, r.line)
			}
		}
	}
	for _, s := range allSettings() {
		if _, ok := documented[s.key]; !ok {
			t.Errorf("setting %q (%s) has no row in %s's table of operator settings", s.key, s.env(), settingsDoc)
		}
	}
}

// sameConfig: a and b are equal, an empty list the same as none.
func sameConfig(a, b Config) bool {
	return reflect.DeepEqual(a, b) || fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

// helpStates: s's help text (what -h shows) names v as its default, for a
// setting whose zero value the code resolves at use ("0 = 16384",
// "(default 1m)", "off by default").
func helpStates(s setting, v string) bool {
	for _, form := range []string{"(default " + v + ")", "0 = " + v + ")", v + " by default", "default " + v + ")"} {
		if strings.Contains(s.help, form) {
			return true
		}
	}
	return false
}

// checkDefault says what is wrong with def as the documented default of s,
// or "".
func checkDefault(s setting, def string) string {
	if derivedDefaults[s.key] {
		if want := settingDefaults[s.key]; !strings.HasPrefix(def, want) {
			return "default " + strconv.Quote(def) + ", want what -h shows: " + strconv.Quote(want)
		}
		return ""
	}
	if want, ok := describedDefaults[s.key]; ok {
		if !strings.HasPrefix(def, want) {
			return "default " + strconv.Quote(def) + ", want it to begin " + strconv.Quote(want)
		}
		return ""
	}
	m := firstWord.FindStringSubmatch(def)
	if m == nil {
		return "no default stated"
	}
	word := m[1]
	var tries []string
	switch word {
	case "required":
		if !requiredSettings[s.key] {
			return "documented as required, which this test does not know it to be"
		}
		return ""
	case "empty", "none":
		tries = []string{"", "0", "false"}
	case "off":
		tries = []string{"off", "", "0"}
	default:
		tries = []string{word}
	}
	var lastErr error
	for _, v := range tries {
		got, want := DefaultConfig(), DefaultConfig()
		if err := s.apply(&got, v); err != nil {
			lastErr = err
			continue
		}
		switch {
		case sameConfig(got, want):
		case helpStates(s, word):
			// The code keeps the zero value and resolves it at use; its
			// help says to what.
		default:
			return "documented default " + strconv.Quote(def) + " is not DefaultConfig's, nor what -h says"
		}
		return ""
	}
	return "documented default " + strconv.Quote(def) + " does not apply: " + lastErr.Error()
}
