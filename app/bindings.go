package app

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Binding is the installations an operator-level item (a setup secret,
// an extra agent image, a private egress destination) may be used by.
// One deployment serves many installations that do not trust each other:
// an item bound to one is refused to the others.
type Binding struct {
	All           bool    // every installation (installations=*)
	Installations []int64 // installation ids, sorted
}

// Allows reports whether installation id may use the item.
func (b Binding) Allows(id int64) bool {
	return b.All || (id > 0 && slices.Contains(b.Installations, id))
}

// bindingKey is the qualifier that binds an item of the setup-secrets,
// agent-images and egress-allow-private settings:
// ITEM;installations=ID+ID or ITEM;installations=*.
const bindingKey = "installations="

// parseBound splits one item of a bindable setting into the item and its
// binding; bound is false when the item carries none.
func parseBound(spec string) (item string, b Binding, bound bool, err error) {
	item, q, bound := strings.Cut(spec, ";")
	if !bound {
		return item, Binding{}, false, nil
	}
	if item == "" {
		return "", Binding{}, false, fmt.Errorf("%q: nothing before ;%s", spec, bindingKey)
	}
	ids, ok := strings.CutPrefix(q, bindingKey)
	if !ok || ids == "" {
		return "", Binding{}, false, fmt.Errorf("%q: after the item comes ;installations=ID+ID (or ;installations=*)", spec)
	}
	if ids == "*" {
		return item, Binding{All: true}, true, nil
	}
	for _, s := range strings.Split(ids, "+") {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return "", Binding{}, false, fmt.Errorf("%q: %q is not an installation id", spec, s)
		}
		b.Installations = append(b.Installations, id)
	}
	slices.Sort(b.Installations)
	b.Installations = slices.Compact(b.Installations)
	return item, b, true, nil
}

// boundList applies a list setting whose items may carry a binding: the
// bare items go to *items, the bindings to *bindings (an item without
// one is for every installation).
func boundList(v string, items *[]string, bindings *map[string]Binding) error {
	*items, *bindings = nil, nil
	for _, spec := range splitList(v) {
		item, b, bound, err := parseBound(spec)
		if err != nil {
			return err
		}
		if slices.Contains(*items, item) {
			return fmt.Errorf("%s is given twice", item)
		}
		*items = append(*items, item)
		if bound {
			if *bindings == nil {
				*bindings = map[string]Binding{}
			}
			(*bindings)[item] = b
		}
	}
	return nil
}

// splitList splits a list setting on commas and white space.
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
}

// openTo reports whether an item of an image or private-destination list
// is open to installation id: unbound items are for every installation.
func openTo(bindings map[string]Binding, item string, id int64) bool {
	b, ok := bindings[item]
	return !ok || b.Allows(id)
}

// secretAllowed reports whether installation id may use setup secret
// name: only where the operator bound it (a secret without a binding is
// refused everywhere).
func (c Config) secretAllowed(name string, id int64) bool {
	_, ok := c.SetupSecrets[name]
	return ok && c.SetupSecretBindings[name].Allows(id)
}

// networkFor is the operator's network for installation id: the private
// destinations it is not bound to are left out.
func (c Config) networkFor(id int64) NetworkConfig {
	n := c.Network
	n.AllowPrivate = nil
	for _, d := range c.Network.AllowPrivate {
		if openTo(c.PrivateBindings, d, id) {
			n.AllowPrivate = append(n.AllowPrivate, d)
		}
	}
	return n
}
