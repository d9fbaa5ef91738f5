package rules

import (
	"cmp"
	"maps"
	"time"

	"github.com/nocagent/nocagent/collector"
)

// Event kinds the collector, the trap receiver and the engine itself emit.
// Event rules may match any kind; these are the ones the default pack knows.
const (
	EventRebooted      = "device_rebooted" // sysUpTime went back (detected by Evaluate)
	EventSerialChanged = "serial_changed"  // chassis serial differs from the last poll (detected by Evaluate)
	EventLinkDown      = "link_down"       // linkDown trap; Instance is the interface
	EventLinkUp        = "link_up"         // linkUp trap
	// BGP4-MIB bgpBackwardTransition/bgpEstablished traps, Instance the
	// peer address. The poll reads the peers too (scope bgp); the trap
	// is earlier, and the only signal from devices whose peers are in a
	// vendor MIB.
	EventBGPPeerDown = "bgp_peer_down"
	EventBGPPeerUp   = "bgp_peer_up"
)

// Event is something that happened to a device at one moment, rather than a
// state read from a poll: a trap, a reboot, a replaced chassis.
type Event struct {
	Device   string            `json:"device"`
	Kind     string            `json:"kind"`
	Instance string            `json:"instance,omitempty"` // interface, peer, ...
	At       time.Time         `json:"at"`
	Attrs    map[string]string `json:"attrs,omitempty"`
}

// Event runs the event rules over one event of t's device at now and returns
// the transitions. An event rule fires when its condition matches; a further
// match while firing extends its hold; it resolves when its clear condition
// matches a later event of the same instance, or when Hold has passed since
// the last match (checked here and by every Evaluate of the device). The
// device is t.Name, else ev.Device.
func (e *Engine) Event(now time.Time, ev Event, t Target) []Alert {
	dev := cmp.Or(t.Name, ev.Device)
	if dev == "" {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ds := e.device(dev, t)
	if ds.dev.Name == "" {
		ds.dev = deviceVars{Name: dev, Reachable: true}
	}
	ds.dev.Role, ds.dev.Customer, ds.dev.Site, ds.dev.Tier, ds.dev.Tags, ds.dev.Downstream = t.Role, t.Customer, t.Site, t.Tier, t.Tags, t.Downstream
	e.env.event.Device = ds.dev
	x := e.begin(now, dev, t, ds)
	x.event(&ev)
	x.finish()
	return x.out
}

// event evaluates the event rules over one event; the device part of the
// event environment is filled.
func (ev *evaluation) event(x *Event) {
	e := ev.e
	e.env.event.Event = eventVars{Kind: x.Kind, Instance: x.Instance, Attrs: x.Attrs}
	for ri, r := range e.rules {
		p := &ev.ds.params[ri]
		if r.Scope != ScopeEvent || p.disabled {
			continue
		}
		e.env.event.Threshold = p.threshold
		key := stateKey{rule: ri, scope: ScopeEvent, name: x.Instance}
		st := ev.ds.get(key)
		if st != nil && st.firing && r.clear != nil {
			clear, ok := ev.run(r.clear, &e.env.event, r, key, "clear")
			if ok && clear {
				st.firing, st.active, st.alert.Value = false, false, 0
				ev.change(r, p, key, st, false, nil, instance{})
				ev.tidy(r, key, st)
				continue
			}
		}
		match, ok := ev.run(r.cond, &e.env.event, r, key, "condition")
		if !ok || !match {
			continue
		}
		if st == nil {
			st = &state{}
			ev.ds.put(key, st)
		}
		st.seen = ev.ds.gen
		st.expires = ev.now.Add(r.Hold)
		if st.firing {
			continue
		}
		st.firing, st.active = true, true
		st.alert.StartsAt = ev.now
		ev.change(r, p, key, st, true, &e.env.event, instance{scope: ScopeEvent, event: x})
	}
}

func (ev *evaluation) tidy(r *Rule, key stateKey, st *state) {
	ev.quiet(r, key, st)
	if !st.keep() {
		ev.ds.del(key)
	}
}

// expire resolves event alerts whose hold has passed and lets flapping event
// states go quiet.
func (ev *evaluation) expire() {
	var keys []stateKey
	for key := range ev.ds.alerts {
		if key.scope == ScopeEvent {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return
	}
	sortKeys(keys)
	for _, key := range keys {
		st := ev.ds.alerts[key]
		r := ev.e.rules[key.rule]
		if st.firing && r.Hold > 0 && !ev.now.Before(st.expires) {
			st.firing, st.active, st.alert.Value = false, false, 0
			ev.change(r, &ev.ds.params[key.rule], key, st, false, nil, instance{})
		}
		ev.tidy(r, key, st)
	}
}

// detect turns what changed since the device's previous reachable snapshot
// into events: sysUpTime going back is a reboot, a different chassis serial
// a replacement. sysUpTime is TimeTicks, which wraps after 497 days; a value
// that went back from within one day of the wrap is taken as a wrap.
func (ev *evaluation) detect(snap *collector.Snapshot) {
	ds := ev.ds
	up, serial := snap.System.UptimeSeconds, snap.Serial
	const wrap = float64(1<<32) / 100
	var evs []Event
	if ds.hasPrev && up > 0 && up < ds.prevUptime && ds.prevUptime < wrap-86400 {
		evs = append(evs, Event{Device: ev.dev, Kind: EventRebooted, At: ev.now, Attrs: map[string]string{
			"uptime_seconds": fmtSeconds(up), "previous_uptime_seconds": fmtSeconds(ds.prevUptime),
		}})
	}
	if ds.hasPrev && serial != "" && ds.prevSerial != "" && serial != ds.prevSerial {
		evs = append(evs, Event{Device: ev.dev, Kind: EventSerialChanged, At: ev.now, Attrs: map[string]string{
			"old_serial": ds.prevSerial, "new_serial": serial,
		}})
	}
	if up > 0 {
		ds.prevUptime = up
	}
	if serial != "" {
		ds.prevSerial = serial
	}
	ds.hasPrev = true
	if len(evs) == 0 {
		return
	}
	ev.e.env.event.Device = ds.dev
	for i := range evs {
		ev.event(&evs[i])
	}
}

func fmtSeconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}

// eventLabels are an event alert's labels: the event kind and its attributes.
func eventLabels(x *Event) map[string]string {
	l := maps.Clone(x.Attrs)
	if l == nil {
		l = map[string]string{}
	}
	l["event"] = x.Kind
	return l
}
