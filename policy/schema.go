package policy

import (
	"bytes"
	_ "embed" // schema.json
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// SchemaJSON is the JSON Schema (draft 2020-12) of .github/agentgate.yml.
// Editors can use it too; Parse validates every file against it.
//
//go:embed schema.json
var SchemaJSON []byte

const schemaURL = "https://github.com/agentgate/agentgate/policy/schema.json"

// compiledSchema compiles SchemaJSON once, with the "size" and
// "go-duration" formats asserted.
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaJSON))
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: "size", Validate: func(v any) error {
		_, err := sizeOf(v)
		return err
	}})
	c.RegisterFormat(&jsonschema.Format{Name: "go-duration", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil // the type keyword reports it
		}
		_, err := ParseDuration(s)
		return err
	}})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return sch, nil
})

// validateTree checks tree against the schema and reports the first
// problem in file order as a ConfigError.
func validateTree(src source, tree map[string]any) error {
	sch, err := compiledSchema()
	if err != nil {
		return err
	}
	err = sch.Validate(tree)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &ConfigError{File: src.file, Problem: err.Error()}
	}
	var all []*ConfigError
	for _, leaf := range leaves(ve) {
		all = append(all, describe(src, leaf)...)
	}
	if len(all) == 0 {
		return &ConfigError{File: src.file, Problem: "does not match the schema"}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Line != all[j].Line {
			return all[i].Line < all[j].Line
		}
		return all[i].Column < all[j].Column
	})
	return all[0]
}

// leaves returns the innermost errors: the ones that say what is wrong.
func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

var printer = message.NewPrinter(language.English)

// describe renders one schema error in words a repository owner knows,
// located at the offending key.
func describe(src source, e *jsonschema.ValidationError) []*ConfigError {
	path := ""
	for _, tok := range e.InstanceLocation {
		path = joinPath(path, tok)
	}
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		var out []*ConfigError
		for _, p := range k.Properties {
			msg := "unknown setting"
			if path == "" && p == "trigger" {
				// Removed: intake cannot read a repository's file, so the
				// mention and label are the operator's settings only.
				msg = "unknown setting: the mention and label that start runs are the operator's settings (mention, label), not a repository's"
			}
			out = append(out, src.errorAt(joinPath(path, p), prefix(joinPath(path, p), msg)))
		}
		return out
	case *kind.Type:
		return []*ConfigError{src.errorAt(path, prefix(path, fmt.Sprintf("must be %s, not %s", orList(k.Want, article), article(k.Got))))}
	case *kind.Format:
		msg := fmt.Sprintf("%v is not a valid %s", k.Got, k.Want)
		if k.Err != nil {
			msg = k.Err.Error()
		}
		return []*ConfigError{src.errorAt(path, prefix(path, msg))}
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		return []*ConfigError{src.errorAt(path, prefix(path, fmt.Sprintf("%s is not one of %s", quoteAny(k.Got), strings.Join(want, ", "))))}
	case *kind.Pattern:
		return []*ConfigError{src.errorAt(path, prefix(path, fmt.Sprintf("%q is not a valid value here", k.Got)))}
	case *kind.Minimum:
		return []*ConfigError{src.errorAt(path, prefix(path, fmt.Sprintf("%s is below the minimum %s", ratString(k.Got), ratString(k.Want))))}
	case *kind.ExclusiveMinimum:
		return []*ConfigError{src.errorAt(path, prefix(path, fmt.Sprintf("%s must be more than %s", ratString(k.Got), ratString(k.Want))))}
	case *kind.Maximum:
		return []*ConfigError{src.errorAt(path, prefix(path, fmt.Sprintf("%s is above the maximum %s", ratString(k.Got), ratString(k.Want))))}
	case *kind.MaxItems:
		return []*ConfigError{src.errorAt(path, prefix(path, fmt.Sprintf("has %d entries; at most %d are allowed", k.Got, k.Want)))}
	case *kind.MaxLength:
		return []*ConfigError{src.errorAt(path, prefix(path, fmt.Sprintf("is %d characters long; at most %d are allowed", k.Got, k.Want)))}
	case *kind.MinLength:
		return []*ConfigError{src.errorAt(path, prefix(path, "must not be empty"))}
	}
	return []*ConfigError{src.errorAt(path, prefix(path, e.ErrorKind.LocalizedString(printer)))}
}

func article(t string) string {
	switch t {
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "integer":
		return "an integer"
	case "null":
		return "empty"
	}
	return "a " + t
}

func orList(ws []string, f func(string) string) string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = f(w)
	}
	return strings.Join(out, " or ")
}

func quoteAny(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	return r.FloatString(3)
}
