package main

import (
	"fmt"
	"strings"
)

// flagSpec is one flag a CLI's parser accepts: its long name, an optional
// one-letter short name and aliases, and whether it takes a value.
type flagSpec struct {
	long    string
	short   string
	aliases []string
	value   bool
	choices []string // allowed values, when the parser checks them
}

// usageError is what a CLI's argument parser refuses; real parsers (clap,
// argparse, commander) exit 2 on it.
type usageError struct {
	msg string
	arg string // the unknown argument, when that is the error
}

func (e usageError) Error() string { return e.msg }

// parsed is a command line as a parser read it.
type parsed struct {
	flags map[string][]string // by long name; booleans hold "true"
	args  []string            // positionals, in order
}

func (p parsed) has(long string) bool { return len(p.flags[long]) > 0 }

// last is the value of the last occurrence of long, or "".
func (p parsed) last(long string) string {
	if v := p.flags[long]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// parseFlags reads args the way clap and argparse do for the flags in
// specs: --long, --long=value, --long value, -s value, -svalue; "--" ends
// the flags; an unknown flag, a missing value or a value outside choices
// is a usageError.
func parseFlags(args []string, specs []flagSpec) (parsed, error) {
	byName := map[string]flagSpec{}
	for _, s := range specs {
		byName["--"+s.long] = s
		for _, a := range s.aliases {
			byName["--"+a] = s
		}
		if s.short != "" {
			byName["-"+s.short] = s
		}
	}
	p := parsed{flags: map[string][]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			p.args = append(p.args, args[i+1:]...)
			break
		}
		if a == "-" || !strings.HasPrefix(a, "-") {
			p.args = append(p.args, a)
			continue
		}
		name, value, inline := strings.Cut(a, "=")
		if !strings.HasPrefix(a, "--") && len(a) > 2 {
			name, value, inline = a[:2], a[2:], true
		}
		s, ok := byName[name]
		if !ok {
			return p, usageError{fmt.Sprintf("error: unexpected argument '%s' found", name), name}
		}
		if !s.value {
			if inline {
				return p, usageError{msg: fmt.Sprintf("error: unexpected value '%s' for '%s' found; no more were expected", value, name)}
			}
			p.flags[s.long] = append(p.flags[s.long], "true")
			continue
		}
		if !inline {
			if i+1 >= len(args) {
				return p, usageError{msg: fmt.Sprintf("error: a value is required for '%s' but none was supplied", name)}
			}
			i++
			value = args[i]
		}
		if len(s.choices) > 0 && !contains(s.choices, value) {
			return p, usageError{msg: fmt.Sprintf("error: invalid value '%s' for '%s' [possible values: %s]", value, name, strings.Join(s.choices, ", "))}
		}
		p.flags[s.long] = append(p.flags[s.long], value)
	}
	return p, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// env is the process environment as a map.
func envMap(environ []string) map[string]string {
	m := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
