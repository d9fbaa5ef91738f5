package rules

import (
	"strings"
	"testing"
)

func TestDefaultPriorityMatrix(t *testing.T) {
	m := DefaultPriorityMatrix()
	if err := m.Validate(); err != nil {
		t.Fatalf("default matrix invalid: %v", err)
	}
	tests := []struct {
		severity string
		t        Target
		impact   Impact
		want     string
	}{
		// critical
		{SeverityCritical, Target{Role: "core"}, ImpactHigh, P1},
		{SeverityCritical, Target{Role: "distribution"}, ImpactHigh, P1},
		{SeverityCritical, Target{Role: "access", Downstream: 10}, ImpactCritical, P1},
		{SeverityCritical, Target{Role: "access", Downstream: 9}, ImpactLow, P2},
		{SeverityCritical, Target{Role: "edge"}, ImpactMedium, P2},
		{SeverityCritical, Target{Role: "firewall"}, ImpactMedium, P2},
		{SeverityCritical, Target{Role: "access"}, ImpactLow, P2},
		{SeverityCritical, Target{Role: "access", Tier: "gold"}, ImpactLow, P1},
		{SeverityCritical, Target{Role: "core", Tier: "gold"}, ImpactHigh, P1}, // never above P1
		// major
		{SeverityMajor, Target{Role: "core"}, ImpactHigh, P2},
		{SeverityMajor, Target{Role: "distribution", Tier: "silver"}, ImpactHigh, P2},
		{SeverityMajor, Target{Role: "edge"}, ImpactMedium, P3},
		{SeverityMajor, Target{Role: "access"}, ImpactLow, P3},
		{SeverityMajor, Target{Role: "access", Downstream: 25}, ImpactCritical, P2},
		{SeverityMajor, Target{Role: "access", Tier: "gold"}, ImpactLow, P2},
		{SeverityMajor, Target{Role: "core", Tier: "gold"}, ImpactHigh, P1},
		// minor
		{SeverityMinor, Target{Role: "core"}, ImpactHigh, P3},
		{SeverityMinor, Target{Role: "access"}, ImpactLow, P4},
		{SeverityMinor, Target{Role: "firewall", Tier: "gold"}, ImpactMedium, P3},
		// warning
		{SeverityWarning, Target{Role: "core", Downstream: 100}, ImpactCritical, P4},
		{SeverityWarning, Target{Role: "access", Tier: "gold"}, ImpactLow, P3},
		// an unknown role is medium, an unknown severity the lowest priority
		{SeverityCritical, Target{Role: "wireless-controller"}, ImpactMedium, P2},
		{SeverityMajor, Target{}, ImpactMedium, P3},
		{"catastrophic", Target{Role: "core"}, ImpactHigh, P4},
	}
	for _, tt := range tests {
		name := tt.severity + "/" + tt.t.Role + "/" + tt.t.Tier
		t.Run(name, func(t *testing.T) {
			if got := m.Impact(tt.t); got != tt.impact {
				t.Errorf("Impact(%+v) = %s, want %s", tt.t, got, tt.impact)
			}
			if got := m.Priority(tt.severity, tt.t); got != tt.want {
				t.Errorf("Priority(%s, %+v) = %s, want %s", tt.severity, tt.t, got, tt.want)
			}
		})
	}
}

func TestCustomPriorityMatrix(t *testing.T) {
	m := DefaultPriorityMatrix()
	m.Roles["access"] = ImpactHigh
	m.CriticalDownstream = 0
	m.RaiseTiers = []string{"gold", "platinum"}
	m.Cells[SeverityWarning][ImpactHigh] = P3
	tests := []struct {
		severity string
		t        Target
		want     string
	}{
		{SeverityCritical, Target{Role: "access"}, P1},
		{SeverityCritical, Target{Role: "edge", Downstream: 50}, P2}, // downstream rule off
		{SeverityWarning, Target{Role: "access"}, P3},
		{SeverityMinor, Target{Role: "edge", Tier: "platinum"}, P3},
	}
	for _, tt := range tests {
		if got := m.Priority(tt.severity, tt.t); got != tt.want {
			t.Errorf("Priority(%s, %+v) = %s, want %s", tt.severity, tt.t, got, tt.want)
		}
	}
	if DefaultPriorityMatrix().Roles["access"] != ImpactLow {
		t.Error("editing a copy of the default matrix changed the default")
	}
}

func TestPriorityMatrixValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m *PriorityMatrix)
		want   string
	}{
		{"missing row", func(m *PriorityMatrix) { delete(m.Cells, SeverityMinor) }, `no row for severity "minor"`},
		{"missing cell", func(m *PriorityMatrix) { delete(m.Cells[SeverityMajor], ImpactLow) }, `major × low: want one of P1, P2, P3, P4, got ""`},
		{"bad priority", func(m *PriorityMatrix) { m.Cells[SeverityMajor][ImpactLow] = "P5" }, `major × low: want one of P1, P2, P3, P4, got "P5"`},
		{"unknown severity", func(m *PriorityMatrix) { m.Cells["fatal"] = m.Cells[SeverityMajor] }, `unknown severity "fatal"`},
		{"bad role impact", func(m *PriorityMatrix) { m.Roles["core"] = "huge" }, `role "core": unknown impact "huge"`},
		{"bad unknown role", func(m *PriorityMatrix) { m.UnknownRole = "" }, `unknown_role: unknown impact ""`},
		{"negative downstream", func(m *PriorityMatrix) { m.CriticalDownstream = -1 }, `critical_downstream: -1 is negative`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := DefaultPriorityMatrix()
			tt.mutate(&m)
			err := m.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestEngineUsesMatrix(t *testing.T) {
	m := DefaultPriorityMatrix()
	m.Cells[SeverityCritical][ImpactLow] = P4
	e := NewEngine(Default(), Options{Matrix: m})
	got := e.Evaluate(t0, snapshot(false), Target{Name: "a", Role: "access"})
	if len(got) != 1 || got[0].Priority != P4 {
		t.Errorf("got %+v, want device_unreachable at P4 from the configured matrix", got)
	}
}
