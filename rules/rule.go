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
	// ScopeBGP rules look at one BGP4-MIB peer; its instance is the peer's
	// address.
	ScopeBGP = "bgp"
	// ScopeEvent rules look at one Event (trap, reboot, serial change), not
	// at a snapshot: see Engine.Event.
	ScopeEvent = "event"
)

// Severities, most severe first.
const (
	SeverityCritical = "critical"
	SeverityMajor    = "major"
	SeverityMinor    = "minor"
	SeverityWarning  = "warning"
)

// Categories: they pick the engineers' skill in ticketing, so they are a
// closed list rather than free text (Categories returns it).
const (
	CategoryAvailability  = "availability"
	CategoryLink          = "link"
	CategoryPerformance   = "performance"
	CategoryHardware      = "hardware"
	CategoryConfiguration = "configuration"
	CategorySecurity      = "security"
)

// Missing-data policies: what a rule does while its data is absent (device
// unreachable, failed walk, no rates yet).
const (
	MissingHold    = "hold"    // keep the state as it is (default)
	MissingResolve = "resolve" // resolve a firing alert, drop a pending one
	MissingFire    = "fire"    // fire once data has been missing for MissingData.After
)

var (
	scopes     = []string{ScopeDevice, ScopeInterface, ScopeCPU, ScopeMemory, ScopeSensor, ScopeBGP, ScopeEvent}
	severities = []string{SeverityCritical, SeverityMajor, SeverityMinor, SeverityWarning}
	categories = []string{CategoryAvailability, CategoryLink, CategoryPerformance, CategoryHardware, CategoryConfiguration, CategorySecurity}
)

// RuleSet is a validated, compiled set of rules, ready for an Engine. It is
// immutable once built and may be shared by several engines.
type RuleSet struct {
	Groups []Group
	// Maintenance are the windows the rule files declare; NewEngine adds
	// them to the engine.
	Maintenance []Maintenance
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
	// KeepFiringFor keeps a firing alert firing this long after its clear
	// condition first held; a relapse meanwhile cancels the countdown.
	KeepFiringFor time.Duration
	// Hold is how long an event rule's alert stays firing after the last
	// matching event; 0 means until a clearing event.
	Hold        time.Duration
	MissingData MissingData
	// Flapping overrides the engine's default flap detection; nil keeps it.
	Flapping  *Flapping
	Severity  string
	Category  string
	Threshold float64
	Summary   string
	// Description is a longer template for the ticket: what the fault
	// means and what to check first.
	Description string
	Overrides   []Override
	// Source is "file:line" of the rule in its rule file.
	Source string

	cond        *vm.Program
	clear       *vm.Program
	value       *vm.Program
	summary     *template.Template
	description *template.Template // nil when the rule has none
	// needsRates marks interface rules that read a per-second rate: on an
	// interface whose Rates is nil (first poll, counter discontinuity) such a
	// rule has no data, so its missing-data policy applies.
	needsRates bool
}

// MissingData is a rule's missing-data policy.
type MissingData struct {
	Policy string        // hold | resolve | fire; "" is hold
	After  time.Duration // fire only: how long data must be missing first
}

// Flapping configures flap detection: a state that changes (fires or
// resolves) more than Changes times within Window is flapping; it stays
// flapping until it has not changed for Quiet.
type Flapping struct {
	Disabled bool
	Changes  int
	Window   time.Duration
	Quiet    time.Duration
}

// DefaultFlapping is the engine's flap detection when Options.Flapping is
// zero: more than 4 changes in 15 minutes, released after 15 quiet minutes.
// At a one-minute poll that is a link bouncing every few polls, which no
// engineer wants five tickets for.
var DefaultFlapping = Flapping{Changes: 4, Window: 15 * time.Minute, Quiet: 15 * time.Minute}

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
	out := &RuleSet{Groups: make([]Group, len(rs.Groups)), Maintenance: slices.Clone(rs.Maintenance)}
	for i, g := range rs.Groups {
		g.Rules = slices.Clone(g.Rules)
		for j, r := range g.Rules {
			c := *r
			c.For = min(c.For, d)
			c.Overrides = slices.Clone(c.Overrides)
			for k, o := range c.Overrides {
				if o.For != nil {
					f := min(*o.For, d)
					c.Overrides[k].For = &f
				}
			}
			g.Rules[j] = &c
		}
		out.Groups[i] = g
	}
	return out
}

// Categories lists the fault categories, for whoever must check one.
func Categories() []string { return slices.Clone(categories) }
