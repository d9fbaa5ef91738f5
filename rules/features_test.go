package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector"
)

const cpuRule = `groups:
  - name: perf
    rules:
      - name: cpu_high
        scope: cpu
        condition: "cpu.percent > threshold"
        threshold: 90
        severity: major
        category: performance
`

func TestOverrides(t *testing.T) {
	rs := mustParse(t, cpuRule+`        for: 2m
        overrides:
          - match: {role: core}
            threshold: 80
          - match: {role: core, customer: acme}
            for: 0s
          - match: {customer: acme}
            severity: critical
            threshold: 85
          - match: {tag: noisy}
            threshold: 98
          - match: {device: fw9}
            disabled: true
          - match: {site: lab}
            disabled: true
          - match: {site: lab, device: keep-me}
            disabled: false
`)
	r := rs.Rules()[0]
	tests := []struct {
		name     string
		t        Target
		thr      float64
		forDur   time.Duration
		severity string
		disabled bool
	}{
		{"no match", Target{Name: "a", Role: "access"}, 90, 2 * time.Minute, SeverityMajor, false},
		{"role", Target{Name: "a", Role: "core", Customer: "other"}, 80, 2 * time.Minute, SeverityMajor, false},
		// customer (2) beats role (1) for threshold; customer+role (3) sets for.
		{"customer beats role, fields merge", Target{Name: "a", Role: "core", Customer: "acme"}, 85, 0, SeverityCritical, false},
		{"tag beats customer", Target{Name: "a", Role: "core", Customer: "acme", Tags: []string{"x", "noisy"}}, 98, 0, SeverityCritical, false},
		{"device disables", Target{Name: "fw9"}, 90, 2 * time.Minute, SeverityMajor, true},
		{"site disables", Target{Name: "x", Site: "lab"}, 90, 2 * time.Minute, SeverityMajor, true},
		{"device re-enables within site", Target{Name: "keep-me", Site: "lab"}, 90, 2 * time.Minute, SeverityMajor, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			thr, f, sev, dis := r.Params(tt.t)
			if thr != tt.thr || f != tt.forDur || sev != tt.severity || dis != tt.disabled {
				t.Errorf("Params = %v %v %v %v, want %v %v %v %v", thr, f, sev, dis, tt.thr, tt.forDur, tt.severity, tt.disabled)
			}
		})
	}

	// The engine uses them: 85% fires at once on an acme core router, not on
	// an access switch; the alert carries the overridden threshold and
	// severity; a disabled device never fires.
	e := NewEngine(rs, Options{})
	snap := snapshot(true)
	snap.CPU[0].Percent = 86
	got := e.Evaluate(t0, snap, Target{Name: "core1", Role: "core", Customer: "acme"})
	if len(got) != 1 || got[0].Threshold != 85 || got[0].Severity != SeverityCritical || got[0].Priority != P1 {
		t.Errorf("core1: %+v, want one critical P1 firing at threshold 85", got)
	}
	if got := e.Evaluate(t0, snap, Target{Name: "sw1", Role: "access"}); len(got) != 0 {
		t.Errorf("access: %v, want nothing at 86%%", transitions(got))
	}
	snap.CPU[0].Percent = 99
	for i := range 5 {
		if got := e.Evaluate(t0.Add(time.Duration(i)*time.Minute), snap, Target{Name: "fw9"}); len(got) != 0 {
			t.Errorf("disabled on fw9: %v", transitions(got))
		}
	}
	// Disabling a rule for a device with a firing alert resolves it.
	snap.CPU[0].Percent = 99
	e.Evaluate(t0.Add(5*time.Minute), snap, Target{Name: "x", Role: "core", Customer: "acme"})
	got = e.Evaluate(t0.Add(6*time.Minute), snap, Target{Name: "x", Role: "core", Customer: "acme", Site: "lab"})
	sameTransitions(t, "disabled while firing", got, []transition{{"cpu_high", "cpu0", StateResolved, 99}})

	// A target whose attributes change gets fresh parameters.
	if got := e.Evaluate(t0.Add(10*time.Minute), snap, Target{Name: "sw1", Role: "access", Tags: []string{"noisy"}}); len(got) != 0 {
		t.Errorf("pending sw1 fired early: %v", transitions(got))
	}
	snap.CPU[0].Percent = 97
	if got := e.Evaluate(t0.Add(20*time.Minute), snap, Target{Name: "sw1", Role: "access", Tags: []string{"noisy"}}); len(got) != 0 {
		t.Errorf("noisy sw1 at 97%% (threshold 98): %v", transitions(got))
	}
}

func TestFlapping(t *testing.T) {
	rs := mustParse(t, cpuRule+`        flapping: {changes: 3, window: 10m, quiet: 5m}
`)
	e := NewEngine(rs, Options{})
	type tr = transition
	steps := []struct {
		cpu  float64
		want []tr
		flap bool // Active()'s alert is flapping
	}{
		{95, []tr{{"cpu_high", "cpu0", StateFiring, 95}}, false}, // change 1
		{10, []tr{{"cpu_high", "cpu0", StateResolved, 10}}, false},
		{95, []tr{{"cpu_high", "cpu0", StateFiring, 95}}, false},
		{10, []tr{{"cpu_high", "cpu0", StateFiring, 10}}, true}, // change 4 > 3: one firing update, flapping, latest value
		{95, nil, true},
		{10, nil, true},
		{95, nil, true},
		{95, nil, true}, // 1m quiet
		{95, nil, true},
		{95, nil, true},
		{95, nil, true},
		{95, []tr{{"cpu_high", "cpu0", StateFiring, 95}}, false}, // 5m quiet, condition holds: update, not flapping
		{10, []tr{{"cpu_high", "cpu0", StateResolved, 10}}, false},
	}
	for i, s := range steps {
		snap := snapshot(true)
		snap.CPU[0].Percent = s.cpu
		got := e.Evaluate(t0.Add(time.Duration(i)*time.Minute), snap, target)
		sameTransitions(t, fmt.Sprintf("step %d", i), got, s.want)
		act := e.Active()
		if s.flap != (len(act) == 1 && act[0].Flapping) {
			t.Errorf("step %d: Active() = %+v, want flapping %v", i, act, s.flap)
		}
		if len(got) == 1 && got[0].Flapping != s.flap {
			t.Errorf("step %d: emitted Flapping = %v, want %v", i, got[0].Flapping, s.flap)
		}
	}

	// Leaving flapping while clear resolves the one alert.
	e = NewEngine(rs, Options{})
	for i, cpu := range []float64{95, 10, 95, 10, 10, 10, 10, 10, 10} {
		snap := snapshot(true)
		snap.CPU[0].Percent = cpu
		got := e.Evaluate(t0.Add(time.Duration(i)*time.Minute), snap, target)
		if i == 3 && (len(got) != 1 || !got[0].Flapping) {
			t.Errorf("step 3: %+v, want the flapping update", got)
		}
		if i > 3 && i < 8 && len(got) > 0 {
			t.Errorf("step %d: %v while flapping", i, transitions(got))
		}
		if i == 8 {
			sameTransitions(t, "quiet while clear", got, []tr{{"cpu_high", "cpu0", StateResolved, 10}})
		}
	}

	// flapping: off never folds.
	off := mustParse(t, cpuRule+"        flapping: off\n")
	e = NewEngine(off, Options{})
	n := 0
	for i := range 20 {
		snap := snapshot(true)
		snap.CPU[0].Percent = float64(95 - 85*(i%2))
		n += len(e.Evaluate(t0.Add(time.Duration(i)*time.Minute), snap, target))
	}
	if n != 20 {
		t.Errorf("flapping off: %d transitions in 20 flips, want 20", n)
	}
}

func TestKeepFiringFor(t *testing.T) {
	rs := mustParse(t, cpuRule+`        keep_firing_for: 3m
        flapping: off
`)
	e := NewEngine(rs, Options{})
	type tr = transition
	steps := []struct {
		cpu  float64
		want []tr
	}{
		{95, []tr{{"cpu_high", "cpu0", StateFiring, 95}}},
		{10, nil}, // countdown from 1m
		{10, nil},
		{95, nil}, // relapse cancels the countdown
		{10, nil}, // countdown from 4m
		{10, nil},
		{10, nil},
		{10, []tr{{"cpu_high", "cpu0", StateResolved, 10}}}, // 3m after 4m
	}
	for i, s := range steps {
		snap := snapshot(true)
		snap.CPU[0].Percent = s.cpu
		sameTransitions(t, fmt.Sprintf("step %d", i), e.Evaluate(t0.Add(time.Duration(i)*time.Minute), snap, target), s.want)
	}
}

func TestMissingData(t *testing.T) {
	type tr = transition
	up := func(cpu float64) *collector.Snapshot {
		s := snapshot(true)
		s.CPU[0].Percent = cpu
		return s
	}
	down := snapshot(false)
	noCPU := snapshot(true)
	noCPU.CPU = nil
	tests := []struct {
		policy string
		snaps  []*collector.Snapshot
		want   [][]tr
	}{
		{"hold", []*collector.Snapshot{up(95), down, noCPU, up(95)}, [][]tr{
			{{"cpu_high", "cpu0", StateFiring, 95}}, nil, nil, nil}},
		{"resolve", []*collector.Snapshot{up(95), down, up(95)}, [][]tr{
			{{"cpu_high", "cpu0", StateFiring, 95}}, {{"cpu_high", "cpu0", StateResolved, 95}}, {{"cpu_high", "cpu0", StateFiring, 95}}}},
		{"resolve", []*collector.Snapshot{up(95), noCPU}, [][]tr{
			{{"cpu_high", "cpu0", StateFiring, 95}}, {{"cpu_high", "cpu0", StateResolved, 95}}}},
		// A healthy CPU whose data goes missing fires 2m after the last
		// data, and the no-data alert resolves when data is back.
		{"fire after 2m", []*collector.Snapshot{up(10), down, down, down, up(10)}, [][]tr{
			nil, nil, {{"cpu_high", "cpu0", StateFiring, 0}}, nil, {{"cpu_high", "cpu0", StateResolved, 0}}}},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			e := NewEngine(mustParse(t, cpuRule+"        missing_data: "+tt.policy+"\n"), Options{})
			for i, s := range tt.snaps {
				got := e.Evaluate(t0.Add(time.Duration(i)*time.Minute), s, target)
				sameTransitions(t, fmt.Sprintf("step %d", i), got, tt.want[i])
				if tt.policy == "fire after 2m" && i == 2 && (len(got) != 1 || !strings.HasSuffix(got[0].Summary, "(no data)") || !got[0].StartsAt.Equal(t0)) {
					t.Errorf("no-data alert = %+v, want a summary ending (no data) starting at the last data", got)
				}
			}
		})
	}
}

func TestMaintenance(t *testing.T) {
	rs := mustParse(t, strings.Replace(cpuRule, "groups:", `maintenance:
  - id: upgrade
    reason: IOS upgrade CHG-1
    start: 2025-03-01T10:02:00Z
    end: 2025-03-01T10:05:00Z
    devices: [sw1]
groups:`, 1)+"        flapping: off\n")
	e := NewEngine(rs, Options{})
	if ms := e.Maintenances(); len(ms) != 1 || ms[0].ID != "upgrade" {
		t.Fatalf("Maintenances() = %+v", ms)
	}
	type out struct {
		state      string
		suppressed bool
	}
	steps := []struct {
		cpu  float64
		want []out
	}{
		{10, nil},
		{95, []out{{StateFiring, false}}},   // 10:01, before the window: a ticket
		{10, []out{{StateResolved, false}}}, // 10:02, in the window, but its firing was notified
		{95, []out{{StateFiring, true}}},    // 10:03: recorded, suppressed
		{95, nil},                           // 10:04
		{95, []out{{StateFiring, false}}},   // 10:05: window over, fault still there: emitted now
		{10, []out{{StateResolved, false}}},
	}
	for i, s := range steps {
		snap := snapshot(true)
		snap.CPU[0].Percent = s.cpu
		got := e.Evaluate(t0.Add(time.Duration(i)*time.Minute), snap, target)
		var g []out
		for _, a := range got {
			g = append(g, out{a.State, a.Suppressed})
			if a.Suppressed != (a.Maintenance == "upgrade") {
				t.Errorf("step %d: Suppressed %v with Maintenance %q", i, a.Suppressed, a.Maintenance)
			}
		}
		if fmt.Sprint(g) != fmt.Sprint(s.want) {
			t.Errorf("step %d: %v, want %v", i, g, s.want)
		}
	}

	// A fault that clears inside the window stays quiet throughout.
	e = NewEngine(rs, Options{})
	var all []Alert
	for i, cpu := range []float64{10, 10, 95, 95, 10, 10, 10} {
		snap := snapshot(true)
		snap.CPU[0].Percent = cpu
		all = append(all, e.Evaluate(t0.Add(time.Duration(i)*time.Minute), snap, target)...)
	}
	if len(all) != 2 || !all[0].Suppressed || !all[1].Suppressed {
		t.Errorf("fault inside window: %+v, want a suppressed firing and a suppressed resolve", all)
	}
}

func TestMaintenanceAPI(t *testing.T) {
	e := NewEngine(mustParse(t, cpuRule), Options{})
	bad := []Maintenance{
		{ID: "", Start: t0, End: t0.Add(time.Hour), Devices: []string{"a"}},
		{ID: "x", Start: t0.Add(time.Hour), End: t0, Devices: []string{"a"}},
		{ID: "x", Schedule: "0 2 * * *", Devices: []string{"a"}},
		{ID: "x", Schedule: "not cron", Duration: time.Hour, Devices: []string{"a"}},
		{ID: "x", Start: t0, End: t0.Add(time.Hour)},
	}
	for _, m := range bad {
		if err := e.AddMaintenance(m); err == nil {
			t.Errorf("AddMaintenance(%+v) accepted", m)
		}
	}
	// Sundays 02:00-04:00 for site hq, from a cron schedule.
	weekly := Maintenance{ID: "weekly", Schedule: "0 2 * * SUN", Duration: 2 * time.Hour, Sites: []string{"hq"}}
	if err := e.AddMaintenance(weekly); err != nil {
		t.Fatal(err)
	}
	sunday := time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC) // a Sunday
	tests := []struct {
		at   time.Time
		t    Target
		want string
	}{
		{sunday.Add(1*time.Hour + 59*time.Minute), target, ""},
		{sunday.Add(2 * time.Hour), target, "weekly"},
		{sunday.Add(3*time.Hour + 59*time.Minute), target, "weekly"},
		{sunday.Add(4 * time.Hour), target, ""},
		{sunday.Add(7*24*time.Hour + 3*time.Hour), target, "weekly"},
		{sunday.Add(24*time.Hour + 3*time.Hour), target, ""}, // Monday
		{sunday.Add(3 * time.Hour), Target{Name: "x", Site: "dc"}, ""},
	}
	for _, tt := range tests {
		if got := e.InMaintenance(tt.at, tt.t); got != tt.want {
			t.Errorf("InMaintenance(%s, site %s) = %q, want %q", tt.at.Format(time.RFC3339), tt.t.Site, got, tt.want)
		}
	}
	byTag := Maintenance{ID: "lab", Start: t0, End: t0.Add(time.Hour), Tags: []string{"lab"}, Customers: []string{"zeta"}}
	if err := e.AddMaintenance(byTag); err != nil {
		t.Fatal(err)
	}
	if e.InMaintenance(t0, Target{Name: "a", Tags: []string{"lab"}}) != "lab" || e.InMaintenance(t0, Target{Name: "a", Customer: "zeta"}) != "lab" {
		t.Error("tag or customer match failed")
	}
	if !e.RemoveMaintenance("lab") || e.RemoveMaintenance("lab") || len(e.Maintenances()) != 1 {
		t.Errorf("RemoveMaintenance: %+v", e.Maintenances())
	}

	// Removing a window releases the alert it held back.
	if err := e.AddMaintenance(Maintenance{ID: "now", Start: t0, End: t0.Add(time.Hour), Devices: []string{"sw1"}}); err != nil {
		t.Fatal(err)
	}
	snap := snapshot(true)
	snap.CPU[0].Percent = 95
	if got := e.Evaluate(t0, snap, target); len(got) != 1 || !got[0].Suppressed {
		t.Fatalf("in window: %+v", got)
	}
	e.RemoveMaintenance("now")
	if got := e.Evaluate(t0.Add(time.Minute), snap, target); len(got) != 1 || got[0].Suppressed || got[0].State != StateFiring {
		t.Errorf("after removal: %+v, want the firing alert released", got)
	}
}

func TestEvents(t *testing.T) {
	e := NewEngine(Default(), Options{})
	type tr = transition
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	snap := func(uptime float64, serial string) *collector.Snapshot {
		s := snapshot(true)
		s.System.UptimeSeconds, s.Serial = uptime, serial
		return s
	}
	sameTransitions(t, "first poll", e.Evaluate(at(0), snap(1000, "A"), target), nil)
	sameTransitions(t, "uptime grows", e.Evaluate(at(1), snap(1060, "A"), target), nil)
	got := e.Evaluate(at(2), snap(30, "A"), target)
	sameTransitions(t, "rebooted", got, []tr{{"device_rebooted", "", StateFiring, 1}})
	if len(got) == 1 && got[0].Summary != "sw1 rebooted (uptime 30s, was 17m40s)" {
		t.Errorf("reboot summary %q", got[0].Summary)
	}
	got = e.Evaluate(at(3), snap(90, "B"), target)
	sameTransitions(t, "replaced", got, []tr{{"device_replaced", "", StateFiring, 1}})
	if len(got) == 1 && got[0].Summary != "sw1 was replaced: serial A is now B" {
		t.Errorf("replacement summary %q", got[0].Summary)
	}
	sameTransitions(t, "unreachable does not reset", e.Evaluate(at(10), snapshot(false), target), []tr{{"device_unreachable", "", StateFiring, 1}})
	sameTransitions(t, "reboot held 30m", e.Evaluate(at(31), snap(1740, "B"), target), []tr{{"device_unreachable", "", StateResolved, 0}})
	sameTransitions(t, "reboot expires", e.Evaluate(at(32), snap(1800, "B"), target), []tr{{"device_rebooted", "", StateResolved, 0}})

	// Traps: link_down fires, link_up on the same instance clears, a
	// second link down on another port is its own alert, hold expires it.
	ev := func(kind, inst string) Event { return Event{Device: "sw1", Kind: kind, Instance: inst} }
	sameTransitions(t, "link down", e.Event(at(40), ev(EventLinkDown, "Gi1/0/1"), target), []tr{{"link_down_trap", "Gi1/0/1", StateFiring, 1}})
	sameTransitions(t, "again", e.Event(at(41), ev(EventLinkDown, "Gi1/0/1"), target), nil)
	sameTransitions(t, "other port", e.Event(at(41), ev(EventLinkDown, "Gi1/0/2"), target), []tr{{"link_down_trap", "Gi1/0/2", StateFiring, 1}})
	sameTransitions(t, "link up", e.Event(at(42), ev(EventLinkUp, "Gi1/0/1"), target), []tr{{"link_down_trap", "Gi1/0/1", StateResolved, 0}})
	sameTransitions(t, "hold", e.Evaluate(at(51), snap(1800+19*60, "B"), target), []tr{{"link_down_trap", "Gi1/0/2", StateResolved, 0}})
	sameTransitions(t, "bgp down", e.Event(at(52), ev(EventBGPPeerDown, "192.0.2.9"), target), []tr{{"bgp_peer_down_trap", "192.0.2.9", StateFiring, 1}})
	sameTransitions(t, "bgp has no hold", e.Evaluate(at(200), snap(1800+170*60, "B"), target), nil)
	sameTransitions(t, "bgp up", e.Event(at(201), ev(EventBGPPeerUp, "192.0.2.9"), target), []tr{{"bgp_peer_down_trap", "192.0.2.9", StateResolved, 0}})
}

func TestUplinkDetection(t *testing.T) {
	netDev := func(name string) bool { return name == "core1" }
	e := NewEngine(Default(), Options{NetworkDevice: netDev})
	snap := snapshot(true)
	snap.Interfaces = []collector.Interface{
		iface("Gi1/0/1", "up", "down"), // neighbour core1: uplink
		iface("Gi1/0/2", "up", "down"), // neighbour a phone: access
		iface("Gi1/0/3", "up", "down"), // alias says UPLINK
		iface("Gi1/0/4", "up", "down"), // nothing: access
	}
	for i := range snap.Interfaces {
		snap.Interfaces[i].Index = i + 1
	}
	snap.Interfaces[2].Alias = "To DC UPLINK"
	snap.Neighbors = []collector.Neighbor{{LocalPort: "Gi1/0/1", RemoteName: "core1"}, {LocalPort: "Gi1/0/2", RemoteName: "SEP001122334455"}}
	sameTransitions(t, "first", e.Evaluate(t0, snap, target), []transition{
		{"uplink_down", "Gi1/0/1", StateFiring, 1}, {"uplink_down", "Gi1/0/3", StateFiring, 1},
	})
	sameTransitions(t, "access ports after 5m", e.Evaluate(t0.Add(5*time.Minute), snap, target), []transition{
		{"interface_down", "Gi1/0/2", StateFiring, 1}, {"interface_down", "Gi1/0/4", StateFiring, 1},
	})

	// A link that goes down loses its LLDP entry: the port learned as an
	// uplink while it was up stays one.
	e = NewEngine(Default(), Options{NetworkDevice: netDev})
	snap = snapshot(true)
	snap.Neighbors = []collector.Neighbor{{LocalPort: "Gi1/0/1", RemoteName: "core1"}}
	sameTransitions(t, "healthy with neighbour", e.Evaluate(t0, snap, target), nil)
	snap.Neighbors = nil
	snap.Interfaces[0].OperStatus = "down"
	sameTransitions(t, "down, neighbour gone", e.Evaluate(t0.Add(time.Minute), snap, target), []transition{{"uplink_down", "Gi1/0/1", StateFiring, 1}})

	// After a restart the engine has learned nothing: Target.Uplinks (the
	// agent's topology) and the alias conventions still tell.
	e = NewEngine(Default(), Options{NetworkDevice: netDev})
	snap.Interfaces[1].OperStatus = "down"
	snap.Interfaces = append(snap.Interfaces, iface("Te1/1/1", "up", "down"))
	snap.Interfaces[2].Alias = "Downlink to acc-3"
	tgt := target
	tgt.Uplinks = []string{"Gi1/0/1"}
	sameTransitions(t, "fresh engine", e.Evaluate(t0, snap, tgt), []transition{
		{"uplink_down", "Gi1/0/1", StateFiring, 1}, {"uplink_down", "Te1/1/1", StateFiring, 1},
	})
}

func TestRuleErrorsCounted(t *testing.T) {
	rs := mustParse(t, `groups:
  - name: odd
    rules:
      - name: odd_index
        scope: interface
        condition: "10 % iface.index == 0"
        severity: warning
        category: configuration
`)
	e := NewEngine(rs, Options{})
	snap := snapshot(true)
	snap.Interfaces = []collector.Interface{{Name: "a", Index: 0}, {Name: "b", Index: 0}, {Name: "c", Index: 5}}
	got := e.Evaluate(t0, snap, target)
	sameTransitions(t, "others untouched", got, []transition{{"odd_index", "c", StateFiring, 1}})
	if n := e.RuleErrors()["odd_index"]; n != 2 {
		t.Errorf("RuleErrors = %v, want odd_index: 2", e.RuleErrors())
	}
}

func TestParseFeatures(t *testing.T) {
	rs := mustParse(t, `maintenance:
  - id: weekly
    schedule: "CRON_TZ=Europe/Paris 0 2 * * SUN"
    duration: 2h
    tags: [lab]
groups:
  - name: g
    rules:
      - name: cpu_high
        scope: cpu
        condition: "cpu.percent > threshold"
        threshold: 90
        for: 10m
        keep_firing_for: 5m
        missing_data: fire after 10m
        flapping: {changes: 6}
        severity: major
        category: performance
        overrides:
          - match: {role: core, tag: lab}
            for: 20m
      - name: trap
        scope: event
        condition: "event.kind == 'x' && event.attrs.port == 'a'"
        hold: 1h
        flapping: off
        severity: minor
        category: link
`)
	r, ev := rs.Rules()[0], rs.Rules()[1]
	if r.KeepFiringFor != 5*time.Minute || r.MissingData != (MissingData{MissingFire, 10 * time.Minute}) ||
		*r.Flapping != (Flapping{Changes: 6, Window: DefaultFlapping.Window, Quiet: DefaultFlapping.Quiet}) ||
		len(r.Overrides) != 1 || *r.Overrides[0].For != 20*time.Minute || r.Overrides[0].Source != "test.yaml:20" {
		t.Errorf("cpu_high decoded as %+v", *r)
	}
	if ev.Hold != time.Hour || !ev.Flapping.Disabled || ev.Scope != ScopeEvent {
		t.Errorf("trap decoded as %+v", *ev)
	}
	if len(rs.Maintenance) != 1 || rs.Maintenance[0].Duration != 2*time.Hour {
		t.Errorf("maintenance %+v", rs.Maintenance)
	}
	// WithMaxFor caps overrides too.
	short := rs.WithMaxFor(time.Minute).Rules()[0]
	if short.For != time.Minute || *short.Overrides[0].For != time.Minute || *r.Overrides[0].For != 20*time.Minute {
		t.Errorf("WithMaxFor: for %v, override %v, original override %v", short.For, *short.Overrides[0].For, *r.Overrides[0].For)
	}
	// A file of maintenance windows alone is a valid rule file.
	only := mustParse(t, "maintenance:\n  - id: x\n    start: 2025-03-01T00:00:00Z\n    end: 2025-03-01T01:00:00Z\n    everything: true\n")
	if len(only.Maintenance) != 1 || len(only.Rules()) != 0 {
		t.Errorf("maintenance-only file: %+v", only)
	}
	m, err := Merge(rs, only)
	if err != nil || len(m.Maintenance) != 2 {
		t.Errorf("Merge: %v, %d windows", err, len(m.Maintenance))
	}
	if _, err := Merge(only, only); err == nil {
		t.Error("Merge accepted one window id twice")
	}
}
