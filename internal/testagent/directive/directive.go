package directive

import (
	"bufio"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Prefix starts every directive line (after optional leading blanks).
const Prefix = "agentgate-test:"

// Directive is one parsed instruction.
type Directive struct {
	Line int      // 1-based line number in the task
	Verb string   // one of Verbs
	Args []string // arguments, already validated for count and form
}

// arity is the allowed number of arguments of a verb: min..max, max < 0
// meaning "the rest of the line is one text argument".
type arity struct{ min, max int }

// rest marks a verb whose last argument is the rest of the line.
const rest = -1

// Verbs lists every verb the agent understands, with its argument shape.
var Verbs = map[string]string{
	"write":     "<path> <text...>",
	"append":    "<path> <text...>",
	"writeenv":  "<path> <ENVVAR> <text...>",
	"delete":    "<path>",
	"symlink":   "<target> <path>",
	"exit":      "<code>",
	"sleep":     "<seconds|forever>",
	"flood":     "<bytes>",
	"forkbomb":  "",
	"balloon":   "<bytes>",
	"filltmp":   "",
	"mkfifo":    "<path>",
	"files":     "<n> <dir>",
	"env":       "",
	"getenv":    "<name>",
	"procs":     "",
	"probe-net": "",
	"connect":   "<host:port>",
	"lookup":    "<name>",
	"proxyget":  "<url>",
	"proxyleak": "<url> <ENVVAR>",
	"llm":       "<prompt...>",
	"id":        "",
	"summary":   "<text...>",
	"json":      "<line>",
}

var arities = map[string]arity{
	"write":     {2, rest},
	"append":    {2, rest},
	"writeenv":  {3, rest},
	"delete":    {1, 1},
	"symlink":   {2, 2},
	"exit":      {1, 1},
	"sleep":     {1, 1},
	"flood":     {1, 1},
	"forkbomb":  {0, 0},
	"balloon":   {1, 1},
	"filltmp":   {0, 0},
	"mkfifo":    {1, 1},
	"files":     {2, 2},
	"env":       {0, 0},
	"getenv":    {1, 1},
	"procs":     {0, 0},
	"probe-net": {0, 0},
	"connect":   {1, 1},
	"lookup":    {1, 1},
	"proxyget":  {1, 1},
	"proxyleak": {2, 2},
	"llm":       {1, rest},
	"id":        {0, 0},
	"summary":   {1, rest},
	"json":      {1, rest},
}

// Parse returns the directives of task in order. Lines that are not
// directives are ignored; a directive line that is malformed (unknown verb,
// wrong argument count or form) is an error naming its line.
func Parse(task string) ([]Directive, error) {
	var out []Directive
	sc := bufio.NewScanner(strings.NewReader(task))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		body, ok := strings.CutPrefix(line, Prefix)
		if !ok {
			continue
		}
		d, err := parseLine(body)
		if err != nil {
			return nil, fmt.Errorf("directive: line %d: %w", n, err)
		}
		d.Line = n
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("directive: %w", err)
	}
	return out, nil
}

// parseLine parses the text after the prefix.
func parseLine(body string) (Directive, error) {
	body = strings.TrimSpace(body)
	verb, tail, _ := strings.Cut(body, " ")
	if verb == "" {
		return Directive{}, fmt.Errorf("empty directive")
	}
	ar, ok := arities[verb]
	if !ok {
		return Directive{}, fmt.Errorf("unknown verb %q", verb)
	}
	var args []string
	if ar.max == rest {
		// Leading fields are single words; the last is the rest of the line.
		tail = strings.TrimSpace(tail)
		for i := 0; i < ar.min-1; i++ {
			var w string
			w, tail, _ = strings.Cut(tail, " ")
			if w == "" {
				break
			}
			args = append(args, w)
			tail = strings.TrimLeft(tail, " ")
		}
		if tail != "" {
			args = append(args, tail)
		}
	} else if f := strings.Fields(tail); len(f) > 0 {
		args = f
	}
	if len(args) < ar.min || (ar.max != rest && len(args) > ar.max) {
		return Directive{}, fmt.Errorf("%s: want %s, got %d argument(s)", verb, usage(verb), len(args))
	}
	if err := checkArgs(verb, args); err != nil {
		return Directive{}, fmt.Errorf("%s: %w", verb, err)
	}
	return Directive{Verb: verb, Args: args}, nil
}

func usage(verb string) string {
	if u := Verbs[verb]; u != "" {
		return u
	}
	return "no arguments"
}

// checkArgs validates the form of numeric arguments.
func checkArgs(verb string, args []string) error {
	switch verb {
	case "exit":
		c, err := strconv.Atoi(args[0])
		if err != nil || c < 0 || c > 255 {
			return fmt.Errorf("exit code %q is not 0..255", args[0])
		}
	case "sleep":
		if args[0] == "forever" {
			return nil
		}
		s, err := strconv.ParseFloat(args[0], 64)
		if err != nil || s < 0 || math.IsInf(s, 0) || math.IsNaN(s) {
			return fmt.Errorf("seconds %q is not a non-negative number", args[0])
		}
	case "flood", "balloon":
		if _, err := ParseSize(args[0]); err != nil {
			return err
		}
	case "connect":
		if _, _, err := net.SplitHostPort(args[0]); err != nil {
			return fmt.Errorf("address %q is not host:port", args[0])
		}
	case "proxyget", "proxyleak":
		if u, err := url.Parse(args[0]); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("url %q is not an http:// or https:// URL", args[0])
		}
	case "files":
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 0 {
			return fmt.Errorf("count %q is not a non-negative integer", args[0])
		}
	}
	return nil
}

// ParseSize parses a byte count with an optional binary suffix K, M or G
// ("200M" = 200 MiB).
func ParseSize(s string) (int64, error) {
	mult := int64(1)
	num := s
	switch {
	case strings.HasSuffix(s, "K"):
		mult, num = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, num = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, num = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q is not a byte count (e.g. 1024, 64K, 200M, 1G)", s)
	}
	return n * mult, nil
}

// Unescape turns the escapes \n, \t and \\ of a text argument into the
// characters they name; any other backslash is kept as is.
func Unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '\\':
			b.WriteByte('\\')
		default:
			b.WriteByte(c)
			continue
		}
		i++
	}
	return b.String()
}
