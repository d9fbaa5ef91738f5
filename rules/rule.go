package rules

import (
	"slices"
	"text/template"
	"time"

	"github.com/expr-lang/expr/vm"
)

// Scopes: what one evaluation of a rule looks at.
const (
	ScopeDevice    = "device"
	ScopeInterface = "interface"
	ScopeCPU       = "cpu"
	ScopeMemory    = "memory"
	ScopeSensor    = "sensor"
)

// Severities, most severe first.
const (
	SeverityCritical = "critical"
	SeverityMajor    = "major"
	SeverityMinor    = "minor"
	SeverityWarning  = "warning"
)

// Categories: they pick the engineers' skill in ticketing, so they are a
// closed list rather than free text.
const (
	CategoryAvailability  = "availability"
	CategoryLink          = "link"
	CategoryPerformance   = "performance"
	CategoryHardware      = "hardware"
	CategoryConfiguration = "configuration"
	CategorySecurity      = "security"
)

var (
	scopes     = []string{ScopeDevice, ScopeInterface, ScopeCPU, ScopeMemory, ScopeSensor}
	severities = []string{SeverityCritical, SeverityMajor, SeverityMinor, SeverityWarning}
	categories = []string{CategoryAvailability, CategoryLink, CategoryPerformance, CategoryHardware, CategoryConfiguration, CategorySecurity}
)

// RuleSet is a validated, compiled set of rules, ready for an Engine. It is
// immutable once built and may be shared by several engines.
type RuleSet struct {
	Groups []Group
}

// Group is a named list of rules, as in the YAML file.
type Group struct {
	Name  string
	Rules []*Rule
	// Source is "file:line" of the group in its rule file.
	Source string
}

// Rule is one rule as written, plus its compiled programs. The exported
// fields are for display (a CLI listing, an API); changing them after Parse
// has no effect on evaluation.
type Rule struct {
	Name      string
	Scope     string
	Condition string
	Clear     string // empty: the rule clears when Condition turns false
	Value     string // empty: the scope's natural value (see package doc)
	For       time.Duration
	Severity  string
	Category  string
	Threshold float64
	Summary   string
	// Source is "file:line" of the rule in its rule file.
	Source string

	cond    *vm.Program
	clear   *vm.Program
	value   *vm.Program
	summary *template.Template
	// needsRates marks interface rules that read a per-second rate: on an
	// interface whose Rates is nil (first poll, counter discontinuity) such a
	// rule has no data, so its state is held instead of being decided.
	needsRates bool
}

// Rules lists every rule of the set in file order.
func (rs *RuleSet) Rules() []*Rule {
	var out []*Rule
	for _, g := range rs.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// WithMaxFor returns a copy of the set in which no rule waits longer than d
// before firing. The demo uses it so faults become tickets within a minute;
// the receiver is left unchanged (the default pack is shared).
func (rs *RuleSet) WithMaxFor(d time.Duration) *RuleSet {
	out := &RuleSet{Groups: make([]Group, len(rs.Groups))}
	for i, g := range rs.Groups {
		g.Rules = slices.Clone(g.Rules)
		for j, r := range g.Rules {
			c := *r
			c.For = min(c.For, d)
			g.Rules[j] = &c
		}
		out.Groups[i] = g
	}
	return out
}
