package rules

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/nocagent/nocagent/collector"
)

// Options configure an Engine.
type Options struct {
	// Matrix gives alerts their priority; a zero matrix (no Cells) means
	// DefaultPriorityMatrix. The engine does not validate it: call
	// PriorityMatrix.Validate when loading configuration.
	Matrix PriorityMatrix
	// Logger receives expression run-time errors; nil discards them.
	Logger *slog.Logger
}

// Engine evaluates a RuleSet over snapshots and keeps the alert state of
// every (rule, device, instance) between them.
//
// Per state the life cycle is: inactive → pending (condition true, For not
// yet elapsed) → firing (an Alert with StateFiring is emitted) → resolved (the
// clear condition holds, or, without one, the condition is false; an Alert
// with StateResolved is emitted and the state dropped). A pending state whose
// condition turns false is dropped silently.
//
// Missing data never resolves anything, it holds the state as it is:
//   - an unreachable device's instance rules (interface, cpu, memory,
//     sensor) are not evaluated; its device rules are;
//   - an empty instance list (no interfaces at all, say) reads as a failed
//     walk, not as every instance having gone;
//   - an interface rule that reads a rate holds on an interface without
//     rates (first poll, counter discontinuity);
//   - an expression that fails at run time holds, and is logged.
//
// An instance that is absent from a reachable device's non-empty list has
// gone: its firing alert resolves, its pending state is dropped.
//
// Evaluate, Active and Forget may be called concurrently.
type Engine struct {
	rules  []*Rule
	matrix PriorityMatrix
	log    *slog.Logger

	mu      sync.Mutex
	devices map[string]*deviceState
	// vm and env are scratch space reused by every evaluation under mu, so
	// that the hot path does not allocate a VM or an environment per run.
	vm   vm.VM
	env  envs
	keys instanceKeys
}

// instanceKeys holds the state keys (rule left 0) of one snapshot's
// instances, computed once per Evaluate rather than once per rule.
type instanceKeys struct {
	iface, cpu, memory, sensor []stateKey
	seen                       map[[2]string]struct{} // class, name
}

// instanceKeys fills e.keys for snap. An instance whose name is empty or
// already taken in this snapshot (some devices repeat an ifName) gets its
// index into its identity, so that two instances never share one state and
// flap each other.
func (e *Engine) instanceKeys(snap *collector.Snapshot) {
	k := &e.keys
	if k.seen == nil {
		k.seen = map[[2]string]struct{}{}
	}
	fill := func(keys []stateKey, n int, scope string, at func(i int) (class, name string, idx int)) []stateKey {
		keys = keys[:0]
		clear(k.seen)
		for i := range n {
			class, name, idx := at(i)
			key := stateKey{scope: scope, class: class, name: name}
			id := [2]string{class, name}
			if _, dup := k.seen[id]; dup || name == "" {
				key.idx = strconv.Itoa(idx)
			}
			k.seen[id] = struct{}{}
			keys = append(keys, key)
		}
		return keys
	}
	k.iface = fill(k.iface, len(snap.Interfaces), ScopeInterface, func(i int) (string, string, int) {
		return "", snap.Interfaces[i].Name, snap.Interfaces[i].Index
	})
	k.cpu = fill(k.cpu, len(snap.CPU), ScopeCPU, func(i int) (string, string, int) { return "", snap.CPU[i].Name, i })
	k.memory = fill(k.memory, len(snap.Memory), ScopeMemory, func(i int) (string, string, int) { return "", snap.Memory[i].Name, i })
	k.sensor = fill(k.sensor, len(snap.Sensors), ScopeSensor, func(i int) (string, string, int) {
		return snap.Sensors[i].Class, snap.Sensors[i].Name, i
	})
}

type deviceState struct {
	gen    uint64 // incremented by each Evaluate of the device
	alerts map[stateKey]*state
	// perRule counts alerts by rule index. Most rules hold no state on a
	// healthy device, and a zero count spares hashing the key for every
	// instance.
	perRule []int
}

func (ds *deviceState) get(key stateKey) *state {
	if ds.perRule[key.rule] == 0 {
		return nil
	}
	return ds.alerts[key]
}

func (ds *deviceState) put(key stateKey, st *state) {
	ds.alerts[key] = st
	ds.perRule[key.rule]++
}

func (ds *deviceState) del(key stateKey) {
	if _, ok := ds.alerts[key]; ok {
		delete(ds.alerts, key)
		ds.perRule[key.rule]--
	}
}

// stateKey identifies a state within a device. The instance's identity is
// kept in the parts the snapshot gives (sensor class, name, index) rather
// than one joined string, so that building a key does not allocate.
type stateKey struct {
	rule  int
	scope string
	class string // sensors only
	name  string
	// idx is the ifIndex, or the position in the list for other scopes,
	// when the name is empty or repeats within the snapshot.
	idx string
}

type state struct {
	firing bool
	seen   uint64 // device gen of the last evaluation that saw the instance
	alert  Alert  // StartsAt is set from pending on; the rest once firing
}

// NewEngine returns an engine for rs with no alert state.
func NewEngine(rs *RuleSet, opts Options) *Engine {
	e := &Engine{
		matrix:  opts.Matrix,
		log:     opts.Logger,
		devices: map[string]*deviceState{},
	}
	if rs != nil {
		e.rules = rs.Rules()
	}
	if e.matrix.Cells == nil {
		e.matrix = DefaultPriorityMatrix()
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e
}

// instance points at one instance of a snapshot without copying it.
type instance struct {
	scope string
	i     int
	snap  *collector.Snapshot
}

// Evaluate runs every rule over one device's snapshot taken at now and
// returns the transitions: alerts that start firing and alerts that resolve,
// in rule and snapshot order, followed by the resolutions of instances that
// went. The device is t.Name, else snap.Device, else snap.Target. A nil snap
// changes nothing.
func (e *Engine) Evaluate(now time.Time, snap *collector.Snapshot, t Target) []Alert {
	if snap == nil {
		return nil
	}
	dev := cmp.Or(t.Name, snap.Device, snap.Target)

	e.mu.Lock()
	defer e.mu.Unlock()

	ds := e.devices[dev]
	if ds == nil {
		ds = &deviceState{alerts: map[stateKey]*state{}, perRule: make([]int, len(e.rules))}
		e.devices[dev] = ds
	}
	ds.gen++
	e.env.setDevice(dev, snap, t)

	if snap.Reachable {
		e.instanceKeys(snap)
	}
	ev := evaluation{e: e, now: now, dev: dev, t: t, ds: ds}
	for ri, r := range e.rules {
		if r.Scope != ScopeDevice && !snap.Reachable {
			continue
		}
		switch r.Scope {
		case ScopeDevice:
			e.env.device.Threshold = r.Threshold
			ev.one(r, stateKey{rule: ri, scope: ScopeDevice}, &e.env.device, instance{scope: ScopeDevice, snap: snap})
		case ScopeInterface:
			e.env.iface.Threshold = r.Threshold
			for i := range snap.Interfaces {
				ifc := &snap.Interfaces[i]
				key := e.keys.iface[i]
				key.rule = ri
				if r.needsRates && ifc.Rates == nil {
					ev.hold(key)
					continue
				}
				e.env.iface.Iface.set(ifc)
				ev.one(r, key, &e.env.iface, instance{scope: ScopeInterface, i: i, snap: snap})
			}
		case ScopeCPU:
			e.env.cpu.Threshold = r.Threshold
			for i, c := range snap.CPU {
				e.env.cpu.CPU = cpuVars{Name: c.Name, Percent: c.Percent}
				key := e.keys.cpu[i]
				key.rule = ri
				ev.one(r, key, &e.env.cpu, instance{scope: ScopeCPU, i: i, snap: snap})
			}
		case ScopeMemory:
			e.env.memory.Threshold = r.Threshold
			for i, m := range snap.Memory {
				e.env.memory.Memory = memoryVars{Name: m.Name, UsedBytes: m.UsedBytes, TotalBytes: m.TotalBytes, Percent: m.Percent}
				key := e.keys.memory[i]
				key.rule = ri
				ev.one(r, key, &e.env.memory, instance{scope: ScopeMemory, i: i, snap: snap})
			}
		case ScopeSensor:
			e.env.sensor.Threshold = r.Threshold
			for i, s := range snap.Sensors {
				e.env.sensor.Sensor = sensorVars{Class: s.Class, Name: s.Name, Value: s.Value, Unit: s.Unit, Status: s.Status}
				key := e.keys.sensor[i]
				key.rule = ri
				ev.one(r, key, &e.env.sensor, instance{scope: ScopeSensor, i: i, snap: snap})
			}
		}
	}
	if snap.Reachable {
		ev.sweep(snap)
	}
	return ev.out
}

// evaluation is one Evaluate call's working set.
type evaluation struct {
	e   *Engine
	now time.Time
	dev string
	t   Target
	ds  *deviceState
	out []Alert
}

// hold marks an instance as present without deciding anything about it.
func (ev *evaluation) hold(key stateKey) {
	if st := ev.ds.get(key); st != nil {
		st.seen = ev.ds.gen
	}
}

// run evaluates a boolean program; ok is false when it failed at run time.
func (ev *evaluation) run(prog *vm.Program, env any, r *Rule, key stateKey, field string) (result, ok bool) {
	out, err := ev.e.vm.Run(prog, env)
	if err != nil {
		ev.e.log.Warn("rule expression failed; holding state",
			"rule", r.Name, "device", ev.dev, "instance", instanceName(key), "field", field, "err", err)
		return false, false
	}
	b, _ := out.(bool)
	return b, true
}

// one advances the state of one (rule, device, instance) whose environment
// the caller has filled.
func (ev *evaluation) one(r *Rule, key stateKey, env any, inst instance) {
	ds := ev.ds
	st := ds.get(key)
	if st != nil {
		st.seen = ds.gen
	}

	if st != nil && st.firing && r.clear != nil {
		clear, ok := ev.run(r.clear, env, r, key, "clear")
		if !ok {
			return
		}
		st.alert.Value = ev.value(r, env, inst, key, !clear)
		if clear {
			ev.resolve(key, st)
		}
		return
	}

	cond, ok := ev.run(r.cond, env, r, key, "condition")
	if !ok {
		return
	}
	switch {
	case cond && st == nil:
		st = &state{seen: ds.gen, alert: Alert{StartsAt: ev.now}}
		ds.put(key, st)
		if r.For <= 0 {
			ev.fire(r, key, st, env, inst)
		}
	case cond && !st.firing:
		if ev.now.Sub(st.alert.StartsAt) >= r.For {
			ev.fire(r, key, st, env, inst)
		}
	case cond && st.firing:
		st.alert.Value = ev.value(r, env, inst, key, true)
	case !cond && st == nil:
	case !cond && !st.firing:
		ds.del(key)
	case !cond && st.firing:
		st.alert.Value = ev.value(r, env, inst, key, false)
		ev.resolve(key, st)
	}
}

// value is the observed value reported with an alert: the rule's value
// expression, else the scope's natural reading, else 1 while the condition
// holds and 0 once it does not.
func (ev *evaluation) value(r *Rule, env any, inst instance, key stateKey, holds bool) float64 {
	if r.value != nil {
		out, err := ev.e.vm.Run(r.value, env)
		if err != nil {
			ev.e.log.Warn("rule value expression failed",
				"rule", r.Name, "device", ev.dev, "instance", instanceName(key), "err", err)
			return 0
		}
		f, _ := out.(float64)
		return f
	}
	s := inst.snap
	switch inst.scope {
	case ScopeCPU:
		return s.CPU[inst.i].Percent
	case ScopeMemory:
		return s.Memory[inst.i].Percent
	case ScopeSensor:
		return s.Sensors[inst.i].Value
	}
	if holds {
		return 1
	}
	return 0
}

func (ev *evaluation) fire(r *Rule, key stateKey, st *state, env any, inst instance) {
	a := &st.alert
	st.firing = true
	a.Rule = r.Name
	a.Device = ev.dev
	a.Instance = instanceName(key)
	a.State = StateFiring
	a.Severity = r.Severity
	a.Category = r.Category
	a.Priority = ev.e.matrix.Priority(r.Severity, ev.t)
	a.Threshold = r.Threshold
	a.Value = ev.value(r, env, inst, key, true)
	a.Labels = instanceLabels(inst)
	a.Fingerprint = Fingerprint(r.Name, ev.dev, a.Instance)
	a.At = ev.now
	a.Summary = ev.summary(r, a)
	ev.out = append(ev.out, cloneAlert(*a))
}

// resolve emits the resolved transition and drops the state. The summary
// is rendered again with the value that resolved it.
func (ev *evaluation) resolve(key stateKey, st *state) {
	a := cloneAlert(st.alert)
	a.State = StateResolved
	a.At = ev.now
	a.Summary = ev.summary(ev.e.rules[key.rule], &a)
	ev.ds.del(key)
	ev.out = append(ev.out, a)
}

func (ev *evaluation) summary(r *Rule, a *Alert) string {
	var b strings.Builder
	err := r.summary.Execute(&b, summaryData{
		Device: a.Device, Instance: a.Instance, Value: a.Value, Threshold: a.Threshold, Labels: a.Labels,
	})
	if err != nil {
		ev.e.log.Warn("rule summary failed", "rule", r.Name, "device", a.Device, "instance", a.Instance, "err", err)
		return r.Name + " on " + a.Device + " " + a.Instance
	}
	return b.String()
}

// sweep resolves firing alerts of instances a reachable snapshot no longer
// has, and drops their pending states. A scope whose list is empty is left
// alone: see Engine.
func (ev *evaluation) sweep(snap *collector.Snapshot) {
	present := func(scope string) bool {
		switch scope {
		case ScopeInterface:
			return len(snap.Interfaces) > 0
		case ScopeCPU:
			return len(snap.CPU) > 0
		case ScopeMemory:
			return len(snap.Memory) > 0
		case ScopeSensor:
			return len(snap.Sensors) > 0
		}
		return false
	}
	var gone []stateKey
	for key, st := range ev.ds.alerts {
		if key.scope == ScopeDevice || st.seen == ev.ds.gen || !present(key.scope) {
			continue
		}
		gone = append(gone, key)
	}
	if len(gone) == 0 {
		return
	}
	// Map order is random; emit in a stable order.
	slices.SortFunc(gone, func(a, b stateKey) int {
		return cmp.Or(cmp.Compare(a.rule, b.rule), cmp.Compare(a.class, b.class), cmp.Compare(a.name, b.name), cmp.Compare(a.idx, b.idx))
	})
	for _, key := range gone {
		st := ev.ds.alerts[key]
		if !st.firing {
			ev.ds.del(key)
			continue
		}
		ev.resolve(key, st) // with the last value seen
	}
}

// Active returns every firing alert, ordered by device, rule and instance,
// with the value of its latest evaluation.
func (e *Engine) Active() []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Alert
	for _, ds := range e.devices {
		for _, st := range ds.alerts {
			if st.firing {
				out = append(out, cloneAlert(st.alert))
			}
		}
	}
	slices.SortFunc(out, func(a, b Alert) int {
		return cmp.Or(strings.Compare(a.Device, b.Device), strings.Compare(a.Rule, b.Rule), strings.Compare(a.Instance, b.Instance))
	})
	return out
}

// Forget drops all state of a device, for one removed from the inventory.
// It emits nothing: whether its open tickets close is ticketing's call.
func (e *Engine) Forget(device string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.devices, device)
}

// Fingerprint is the stable identity of (rule, device, instance): the first
// 16 hex digits of a SHA-256 over the three, separated by NUL so that no two
// triples collide by concatenation.
func Fingerprint(rule, device, instance string) string {
	h := sha256.Sum256([]byte(rule + "\x00" + device + "\x00" + instance))
	return hex.EncodeToString(h[:8])
}

// instanceName is the Alert.Instance of a state: the interface, CPU or
// memory name; "class/name" for a sensor (a PSU can have a temperature and a
// power sensor of one name); the index added where the name is empty or
// repeated.
func instanceName(k stateKey) string {
	base := k.name
	if k.scope == ScopeSensor {
		base = k.class + "/" + k.name
	}
	switch {
	case k.scope == ScopeDevice:
		return ""
	case k.idx == "":
		return base
	case k.scope == ScopeInterface && k.name == "":
		return "ifIndex " + k.idx
	case k.scope == ScopeInterface:
		return k.name + " (ifIndex " + k.idx + ")"
	case k.scope == ScopeSensor && k.name == "":
		return k.class + " " + k.idx
	case k.name == "":
		return k.scope + " " + k.idx
	}
	return base + " #" + k.idx
}

// instanceLabels describe the instance for people and for routing; empty
// values are left out.
func instanceLabels(inst instance) map[string]string {
	l := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			l[k] = v
		}
	}
	s := inst.snap
	switch inst.scope {
	case ScopeInterface:
		i := s.Interfaces[inst.i]
		set("ifIndex", strconv.Itoa(i.Index))
		set("ifName", i.Name)
		set("ifDescr", i.Descr)
		set("ifAlias", i.Alias)
		set("ifType", i.Type)
	case ScopeCPU:
		set("cpu", s.CPU[inst.i].Name)
	case ScopeMemory:
		set("memory", s.Memory[inst.i].Name)
	case ScopeSensor:
		set("sensor", s.Sensors[inst.i].Name)
		set("class", s.Sensors[inst.i].Class)
		set("unit", s.Sensors[inst.i].Unit)
	}
	if len(l) == 0 {
		return nil
	}
	return l
}

func cloneAlert(a Alert) Alert {
	a.Labels = maps.Clone(a.Labels)
	return a
}
