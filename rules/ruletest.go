package rules

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/nocagent/nocagent/collector"
)

// Rule unit tests, in the style of promtool test rules: input series over
// time per device, expected firing alerts at times.
//
//	rule_files: [default, extra.yaml]   # relative to this file; default is the embedded pack
//	interval: 1m                        # time between evaluations (default 1m)
//	start: 2025-03-01T00:00:00Z         # time of the first evaluation (default this one)
//	tests:
//	  - name: cpu fires after 2m
//	    interval: 30s                   # optional, per test
//	    devices:
//	      core1:
//	        role: core                  # target: role customer tier site tags downstream
//	        customer: acme
//	        series:
//	          cpu[cpu0].percent: "50 95x3 85 75"
//	          iface[Gi1/0/1].oper_status: "up down x2 up"
//	          reachable: "1 1 0 1"
//	    events:
//	      - {at: 3m, device: core1, kind: link_down, instance: Gi1/0/1}
//	    alerts:
//	      - at: 2m
//	        firing:
//	          - {rule: cpu_high, device: core1, instance: cpu0, severity: major, priority: P2}
//	      - at: 5m
//	        firing: []
//
// A series is a list of values (one per evaluation), or a string of
// space-separated values, one per evaluation; promtool's
// expanding notations work: "a+bxN" and "a-bxN" are a, a+b, ... a+N·b (N+1
// values), "axN" is a repeated N+1 times, a lone "xN" repeats the previous
// value N more times ("up down x3"), "_" leaves the field unset for
// that evaluation (an instance whose fields are all unset is absent). A
// series shorter than the test keeps its last value.
//
// Fields: reachable (0/1, true/false), uptime_seconds, serial, model,
// vendor, os, sys_name; iface[NAME].admin_status oper_status alias descr
// type speed_bps in_errors out_errors in_discards out_discards and the rates
// in_bps out_bps in_errors_per_sec out_errors_per_sec in_discards_per_sec
// out_discards_per_sec util_percent (any rate present gives the interface
// rates); cpu[NAME].percent; memory[NAME].percent used_bytes total_bytes;
// sensor[CLASS/NAME].value status unit; bgp[PEER_ADDRESS].state
// admin_status remote_as local_as established_seconds;
// neighbor[LOCAL_PORT].remote_name.
// Interfaces default to admin and oper up, BGP peers to established and
// admin start; a device defaults to reachable.
// A neighbour naming another device of the test is a network device, for
// iface.uplink.
//
// At each evaluation the devices are evaluated in name order, then the
// events due by then are fed. alerts[].at lists every alert expected to be
// firing after the evaluation at that time (Engine.Active), no more, no
// fewer; severity, priority, flapping and suppressed are compared when given.

// TestFile is a rule test file.
type TestFile struct {
	RuleFiles []string      `yaml:"rule_files"`
	Interval  time.Duration `yaml:"interval"`
	Start     time.Time     `yaml:"start"`
	Tests     []RuleTest    `yaml:"tests"`
}

// RuleTest is one test case.
type RuleTest struct {
	Name     string                `yaml:"name"`
	Interval time.Duration         `yaml:"interval"`
	Devices  map[string]TestDevice `yaml:"devices"`
	Events   []TestEvent           `yaml:"events"`
	Alerts   []ExpectedAt          `yaml:"alerts"`
	Line     int                   `yaml:"-"`
}

// TestDevice is one device's target and input series.
type TestDevice struct {
	Role       string            `yaml:"role"`
	Customer   string            `yaml:"customer"`
	Tier       string            `yaml:"tier"`
	Site       string            `yaml:"site"`
	Tags       []string          `yaml:"tags"`
	Downstream int               `yaml:"downstream"`
	Series     map[string]Series `yaml:"series"`
}

// Series is one field's values over time: a string in the series notation,
// or a YAML list of values taken as they are (for values with spaces).
type Series []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Series) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		if len(l) == 0 {
			return fmt.Errorf("line %d: empty series", n.Line)
		}
		*s = l
		return nil
	}
	var src string
	if err := n.Decode(&src); err != nil {
		return err
	}
	v, err := expandSeries(src)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*s = v
	return nil
}

// TestEvent is an event fed at a time.
type TestEvent struct {
	At       time.Duration     `yaml:"at"`
	Device   string            `yaml:"device"`
	Kind     string            `yaml:"kind"`
	Instance string            `yaml:"instance"`
	Attrs    map[string]string `yaml:"attrs"`
}

// ExpectedAt lists the alerts expected to be firing at a time.
type ExpectedAt struct {
	At     time.Duration   `yaml:"at"`
	Firing []ExpectedAlert `yaml:"firing"`
}

// ExpectedAlert is one expected firing alert.
type ExpectedAlert struct {
	Rule       string `yaml:"rule"`
	Device     string `yaml:"device"`
	Instance   string `yaml:"instance"`
	Severity   string `yaml:"severity"`
	Priority   string `yaml:"priority"`
	Flapping   *bool  `yaml:"flapping"`
	Suppressed *bool  `yaml:"suppressed"`
}

// TestResult is the outcome of one test case.
type TestResult struct {
	Name     string
	Failures []string // "at 2m: ..." naming the rule, device and instance
}

// RunTestFile loads a rule test file and the rule files it names, and runs
// every test. The error is for a file that cannot be read or is malformed;
// failed expectations are in the results.
func RunTestFile(path string) ([]TestResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rule test file: %w", err)
	}
	var tf TestFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&tf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err == nil {
		testLines(&root, tf.Tests)
	}
	if len(tf.RuleFiles) == 0 {
		return nil, fmt.Errorf("%s: rule_files: name at least one rule file (or default)", path)
	}
	var sets []*RuleSet
	for _, f := range tf.RuleFiles {
		if f == "default" {
			sets = append(sets, Default())
			continue
		}
		if !filepath.IsAbs(f) {
			f = filepath.Join(filepath.Dir(path), f)
		}
		rs, err := LoadFile(f)
		if err != nil {
			return nil, err
		}
		sets = append(sets, rs)
	}
	rs, err := Merge(sets...)
	if err != nil {
		return nil, err
	}
	start := tf.Start
	if start.IsZero() {
		start = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	}
	var out []TestResult
	for i, tc := range tf.Tests {
		res, err := runTest(rs, tc, cmp.Or(tc.Interval, tf.Interval, time.Minute), start)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: test %q: %w", path, tc.Line, cmp.Or(tc.Name, "#"+strconv.Itoa(i+1)), err)
		}
		out = append(out, res)
	}
	return out, nil
}

// testLines records each test's line, for error messages.
func testLines(root *yaml.Node, tests []RuleTest) {
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "tests" && m.Content[i+1].Kind == yaml.SequenceNode {
			for j, n := range m.Content[i+1].Content {
				if j < len(tests) {
					tests[j].Line = n.Line
				}
			}
		}
	}
}

// field is one parsed series key.
type field struct {
	scope, inst, name string
	vals              []string // "" is unset
}

func runTest(rs *RuleSet, tc RuleTest, interval time.Duration, start time.Time) (TestResult, error) {
	res := TestResult{Name: tc.Name}
	if interval <= 0 {
		return res, errors.New("interval must be positive")
	}
	names := sortedKeys(tc.Devices)
	series := map[string][]field{}
	steps := 1
	for _, d := range names {
		for _, key := range sortedKeys(tc.Devices[d].Series) {
			f, err := parseField(key, tc.Devices[d].Series[key])
			if err != nil {
				return res, fmt.Errorf("device %s: %w", d, err)
			}
			series[d] = append(series[d], f)
			steps = max(steps, len(f.vals))
		}
	}
	for _, ex := range tc.Alerts {
		if ex.At%interval != 0 || ex.At < 0 {
			return res, fmt.Errorf("alerts at %s: not a multiple of the interval %s", ex.At, interval)
		}
		steps = max(steps, int(ex.At/interval)+1)
	}
	for _, ev := range tc.Events {
		if _, ok := tc.Devices[ev.Device]; !ok {
			return res, fmt.Errorf("event at %s: unknown device %q", ev.At, ev.Device)
		}
		steps = max(steps, int(ev.At/interval)+1)
	}
	events := slices.Clone(tc.Events)
	slices.SortStableFunc(events, func(a, b TestEvent) int { return cmp.Compare(a.At, b.At) })

	e := NewEngine(rs, Options{NetworkDevice: func(n string) bool { _, ok := tc.Devices[n]; return ok }})
	targets := map[string]Target{}
	for _, d := range names {
		td := tc.Devices[d]
		targets[d] = Target{Name: d, Role: td.Role, Customer: td.Customer, Tier: td.Tier, Site: td.Site, Tags: td.Tags, Downstream: td.Downstream}
	}
	expect := map[time.Duration][]ExpectedAlert{}
	for _, ex := range tc.Alerts {
		expect[ex.At] = append(expect[ex.At], ex.Firing...)
		if expect[ex.At] == nil {
			expect[ex.At] = []ExpectedAlert{} // firing: [] expects nothing
		}
	}
	for i := range steps {
		off := time.Duration(i) * interval
		now := start.Add(off)
		for _, d := range names {
			snap, err := buildSnapshot(d, series[d], i)
			if err != nil {
				return res, fmt.Errorf("device %s at %s: %w", d, off, err)
			}
			e.Evaluate(now, snap, targets[d])
		}
		for len(events) > 0 && events[0].At <= off {
			ev := events[0]
			events = events[1:]
			e.Event(start.Add(ev.At), Event{Device: ev.Device, Kind: ev.Kind, Instance: ev.Instance, Attrs: ev.Attrs}, targets[ev.Device])
		}
		if want, ok := expect[off]; ok {
			res.Failures = append(res.Failures, compareActive(off, e.Active(), want)...)
		}
	}
	return res, nil
}

func compareActive(at time.Duration, got []Alert, want []ExpectedAlert) []string {
	var fails []string
	used := make([]bool, len(got))
	for _, w := range want {
		found := -1
		for i, a := range got {
			if !used[i] && a.Rule == w.Rule && a.Device == w.Device && a.Instance == w.Instance {
				found = i
				break
			}
		}
		id := fmt.Sprintf("at %s: rule %s device %s instance %q", at, w.Rule, w.Device, w.Instance)
		if found < 0 {
			fails = append(fails, id+": expected firing, is not")
			continue
		}
		used[found] = true
		a := got[found]
		if w.Severity != "" && a.Severity != w.Severity {
			fails = append(fails, fmt.Sprintf("%s: severity %s, want %s", id, a.Severity, w.Severity))
		}
		if w.Priority != "" && a.Priority != w.Priority {
			fails = append(fails, fmt.Sprintf("%s: priority %s, want %s", id, a.Priority, w.Priority))
		}
		if w.Flapping != nil && a.Flapping != *w.Flapping {
			fails = append(fails, fmt.Sprintf("%s: flapping %v, want %v", id, a.Flapping, *w.Flapping))
		}
		if w.Suppressed != nil && a.Suppressed != *w.Suppressed {
			fails = append(fails, fmt.Sprintf("%s: suppressed %v, want %v", id, a.Suppressed, *w.Suppressed))
		}
	}
	for i, a := range got {
		if !used[i] {
			fails = append(fails, fmt.Sprintf("at %s: rule %s device %s instance %q: firing, not expected (%s)", at, a.Rule, a.Device, a.Instance, a.Summary))
		}
	}
	return fails
}

// parseField parses "scope[instance].name" or a device field, and its series.
func parseField(key string, vals Series) (field, error) {
	f := field{scope: ScopeDevice, name: key}
	if open := strings.IndexByte(key, '['); open >= 0 {
		closeAt := strings.LastIndex(key, "].")
		if closeAt < open {
			return f, fmt.Errorf("series %q: want scope[instance].field", key)
		}
		f.scope, f.inst, f.name = key[:open], key[open+1:closeAt], key[closeAt+2:]
	}
	known := map[string][]string{
		ScopeDevice: {"reachable", "uptime_seconds", "serial", "model", "vendor", "os", "sys_name"},
		"iface": {"admin_status", "oper_status", "alias", "descr", "type", "speed_bps", "in_errors", "out_errors", "in_discards", "out_discards",
			"in_bps", "out_bps", "in_errors_per_sec", "out_errors_per_sec", "in_discards_per_sec", "out_discards_per_sec", "util_percent"},
		"cpu":      {"percent"},
		"memory":   {"percent", "used_bytes", "total_bytes"},
		"sensor":   {"value", "status", "unit"},
		"bgp":      {"state", "admin_status", "remote_as", "local_as", "established_seconds"},
		"neighbor": {"remote_name"},
	}
	names, ok := known[f.scope]
	if !ok {
		return f, fmt.Errorf("series %q: unknown scope %q (want iface, cpu, memory, sensor, bgp, neighbor or a device field)", key, f.scope)
	}
	if !slices.Contains(names, f.name) {
		return f, fmt.Errorf("series %q: unknown field %q (have %s)", key, f.name, strings.Join(names, ", "))
	}
	if f.scope == "sensor" && !strings.Contains(f.inst, "/") {
		return f, fmt.Errorf("series %q: a sensor is class/name", key)
	}
	f.vals = vals
	return f, nil
}

// expandSeries expands promtool's notations into one value per step.
func expandSeries(src string) ([]string, error) {
	var out []string
	for _, tok := range strings.Fields(src) {
		x := strings.LastIndexByte(tok, 'x')
		if x == 0 && len(out) > 0 {
			// A lone "xN" repeats the previous value N more times, for
			// strings: "up down x3".
			if n, err := strconv.Atoi(tok[1:]); err == nil && n >= 0 && n <= 100000 {
				for range n {
					out = append(out, out[len(out)-1])
				}
				continue
			}
		}
		if x <= 0 {
			out = append(out, tok)
			continue
		}
		n, err := strconv.Atoi(tok[x+1:])
		if err != nil {
			out = append(out, tok) // a plain value that happens to contain x
			continue
		}
		if n < 0 || n > 100000 {
			return nil, fmt.Errorf("%q: repeat count out of range", tok)
		}
		base := tok[:x]
		a, step := base, 0.0
		if i := strings.LastIndexAny(base, "+-"); i > 0 {
			if s, err := strconv.ParseFloat(base[i:], 64); err == nil {
				if _, err := strconv.ParseFloat(base[:i], 64); err == nil {
					a, step = base[:i], s
				}
			}
		}
		av, numErr := strconv.ParseFloat(a, 64)
		for k := 0; k <= n; k++ {
			switch {
			case step != 0 && numErr == nil:
				out = append(out, strconv.FormatFloat(av+float64(k)*step, 'f', -1, 64))
			default:
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no values")
	}
	return out, nil
}

// at returns the series' value at a step: the last one past its end, ""
// for "_".
func (f field) at(i int) string {
	v := f.vals[min(i, len(f.vals)-1)]
	if v == "_" {
		return ""
	}
	return v
}

func buildSnapshot(dev string, fields []field, step int) (*collector.Snapshot, error) {
	s := &collector.Snapshot{Device: dev, Reachable: true}
	ifaces := map[string]*collector.Interface{}
	cpus := map[string]*collector.CPU{}
	mems := map[string]*collector.Memory{}
	sensors := map[string]*collector.Sensor{}
	peers := map[string]*collector.BGPPeer{}
	var ifOrder, cpuOrder, memOrder, sensorOrder, peerOrder []string
	num := func(f field, v string) (float64, error) {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) {
			return 0, fmt.Errorf("%s: %q is not a number", f.name, v)
		}
		return x, nil
	}
	for _, f := range fields {
		v := f.at(step)
		if v == "" {
			continue
		}
		var err error
		var x float64
		switch f.scope {
		case ScopeDevice:
			switch f.name {
			case "reachable":
				s.Reachable = v == "1" || v == "true"
				if !s.Reachable && v != "0" && v != "false" {
					err = fmt.Errorf("reachable: %q is not 0, 1, true or false", v)
				}
			case "uptime_seconds":
				s.System.UptimeSeconds, err = num(f, v)
			case "serial":
				s.Serial = v
			case "model":
				s.Model = v
			case "vendor":
				s.Vendor = v
			case "os":
				s.OS = v
			case "sys_name":
				s.System.Name = v
			}
		case "iface":
			i := ifaces[f.inst]
			if i == nil {
				i = &collector.Interface{Name: f.inst, Descr: f.inst, AdminStatus: "up", OperStatus: "up", Type: "ethernetCsmacd"}
				ifaces[f.inst] = i
				ifOrder = append(ifOrder, f.inst)
			}
			err = setIface(i, f, v)
		case "cpu":
			c := cpus[f.inst]
			if c == nil {
				c = &collector.CPU{Name: f.inst}
				cpus[f.inst] = c
				cpuOrder = append(cpuOrder, f.inst)
			}
			c.Percent, err = num(f, v)
		case "memory":
			m := mems[f.inst]
			if m == nil {
				m = &collector.Memory{Name: f.inst}
				mems[f.inst] = m
				memOrder = append(memOrder, f.inst)
			}
			x, err = num(f, v)
			switch f.name {
			case "percent":
				m.Percent = x
			case "used_bytes":
				m.UsedBytes = uint64(x)
			case "total_bytes":
				m.TotalBytes = uint64(x)
			}
		case "sensor":
			sn := sensors[f.inst]
			if sn == nil {
				class, name, _ := strings.Cut(f.inst, "/")
				sn = &collector.Sensor{Class: class, Name: name, Status: "ok"}
				sensors[f.inst] = sn
				sensorOrder = append(sensorOrder, f.inst)
			}
			switch f.name {
			case "value":
				sn.Value, err = num(f, v)
			case "status":
				sn.Status = v
			case "unit":
				sn.Unit = v
			}
		case "bgp":
			b := peers[f.inst]
			if b == nil {
				b = &collector.BGPPeer{RemoteAddr: f.inst, State: "established", AdminStatus: "start"}
				peers[f.inst] = b
				peerOrder = append(peerOrder, f.inst)
			}
			err = setBGP(b, f, v)
		case "neighbor":
			s.Neighbors = append(s.Neighbors, collector.Neighbor{Protocol: "lldp", LocalPort: f.inst, RemoteName: v})
		}
		if err != nil {
			return nil, err
		}
	}
	if !s.Reachable {
		return &collector.Snapshot{Device: dev}, nil
	}
	slices.Sort(ifOrder)
	for k, n := range ifOrder {
		i := ifaces[n]
		i.Index = k + 1
		s.Interfaces = append(s.Interfaces, *i)
	}
	for _, n := range cpuOrder {
		s.CPU = append(s.CPU, *cpus[n])
	}
	for _, n := range memOrder {
		s.Memory = append(s.Memory, *mems[n])
	}
	for _, n := range sensorOrder {
		s.Sensors = append(s.Sensors, *sensors[n])
	}
	for _, n := range peerOrder {
		s.BGPPeers = append(s.BGPPeers, *peers[n])
	}
	return s, nil
}

func setBGP(b *collector.BGPPeer, f field, v string) error {
	switch f.name {
	case "state":
		b.State = v
		return nil
	case "admin_status":
		b.AdminStatus = v
		return nil
	}
	x, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return fmt.Errorf("%s: %q is not a non-negative integer", f.name, v)
	}
	switch f.name {
	case "remote_as", "local_as":
		if x > math.MaxUint32 {
			return fmt.Errorf("%s: %q is not an AS number", f.name, v)
		}
		if f.name == "remote_as" {
			b.RemoteAS = uint32(x)
		} else {
			b.LocalAS = uint32(x)
		}
	case "established_seconds":
		b.EstablishedSeconds = x
	}
	return nil
}

func setIface(i *collector.Interface, f field, v string) error {
	str := map[string]*string{"admin_status": &i.AdminStatus, "oper_status": &i.OperStatus, "alias": &i.Alias, "descr": &i.Descr, "type": &i.Type}
	if p, ok := str[f.name]; ok {
		*p = v
		return nil
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || x < 0 {
		return fmt.Errorf("%s: %q is not a non-negative number", f.name, v)
	}
	ctr := map[string]*uint64{"speed_bps": &i.SpeedBps, "in_errors": &i.InErrors, "out_errors": &i.OutErrors, "in_discards": &i.InDiscards, "out_discards": &i.OutDiscards}
	if p, ok := ctr[f.name]; ok {
		*p = uint64(x)
		return nil
	}
	if i.Rates == nil {
		i.Rates = &collector.InterfaceRates{}
	}
	r := i.Rates
	*map[string]*float64{
		"in_bps": &r.InBitsPerSec, "out_bps": &r.OutBitsPerSec, "in_errors_per_sec": &r.InErrorsPerSec,
		"out_errors_per_sec": &r.OutErrorsPerSec, "in_discards_per_sec": &r.InDiscardsPerSec,
		"out_discards_per_sec": &r.OutDiscardsPerSec, "util_percent": &r.UtilPercent,
	}[f.name] = x
	return nil
}
