package app

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/agentgate/agentgate/sandbox"
)

// Binding is the installations (and, optionally, the repositories of
// them) an operator-level item (a setup secret, an extra agent image, a
// private egress destination) may be used by. One deployment serves many
// installations that do not trust each other: an item bound to one is
// refused to the others.
type Binding struct {
	All           bool    // every installation (installations=*)
	Installations []int64 // installation ids, sorted
	// Repositories, when set, narrows the binding to these repository
	// ids (repositories=ID+ID) of the installations.
	Repositories []int64
}

// Tenant is who a run is for: its installation and repository ids.
type Tenant struct {
	Installation int64
	Repository   int64
}

// Allows reports whether tenant t may use the item.
func (b Binding) Allows(t Tenant) bool {
	inst := b.All || (t.Installation > 0 && slices.Contains(b.Installations, t.Installation))
	return inst && (b.Repositories == nil || (t.Repository > 0 && slices.Contains(b.Repositories, t.Repository)))
}

// bindingKey and repositoriesKey are the qualifiers that bind an item of
// the setup-secrets, agent-images and egress-allow-private settings:
// ITEM;installations=ID+ID (or =*), optionally ;repositories=ID+ID.
const (
	bindingKey      = "installations="
	repositoriesKey = "repositories="
)

// parseBound splits one item of a bindable setting into the item and its
// binding; bound is false when the item carries none.
func parseBound(spec string) (item string, b Binding, bound bool, err error) {
	parts := strings.Split(spec, ";")
	item = parts[0]
	if len(parts) == 1 {
		return item, Binding{}, false, nil
	}
	if item == "" {
		return "", Binding{}, false, fmt.Errorf("%q: nothing before ;%s", spec, bindingKey)
	}
	ids, ok := strings.CutPrefix(parts[1], bindingKey)
	if !ok || ids == "" || len(parts) > 3 {
		return "", Binding{}, false, fmt.Errorf("%q: after the item comes ;installations=ID+ID (or ;installations=*), then optionally ;repositories=ID+ID", spec)
	}
	if ids == "*" {
		b.All = true
	} else if b.Installations, err = parseIDs(spec, "installation", ids); err != nil {
		return "", Binding{}, false, err
	}
	if len(parts) == 3 {
		repos, ok := strings.CutPrefix(parts[2], repositoriesKey)
		if !ok || repos == "" {
			return "", Binding{}, false, fmt.Errorf("%q: after ;installations=… only ;repositories=ID+ID may follow", spec)
		}
		if b.Repositories, err = parseIDs(spec, "repository", repos); err != nil {
			return "", Binding{}, false, err
		}
	}
	return item, b, true, nil
}

// parseIDs reads ID+ID (positive integers), sorted without duplicates.
func parseIDs(spec, what, ids string) ([]int64, error) {
	var out []int64
	for _, s := range strings.Split(ids, "+") {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("%q: %q is not a%s %s id", spec, s, map[bool]string{true: "n", false: ""}[what == "installation"], what)
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
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
// is open to tenant t: unbound items are for every installation.
func openTo(bindings map[string]Binding, item string, t Tenant) bool {
	b, ok := bindings[item]
	return !ok || b.Allows(t)
}

// secretAllowed reports whether tenant t may use setup secret name: only
// where the operator bound it (a secret without a binding is refused
// everywhere).
func (c Config) secretAllowed(name string, t Tenant) bool {
	_, ok := c.SetupSecrets[name]
	return ok && c.SetupSecretBindings[name].Allows(t)
}

// networkFor is the operator's network for tenant t: the private
// destinations it is not bound to are left out.
func (c Config) networkFor(t Tenant) sandbox.NetworkConfig {
	n := c.Network
	n.AllowPrivate = nil
	for _, d := range c.Network.AllowPrivate {
		if openTo(c.PrivateBindings, d, t) {
			n.AllowPrivate = append(n.AllowPrivate, d)
		}
	}
	return n
}
