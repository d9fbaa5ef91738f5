package rules

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/topology"
)

// stormNet is core1 → dist01..dist10 → 19 access switches each: 200 devices
// behind core1. acc-05-* hang off dist05 and dist06 (redundant).
func stormNet() ([]topology.Node, map[string]DeviceInfo) {
	nodes := []topology.Node{{Name: "core1"}}
	info := map[string]DeviceInfo{"core1": {Serial: "SN-core1", Target: Target{Name: "core1", Role: "core", Customer: "acme"}}}
	for d := 1; d <= 10; d++ {
		dist := fmt.Sprintf("dist%02d", d)
		nodes = append(nodes, topology.Node{Name: dist, Upstream: []string{"core1"}})
		info[dist] = DeviceInfo{Serial: "SN-" + dist, Target: Target{Name: dist, Role: "distribution", Customer: "acme"}}
		for a := 1; a <= 19; a++ {
			acc := fmt.Sprintf("acc-%02d-%02d", d, a)
			ups := []string{dist}
			if d == 5 {
				ups = append(ups, "dist06")
			}
			cust := "acme"
			if a%2 == 0 {
				cust = "globex"
			}
			nodes = append(nodes, topology.Node{Name: acc, Upstream: ups})
			info[acc] = DeviceInfo{Serial: "SN-" + acc, Target: Target{Name: acc, Role: "access", Customer: cust}}
		}
	}
	return nodes, info
}

// cycle polls every device once, in a random order, through the default
// pack, feeding each device's transitions to the correlator and flushing
// after each, as the agent does; it returns the incident changes.
func cycle(e *Engine, c *Correlator, now time.Time, names []string, info map[string]DeviceInfo, down func(string) bool, rng *rand.Rand) []IncidentChange {
	order := slices.Clone(names)
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var out []IncidentChange
	for _, n := range order {
		snap := &collector.Snapshot{Device: n, Reachable: !down(n)}
		if snap.Reachable {
			snap.System.UptimeSeconds = 1e6 + now.Sub(t0).Seconds()
		}
		out = append(out, c.Observe(now, e.Evaluate(now, snap, info[n].Target)...)...)
		out = append(out, c.Flush(now)...)
	}
	return out
}

func kinds(chs []IncidentChange) map[string]int {
	out := map[string]int{}
	for _, ch := range chs {
		out[ch.Kind+" "+ch.Incident.Root]++
	}
	return out
}

func TestStorm(t *testing.T) {
	nodes, info := stormNet()
	g := topology.New(nodes, nil)
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	const interval = time.Minute
	e := NewEngine(Default(), Options{})
	c := NewCorrelator(g, CorrelatorOptions{Settle: interval, Devices: func(n string) DeviceInfo { return info[n] }})
	rng := rand.New(rand.NewPCG(1, 2))
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * interval) }

	none := func(string) bool { return false }
	if got := cycle(e, c, at(0), names, info, none, rng); len(got) != 0 {
		t.Fatalf("healthy network: %v", kinds(got))
	}
	all := func(string) bool { return true }
	if got := cycle(e, c, at(1), names, info, all, rng); len(got) != 0 {
		t.Fatalf("first outage cycle decided early: %v", kinds(got))
	}
	got := cycle(e, c, at(2), names, info, all, rng)
	if len(got) != 1 || got[0].Kind != ChangeOpened {
		t.Fatalf("second cycle: %v, want exactly one opened incident", kinds(got))
	}
	in := got[0].Incident
	if in.Root != "core1" || in.Priority != P1 || in.State != IncidentOpen || in.Serial != "SN-core1" || len(in.Impacted) != 200 {
		t.Fatalf("incident root %s priority %s state %s serial %s with %d impacted, want core1 P1 open SN-core1 200",
			in.Root, in.Priority, in.State, in.Serial, len(in.Impacted))
	}
	seen := map[string]bool{}
	for _, d := range in.Impacted {
		if seen[d.Name] || d.Name == "core1" || d.Serial != "SN-"+d.Name || d.Customer != info[d.Name].Target.Customer {
			t.Errorf("impacted entry %+v duplicated, the root, or without its serial/customer", d)
		}
		seen[d.Name] = true
	}
	if fmt.Sprint(in.Customers) != "[acme globex]" {
		t.Errorf("customers %v", in.Customers)
	}
	if got := cycle(e, c, at(3), names, info, all, rng); len(got) != 0 {
		t.Errorf("steady outage: %v", kinds(got))
	}
	if c.IncidentOf("acc-03-07") != in.Key || len(c.Incidents()) != 1 {
		t.Errorf("IncidentOf = %q, Incidents = %d", c.IncidentOf("acc-03-07"), len(c.Incidents()))
	}

	// Recovery: core1 comes back with most devices; dist03 (and the 19
	// behind it) stay down, and so does acc-01-01 on its own.
	stillDown := func(n string) bool {
		return n == "dist03" || n == "acc-01-01" || len(n) > 7 && n[:7] == "acc-03-"
	}
	got = cycle(e, c, at(4), names, info, stillDown, rng)
	k := kinds(got)
	if k["resolved core1"] != 1 || k["recovered core1"] != 179 || len(got) != 180 {
		t.Fatalf("recovery cycle: %v, want core1 resolved and 179 recovered on it", k)
	}
	for _, ch := range got {
		if ch.Kind == ChangeRecovered && (len(ch.Devices) != 1 || stillDown(ch.Devices[0].Name)) {
			t.Errorf("recovered %+v", ch.Devices)
		}
	}
	// The devices the root cut off may still be reported down by a poll
	// that was timing out when it came back: they wait two cycles.
	if got = cycle(e, c, at(5), names, info, stillDown, rng); len(got) != 0 {
		t.Fatalf("one cycle after recovery: %v, want nothing decided yet", kinds(got))
	}
	got = cycle(e, c, at(6), names, info, stillDown, rng)
	k = kinds(got)
	if k["opened dist03"] != 1 || k["opened acc-01-01"] != 1 || len(got) != 2 {
		t.Fatalf("after recovery: %v, want dist03 and acc-01-01 opened", k)
	}
	for _, ch := range got {
		want := map[string]int{"dist03": 19, "acc-01-01": 0}[ch.Incident.Root]
		if len(ch.Incident.Impacted) != want {
			t.Errorf("%s: %d impacted, want %d", ch.Incident.Root, len(ch.Incident.Impacted), want)
		}
		if ch.Incident.Root == "dist03" && ch.Incident.Priority != P1 { // distribution is high impact, critical → P1
			t.Errorf("dist03 priority %s", ch.Incident.Priority)
		}
		if ch.Incident.Root == "acc-01-01" && ch.Incident.Priority != P2 {
			t.Errorf("acc-01-01 priority %s, want P2", ch.Incident.Priority)
		}
	}
	got = cycle(e, c, at(6), names, info, none, rng)
	k = kinds(got)
	if k["resolved dist03"] != 1 || k["recovered dist03"] != 19 || k["resolved acc-01-01"] != 1 || len(got) != 21 {
		t.Errorf("all back: %v", k)
	}
	if len(c.Incidents()) != 0 || len(c.incidents) != 0 || len(c.down) != 0 {
		t.Errorf("state left: %d incidents, %d down", len(c.incidents), len(c.down))
	}
}

func TestCorrelatorRedundancy(t *testing.T) {
	nodes, info := stormNet()
	g := topology.New(nodes, nil)
	c := NewCorrelator(g, CorrelatorOptions{Devices: func(n string) DeviceInfo { return info[n] }})
	down := func(now time.Time, names ...string) []IncidentChange {
		var as []Alert
		for _, n := range names {
			as = append(as, Alert{Rule: "device_unreachable", Device: n, State: StateFiring, Severity: SeverityCritical})
		}
		return append(c.Observe(now, as...), c.Flush(now)...)
	}
	// dist05 down: acc-05-* still reach the agent through dist06. A
	// dual-homed switch that is down anyway is its own root.
	got := down(t0, "dist05", "acc-05-01")
	if k := kinds(got); k["opened dist05"] != 1 || k["opened acc-05-01"] != 1 || len(got) != 2 {
		t.Fatalf("one upstream left: %v, want two incidents", k)
	}
	// dist06 goes too: acc-05-01 now sits behind both; its incident merges
	// into the first root by name, dist05.
	got = down(t0.Add(time.Minute), "dist06")
	k := kinds(got)
	if k["opened dist06"] != 1 || k["merged acc-05-01"] != 1 || k["updated dist05"] != 1 || len(got) != 3 {
		t.Fatalf("both upstreams down: %v", k)
	}
	for _, ch := range got {
		if ch.Kind == ChangeMerged && ch.Into != "unreachable:dist05" {
			t.Errorf("merged into %q", ch.Into)
		}
		if ch.Kind == ChangeUpdated && (len(ch.Devices) != 1 || ch.Devices[0].Name != "acc-05-01") {
			t.Errorf("update devices %+v", ch.Devices)
		}
	}
}

func TestIncidentPriorityRisesWithImpact(t *testing.T) {
	nodes := []topology.Node{{Name: "edge"}}
	for i := range 12 {
		nodes = append(nodes, topology.Node{Name: fmt.Sprintf("leaf%02d", i), Upstream: []string{"edge"}})
	}
	c := NewCorrelator(topology.New(nodes, nil), CorrelatorOptions{Devices: func(n string) DeviceInfo {
		return DeviceInfo{Target: Target{Name: n, Role: "access"}}
	}})
	fire := func(n string) Alert {
		return Alert{Rule: "device_unreachable", Device: n, State: StateFiring, Severity: SeverityCritical}
	}
	got := append(c.Observe(t0, fire("edge")), c.Flush(t0)...)
	if len(got) != 1 || got[0].Incident.Priority != P2 {
		t.Fatalf("edge alone: %+v, want P2", got)
	}
	var as []Alert
	for i := range 12 {
		as = append(as, fire(fmt.Sprintf("leaf%02d", i)))
	}
	got = append(c.Observe(t0, as...), c.Flush(t0)...)
	if len(got) != 1 || got[0].Kind != ChangeUpdated || got[0].Incident.Priority != P1 || len(got[0].Devices) != 12 {
		t.Fatalf("12 behind it: %+v, want an update to P1 adding 12", kinds(got))
	}
}
