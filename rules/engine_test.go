package rules

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// transition is the part of an Alert the state-machine tests compare.
type transition struct {
	Rule, Instance, State string
	Value                 float64
}

func (tr transition) String() string {
	return fmt.Sprintf("%s/%s %s %v", tr.Rule, tr.Instance, tr.State, tr.Value)
}

func transitions(as []Alert) []transition {
	out := []transition{}
	for _, a := range as {
		out = append(out, transition{a.Rule, a.Instance, a.State, a.Value})
	}
	return out
}

func sameTransitions(t *testing.T, step string, got []Alert, want []transition) {
	t.Helper()
	g := transitions(got)
	if want == nil {
		want = []transition{}
	}
	if fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("%s: transitions = %v, want %v", step, g, want)
	}
}

func mustParse(t testing.TB, src string) *RuleSet {
	t.Helper()
	rs, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func iface(name, admin, oper string) collector.Interface {
	return collector.Interface{Index: len(name), Name: name, Descr: name, AdminStatus: admin, OperStatus: oper, Type: "ethernetCsmacd"}
}

func snapshot(reachable bool) *collector.Snapshot {
	return &collector.Snapshot{
		Target: "192.0.2.1:161", Device: "sw1", Reachable: reachable,
		Vendor: "cisco", Model: "C9300", Serial: "FOC123",
		Interfaces: []collector.Interface{iface("Gi1/0/1", "up", "up"), iface("Gi1/0/2", "up", "up")},
		CPU:        []collector.CPU{{Name: "cpu0", Percent: 10}},
		Memory:     []collector.Memory{{Name: "processor", Percent: 40}},
		Sensors:    []collector.Sensor{{Class: "temperature", Name: "inlet", Value: 30, Unit: "celsius", Status: "ok"}},
	}
}

// mechanics is a fixed rule set for state-machine tests (interface_down
// fires at once, major), independent of how the shipped pack evolves.
func mechanics(t testing.TB) *RuleSet {
	t.Helper()
	rs, err := LoadFile("testdata/mechanics.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

var target = Target{Name: "sw1", Role: "access", Customer: "acme", Tier: "silver", Site: "hq"}

func TestHysteresis(t *testing.T) {
	e := NewEngine(Default(), Options{})
	steps := []struct {
		at   time.Duration
		cpu  float64
		want []transition
	}{
		{0, 95, nil},           // pending
		{time.Minute, 96, nil}, // still pending: for is 2m
		{2 * time.Minute, 95, []transition{{"cpu_high", "cpu0", StateFiring, 95}}},
		{3 * time.Minute, 85, nil}, // below condition, above clear: stays firing
		{4 * time.Minute, 85, nil},
		{5 * time.Minute, 75, []transition{{"cpu_high", "cpu0", StateResolved, 75}}},
		{6 * time.Minute, 75, nil},
		{7 * time.Minute, 95, nil}, // pending again from scratch
		{8 * time.Minute, 85, nil}, // pending dropped: condition false
		{9 * time.Minute, 95, nil}, // pending from 9m
		{10 * time.Minute, 95, nil},
		{11 * time.Minute, 95, []transition{{"cpu_high", "cpu0", StateFiring, 95}}},
	}
	var fired Alert
	for _, s := range steps {
		snap := snapshot(true)
		snap.CPU[0].Percent = s.cpu
		got := e.Evaluate(t0.Add(s.at), snap, target)
		sameTransitions(t, fmt.Sprintf("at %v cpu %v", s.at, s.cpu), got, s.want)
		if len(got) == 1 && got[0].State == StateFiring {
			fired = got[0]
		}
		if s.at == 4*time.Minute {
			act := e.Active()
			if len(act) != 1 || act[0].Value != 85 {
				t.Errorf("at 4m Active() = %v, want cpu_high with value 85", transitions(act))
			}
		}
	}
	if !fired.StartsAt.Equal(t0.Add(9*time.Minute)) || !fired.At.Equal(t0.Add(11*time.Minute)) {
		t.Errorf("second firing StartsAt %v At %v, want pending start 9m and 11m", fired.StartsAt, fired.At)
	}
}

func TestFiringAlertFields(t *testing.T) {
	e := NewEngine(Default(), Options{})
	snap := snapshot(true)
	snap.Interfaces[1].OperStatus = "down"
	snap.Interfaces[1].Alias = "uplink to core1"
	tgt := target
	tgt.Role, tgt.Tier = "core", "gold"
	got := e.Evaluate(t0, snap, tgt)
	if len(got) != 1 {
		t.Fatalf("got %d alerts, want 1: %v", len(got), transitions(got))
	}
	a := got[0]
	want := Alert{
		Fingerprint: Fingerprint("uplink_down", "sw1", "Gi1/0/2"),
		Rule:        "uplink_down", Device: "sw1", Instance: "Gi1/0/2", State: StateFiring,
		Severity: SeverityMajor, Category: CategoryLink, Priority: P1, // major on core = P2, gold raises
		Value: 1, Threshold: 0,
		Summary:     "sw1 uplink Gi1/0/2 (uplink to core1) is down while admin up",
		Description: "The port is enabled but has no link. Check the cable and optics at both ends and the far-end port; devices behind this uplink may have lost their path.",
		StartsAt:    t0, At: t0,
		Labels: map[string]string{"ifIndex": "7", "ifName": "Gi1/0/2", "ifDescr": "Gi1/0/2", "ifAlias": "uplink to core1", "ifType": "ethernetCsmacd"},
	}
	if fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", want) {
		t.Errorf("alert\n got %+v\nwant %+v", a, want)
	}
	// The emitted alert is a copy: editing it must not reach engine state.
	a.Labels["ifName"] = "changed"
	if e.Active()[0].Labels["ifName"] != "Gi1/0/2" {
		t.Error("caller's edit of Labels changed the engine's state")
	}
	snap.Interfaces[1].OperStatus = "up"
	got = e.Evaluate(t0.Add(time.Minute), snap, tgt)
	if len(got) != 1 || got[0].State != StateResolved || got[0].Fingerprint != want.Fingerprint ||
		!got[0].StartsAt.Equal(t0) || !got[0].At.Equal(t0.Add(time.Minute)) || got[0].Value != 0 || got[0].Priority != P1 {
		t.Errorf("resolve = %+v", got)
	}
}

func TestUnreachableHoldsInstanceRules(t *testing.T) {
	e := NewEngine(mechanics(t), Options{})
	down := snapshot(true)
	down.Interfaces[0].OperStatus = "down"
	down.CPU[0].Percent = 99
	dead := snapshot(false)
	dead.Interfaces, dead.CPU, dead.Memory, dead.Sensors = nil, nil, nil, nil

	steps := []struct {
		name string
		at   time.Duration
		snap *collector.Snapshot
		want []transition
		// active lists firing rules/instances after the step.
		active []string
	}{
		{"interface down, cpu pending", 0, down, []transition{{"interface_down", "Gi1/0/1", StateFiring, 1}}, []string{"interface_down/Gi1/0/1"}},
		{"unreachable", time.Minute, dead, []transition{{"device_unreachable", "", StateFiring, 1}},
			[]string{"device_unreachable/", "interface_down/Gi1/0/1"}},
		{"still unreachable past cpu's for", 5 * time.Minute, dead, nil,
			[]string{"device_unreachable/", "interface_down/Gi1/0/1"}},
		// The cpu state was held pending since 0: back with 99%, 2m have
		// long passed, so it fires now; the interface is still down and
		// does not fire again.
		{"back, same faults", 6 * time.Minute, down, []transition{
			{"device_unreachable", "", StateResolved, 0},
			{"cpu_high", "cpu0", StateFiring, 99},
		}, []string{"cpu_high/cpu0", "interface_down/Gi1/0/1"}},
		{"healthy", 7 * time.Minute, snapshot(true), []transition{
			{"interface_down", "Gi1/0/1", StateResolved, 0},
			{"cpu_high", "cpu0", StateResolved, 10},
		}, nil},
	}
	for _, s := range steps {
		got := e.Evaluate(t0.Add(s.at), s.snap, target)
		sameTransitions(t, s.name, got, s.want)
		var act []string
		for _, a := range e.Active() {
			act = append(act, a.Rule+"/"+a.Instance)
		}
		if fmt.Sprint(act) != fmt.Sprint(s.active) {
			t.Errorf("%s: Active() = %v, want %v", s.name, act, s.active)
		}
	}
}

func TestUnreachablePriority(t *testing.T) {
	tests := []struct {
		name string
		t    Target
		want string
	}{
		{"access", Target{Name: "a", Role: "access"}, P2},
		{"core", Target{Name: "c", Role: "core"}, P1},
		{"access cutting off 12", Target{Name: "d", Role: "access", Downstream: 12}, P1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEngine(Default(), Options{})
			got := e.Evaluate(t0, snapshot(false), tt.t)
			if len(got) != 1 || got[0].Rule != "device_unreachable" || got[0].Priority != tt.want ||
				got[0].Summary != tt.t.Name+" is unreachable" || got[0].Device != tt.t.Name {
				t.Errorf("got %+v, want one device_unreachable %s for %s", got, tt.want, tt.t.Name)
			}
		})
	}
}

func TestInstances(t *testing.T) {
	type step struct {
		mutate func(s *collector.Snapshot)
		want   []transition
	}
	downGi2 := func(s *collector.Snapshot) { s.Interfaces[1].OperStatus = "down" }
	tests := []struct {
		name  string
		steps []step
	}{
		{"no repeat emissions", []step{
			{downGi2, []transition{{"interface_down", "Gi1/0/2", StateFiring, 1}}},
			{downGi2, nil},
			{downGi2, nil},
			{func(s *collector.Snapshot) {}, []transition{{"interface_down", "Gi1/0/2", StateResolved, 0}}},
			{func(s *collector.Snapshot) {}, nil},
		}},
		{"admin down is not a fault", []step{
			{func(s *collector.Snapshot) { s.Interfaces[1].AdminStatus, s.Interfaces[1].OperStatus = "down", "down" }, nil},
		}},
		{"instance disappears while firing", []step{
			{downGi2, []transition{{"interface_down", "Gi1/0/2", StateFiring, 1}}},
			{func(s *collector.Snapshot) { s.Interfaces = s.Interfaces[:1] }, []transition{{"interface_down", "Gi1/0/2", StateResolved, 1}}},
			{downGi2, []transition{{"interface_down", "Gi1/0/2", StateFiring, 1}}},
		}},
		{"sensor disappears while firing, last value kept", []step{
			{func(s *collector.Snapshot) { s.Sensors[0].Value = 80 }, nil},
			{func(s *collector.Snapshot) { s.Sensors[0].Value = 81 }, []transition{{"temperature_high", "temperature/inlet", StateFiring, 81}}},
			{func(s *collector.Snapshot) { s.Sensors[0].Name = "outlet" }, []transition{{"temperature_high", "temperature/inlet", StateResolved, 81}}},
		}},
		{"pending instance disappears silently", []step{
			{func(s *collector.Snapshot) { s.CPU[0].Percent = 99 }, nil},
			{func(s *collector.Snapshot) { s.CPU[0].Name = "cpu1" }, nil},
			{func(s *collector.Snapshot) { s.CPU[0].Percent = 99 }, nil}, // pending restarted at this step
		}},
		{"empty list holds", []step{
			{downGi2, []transition{{"interface_down", "Gi1/0/2", StateFiring, 1}}},
			{func(s *collector.Snapshot) { s.Interfaces = nil }, nil},
			{func(s *collector.Snapshot) { s.Interfaces = []collector.Interface{} }, nil},
			{downGi2, nil},
		}},
		{"a sensor class does not clash with another of the same name", []step{
			{func(s *collector.Snapshot) {
				s.Sensors = []collector.Sensor{{Class: "temperature", Name: "PSU1", Value: 90}, {Class: "power", Name: "PSU1", Value: 0}}
			}, nil},
			{func(s *collector.Snapshot) {
				s.Sensors = []collector.Sensor{{Class: "temperature", Name: "PSU1", Value: 90}, {Class: "power", Name: "PSU1", Value: 0}}
			}, []transition{{"temperature_high", "temperature/PSU1", StateFiring, 90}}},
			{func(s *collector.Snapshot) {
				s.Sensors = []collector.Sensor{{Class: "power", Name: "PSU1", Value: 0}, {Class: "temperature", Name: "PSU1", Value: 90}}
			}, nil},
		}},
		{"duplicate interface names are told apart by ifIndex", []step{
			{func(s *collector.Snapshot) {
				s.Interfaces = []collector.Interface{iface("Gi1/0/1", "up", "up"), iface("Gi1/0/1", "up", "down")}
				s.Interfaces[1].Index = 42
			}, []transition{{"interface_down", "Gi1/0/1 (ifIndex 42)", StateFiring, 1}}},
			{func(s *collector.Snapshot) {
				s.Interfaces = []collector.Interface{iface("Gi1/0/1", "up", "up"), iface("Gi1/0/1", "up", "down")}
				s.Interfaces[1].Index = 42
			}, nil},
			{func(s *collector.Snapshot) {
				s.Interfaces = []collector.Interface{iface("Gi1/0/1", "up", "down"), iface("Gi1/0/1", "up", "up")}
				s.Interfaces[1].Index = 42
			}, []transition{
				{"interface_down", "Gi1/0/1", StateFiring, 1},
				{"interface_down", "Gi1/0/1 (ifIndex 42)", StateResolved, 0},
			}},
		}},
		{"unnamed instances are told apart by index", []step{
			{func(s *collector.Snapshot) {
				s.CPU = []collector.CPU{{Percent: 10}, {Percent: 99}}
				s.Sensors = []collector.Sensor{{Class: "temperature", Value: 20}, {Class: "temperature", Value: 75}}
				s.Interfaces = []collector.Interface{{Index: 3, AdminStatus: "up", OperStatus: "down"}}
			}, []transition{{"interface_down", "ifIndex 3", StateFiring, 1}}},
			{func(s *collector.Snapshot) {
				s.CPU = []collector.CPU{{Percent: 10}, {Percent: 99}}
				s.Sensors = []collector.Sensor{{Class: "temperature", Value: 20}, {Class: "temperature", Value: 75}}
			}, []transition{ // rule transitions first, then instances that went
				{"temperature_high", "temperature 1", StateFiring, 75},
				{"interface_down", "ifIndex 3", StateResolved, 1},
			}},
			{func(s *collector.Snapshot) {
				s.CPU = []collector.CPU{{Percent: 10}, {Percent: 99}}
				s.Sensors = []collector.Sensor{{Class: "temperature", Value: 20}, {Class: "temperature", Value: 75}}
			}, []transition{{"cpu_high", "cpu 1", StateFiring, 99}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEngine(mechanics(t), Options{})
			for i, s := range tt.steps {
				snap := snapshot(true)
				s.mutate(snap)
				got := e.Evaluate(t0.Add(time.Duration(i)*time.Minute), snap, target)
				sameTransitions(t, fmt.Sprintf("step %d", i), got, s.want)
			}
		})
	}
}

func TestRatesMissingHolds(t *testing.T) {
	rs := mustParse(t, `groups:
  - name: link
    rules:
      - name: util_high
        scope: interface
        condition: "iface.util_percent > threshold"
        threshold: 80
        severity: minor
        category: performance
`)
	e := NewEngine(rs, Options{})
	rates := func(util float64) func(*collector.Snapshot) {
		return func(s *collector.Snapshot) {
			if util >= 0 {
				s.Interfaces[0].Rates = &collector.InterfaceRates{UtilPercent: util}
			}
		}
	}
	steps := []struct {
		mutate func(*collector.Snapshot)
		want   []transition
	}{
		{rates(90), []transition{{"util_high", "Gi1/0/1", StateFiring, 1}}},
		{rates(-1), nil}, // no rates: held, not resolved
		{rates(90), nil},
		{rates(10), []transition{{"util_high", "Gi1/0/1", StateResolved, 0}}},
	}
	for i, s := range steps {
		snap := snapshot(true)
		s.mutate(snap)
		sameTransitions(t, fmt.Sprintf("step %d", i), e.Evaluate(t0.Add(time.Duration(i)*time.Minute), snap, target), s.want)
	}
}

func TestRuntimeErrorHolds(t *testing.T) {
	rs := mustParse(t, `groups:
  - name: odd
    rules:
      - name: odd_index
        scope: interface
        condition: "10 % iface.index == 0"
        severity: warning
        category: configuration
`)
	var logs bytes.Buffer
	e := NewEngine(rs, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	snap := snapshot(true)
	snap.Interfaces = []collector.Interface{{Name: "a", Index: 5}}
	sameTransitions(t, "index 5", e.Evaluate(t0, snap, target), []transition{{"odd_index", "a", StateFiring, 1}})
	snap.Interfaces[0].Index = 0 // 10 % 0 fails at run time
	sameTransitions(t, "index 0", e.Evaluate(t0.Add(time.Minute), snap, target), nil)
	if len(e.Active()) != 1 {
		t.Errorf("Active() = %v, want the alert held", transitions(e.Active()))
	}
	if !strings.Contains(logs.String(), "rule=odd_index device=sw1 instance=a") {
		t.Errorf("run-time error not logged with rule, device, instance: %q", logs.String())
	}
	snap.Interfaces[0].Index = 3
	sameTransitions(t, "index 3", e.Evaluate(t0.Add(2*time.Minute), snap, target), []transition{{"odd_index", "a", StateResolved, 0}})
}

func TestDeviceRulesSeeTarget(t *testing.T) {
	rs := mustParse(t, `groups:
  - name: cfg
    rules:
      - name: lab_with_dependents
        scope: device
        condition: "'lab' in device.tags && device.downstream > threshold && device.vendor == 'cisco' && device.customer == 'acme'"
        threshold: 2
        severity: warning
        category: configuration
        summary: "{{.Device}} has {{.Value}} > {{.Threshold}}"
        value: "device.downstream"
`)
	e := NewEngine(rs, Options{})
	tgt := target
	tgt.Tags = []string{"lab"}
	tgt.Downstream = 3
	got := e.Evaluate(t0, snapshot(true), tgt)
	if len(got) != 1 || got[0].Summary != "sw1 has 3 > 2" {
		t.Errorf("got %+v, want one alert with summary %q", got, "sw1 has 3 > 2")
	}
	tgt.Tags = nil
	sameTransitions(t, "untagged", e.Evaluate(t0.Add(time.Minute), snapshot(true), tgt),
		[]transition{{"lab_with_dependents", "", StateResolved, 3}})
}

func TestDeviceRuleWithClear(t *testing.T) {
	rs := mustParse(t, `groups:
  - name: avail
    rules:
      - name: rebooted
        scope: device
        condition: "device.reachable && device.uptime_seconds < threshold"
        clear: "device.uptime_seconds > 2 * threshold"
        threshold: 300
        severity: warning
        category: availability
`)
	e := NewEngine(rs, Options{})
	steps := []struct {
		uptime float64
		want   []transition
	}{
		{100, []transition{{"rebooted", "", StateFiring, 1}}},
		{400, nil}, // condition false, clear false: held firing
		{700, []transition{{"rebooted", "", StateResolved, 0}}},
		{800, nil},
	}
	for i, s := range steps {
		snap := snapshot(true)
		snap.System.UptimeSeconds = s.uptime
		sameTransitions(t, fmt.Sprintf("uptime %v", s.uptime), e.Evaluate(t0.Add(time.Duration(i)*time.Minute), snap, target), s.want)
	}
}

func TestDeviceName(t *testing.T) {
	tests := []struct {
		name        string
		t           Target
		dev, target string
		want        string
	}{
		{"target name", Target{Name: "inv-name"}, "snap-dev", "10.0.0.1:161", "inv-name"},
		{"snapshot device", Target{}, "snap-dev", "10.0.0.1:161", "snap-dev"},
		{"ad-hoc poll", Target{}, "", "10.0.0.1:161", "10.0.0.1:161"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEngine(Default(), Options{})
			snap := snapshot(false)
			snap.Device, snap.Target = tt.dev, tt.target
			got := e.Evaluate(t0, snap, tt.t)
			if len(got) != 1 || got[0].Device != tt.want || got[0].Fingerprint != Fingerprint("device_unreachable", tt.want, "") {
				t.Errorf("got %+v, want device %q", got, tt.want)
			}
		})
	}
}

func TestForget(t *testing.T) {
	e := NewEngine(Default(), Options{})
	e.Evaluate(t0, snapshot(false), Target{Name: "a"})
	e.Evaluate(t0, snapshot(false), Target{Name: "b"})
	e.Forget("a")
	act := e.Active()
	if len(act) != 1 || act[0].Device != "b" {
		t.Fatalf("after Forget(a) Active() = %+v, want b only", act)
	}
	// A forgotten device starts from nothing: it fires again.
	if got := e.Evaluate(t0.Add(time.Minute), snapshot(false), Target{Name: "a"}); len(got) != 1 {
		t.Errorf("forgotten device re-evaluated: %v, want a new firing", transitions(got))
	}
}

func TestFingerprint(t *testing.T) {
	fps := map[string]string{}
	for _, in := range [][3]string{
		{"r", "d", "i"}, {"r", "d", ""}, {"r", "", "di"}, {"rd", "", "i"}, {"r", "d", "i2"}, {"r2", "d", "i"},
	} {
		fp := Fingerprint(in[0], in[1], in[2])
		if len(fp) != 16 {
			t.Errorf("Fingerprint%v = %q, want 16 hex digits", in, fp)
		}
		if other, dup := fps[fp]; dup {
			t.Errorf("Fingerprint%v collides with %s", in, other)
		}
		fps[fp] = fmt.Sprint(in)
		if again := Fingerprint(in[0], in[1], in[2]); again != fp {
			t.Errorf("Fingerprint%v not stable: %q then %q", in, fp, again)
		}
	}
}

func TestConcurrentDevices(t *testing.T) {
	// The interface bounces every poll: flap detection would (rightly) fold
	// it into one alert, and this test counts raw transitions.
	e := NewEngine(mechanics(t), Options{Flapping: Flapping{Disabled: true}})
	const devices, polls = 8, 20
	var wg sync.WaitGroup
	counts := make([]int, devices)
	for d := range devices {
		wg.Go(func() {
			tgt := Target{Name: fmt.Sprintf("dev%d", d), Role: "access"}
			for p := range polls {
				snap := snapshot(true)
				if p%2 == 0 {
					snap.Interfaces[0].OperStatus = "down"
				}
				counts[d] += len(e.Evaluate(t0.Add(time.Duration(p)*time.Minute), snap, tgt))
				_ = e.Active()
			}
		})
	}
	wg.Wait()
	for d, n := range counts {
		if n != polls { // fires on even polls, resolves on odd ones
			t.Errorf("dev%d: %d transitions, want %d", d, n, polls)
		}
	}
}

// BenchmarkEvaluate runs the default pack over a 150-interface switch in
// steady state: healthy, and with 15 interfaces held firing. ns/op is the
// cost of evaluating one device snapshot.
func BenchmarkEvaluate(b *testing.B) {
	for _, bc := range []struct {
		name   string
		faults bool
	}{{"healthy", false}, {"15 firing", true}} {
		b.Run(bc.name, func(b *testing.B) {
			e := NewEngine(Default(), Options{})
			snap := snapshot(true)
			snap.Interfaces = nil
			for i := range 150 {
				ifc := iface(fmt.Sprintf("Gi1/0/%d", i+1), "up", "up")
				ifc.Index = i + 1
				if i%3 == 0 {
					ifc.AdminStatus, ifc.OperStatus = "down", "down"
				} else if bc.faults && i%10 == 1 {
					ifc.OperStatus = "down"
				}
				ifc.Rates = &collector.InterfaceRates{InBitsPerSec: 1e6, UtilPercent: 1}
				snap.Interfaces = append(snap.Interfaces, ifc)
			}
			snap.CPU = []collector.CPU{{Name: "cpu0", Percent: 20}, {Name: "cpu1", Percent: 30}}
			snap.Sensors = append(snap.Sensors, collector.Sensor{Class: "fan", Name: "fan1", Value: 4000})
			// Access ports fire after 5m: warm up past it, then measure
			// the steady state.
			for m := range 6 {
				e.Evaluate(t0.Add(time.Duration(m)*time.Minute), snap, target)
			}
			if n := len(e.Active()); bc.faults != (n > 0) {
				b.Fatalf("%d alerts active", n)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if got := e.Evaluate(t0.Add(time.Duration(i+6)*time.Minute), snap, target); len(got) != 0 {
					b.Fatalf("steady state emitted %v", transitions(got))
				}
			}
		})
	}
}

func TestHolding(t *testing.T) {
	rs := Default()
	e := NewEngine(rs, Options{})
	t0 := time.Unix(1000, 0)
	snap := &collector.Snapshot{Device: "r1", Reachable: true, CPU: []collector.CPU{{Name: "cpu0", Percent: 99}}}
	e.Evaluate(t0, snap, Target{Name: "r1"})
	// cpu_high waits 2m: pending, not firing, but it holds.
	if firing, held := e.Holding("r1")[Fingerprint("cpu_high", "r1", "cpu0")]; !held || firing {
		t.Fatalf("pending cpu_high: held %v firing %v, want held and not firing", held, firing)
	}
	snap.CPU[0].Percent = 99
	e.Evaluate(t0.Add(3*time.Minute), snap, Target{Name: "r1"})
	if firing := e.Holding("r1")[Fingerprint("cpu_high", "r1", "cpu0")]; !firing {
		t.Fatal("cpu_high after 3 minutes above: not firing")
	}
	snap.CPU[0].Percent = 10
	for i := 4; i < 12; i++ { // below the clear threshold long enough to resolve
		e.Evaluate(t0.Add(time.Duration(i)*time.Minute), snap, Target{Name: "r1"})
	}
	if h := e.Holding("r1"); len(h) != 0 {
		t.Errorf("after the condition cleared: %v", h)
	}
	if h := e.Holding("nobody"); len(h) != 0 {
		t.Errorf("unknown device: %v", h)
	}
}

// A reload keeps the states of rules that keep their name: a firing alert
// neither fires again nor resolves; a removed rule's state goes; a new rule
// starts evaluating.
func TestSetRulesKeepsStates(t *testing.T) {
	e := NewEngine(Default(), Options{})
	hot := snapshot(true)
	hot.CPU[0].Percent = 95
	e.Evaluate(t0, hot, target)
	got := e.Evaluate(t0.Add(2*time.Minute), hot, target)
	sameTransitions(t, "before reload", got, []transition{{"cpu_high", "cpu0", StateFiring, 95}})

	// The same pack with one more rule (a memory rule that fires at once).
	next := mustParse(t, `groups:
  - name: extra
    rules:
      - name: memory_any
        scope: memory
        condition: "memory.percent > 10"
        for: 0s
        severity: minor
        category: performance
        summary: "memory {{.Value}}"
`)
	merged, err := Merge(Default(), next)
	if err != nil {
		t.Fatal(err)
	}
	e.SetRules(merged, PriorityMatrix{})
	got = e.Evaluate(t0.Add(3*time.Minute), hot, target)
	sameTransitions(t, "after reload", got, []transition{{"memory_any", "processor", StateFiring, 40}})
	if h := e.Holding("sw1"); len(h) != 2 {
		t.Errorf("holding after reload = %v, want cpu_high and memory_any", h)
	}

	// Without cpu_high its firing state is gone; nothing resolves here: the
	// caller reconciles the ticket.
	e.SetRules(next, PriorityMatrix{})
	got = e.Evaluate(t0.Add(4*time.Minute), hot, target)
	sameTransitions(t, "rule removed", got, nil)
	if h := e.Holding("sw1"); len(h) != 1 {
		t.Errorf("holding after removal = %v, want memory_any only", h)
	}
}
