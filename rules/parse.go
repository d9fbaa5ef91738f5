package rules

import (
	"cmp"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

//go:embed default.yaml
var defaultPack []byte

// DefaultFile is the name the embedded default pack reports in errors and in
// Rule.Source.
const DefaultFile = "default.yaml"

var defaultSet = sync.OnceValues(func() (*RuleSet, error) {
	return Parse(DefaultFile, defaultPack)
})

// Default returns the embedded default rule pack. It is compiled on first
// use; a failure is a bug in the pack, which the package tests catch.
func Default() *RuleSet {
	rs, err := defaultSet()
	if err != nil {
		panic(fmt.Sprintf("rules: embedded default pack: %v", err))
	}
	return rs
}

// Error is one problem in a rule file. Parse and LoadFile return every
// problem they find, joined with errors.Join, one per line.
type Error struct {
	File string
	Line int
	Msg  string // names the group or rule, the field, and what is wrong
	Err  error  // the underlying error (expr, template, duration), if any
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

func (e *Error) Unwrap() error { return e.Err }

// LoadFile reads and parses one rule file.
func LoadFile(path string) (*RuleSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rule file: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and compiles a rule file; name is used in error messages and
// Rule.Source. Unknown or repeated keys, bad values and expressions that do
// not compile against their scope are all errors: a rule that would silently
// never fire is worse than a refused file.
func Parse(name string, data []byte) (*RuleSet, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// Put yaml's "line N" where every other error has it.
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &Error{File: name, Line: line, Msg: "yaml: " + m[2], Err: err}
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &parser{file: name}
	rs := p.file0(&doc)
	if len(p.errs) > 0 {
		// Checks run field by field, not line by line; report in file order.
		slices.SortStableFunc(p.errs, func(a, b error) int {
			return cmp.Compare(a.(*Error).Line, b.(*Error).Line)
		})
		return nil, errors.Join(p.errs...)
	}
	return rs, nil
}

// Merge combines rule sets, for instance the default pack and the files named
// in the configuration. Rule names must be unique across all of them, because
// the name is part of every alert's fingerprint.
func Merge(sets ...*RuleSet) (*RuleSet, error) {
	out := &RuleSet{}
	seen := map[string]string{}
	windows := map[string]bool{}
	var errs []error
	for _, rs := range sets {
		if rs == nil {
			continue
		}
		for _, m := range rs.Maintenance {
			if windows[m.ID] {
				errs = append(errs, fmt.Errorf("maintenance %q: defined in two rule files", m.ID))
				continue
			}
			windows[m.ID] = true
			out.Maintenance = append(out.Maintenance, m)
		}
		for _, g := range rs.Groups {
			for _, r := range g.Rules {
				if first, ok := seen[r.Name]; ok {
					errs = append(errs, fmt.Errorf("%s: rule %q: already defined at %s", r.Source, r.Name, first))
					continue
				}
				seen[r.Name] = r.Source
			}
			out.Groups = append(out.Groups, g)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

type parser struct {
	file  string
	errs  []error
	names map[string]int // rule name → line, for duplicates within the file
}

func (p *parser) errorf(n *yaml.Node, err error, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: n.Line, Msg: fmt.Sprintf(format, args...), Err: err})
}

func (p *parser) source(n *yaml.Node) string { return p.file + ":" + strconv.Itoa(n.Line) }

// fields returns a mapping's values by key after reporting keys that are not
// in allowed, repeated, or not plain scalars. what names the mapping in
// messages.
func (p *parser) fields(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, nil, "%s: want a mapping, got %s", what, kindName(n))
		return nil
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, nil, "%s: want a field name, got %s", what, kindName(k))
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			p.errorf(k, nil, "%s: unknown field %q (allowed: %s)", what, k.Value, strings.Join(allowed, ", "))
			continue
		}
		if prev, ok := out[k.Value]; ok {
			p.errorf(k, nil, "%s: field %q repeated (first at line %d)", what, k.Value, prev.Line)
			continue
		}
		out[k.Value] = v
	}
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// str reads an optional scalar. A YAML null reads as "".
func (p *parser) str(m map[string]*yaml.Node, key, what string) string {
	n, ok := m[key]
	if !ok {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, nil, "%s: %s: want a string, got %s", what, key, kindName(n))
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

func (p *parser) file0(doc *yaml.Node) *RuleSet {
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errs = append(p.errs, &Error{File: p.file, Line: 1, Msg: "empty rule file: want a mapping with groups"})
		return nil
	}
	root := doc.Content[0]
	m := p.fields(root, "rule file", "groups", "maintenance")
	if m == nil {
		return nil
	}
	rs := &RuleSet{}
	if mn, ok := m["maintenance"]; ok {
		rs.Maintenance = p.maintenance(mn)
	}
	gs, ok := m["groups"]
	if !ok {
		// A file of maintenance windows alone is fine.
		if m["maintenance"] == nil {
			p.errorf(root, nil, "rule file: missing field \"groups\"")
		}
		return rs
	}
	if gs.Kind != yaml.SequenceNode || len(gs.Content) == 0 {
		p.errorf(gs, nil, "groups: want a non-empty list, got %s", kindName(gs))
		return nil
	}
	p.names = map[string]int{}
	groups := map[string]int{}
	for i, gn := range gs.Content {
		g, ok := p.group(gn, i)
		if g.Name != "" {
			if first, dup := groups[g.Name]; dup {
				p.errorf(gn, nil, "group %q: already defined at line %d", g.Name, first)
				continue
			}
			groups[g.Name] = gn.Line
		}
		if ok {
			rs.Groups = append(rs.Groups, g)
		}
	}
	return rs
}

func (p *parser) group(n *yaml.Node, i int) (Group, bool) {
	what := fmt.Sprintf("group #%d", i+1)
	m := p.fields(n, what, "name", "rules")
	if m == nil {
		return Group{}, false
	}
	g := Group{Name: p.str(m, "name", what), Source: p.source(n)}
	if g.Name == "" {
		p.errorf(n, nil, "%s: missing field \"name\"", what)
		return g, false
	}
	what = fmt.Sprintf("group %q", g.Name)
	rn, ok := m["rules"]
	if !ok {
		p.errorf(n, nil, "%s: missing field \"rules\"", what)
		return g, false
	}
	if rn.Kind != yaml.SequenceNode || len(rn.Content) == 0 {
		p.errorf(rn, nil, "%s: rules: want a non-empty list, got %s", what, kindName(rn))
		return g, false
	}
	valid := true
	for j, n := range rn.Content {
		r, ok := p.rule(n, g.Name, j)
		if ok {
			g.Rules = append(g.Rules, r)
		}
		valid = valid && ok
	}
	return g, valid
}

var ruleFields = []string{"name", "scope", "condition", "clear", "value", "for", "keep_firing_for", "hold", "missing_data",
	"flapping", "severity", "category", "threshold", "summary", "description", "overrides"}

var (
	nameRE     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

// readable rewrites the Go type names expr and text/template put in their
// messages into the names a rule author writes.
var readable = strings.NewReplacer(
	"type rules.deviceVars", "device",
	"type rules.ifaceVars", "iface",
	"type rules.cpuVars", "cpu",
	"type rules.memoryVars", "memory",
	"type rules.sensorVars", "sensor",
	"type rules.eventVars", "event",
	"type rules.deviceEnv", "a device rule",
	"type rules.ifaceEnv", "an interface rule",
	"type rules.cpuEnv", "a cpu rule",
	"type rules.memoryEnv", "a memory rule",
	"type rules.sensorEnv", "a sensor rule",
	"type rules.eventEnv", "an event rule",
	"in type rules.summaryData", "(have Device, Instance, Value, Threshold, Labels)",
)

func (p *parser) rule(n *yaml.Node, group string, j int) (*Rule, bool) {
	what := fmt.Sprintf("group %q: rule #%d", group, j+1)
	// Name the rule in messages about its other fields, when it has one.
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; k.Value == "name" && v.Kind == yaml.ScalarNode && v.Value != "" {
				what = fmt.Sprintf("rule %q", v.Value)
				break
			}
		}
	}
	before := len(p.errs)
	m := p.fields(n, what, ruleFields...)
	if m == nil {
		return nil, false
	}
	r := &Rule{
		Name:        p.str(m, "name", what),
		Scope:       p.str(m, "scope", what),
		Condition:   p.str(m, "condition", what),
		Clear:       p.str(m, "clear", what),
		Value:       p.str(m, "value", what),
		Severity:    p.str(m, "severity", what),
		Category:    p.str(m, "category", what),
		Summary:     p.str(m, "summary", what),
		Description: p.str(m, "description", what),
		Source:      p.source(n),
	}
	line := func(key string) *yaml.Node {
		if v, ok := m[key]; ok {
			return v
		}
		return n
	}
	switch {
	case r.Name == "" && m["name"] == nil:
		p.errorf(n, nil, "%s: missing field \"name\"", what)
	case r.Name == "" && m["name"].Kind != yaml.ScalarNode:
		// str has reported it.
	case r.Name == "":
		p.errorf(line("name"), nil, "%s: name: must not be empty", what)
	case !nameRE.MatchString(r.Name):
		p.errorf(line("name"), nil, "%s: name: want lower case letters, digits and _ starting with a letter", what)
	default:
		if first, dup := p.names[r.Name]; dup {
			p.errorf(line("name"), nil, "%s: already defined at line %d", what, first)
		} else {
			p.names[r.Name] = n.Line
		}
	}
	oneOf := func(key, val string, allowed []string) {
		switch {
		case val == "" && m[key] == nil:
			p.errorf(n, nil, "%s: missing field %q", what, key)
		case !slices.Contains(allowed, val):
			p.errorf(line(key), nil, "%s: %s: %q is not one of %s", what, key, val, strings.Join(allowed, ", "))
		}
	}
	oneOf("scope", r.Scope, scopes)
	oneOf("severity", r.Severity, severities)
	oneOf("category", r.Category, categories)
	if v, ok := m["threshold"]; ok {
		if err := v.Decode(&r.Threshold); err != nil || v.Kind != yaml.ScalarNode {
			p.errorf(v, nil, "%s: threshold: want a number, got %s", what, kindName(v))
		}
	}
	r.For = p.duration(m, "for", what)
	r.KeepFiringFor = p.duration(m, "keep_firing_for", what)
	r.Hold = p.duration(m, "hold", what)
	if v, ok := m["hold"]; ok && r.Scope != ScopeEvent {
		p.errorf(v, nil, "%s: hold: only event rules have a hold time", what)
	}
	if v, ok := m["missing_data"]; ok {
		r.MissingData = p.missingData(v, what)
	}
	if v, ok := m["flapping"]; ok {
		r.Flapping = p.flapping(v, what)
	}
	if v, ok := m["overrides"]; ok {
		r.Overrides = p.overrides(v, what)
	}

	if r.Condition == "" {
		p.errorf(line("condition"), nil, "%s: missing field \"condition\"", what)
	}
	// Expressions are only worth compiling against a known scope.
	if env := compileEnv(r.Scope); env != nil {
		if r.Condition != "" {
			r.cond = p.compile(line("condition"), what, "condition", r.Condition, env, expr.AsBool())
		}
		if r.Clear != "" {
			r.clear = p.compile(line("clear"), what, "clear", r.Clear, env, expr.AsBool())
		}
		if r.Value != "" {
			r.value = p.compile(line("value"), what, "value", r.Value, env, expr.AsFloat64())
		}
		if r.Scope == ScopeInterface {
			r.needsRates = readsRates(r.cond) || readsRates(r.clear)
		}
		if r.cond != nil && r.clear != nil {
			for _, msg := range lintClear(r) {
				p.errorf(line("clear"), nil, "%s: clear: %s", what, msg)
			}
		}
	}
	r.summary = p.template(line("summary"), what, r.Name, "summary", cmp.Or(r.Summary, defaultSummary(r.Name)))
	if r.Description != "" {
		r.description = p.template(line("description"), what, r.Name, "description", r.Description)
	}
	return r, len(p.errs) == before
}

func (p *parser) compile(n *yaml.Node, what, field, src string, env any, as expr.Option) *vm.Program {
	prog, err := expr.Compile(src, expr.Env(env), as)
	if err != nil {
		p.errorf(n, err, "%s: %s: %s", what, field, readable.Replace(err.Error()))
		return nil
	}
	return prog
}

// readsRates reports whether a program reads iface.<rate>.
func readsRates(prog *vm.Program) bool {
	if prog == nil {
		return false
	}
	v := &rateVisitor{}
	node := prog.Node()
	ast.Walk(&node, v)
	return v.found
}

type rateVisitor struct{ found bool }

func (v *rateVisitor) Visit(n *ast.Node) {
	m, ok := (*n).(*ast.MemberNode)
	if !ok {
		return
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok || id.Value != "iface" {
		return
	}
	if s, ok := m.Property.(*ast.StringNode); ok && rateFields[s.Value] {
		v.found = true
	}
}

// summaryData is what a summary template sees.
type summaryData struct {
	Device    string
	Instance  string
	Value     float64
	Threshold float64
	Labels    map[string]string
}

func defaultSummary(rule string) string {
	return rule + " on {{.Device}}{{with .Instance}} {{.}}{{end}}"
}

func (p *parser) template(n *yaml.Node, what, name, field, src string) *template.Template {
	// missingkey=zero: a label a device does not report renders empty
	// rather than as "<no value>".
	t, err := template.New(name).Option("missingkey=zero").Parse(src)
	if err != nil {
		p.errorf(n, err, "%s: %s: %v", what, field, err)
		return nil
	}
	// text/template only finds misspelt fields when it runs; run it once now
	// so that {{.Devcie}} is a load error, not an empty ticket title.
	if err := t.Execute(io.Discard, summaryData{Labels: map[string]string{}}); err != nil {
		p.errorf(n, err, "%s: %s: %s", what, field, readable.Replace(err.Error()))
		return nil
	}
	return t
}
