package fleet

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The inventory is checked against its schema on the YAML tree before it
// is decoded: the decoder's own errors name Go types ("cannot unmarshal
// !!str into int", "field x not found in type fleet.Router"), not the key
// a technician wrote or what to write instead.

// keyKind is what a key's value must be.
type keyKind int

const (
	kindText keyKind = iota
	kindBool
	kindInt
	kindDuration
	kindMap    // defaults
	kindRouter // one router (a mapping)
	kindList   // routers
)

var (
	topKeys    = map[string]keyKind{"pool": kindText, "subnet_bits": kindInt, "defaults": kindMap, "routers": kindList}
	routerKeys = func() map[string]keyKind {
		m := map[string]keyKind{}
		t := reflect.TypeFor[Router]()
		for i := range t.NumField() {
			f := t.Field(i)
			k := kindText
			switch {
			case f.Type == reflect.TypeFor[time.Duration]():
				k = kindDuration
			case f.Type.Kind() == reflect.Bool, f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Bool:
				k = kindBool
			case f.Type.Kind() == reflect.Int:
				k = kindInt
			}
			m[f.Tag.Get("yaml")] = k
		}
		return m
	}()
)

// checkSchema refuses unknown keys and values of the wrong type, naming
// the line, the key and what it takes.
func checkSchema(doc *yaml.Node) error {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		//lint:ignore ST1005 the message ends with the YAML key to write, routers:
		return fmt.Errorf("fleet: line %d: the inventory is a list of keys (pool:, defaults:, routers:), with the routers under routers:", root.Line)
	}
	if err := checkKeys(root, topKeys, "the inventory"); err != nil {
		return err
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "defaults":
			if v.Kind != yaml.MappingNode {
				if isNull(v) {
					continue
				}
				return fmt.Errorf("fleet: line %d: defaults: give router keys under it (user:, tofu:, ...), one per line", v.Line)
			}
			if err := checkKeys(v, routerKeys, "defaults"); err != nil {
				return err
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				// These are one router's own: a default would be
				// ignored (address, name) or shared by all (subnet).
				switch dk := v.Content[j]; dk.Value {
				case "address", "name", "subnet":
					return fmt.Errorf("fleet: line %d: %s in defaults: each router has its own; give it under the router", dk.Line, dk.Value)
				}
			}
		case "routers":
			if v.Kind != yaml.SequenceNode {
				if isNull(v) {
					continue
				}
				return fmt.Errorf("fleet: line %d: routers: give a list, one router per item (  - address: HOST[:PORT])", v.Line)
			}
			for j, r := range v.Content {
				if r.Kind != yaml.MappingNode {
					return fmt.Errorf("fleet: line %d: router %d: give its keys, starting with address: HOST[:PORT]", r.Line, j+1)
				}
				if err := checkKeys(r, routerKeys, fmt.Sprintf("router %d", j+1)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkKeys checks the keys and scalar values of mapping m, part of where.
func checkKeys(m *yaml.Node, keys map[string]keyKind, where string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		kind, ok := keys[k.Value]
		if !ok {
			if _, isRouter := keys["password_env"]; isRouter && strings.Contains(strings.ToLower(k.Value), "password") || k.Value == "pw" {
				return fmt.Errorf("fleet: line %d: %s: passwords never go in the inventory file: put the password in an environment variable and name the variable with password_env: (default WGBOOT_PASSWORD)", k.Line, k.Value)
			}
			return fmt.Errorf("fleet: line %d: unknown key %q in %s%s (keys: %s)", k.Line, k.Value, where, suggest(k.Value, keys), strings.Join(sortedNames(keys), ", "))
		}
		if isNull(v) {
			continue // "key:" with nothing after it: not set
		}
		if msg := checkValue(kind, v); msg != "" {
			return fmt.Errorf("fleet: line %d: %s in %s: %s", v.Line, k.Value, where, msg)
		}
	}
	return nil
}

func isNull(v *yaml.Node) bool { return v.Kind == yaml.ScalarNode && v.Tag == "!!null" }

// checkValue says what is wrong with v for kind, or "".
func checkValue(kind keyKind, v *yaml.Node) string {
	switch kind {
	case kindMap, kindList:
		return "" // checked by the caller
	}
	if v.Kind != yaml.ScalarNode {
		switch kind {
		case kindBool:
			return "give true or false"
		case kindInt:
			return "give a whole number"
		case kindDuration:
			return "give a duration like 5m or 90s"
		}
		return "give one value as text, not a list or a map"
	}
	switch kind {
	case kindBool:
		if v.Tag != "!!bool" {
			return fmt.Sprintf("give true or false, not %q", short(v.Value))
		}
	case kindInt:
		if v.Tag != "!!int" {
			return fmt.Sprintf("give a whole number, not %q", short(v.Value))
		}
	case kindDuration:
		if _, err := time.ParseDuration(v.Value); err != nil || v.Tag != "!!str" {
			return fmt.Sprintf("give a duration with its unit like 5m or 90s, not %q", short(v.Value))
		}
	}
	return ""
}

// short keeps a quoted value readable in an error.
func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func sortedNames(keys map[string]keyKind) []string {
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// suggest is ": did you mean K?" for the known key closest to k, or "".
func suggest(k string, keys map[string]keyKind) string {
	best, bestD := "", 3
	for _, name := range sortedNames(keys) {
		if d := distance(strings.ToLower(k), name); d < bestD || (strings.HasPrefix(name, strings.ToLower(k)) && len(k) >= 3 && bestD > 1) {
			best, bestD = name, min(d, 1)
		}
	}
	if best == "" {
		return ""
	}
	return ": did you mean " + best + "?"
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
