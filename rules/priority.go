package rules

import (
	"errors"
	"fmt"
	"slices"
)

// Impact is how much of a customer's network a fault on a device touches.
type Impact string

// Impacts, lowest first.
const (
	ImpactLow      Impact = "low"
	ImpactMedium   Impact = "medium"
	ImpactHigh     Impact = "high"
	ImpactCritical Impact = "critical"
)

var impacts = []Impact{ImpactLow, ImpactMedium, ImpactHigh, ImpactCritical}

// Priorities, most urgent first.
const (
	P1 = "P1"
	P2 = "P2"
	P3 = "P3"
	P4 = "P4"
)

var priorities = []string{P1, P2, P3, P4}

// PriorityMatrix turns an alert's severity and its device's impact into a
// ticket priority. It is configuration: the zero value is not usable, start
// from DefaultPriorityMatrix.
//
// The default matrix (rows severity, columns impact):
//
//	severity \ impact   low   medium   high   critical
//	critical            P2    P2       P1     P1
//	major               P3    P3       P2     P2
//	minor               P4    P4       P3     P3
//	warning             P4    P4       P4     P4
//
// Impact by default: core and distribution devices are high, edge and
// firewall medium, access low, a role the matrix does not know medium (an
// unclassified device should not sink to the bottom of the queue); a device
// that cuts off 10 or more devices when it fails is critical whatever its
// role. A gold customer's alert is then raised one step (P3 → P2), never
// above P1.
type PriorityMatrix struct {
	// Cells maps severity, then impact, to P1..P4.
	Cells map[string]map[Impact]string `yaml:"cells"`
	// Roles maps a device role to its impact.
	Roles map[string]Impact `yaml:"roles"`
	// UnknownRole is the impact of a role missing from Roles.
	UnknownRole Impact `yaml:"unknown_role"`
	// CriticalDownstream: a device with at least this many dependent devices
	// has critical impact. 0 turns the rule off.
	CriticalDownstream int `yaml:"critical_downstream"`
	// RaiseTiers are the customer tiers whose alerts go up one priority.
	RaiseTiers []string `yaml:"raise_tiers"`
}

// DefaultPriorityMatrix returns the matrix documented on PriorityMatrix. Each
// call returns fresh maps, so a caller may edit its copy.
func DefaultPriorityMatrix() PriorityMatrix {
	return PriorityMatrix{
		Cells: map[string]map[Impact]string{
			SeverityCritical: {ImpactLow: P2, ImpactMedium: P2, ImpactHigh: P1, ImpactCritical: P1},
			SeverityMajor:    {ImpactLow: P3, ImpactMedium: P3, ImpactHigh: P2, ImpactCritical: P2},
			SeverityMinor:    {ImpactLow: P4, ImpactMedium: P4, ImpactHigh: P3, ImpactCritical: P3},
			SeverityWarning:  {ImpactLow: P4, ImpactMedium: P4, ImpactHigh: P4, ImpactCritical: P4},
		},
		Roles: map[string]Impact{
			"core":         ImpactHigh,
			"distribution": ImpactHigh,
			"edge":         ImpactMedium,
			"firewall":     ImpactMedium,
			"access":       ImpactLow,
		},
		UnknownRole:        ImpactMedium,
		CriticalDownstream: 10,
		RaiseTiers:         []string{"gold"},
	}
}

// Validate reports a matrix with a missing or malformed cell or impact.
func (m PriorityMatrix) Validate() error {
	var errs []error
	for _, sev := range severities {
		row, ok := m.Cells[sev]
		if !ok {
			errs = append(errs, fmt.Errorf("priority matrix: no row for severity %q", sev))
			continue
		}
		for _, imp := range impacts {
			if p, ok := row[imp]; !ok || !slices.Contains(priorities, p) {
				errs = append(errs, fmt.Errorf("priority matrix: %s × %s: want one of P1, P2, P3, P4, got %q", sev, imp, p))
			}
		}
	}
	for sev := range m.Cells {
		if !slices.Contains(severities, sev) {
			errs = append(errs, fmt.Errorf("priority matrix: unknown severity %q", sev))
		}
	}
	for role, imp := range m.Roles {
		if !slices.Contains(impacts, imp) {
			errs = append(errs, fmt.Errorf("priority matrix: role %q: unknown impact %q", role, imp))
		}
	}
	if !slices.Contains(impacts, m.UnknownRole) {
		errs = append(errs, fmt.Errorf("priority matrix: unknown_role: unknown impact %q", m.UnknownRole))
	}
	if m.CriticalDownstream < 0 {
		errs = append(errs, fmt.Errorf("priority matrix: critical_downstream: %d is negative", m.CriticalDownstream))
	}
	return errors.Join(errs...)
}

// Impact is the impact of a fault on t's device.
func (m PriorityMatrix) Impact(t Target) Impact {
	if m.CriticalDownstream > 0 && t.Downstream >= m.CriticalDownstream {
		return ImpactCritical
	}
	if imp, ok := m.Roles[t.Role]; ok {
		return imp
	}
	return m.UnknownRole
}

// Priority is the priority of an alert of the given severity on t's device.
// A cell the matrix lacks yields P4 rather than no priority; Validate is the
// place to catch that.
func (m PriorityMatrix) Priority(severity string, t Target) string {
	p, ok := m.Cells[severity][m.Impact(t)]
	i := slices.Index(priorities, p)
	if !ok || i < 0 {
		i = len(priorities) - 1
	}
	if slices.Contains(m.RaiseTiers, t.Tier) && i > 0 {
		i--
	}
	return priorities[i]
}
