package topology

import (
	"slices"
	"testing"
)

// core ─ dist1 ─ acc1, acc2
//
//	└ dist2 ─ acc3
//
// acc4 is dual-homed to dist1 and dist2.
func testGraph() *Graph {
	return New([]Node{
		{Name: "core"},
		{Name: "dist1", Upstream: []string{"core"}},
		{Name: "dist2", Upstream: []string{"core"}},
		{Name: "acc1", Upstream: []string{"dist1"}},
		{Name: "acc2", Upstream: []string{"dist1"}},
		{Name: "acc3", Upstream: []string{"dist2"}},
		{Name: "acc4", Upstream: []string{"dist1", "dist2"}},
		{Name: "orphan", Upstream: []string{"not-in-inventory"}},
	}, []Link{{A: "acc1", B: "dist1", APort: "Gi1/0/49", BPort: "Gi1/0/1", Protocol: "lldp"}})
}

func TestCutOff(t *testing.T) {
	g := testGraph()
	tests := []struct {
		down []string
		want []string
	}{
		{[]string{"core"}, []string{"acc1", "acc2", "acc3", "acc4", "dist1", "dist2"}},
		{[]string{"dist1"}, []string{"acc1", "acc2"}},
		{[]string{"dist1", "dist2"}, []string{"acc1", "acc2", "acc3", "acc4"}},
		{[]string{"acc1"}, nil},
		{[]string{"orphan"}, nil},
		{nil, nil},
	}
	for _, tt := range tests {
		if got := g.CutOff(tt.down...); !slices.Equal(got, tt.want) {
			t.Errorf("CutOff(%v) = %v, want %v", tt.down, got, tt.want)
		}
	}
}

func TestUnreachableAndLinks(t *testing.T) {
	g := testGraph()
	if !g.Unreachable("acc4", []string{"dist1", "dist2"}) {
		t.Error("acc4 with both upstreams down should be unreachable")
	}
	if g.Unreachable("acc4", []string{"dist1"}) {
		t.Error("acc4 keeps a path through dist2")
	}
	if got := g.Upstream("acc4"); !slices.Equal(got, []string{"dist1", "dist2"}) {
		t.Errorf("Upstream(acc4) = %v", got)
	}
	l := g.Links("dist1")
	if len(l) != 1 || l[0].A != "dist1" || l[0].B != "acc1" || l[0].APort != "Gi1/0/1" {
		t.Errorf("Links(dist1) = %+v, want dist1 side first", l)
	}
}

// A cycle in learned data must not hang the fixpoint.
func TestCycleTerminates(t *testing.T) {
	g := New([]Node{{Name: "a", Upstream: []string{"b"}}, {Name: "b", Upstream: []string{"a"}}, {Name: "c", Upstream: []string{"a"}}}, nil)
	if got := g.CutOff("a"); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("CutOff(a) = %v", got)
	}
}
