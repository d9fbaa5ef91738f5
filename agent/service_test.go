package agent

import (
	"testing"

	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/rules"
)

func TestPriorityMatrixFromConfig(t *testing.T) {
	cfg := &inventory.Config{Priority: &inventory.PriorityMatrix{
		Cells: map[string]map[string]string{"major": {"medium": "P2"}},
		Roles: map[string]string{"firewall": "high"},
	}}
	m := priorityMatrix(cfg)
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sev, role, tier string
		want            string
	}{
		{"major", "edge", "", "P2"},        // changed cell: medium impact
		{"critical", "firewall", "", "P1"}, // role raised to high impact
		{"major", "access", "", "P3"},      // untouched default
		{"warning", "core", "gold", "P3"},  // gold still raises one step
	}
	for _, tt := range tests {
		if got := m.Priority(tt.sev, rules.Target{Role: tt.role, Tier: tt.tier}); got != tt.want {
			t.Errorf("%s on %s (%s): %s, want %s", tt.sev, tt.role, tt.tier, got, tt.want)
		}
	}
	if d := priorityMatrix(&inventory.Config{}); d.Priority("critical", rules.Target{Role: "core"}) != "P1" {
		t.Error("no priority section must keep the default matrix")
	}
}
