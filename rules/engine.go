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
	"text/template"
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
	// Flapping is the flap detection of rules that do not set their own;
	// the zero value means DefaultFlapping, Disabled turns it off.
	Flapping Flapping
	// NetworkDevice tells whether an LLDP/CDP neighbour's name is a
	// network device (one in the inventory), for iface.uplink; nil means
	// only the ifAlias convention marks uplinks.
	NetworkDevice func(name string) bool
}

// Engine evaluates a RuleSet over snapshots and events and keeps the alert
// state of every (rule, device, instance) between them.
//
// Per state the life cycle is: inactive → pending (condition true, For not
// yet elapsed) → firing (an Alert with StateFiring is emitted) → resolved (the
// clear condition holds, or, without one, the condition is false, for at
// least KeepFiringFor; an Alert with StateResolved is emitted). A pending
// state whose condition turns false is dropped silently.
//
// Flapping: every fire and resolve is a change; a state with more than
// Flapping.Changes changes within Flapping.Window becomes flapping: one
// firing Alert with Flapping set is emitted (an update if it was already
// firing), and further changes emit nothing. After Flapping.Quiet without a
// change it leaves flapping: a resolved Alert if the condition is clear,
// else a firing update with Flapping false.
//
// Maintenance: transitions of a device inside a maintenance window are
// emitted with Suppressed set (and Maintenance naming the window); the
// caller records them but opens no ticket and sends no notice. A resolution
// is suppressed only when its firing was. At the first evaluation after the
// window, every alert still firing whose firing was suppressed is emitted
// again, unsuppressed.
//
// Missing data follows the rule's policy (hold by default):
//   - an unreachable device's instance rules (interface, cpu, memory,
//     sensor, bgp) have no data; its device rules are evaluated;
//   - an empty instance list (no interfaces at all, say) reads as a failed
//     walk, not as every instance having gone: no data (so the last BGP
//     peer deconfigured leaves its alert to hold, not to resolve);
//   - an interface rule that reads a rate has no data on an interface
//     without rates (first poll, counter discontinuity);
//   - an expression that fails at run time holds whatever the policy, and
//     is logged and counted (RuleErrors).
//
// An instance that is absent from a reachable device's non-empty list has
// gone: its firing alert resolves, its pending state is dropped.
//
// Every method may be called concurrently.
type Engine struct {
	rules    []*Rule
	hasEvent bool
	matrix   PriorityMatrix
	log      *slog.Logger
	flap     Flapping
	netDev   func(string) bool

	mu      sync.Mutex
	devices map[string]*deviceState
	maint   []Maintenance
	errs    []uint64 // run-time errors per rule
	// vm and env are scratch space reused by every evaluation under mu, so
	// that the hot path does not allocate a VM or an environment per run.
	vm   vm.VM
	env  envs
	keys instanceKeys
}

// instanceKeys holds the state keys (rule left 0) of one snapshot's
// instances, computed once per Evaluate rather than once per rule.
type instanceKeys struct {
	iface, cpu, memory, sensor, bgp []stateKey
	seen                            map[[2]string]struct{} // class, name
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
	k.bgp = fill(k.bgp, len(snap.BGPPeers), ScopeBGP, func(i int) (string, string, int) { return "", snap.BGPPeers[i].RemoteAddr, i })
}

type deviceState struct {
	gen    uint64 // incremented by each Evaluate of the device
	alerts map[stateKey]*state
	// perRule counts states by rule index. Most rules hold no state on a
	// healthy device, and a zero count spares hashing the key for every
	// instance.
	perRule []int

	// params are the rules' parameters after overrides for target; they
	// are recomputed only when the target's attributes change.
	target    Target
	params    []params
	hasParams bool

	uplinks map[string]bool // interfaces once seen with a network-device neighbour

	inMaint bool       // the previous evaluation was inside a window
	dev     deviceVars // the device as last seen, for event rules

	// The previous reachable snapshot's identity, for reboot and
	// replacement detection.
	hasPrev    bool
	prevUptime float64
	prevSerial string
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
	seen   uint64 // device gen of the last evaluation that saw the instance
	active bool   // the condition holds (pending or firing)
	firing bool   // the condition machine says firing
	// clearSince starts keep_firing_for's countdown; zero when not counting.
	clearSince time.Time
	out        bool // a firing Alert is out and not yet resolved
	notified   bool // ... and it was not suppressed
	flapping   bool
	changes    []time.Time // fire and resolve times within the flap window
	lastData   time.Time   // missing_data fire: when data was last present
	missing    bool        // fired by the missing-data policy
	expires    time.Time   // event rules: when a firing alert auto-resolves
	alert      Alert       // StartsAt is set from pending on; the rest once firing
}

// keep reports whether a state still carries anything worth remembering.
func (st *state) keep() bool {
	return st.active || st.firing || st.out || st.flapping || len(st.changes) > 0 || !st.lastData.IsZero()
}

// NewEngine returns an engine for rs with no alert state and rs's
// maintenance windows (which Parse has validated).
func NewEngine(rs *RuleSet, opts Options) *Engine {
	e := &Engine{
		matrix:  opts.Matrix,
		log:     opts.Logger,
		flap:    opts.Flapping,
		netDev:  opts.NetworkDevice,
		devices: map[string]*deviceState{},
	}
	e.setRules(rs)
	if e.matrix.Cells == nil {
		e.matrix = DefaultPriorityMatrix()
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.flap == (Flapping{}) {
		e.flap = DefaultFlapping
	}
	return e
}

func (e *Engine) flapFor(r *Rule) Flapping {
	if r.Flapping != nil {
		return *r.Flapping
	}
	return e.flap
}

// instance points at one instance of a snapshot without copying it.
type instance struct {
	scope string
	i     int
	snap  *collector.Snapshot
	event *Event
}

func (e *Engine) device(dev string, t Target) *deviceState {
	ds := e.devices[dev]
	if ds == nil {
		ds = &deviceState{alerts: map[stateKey]*state{}, perRule: make([]int, len(e.rules)), uplinks: map[string]bool{}}
		e.devices[dev] = ds
	}
	if !ds.hasParams || !sameTarget(ds.target, t) {
		t.Tags = slices.Clone(t.Tags)
		ds.target, ds.hasParams = t, true
		ds.params = make([]params, len(e.rules))
		for i, r := range e.rules {
			ds.params[i] = r.params(t)
		}
	}
	return ds
}

// SetRules replaces the rule set and priority matrix, as on a reload. The
// alert states of rules that keep their name carry over (a firing alert
// stays firing, a pending one keeps its clock); those of rules that are gone
// are dropped, so the caller reconciles their tickets. Windows declared in
// the old rule files give way to the new files' ones; others stay.
func (e *Engine) SetRules(rs *RuleSet, matrix PriorityMatrix) {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.rules
	e.setRules(rs)
	if matrix.Cells != nil {
		e.matrix = matrix
	}
	byName := make(map[string]int, len(e.rules))
	for i, r := range e.rules {
		byName[r.Name] = i
	}
	for _, ds := range e.devices {
		alerts := make(map[stateKey]*state, len(ds.alerts))
		perRule := make([]int, len(e.rules))
		for k, st := range ds.alerts {
			ni, ok := byName[old[k.rule].Name]
			if !ok {
				continue
			}
			k.rule = ni
			alerts[k] = st
			perRule[ni]++
		}
		ds.alerts, ds.perRule, ds.hasParams = alerts, perRule, false
	}
}

// setRules installs rs's rules and rule-file windows; the caller holds mu
// or has the only reference.
func (e *Engine) setRules(rs *RuleSet) {
	e.rules, e.hasEvent = nil, false
	e.maint = slices.DeleteFunc(e.maint, func(m Maintenance) bool { return m.fromRules })
	if rs != nil {
		e.rules = rs.Rules()
		for _, m := range rs.Maintenance {
			if err := m.compile(); err == nil {
				m.fromRules = true
				e.maint = slices.DeleteFunc(e.maint, func(x Maintenance) bool { return x.ID == m.ID })
				e.maint = append(e.maint, m)
			}
		}
		slices.SortFunc(e.maint, func(a, b Maintenance) int { return cmp.Compare(a.ID, b.ID) })
	}
	for _, r := range e.rules {
		e.hasEvent = e.hasEvent || r.Scope == ScopeEvent
	}
	e.errs = make([]uint64, len(e.rules))
}

// Evaluate runs every rule over one device's snapshot taken at now and
// returns the transitions: alerts that start firing and alerts that resolve,
// in rule and snapshot order, followed by the resolutions of instances that
// went, the alerts of events detected in the snapshot (reboot, serial
// change), expired event alerts and alerts released by a maintenance window's
// end. The device is t.Name, else snap.Device, else snap.Target. A nil snap
// changes nothing.
func (e *Engine) Evaluate(now time.Time, snap *collector.Snapshot, t Target) []Alert {
	if snap == nil {
		return nil
	}
	dev := cmp.Or(t.Name, snap.Device, snap.Target)

	e.mu.Lock()
	defer e.mu.Unlock()

	ds := e.device(dev, t)
	ds.gen++
	e.env.setDevice(dev, snap, t)
	ds.dev = e.env.device.Device

	if snap.Reachable {
		e.instanceKeys(snap)
	}
	ev := e.begin(now, dev, t, ds)
	for ri, r := range e.rules {
		p := &ds.params[ri]
		if p.disabled {
			ev.drop(ri)
			continue
		}
		if r.Scope == ScopeEvent {
			continue
		}
		if r.Scope != ScopeDevice && (!snap.Reachable || !hasInstances(snap, r.Scope)) {
			ev.noData(ri, r)
			continue
		}
		switch r.Scope {
		case ScopeDevice:
			e.env.device.Threshold = p.threshold
			ev.one(r, p, stateKey{rule: ri, scope: ScopeDevice}, &e.env.device, instance{scope: ScopeDevice, snap: snap})
		case ScopeInterface:
			e.env.iface.Threshold = p.threshold
			for i := range snap.Interfaces {
				ifc := &snap.Interfaces[i]
				key := e.keys.iface[i]
				key.rule = ri
				if r.needsRates && ifc.Rates == nil {
					ev.missing(r, p, key, ev.ds.get(key))
					continue
				}
				e.env.iface.Iface.set(ifc)
				e.env.iface.Iface.Uplink = isUplink(ifc, snap.Neighbors, e.netDev, ds.uplinks, t.Uplinks)
				ev.one(r, p, key, &e.env.iface, instance{scope: ScopeInterface, i: i, snap: snap})
			}
		case ScopeCPU:
			e.env.cpu.Threshold = p.threshold
			for i, c := range snap.CPU {
				e.env.cpu.CPU = cpuVars{Name: c.Name, Percent: c.Percent}
				key := e.keys.cpu[i]
				key.rule = ri
				ev.one(r, p, key, &e.env.cpu, instance{scope: ScopeCPU, i: i, snap: snap})
			}
		case ScopeMemory:
			e.env.memory.Threshold = p.threshold
			for i, m := range snap.Memory {
				e.env.memory.Memory = memoryVars{Name: m.Name, UsedBytes: m.UsedBytes, TotalBytes: m.TotalBytes, Percent: m.Percent}
				key := e.keys.memory[i]
				key.rule = ri
				ev.one(r, p, key, &e.env.memory, instance{scope: ScopeMemory, i: i, snap: snap})
			}
		case ScopeSensor:
			e.env.sensor.Threshold = p.threshold
			for i, s := range snap.Sensors {
				e.env.sensor.Sensor = sensorVars{Class: s.Class, Name: s.Name, Value: s.Value, Unit: s.Unit, Status: s.Status}
				key := e.keys.sensor[i]
				key.rule = ri
				ev.one(r, p, key, &e.env.sensor, instance{scope: ScopeSensor, i: i, snap: snap})
			}
		case ScopeBGP:
			e.env.bgp.Threshold = p.threshold
			for i := range snap.BGPPeers {
				e.env.bgp.BGP.set(&snap.BGPPeers[i])
				key := e.keys.bgp[i]
				key.rule = ri
				ev.one(r, p, key, &e.env.bgp, instance{scope: ScopeBGP, i: i, snap: snap})
			}
		}
	}
	if snap.Reachable {
		ev.sweep(snap)
		if e.hasEvent {
			ev.detect(snap)
		}
	}
	ev.finish()
	return ev.out
}

func hasInstances(snap *collector.Snapshot, scope string) bool {
	switch scope {
	case ScopeInterface:
		return len(snap.Interfaces) > 0
	case ScopeCPU:
		return len(snap.CPU) > 0
	case ScopeMemory:
		return len(snap.Memory) > 0
	case ScopeSensor:
		return len(snap.Sensors) > 0
	case ScopeBGP:
		return len(snap.BGPPeers) > 0
	}
	return false
}

// evaluation is one Evaluate or Event call's working set.
type evaluation struct {
	e     *Engine
	now   time.Time
	dev   string
	t     Target
	ds    *deviceState
	maint string // the window the device is in, "" when none
	out   []Alert
}

func (e *Engine) begin(now time.Time, dev string, t Target, ds *deviceState) *evaluation {
	return &evaluation{e: e, now: now, dev: dev, t: t, ds: ds, maint: e.maintenanceFor(now, t)}
}

// finish expires event alerts and releases alerts a maintenance window held
// back, once it has ended.
func (ev *evaluation) finish() {
	ds := ev.ds
	if ev.e.hasEvent {
		ev.expire()
	}
	if ds.inMaint && ev.maint == "" {
		var held []stateKey
		for key, st := range ds.alerts {
			if st.out && !st.notified {
				held = append(held, key)
			}
		}
		sortKeys(held)
		for _, key := range held {
			st := ds.alerts[key]
			st.notified = true
			a := cloneAlert(st.alert)
			a.State, a.At, a.Suppressed, a.Maintenance = StateFiring, ev.now, false, ""
			ev.out = append(ev.out, a)
		}
	}
	ds.inMaint = ev.maint != ""
}

func sortKeys(keys []stateKey) {
	slices.SortFunc(keys, func(a, b stateKey) int {
		return cmp.Or(cmp.Compare(a.rule, b.rule), cmp.Compare(a.class, b.class), cmp.Compare(a.name, b.name), cmp.Compare(a.idx, b.idx))
	})
}

// run evaluates a boolean program; ok is false when it failed at run time.
func (ev *evaluation) run(prog *vm.Program, env any, r *Rule, key stateKey, field string) (result, ok bool) {
	out, err := ev.e.vm.Run(prog, env)
	if err != nil {
		ev.e.errs[key.rule]++
		ev.e.log.Warn("rule expression failed; holding state",
			"rule", r.Name, "device", ev.dev, "instance", instanceName(key), "field", field, "err", err)
		return false, false
	}
	b, _ := out.(bool)
	return b, true
}

// one advances the state of one (rule, device, instance) whose environment
// the caller has filled.
func (ev *evaluation) one(r *Rule, p *params, key stateKey, env any, inst instance) {
	ds := ev.ds
	st := ds.get(key)
	if st == nil && r.MissingData.Policy == MissingFire {
		// The instance must be remembered while healthy, or its data
		// going missing later could not be noticed.
		st = &state{}
		ds.put(key, st)
	}
	if st != nil {
		st.seen = ds.gen
		if r.MissingData.Policy == MissingFire {
			st.lastData = ev.now
		}
		if st.missing {
			// Data is back: the no-data alert has served its purpose; the
			// condition decides afresh below.
			st.missing, st.firing, st.active = false, false, false
			ev.change(r, p, key, st, false, env, inst)
		}
	}

	var holds bool
	if st != nil && st.firing && r.clear != nil {
		clear, ok := ev.run(r.clear, env, r, key, "clear")
		if !ok {
			return
		}
		holds = !clear
	} else {
		cond, ok := ev.run(r.cond, env, r, key, "condition")
		if !ok {
			return
		}
		holds = cond
	}
	if st == nil {
		if !holds {
			return
		}
		st = &state{seen: ds.gen}
		ds.put(key, st)
	}
	ev.step(r, p, key, st, holds, env, inst)
}

// step moves a state on given whether its condition holds (for a firing
// state: whether its clear condition does not).
func (ev *evaluation) step(r *Rule, p *params, key stateKey, st *state, holds bool, env any, inst instance) {
	now := ev.now
	switch {
	case st.firing && holds:
		st.clearSince = time.Time{}
		if st.out {
			st.alert.Value = ev.value(r, env, inst, key, true)
		}
	case st.firing:
		if r.KeepFiringFor > 0 {
			if st.clearSince.IsZero() {
				st.clearSince = now
			}
			if now.Sub(st.clearSince) < r.KeepFiringFor {
				break
			}
		}
		st.firing, st.active, st.clearSince = false, false, time.Time{}
		st.alert.Value = ev.value(r, env, inst, key, false)
		ev.change(r, p, key, st, false, env, inst)
	case holds:
		if !st.active {
			st.active = true
			st.alert.StartsAt = now
		}
		if now.Sub(st.alert.StartsAt) >= p.forDur {
			st.firing = true
			ev.change(r, p, key, st, true, env, inst)
		}
	default:
		st.active = false
	}
	ev.tidy(r, key, st)
}

// change records a fire (firing true) or resolve of the condition machine
// and emits what flap detection lets through.
func (ev *evaluation) change(r *Rule, p *params, key stateKey, st *state, firing bool, env any, inst instance) {
	if firing {
		ev.fill(r, p, key, st, env, inst)
	}
	fl := ev.e.flapFor(r)
	if !fl.Disabled {
		cut := ev.now.Add(-fl.Window)
		st.changes = slices.DeleteFunc(st.changes, func(t time.Time) bool { return !t.After(cut) })
		st.changes = append(st.changes, ev.now)
		if !st.flapping && len(st.changes) > fl.Changes {
			st.flapping = true
			st.alert.Flapping = true
			ev.emitFiring(st) // first firing, or an update saying it flaps
			return
		}
		if st.flapping {
			return
		}
	}
	if firing {
		ev.emitFiring(st)
	} else if st.out {
		ev.emitResolved(key, st)
	}
}

// quiet takes a flapping state out of flapping once it has been stable for
// the quiet period.
func (ev *evaluation) quiet(r *Rule, key stateKey, st *state) {
	fl := ev.e.flapFor(r)
	if fl.Disabled {
		st.changes = nil
	} else if !st.flapping && len(st.changes) > 0 {
		cut := ev.now.Add(-fl.Window)
		st.changes = slices.DeleteFunc(st.changes, func(t time.Time) bool { return !t.After(cut) })
	}
	if !st.flapping || (len(st.changes) > 0 && ev.now.Sub(st.changes[len(st.changes)-1]) < fl.Quiet) {
		return
	}
	st.flapping, st.changes = false, nil
	st.alert.Flapping = false
	switch {
	case st.firing:
		ev.emitFiring(st) // update: still firing, no longer flapping
	case st.out:
		ev.emitResolved(key, st)
	}
}

func (ev *evaluation) emitFiring(st *state) {
	st.out = true
	a := cloneAlert(st.alert)
	a.State = StateFiring
	a.At = ev.now
	if ev.maint != "" && !st.notified {
		a.Suppressed, a.Maintenance = true, ev.maint
	}
	st.notified = st.notified || !a.Suppressed
	st.alert.At = ev.now
	ev.out = append(ev.out, a)
}

// emitResolved emits the resolved transition. The summary is rendered again
// with the value that resolved it.
func (ev *evaluation) emitResolved(key stateKey, st *state) {
	a := cloneAlert(st.alert)
	a.State = StateResolved
	a.At = ev.now
	a.Suppressed = !st.notified
	if a.Suppressed {
		a.Maintenance = cmp.Or(ev.maint, a.Maintenance)
	}
	if !st.missing {
		a.Summary = ev.summary(ev.e.rules[key.rule], &a)
	}
	st.out, st.notified, st.missing = false, false, false
	st.alert.Flapping = false
	ev.out = append(ev.out, a)
}

// drop ends every state of a rule an override has just disabled for the
// device: a firing alert resolves rather than staying open for ever.
func (ev *evaluation) drop(ri int) {
	if ev.ds.perRule[ri] == 0 {
		return
	}
	var keys []stateKey
	for key := range ev.ds.alerts {
		if key.rule == ri {
			keys = append(keys, key)
		}
	}
	sortKeys(keys)
	for _, key := range keys {
		if st := ev.ds.alerts[key]; st.out {
			ev.emitResolved(key, st)
		}
		ev.ds.del(key)
	}
}

// noData applies a rule's missing-data policy to every state it holds on
// the device, for a scope the snapshot has no data for.
func (ev *evaluation) noData(ri int, r *Rule) {
	if r.MissingData.Policy == MissingHold || r.MissingData.Policy == "" || ev.ds.perRule[ri] == 0 {
		return
	}
	var keys []stateKey
	for key := range ev.ds.alerts {
		if key.rule == ri {
			keys = append(keys, key)
		}
	}
	sortKeys(keys)
	p := &ev.ds.params[ri]
	for _, key := range keys {
		ev.missing(r, p, key, ev.ds.alerts[key])
	}
}

// missing applies the missing-data policy to one state, for an instance
// whose data is absent from this evaluation.
func (ev *evaluation) missing(r *Rule, p *params, key stateKey, st *state) {
	if st == nil {
		return
	}
	st.seen = ev.ds.gen
	switch r.MissingData.Policy {
	case MissingResolve:
		if st.firing {
			st.firing, st.active, st.clearSince = false, false, time.Time{}
			ev.change(r, p, key, st, false, nil, instance{})
		}
		st.active = false
	case MissingFire:
		if !st.firing && !st.lastData.IsZero() && ev.now.Sub(st.lastData) >= r.MissingData.After {
			st.firing, st.active, st.missing = true, true, true
			st.alert.StartsAt = st.lastData
			ev.fill(r, p, key, st, nil, instance{scope: key.scope})
			st.alert.Value = 0
			st.alert.Summary = ev.summary(r, &st.alert) + " (no data)"
			ev.change(r, p, key, st, true, nil, instance{})
		}
	}
	ev.quiet(r, key, st)
	if !st.keep() {
		ev.ds.del(key)
	}
}

// value is the observed value reported with an alert: the rule's value
// expression, else the scope's natural reading, else 1 while the condition
// holds and 0 once it does not.
func (ev *evaluation) value(r *Rule, env any, inst instance, key stateKey, holds bool) float64 {
	if env == nil {
		return 0
	}
	if r.value != nil {
		out, err := ev.e.vm.Run(r.value, env)
		if err != nil {
			ev.e.errs[key.rule]++
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

// fill sets the alert's fields for a firing; env is nil when there is no
// data (missing-data policy), and then the labels of the last firing stay.
func (ev *evaluation) fill(r *Rule, p *params, key stateKey, st *state, env any, inst instance) {
	a := &st.alert
	a.Rule = r.Name
	a.Device = ev.dev
	a.Instance = instanceName(key)
	a.Severity = p.severity
	a.Category = r.Category
	a.Priority = ev.e.matrix.Priority(p.severity, ev.t)
	a.Threshold = p.threshold
	a.Fingerprint = Fingerprint(r.Name, ev.dev, a.Instance)
	if env == nil {
		return
	}
	a.Value = ev.value(r, env, inst, key, true)
	a.Labels = instanceLabels(inst)
	a.Summary = ev.summary(r, a)
	a.Description = ev.render(r, r.description, a)
}

func (ev *evaluation) summary(r *Rule, a *Alert) string {
	if s := ev.render(r, r.summary, a); s != "" {
		return s
	}
	return r.Name + " on " + a.Device + " " + a.Instance
}

func (ev *evaluation) render(r *Rule, t *template.Template, a *Alert) string {
	if t == nil {
		return ""
	}
	var b strings.Builder
	err := t.Execute(&b, summaryData{
		Device: a.Device, Instance: a.Instance, Value: a.Value, Threshold: a.Threshold, Labels: a.Labels,
	})
	if err != nil {
		ev.e.log.Warn("rule template failed", "rule", r.Name, "device", a.Device, "instance", a.Instance, "err", err)
		return ""
	}
	return b.String()
}

// sweep resolves firing alerts of instances a reachable snapshot no longer
// has, and drops their other states. A scope whose list is empty is left
// alone: see Engine.
func (ev *evaluation) sweep(snap *collector.Snapshot) {
	var gone []stateKey
	for key, st := range ev.ds.alerts {
		if key.scope == ScopeDevice || key.scope == ScopeEvent || st.seen == ev.ds.gen || !hasInstances(snap, key.scope) {
			continue
		}
		if ev.ds.params[key.rule].disabled && !st.out {
			continue
		}
		gone = append(gone, key)
	}
	if len(gone) == 0 {
		return
	}
	// Map order is random; emit in a stable order.
	sortKeys(gone)
	for _, key := range gone {
		st := ev.ds.alerts[key]
		if st.out {
			ev.emitResolved(key, st) // with the last value seen
		}
		ev.ds.del(key)
	}
}

// RuleErrors returns how many times each rule's expressions failed at run
// time, for rules that failed at least once.
func (e *Engine) RuleErrors() map[string]uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]uint64{}
	for i, n := range e.errs {
		if n > 0 {
			out[e.rules[i].Name] = n
		}
	}
	return out
}

// Active returns every firing alert, ordered by device, rule and instance,
// with the value of its latest evaluation.
func (e *Engine) Active() []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Alert
	for _, ds := range e.devices {
		for _, st := range ds.alerts {
			if st.out {
				out = append(out, cloneAlert(st.alert))
			}
		}
	}
	slices.SortFunc(out, func(a, b Alert) int {
		return cmp.Or(strings.Compare(a.Device, b.Device), strings.Compare(a.Rule, b.Rule), strings.Compare(a.Instance, b.Instance))
	})
	return out
}

// Holding returns the fingerprints of a device's alerts whose condition
// holds now, each with whether it is firing (false: still pending). After a
// restart the agent resolves the open tickets whose faults are not among
// them, and looks again later at those only pending: a pending alert may
// never fire.
func (e *Engine) Holding(device string) map[string]bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]bool{}
	ds := e.devices[device]
	if ds == nil {
		return out
	}
	for key, st := range ds.alerts {
		if st.active || st.out {
			out[Fingerprint(e.rules[key.rule].Name, device, instanceName(key))] = st.out
		}
	}
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
	case ScopeEvent:
		if inst.event != nil {
			return eventLabels(inst.event)
		}
	case ScopeSensor:
		set("sensor", s.Sensors[inst.i].Name)
		set("class", s.Sensors[inst.i].Class)
		set("unit", s.Sensors[inst.i].Unit)
	case ScopeBGP:
		b := s.BGPPeers[inst.i]
		set("peer", b.RemoteAddr)
		if b.RemoteAS != 0 {
			set("remote_as", strconv.FormatUint(uint64(b.RemoteAS), 10))
		}
		set("state", b.State)
		set("admin_status", b.AdminStatus)
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
