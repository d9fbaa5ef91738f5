package inventory

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Why a hand-written walk over yaml.Node instead of yaml.Decoder.KnownFields:
// KnownFields stops being useful once the data is a yaml.Node (Node.Decode
// ignores it), its messages carry neither column nor field path, and
// "cannot unmarshal !!str `...`" quotes the offending value, which may be a
// secret. The walk below records the position of every field path for the
// validation pass and reports every problem, not the first.

// maxNodes bounds the work alias expansion can cause. The walk follows the
// Go types, which are not recursive, so an alias to an enclosing node cannot
// loop; but a list of aliases to nodes holding lists of aliases multiplies.
const maxNodes = 1_000_000

var durationType = reflect.TypeOf(time.Duration(0))

type decoder struct {
	r     *report
	nodes int
	// inAlias is the position of the alias being expanded, if any: errors
	// inside it point at the alias, where the user can see the context,
	// rather than at the anchored original.
	inAlias *position
}

// at is where to report a problem with node n.
func (d *decoder) at(n *yaml.Node) position {
	if d.inAlias != nil {
		return *d.inAlias
	}
	return position{n.Line, n.Column}
}

// decode fills v (a pointer to a struct) from the mapping node n.
func (d *decoder) decode(n *yaml.Node, v any) {
	d.value(n, reflect.ValueOf(v).Elem(), "")
}

func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode && d.inAlias == nil {
		d.inAlias = &position{n.Line, n.Column}
		defer func() { d.inAlias = nil }()
	}
	n, ok := d.resolve(n, path)
	if !ok {
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "key:" with no value leaves the zero value; required checks catch it
	}
	at := d.at(n)

	if v.Type() == durationType {
		if n.Kind != yaml.ScalarNode {
			d.r.addAt(at, path, "want a duration such as 30s, got a "+kindName(n))
			return
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			d.r.addAt(at, path, fmt.Sprintf("invalid duration %q: want a number with a unit, such as 500ms, 30s or 5m", n.Value))
			return
		}
		v.SetInt(int64(dur))
		return
	}

	switch v.Kind() {
	case reflect.Pointer: // an optional section
		p := reflect.New(v.Type().Elem())
		d.value(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.mapping(n, v, path)
	case reflect.Map: // string keys only: a table such as the priority matrix
		if n.Kind != yaml.MappingNode {
			d.r.addAt(at, path, "want a mapping, got a "+kindName(n))
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, ok := d.resolve(n.Content[i], path)
			if !ok {
				continue
			}
			if k.Kind != yaml.ScalarNode {
				d.r.addAt(d.at(k), path, "want a key name, got a "+kindName(k))
				continue
			}
			child := joinPath(path, k.Value)
			d.r.pos[child] = d.at(k)
			if m.MapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key())).IsValid() {
				d.r.addAt(d.at(k), child, "duplicate key")
				continue
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			d.value(n.Content[i+1], elem, child)
			m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), elem)
		}
		v.Set(m)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.r.addAt(at, path, "want a list, got a "+kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			d.r.pos[p] = d.at(item)
			d.value(item, s.Index(i), p)
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.r.addAt(at, path, "want a string, got a "+kindName(n))
			return
		}
		// The raw text, so "version: 3" and "contract: 2024-01" stay as
		// written instead of going through int or timestamp resolution.
		v.SetString(n.Value)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			d.r.addAt(at, path, "want an integer, got "+describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.r.addAt(at, path, "want true or false, got "+describe(n))
			return
		}
		v.SetBool(b)
	default:
		// Only reachable if a field of an unsupported type is added to the
		// types without teaching the decoder about it.
		d.r.addAt(at, path, "unsupported field type "+v.Type().String())
	}
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		msg := "want a mapping of keys, got a " + kindName(n)
		if path == "" {
			msg = "want a mapping of sections (agent, credentials, devices, ...) at the top level, got a " + kindName(n)
		}
		d.r.addAt(d.at(n), path, msg)
		return
	}
	fields := yamlFields(v.Type())
	seen := map[string]int{}
	var guesses []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, ok := d.resolve(n.Content[i], path)
		if !ok {
			continue
		}
		at := d.at(k)
		if k.Kind != yaml.ScalarNode {
			d.r.addAt(at, path, "want a key name, got a "+kindName(k))
			continue
		}
		if k.Tag == "!!merge" {
			d.r.addAt(at, path, "merge keys (<<) are not supported; write the fields out")
			continue
		}
		child := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.r.addAt(at, child, fmt.Sprintf("duplicate key (first set on line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		idx, known := fields[k.Value]
		if !known {
			guess, msg := unknownField(k.Value, fields)
			d.r.addAt(at, child, msg)
			if guess != "" {
				guesses = append(guesses, guess)
			}
			continue
		}
		d.r.pos[child] = at
		d.value(n.Content[i+1], v.Field(idx), child)
	}
	// "adress: x" already says "did you mean address"; a second error that
	// address is missing would only repeat it.
	for _, g := range guesses {
		if _, set := seen[g]; !set {
			d.r.failed[joinPath(path, g)] = true
		}
	}
}

// resolve follows aliases and charges the node budget.
func (d *decoder) resolve(n *yaml.Node, path string) (*yaml.Node, bool) {
	// An anchor cannot sit on an alias, so one hop always reaches a value.
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.r.addAt(d.at(n), path, "alias cannot be resolved")
			return nil, false
		}
		n = n.Alias
	}
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.r.addAt(d.at(n), path, fmt.Sprintf("aliases expand to more than %d nodes", maxNodes))
		}
		return nil, false
	}
	return n, true
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// yamlFields maps yaml keys to struct field indexes.
func yamlFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = i
	}
	return m
}

// unknownField returns the closest known key, if any is close, and the
// message for an unknown key.
func unknownField(key string, fields map[string]int) (guess, msg string) {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	best, bestDist := "", 3 // suggest only close misspellings
	for _, name := range names {
		if dist := editDistance(strings.ToLower(key), name); dist < bestDist {
			best, bestDist = name, dist
		}
	}
	msg = "unknown field"
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return best, msg + "; known fields: " + strings.Join(names, ", ")
}

// editDistance is the Levenshtein distance, for "did you mean" hints only.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.DocumentNode:
		return "document"
	case yaml.AliasNode:
		return "alias"
	}
	return "node"
}

// describe names a wrongly typed value for an error. Only used for fields
// that cannot hold secrets (numbers, booleans).
func describe(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return "a " + kindName(n)
	}
	return strconv.Quote(n.Value)
}
