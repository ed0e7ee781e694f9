package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Bounds on a configuration file. The file comes from the repository, so
// anyone who can push a branch could write it: it is hostile input.
const (
	MaxConfigBytes = 64 << 10 // larger files are refused unread
	MaxConfigDepth = 32       // deepest nesting of mappings and lists
)

// Parse reads one configuration file named name (used in errors, e.g.
// ".github/agentgate.yml"): YAML, checked against schema.json, then typed.
// Every problem is a *ConfigError naming the line. An empty file (or one
// holding only comments or null) is a Config that sets nothing.
//
// Refused outright: files over MaxConfigBytes, nesting deeper than
// MaxConfigDepth, aliases and merge keys (so no alias expansion can blow
// up), more than one YAML document, duplicate keys, tags other than the
// plain scalar ones, and every key the schema does not know.
func Parse(name string, data []byte) (cfg *Config, err error) {
	if len(data) > MaxConfigBytes {
		return nil, &ConfigError{File: name, Problem: fmt.Sprintf("the file is %d bytes; the limit is %d", len(data), MaxConfigBytes)}
	}
	defer func() {
		if r := recover(); r != nil { // a YAML parser bug must not take the worker down
			cfg, err = nil, &ConfigError{File: name, Problem: fmt.Sprintf("cannot parse YAML: %v", r)}
		}
	}()
	root, err := decodeYAML(name, data)
	if err != nil {
		return nil, err
	}
	src := source{file: name, pos: map[string]position{}}
	tree := map[string]any{}
	if root != nil {
		src.pos[""] = position{root.Line, root.Column}
		t := treeBuilder{src: src}
		v, err := t.value(root, "", 1)
		if err != nil {
			return nil, err
		}
		switch m := v.(type) {
		case nil:
		case map[string]any:
			tree = m
		default:
			return nil, src.errorAt("", fmt.Sprintf("the file must be a mapping of settings, not %s", kindName(root)))
		}
	}
	if err := validateTree(src, tree); err != nil {
		return nil, err
	}
	cfg, err = typed(tree)
	if err != nil {
		return nil, &ConfigError{File: name, Problem: err.Error()}
	}
	cfg.src = src
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// decodeYAML parses exactly one YAML document; nil for an empty file.
func decodeYAML(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(name, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		line := more.Line
		if err != nil {
			return nil, yamlError(name, err)
		}
		return nil, &ConfigError{File: name, Line: line, Problem: "the file holds more than one YAML document"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// yamlError turns the YAML library's "yaml: line 3: ..." into a ConfigError.
func yamlError(name string, err error) *ConfigError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &ConfigError{File: name, Problem: "invalid YAML: " + msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				e.Line = n
				e.Problem = "invalid YAML:" + rest[i+1:]
			}
		}
	}
	return e
}

// treeBuilder turns YAML nodes into JSON-like values (map[string]any,
// []any, string, int64, float64, bool, nil) and records each one's place.
type treeBuilder struct{ src source }

func (t treeBuilder) fail(n *yaml.Node, path, problem string) *ConfigError {
	return &ConfigError{File: t.src.file, Line: n.Line, Column: n.Column, Problem: prefix(path, problem)}
}

func (t treeBuilder) value(n *yaml.Node, path string, depth int) (any, error) {
	if depth > MaxConfigDepth {
		return nil, t.fail(n, path, fmt.Sprintf("nested deeper than %d levels", MaxConfigDepth))
	}
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return nil, t.fail(n, path, "YAML anchors and aliases are not allowed")
	}
	switch n.Kind {
	case yaml.MappingNode:
		return t.mapping(n, path, depth)
	case yaml.SequenceNode:
		if n.Tag != "" && n.ShortTag() != "!!seq" {
			return nil, t.fail(n, path, fmt.Sprintf("tag %s is not allowed", n.Tag))
		}
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			p := joinPath(path, strconv.Itoa(i))
			t.src.pos[p] = position{c.Line, c.Column}
			v, err := t.value(c, p, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		return t.scalar(n, path)
	}
	return nil, t.fail(n, path, "unsupported YAML node")
}

func (t treeBuilder) mapping(n *yaml.Node, path string, depth int) (any, error) {
	if n.ShortTag() != "!!map" {
		return nil, t.fail(n, path, fmt.Sprintf("tag %s is not allowed", n.Tag))
	}
	out := make(map[string]any, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode || k.Anchor != "" {
			return nil, t.fail(k, path, "YAML anchors and aliases are not allowed")
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			return nil, t.fail(k, path, "keys must be plain names (no merge keys, lists or mappings as keys)")
		}
		if k.ShortTag() != "!!str" {
			return nil, t.fail(k, path, fmt.Sprintf("key %s must be a name, not %s", k.Value, tagName(k.ShortTag())))
		}
		p := joinPath(path, k.Value)
		if _, dup := out[k.Value]; dup {
			first := t.src.pos[p]
			return nil, t.fail(k, path, fmt.Sprintf("%s is set twice (first on line %d)", display(p), first.line))
		}
		t.src.pos[p] = position{k.Line, k.Column}
		val, err := t.value(v, p, depth+1)
		if err != nil {
			return nil, err
		}
		out[k.Value] = val
	}
	return out, nil
}

func (t treeBuilder) scalar(n *yaml.Node, path string) (any, error) {
	switch n.ShortTag() {
	case "!!str":
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, t.fail(n, path, fmt.Sprintf("%q is not a boolean", n.Value))
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, t.fail(n, path, fmt.Sprintf("%s is out of range", n.Value))
		}
		return i, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, t.fail(n, path, fmt.Sprintf("%s is not a finite number", n.Value))
		}
		return f, nil
	case "!!timestamp":
		return n.Value, nil // a date where a string is wanted: keep the text
	}
	return nil, t.fail(n, path, fmt.Sprintf("tag %s is not allowed", n.Tag))
}

// typed decodes a schema-valid tree into a Config.
func typed(tree map[string]any) (*Config, error) {
	b, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return &c, nil
}

// joinPath appends one key or index to a path, escaping as a JSON pointer.
func joinPath(path, tok string) string {
	tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
	if path == "" {
		return tok
	}
	return path + "/" + tok
}

// display renders a path for people: limits.memory, network.allow[2].
func display(path string) string {
	if path == "" {
		return ""
	}
	var b strings.Builder
	for i, tok := range strings.Split(path, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// prefix puts the setting's display path in front of a problem.
func prefix(path, problem string) string {
	if d := display(path); d != "" {
		return d + ": " + problem
	}
	return problem
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return tagName(n.ShortTag())
	}
	return "that"
}

func tagName(tag string) string {
	switch tag {
	case "!!str":
		return "a string"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "null"
	}
	return tag
}
