package policy

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestSchemaCompiles checks that schema.json is a valid draft 2020-12 schema.
func TestSchemaCompiles(t *testing.T) {
	if _, err := compiledSchema(); err != nil {
		t.Fatal(err)
	}
}

// TestSchemaMatchesConfig walks schema.json and the Config struct together:
// every schema property has a field with that json name and every field a
// property, at every depth, and every object forbids unknown keys.
func TestSchemaMatchesConfig(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(SchemaJSON, &root); err != nil {
		t.Fatal(err)
	}
	defs, _ := root["$defs"].(map[string]any)
	resolve := func(s map[string]any) map[string]any {
		if ref, ok := s["$ref"].(string); ok {
			name, ok := strings.CutPrefix(ref, "#/$defs/")
			if !ok {
				t.Fatalf("unexpected $ref %q", ref)
			}
			d, ok := defs[name].(map[string]any)
			if !ok {
				t.Fatalf("$ref %q names no definition", ref)
			}
			return d
		}
		return s
	}
	var walk func(path string, s map[string]any, typ reflect.Type)
	walk = func(path string, s map[string]any, typ reflect.Type) {
		s = resolve(s)
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		props, isObject := s["properties"].(map[string]any)
		if !isObject {
			if typ.Kind() == reflect.Struct {
				t.Errorf("%s: Go type %s is a struct but the schema has no properties", path, typ)
			}
			return
		}
		if s["additionalProperties"] != false {
			t.Errorf("%s: schema object allows additional properties", path)
		}
		if typ.Kind() != reflect.Struct {
			t.Fatalf("%s: schema object but Go type %s", path, typ)
		}
		fields := map[string]reflect.StructField{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				t.Errorf("%s: field %s has no json name", path, f.Name)
				continue
			}
			fields[name] = f
		}
		var names []string
		for name := range props {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			f, ok := fields[name]
			if !ok {
				t.Errorf("%s.%s: in the schema, not in %s", path, name, typ)
				continue
			}
			walk(path+"."+name, props[name].(map[string]any), f.Type)
		}
		for name := range fields {
			if _, ok := props[name]; !ok {
				t.Errorf("%s.%s: field of %s, not in the schema", path, name, typ)
			}
		}
	}
	walk("$", root, reflect.TypeOf(Config{}))
}
