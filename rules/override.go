package rules

import (
	"slices"
	"time"
)

// Override changes some of a rule's parameters for the devices it matches.
// Every non-empty key of Match must match (role, customer, site and device by
// equality, tag by membership). When several overrides match a device they
// are applied from the least to the most specific, so the most specific one
// wins for every field it sets and a broader one still supplies the fields it
// does not. Specificity is the sum of the keys' weights — device 16, tag 8,
// site 4, customer 2, role 1 — so a device beats anything else and
// customer+role beats customer alone; on a tie the later override in the
// file wins.
type Override struct {
	Match     Match
	Threshold *float64
	For       *time.Duration
	Severity  string // "" keeps the rule's
	Disabled  *bool
	// Source is "file:line" of the override.
	Source string
}

// Match selects devices by inventory attributes.
type Match struct {
	Role     string `yaml:"role" json:"role,omitempty"`
	Customer string `yaml:"customer" json:"customer,omitempty"`
	Site     string `yaml:"site" json:"site,omitempty"`
	Device   string `yaml:"device" json:"device,omitempty"`
	Tag      string `yaml:"tag" json:"tag,omitempty"`
}

func (m Match) empty() bool { return m == Match{} }

func (m Match) matches(t Target) bool {
	return (m.Role == "" || m.Role == t.Role) &&
		(m.Customer == "" || m.Customer == t.Customer) &&
		(m.Site == "" || m.Site == t.Site) &&
		(m.Device == "" || m.Device == t.Name) &&
		(m.Tag == "" || slices.Contains(t.Tags, m.Tag))
}

func (m Match) specificity() int {
	s := 0
	for _, kw := range []struct {
		v string
		w int
	}{{m.Device, 16}, {m.Tag, 8}, {m.Site, 4}, {m.Customer, 2}, {m.Role, 1}} {
		if kw.v != "" {
			s += kw.w
		}
	}
	return s
}

// params are a rule's effective parameters for one device.
type params struct {
	threshold float64
	forDur    time.Duration
	severity  string
	disabled  bool
}

// Params returns the rule's effective threshold, for, severity and whether it
// is disabled on t's device, after overrides.
func (r *Rule) Params(t Target) (threshold float64, forDur time.Duration, severity string, disabled bool) {
	p := r.params(t)
	return p.threshold, p.forDur, p.severity, p.disabled
}

func (r *Rule) params(t Target) params {
	p := params{threshold: r.Threshold, forDur: r.For, severity: r.Severity}
	if len(r.Overrides) == 0 {
		return p
	}
	// Overrides are few per rule; a stable sort of the matching ones keeps
	// file order among equals, and applying in order makes the later win.
	var hit []*Override
	for i := range r.Overrides {
		if r.Overrides[i].Match.matches(t) {
			hit = append(hit, &r.Overrides[i])
		}
	}
	slices.SortStableFunc(hit, func(a, b *Override) int { return a.Match.specificity() - b.Match.specificity() })
	for _, o := range hit {
		if o.Threshold != nil {
			p.threshold = *o.Threshold
		}
		if o.For != nil {
			p.forDur = *o.For
		}
		if o.Severity != "" {
			p.severity = o.Severity
		}
		if o.Disabled != nil {
			p.disabled = *o.Disabled
		}
	}
	return p
}

// sameTarget reports whether two targets select the same overrides, so that
// cached parameters stay valid.
func sameTarget(a, b Target) bool {
	return a.Name == b.Name && a.Role == b.Role && a.Customer == b.Customer && a.Site == b.Site && slices.Equal(a.Tags, b.Tags)
}
