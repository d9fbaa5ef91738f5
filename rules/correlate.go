package rules

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/nocagent/nocagent/topology"
)

// Incident states.
const (
	IncidentOpen     = "open"
	IncidentResolved = "resolved"
)

// Incident change kinds, what the caller maps to ticketing.
const (
	// ChangeOpened: a new root-cause incident; open a ticket.
	ChangeOpened = "opened"
	// ChangeUpdated: devices were added to Impacted (Devices lists them)
	// and the priority may have risen; attach them to the ticket.
	ChangeUpdated = "updated"
	// ChangeRecovered: impacted devices (Devices) answer again; note it on
	// the ticket's timeline. It may come after ChangeResolved.
	ChangeRecovered = "recovered"
	// ChangeResolved: the root answers again; resolve the ticket. Devices
	// still down are re-examined and get their own incidents if they stay
	// down.
	ChangeResolved = "resolved"
	// ChangeMerged: this incident's root turned out to sit behind another
	// down device; its devices moved to incident Into. Close this ticket
	// with a reference to Into's.
	ChangeMerged = "merged"
)

// ImpactedDevice is a device whose outage is explained by an incident's root.
type ImpactedDevice struct {
	Name     string `json:"name"`
	Serial   string `json:"serial"`
	Customer string `json:"customer"`
}

// Incident is the correlated unit that becomes one ticket: a device that is
// down for its own reasons (the root) and every device cut off behind it.
type Incident struct {
	Key    string `json:"key"`  // "unreachable:" + Root; stable for the incident's life
	Root   string `json:"root"` // the root device
	Serial string `json:"serial,omitempty"`
	// Alerts are the root's reachability transitions, oldest first.
	Alerts    []Alert          `json:"alerts"`
	Impacted  []ImpactedDevice `json:"impacted_devices"`
	Recovered []ImpactedDevice `json:"recovered_devices,omitempty"`
	// Customers of the root and of every impacted device, sorted.
	Customers []string  `json:"customers"`
	Priority  string    `json:"priority"`
	State     string    `json:"state"`
	Opened    time.Time `json:"opened"`
	Updated   time.Time `json:"updated"`
	// Suppressed: the root's alert fired inside a maintenance window; open
	// no ticket until a change arrives with Suppressed false.
	Suppressed bool `json:"suppressed,omitempty"`
}

// IncidentChange is one transition of one incident.
type IncidentChange struct {
	Kind     string           `json:"kind"`
	Incident Incident         `json:"incident"` // a copy, after the change
	Devices  []ImpactedDevice `json:"devices,omitempty"`
	Into     string           `json:"into,omitempty"` // merged only
}

// DeviceInfo is what the correlator needs to know of a device.
type DeviceInfo struct {
	Serial string
	Target Target // Customer and the fields the priority matrix reads
}

// CorrelatorOptions configure a Correlator.
type CorrelatorOptions struct {
	// Matrix prices incidents; zero means DefaultPriorityMatrix.
	Matrix PriorityMatrix
	// Settle is how long a device must have been down before it is
	// decided: long enough for its upstream's poll to report too, so one
	// poll interval. A storm is then one incident at the second cycle.
	Settle time.Duration
	// Rule is the reachability rule; "" means device_unreachable.
	Rule string
	// Devices describes a device by name; nil knows names only.
	Devices func(name string) DeviceInfo
}

// Correlator turns reachability alert transitions into root-cause
// incidents over the topology graph. When a device is unreachable and every
// upstream path passes through devices that are down too, its outage is
// attached to the root cause's incident as an impacted device instead of
// opening its own; a device with one live upstream is its own root. Every
// method may be called concurrently.
//
// Lifecycle: Observe every transition the engine emits (others than the
// reachability rule's are ignored), then Flush; Flush decides the devices
// that have been down for Settle. Flush after every batch of Observe, or on
// a timer; it is cheap when nothing waits.
type Correlator struct {
	mu        sync.Mutex
	g         *topology.Graph
	matrix    PriorityMatrix
	settle    time.Duration
	rule      string
	info      func(string) DeviceInfo
	down      map[string]*downDev
	incidents map[string]*incident
}

type downDev struct {
	since time.Time
	alert Alert
	// incident is the key of the incident the device is root of or
	// impacted in; "" while undecided.
	incident string
	// former is the resolved incident it was impacted in, where its
	// recovery is still reported.
	former string
}

type incident struct {
	Incident
	impacted map[string]bool
	// waiting are devices that were impacted when the root recovered and
	// are still down: their recovery is reported here.
	waiting map[string]bool
}

// NewCorrelator returns a correlator over g.
func NewCorrelator(g *topology.Graph, o CorrelatorOptions) *Correlator {
	c := &Correlator{g: g, matrix: o.Matrix, settle: o.Settle, rule: cmp.Or(o.Rule, "device_unreachable"), info: o.Devices,
		down: map[string]*downDev{}, incidents: map[string]*incident{}}
	if c.matrix.Cells == nil {
		c.matrix = DefaultPriorityMatrix()
	}
	if c.info == nil {
		c.info = func(name string) DeviceInfo { return DeviceInfo{Target: Target{Name: name}} }
	}
	if c.g == nil {
		c.g = topology.New(nil, nil)
	}
	return c
}

// SetGraph replaces the topology, for a reloaded inventory or newly learned
// links. Decided incidents stay as they are.
func (c *Correlator) SetGraph(g *topology.Graph) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.g = g
}

func (c *Correlator) impactedDevice(name string) ImpactedDevice {
	i := c.info(name)
	return ImpactedDevice{Name: name, Serial: i.Serial, Customer: i.Target.Customer}
}

// Observe feeds alert transitions. A recovery is handled at once (it needs no
// waiting); an outage waits for Flush.
func (c *Correlator) Observe(now time.Time, alerts ...Alert) []IncidentChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []IncidentChange
	for _, a := range alerts {
		if a.Rule != c.rule {
			continue
		}
		d := c.down[a.Device]
		switch {
		case a.State == StateFiring && d == nil:
			c.down[a.Device] = &downDev{since: now, alert: a}
		case a.State == StateFiring:
			// An update (maintenance over, flapping): keep the root's
			// incident in step.
			d.alert = a
			if in := c.incidents[d.incident]; in != nil && in.Root == a.Device && in.Suppressed && !a.Suppressed {
				in.Suppressed = false
				in.Alerts = append(in.Alerts, a)
				in.Updated = now
				out = append(out, IncidentChange{Kind: ChangeUpdated, Incident: in.snapshot()})
			}
		case a.State == StateResolved && d != nil:
			delete(c.down, a.Device)
			out = append(out, c.recover(now, a, d)...)
		}
	}
	return out
}

// recover handles a device that answers again.
func (c *Correlator) recover(now time.Time, a Alert, d *downDev) []IncidentChange {
	var out []IncidentChange
	if in := c.incidents[d.former]; in != nil && in.waiting[a.Device] {
		delete(in.waiting, a.Device)
		out = append(out, c.recovered(now, in, a.Device))
	}
	in := c.incidents[d.incident]
	if in == nil {
		return out
	}
	if in.Root != a.Device {
		delete(in.impacted, a.Device)
		return append(out, c.recovered(now, in, a.Device))
	}
	in.State = IncidentResolved
	in.Alerts = append(in.Alerts, a)
	in.Updated = now
	// Devices still down are undecided again: their upstream has only just
	// come back, and a poll of theirs that was timing out when it did may
	// still report them down. Their first poll that starts after now answers
	// within two poll intervals (Settle each): they are decided only then.
	for _, name := range sortedKeys(in.impacted) {
		if dd := c.down[name]; dd != nil {
			dd.incident, dd.former, dd.since = "", in.Key, now.Add(c.settle)
			in.waiting[name] = true
		}
	}
	in.impacted = map[string]bool{}
	in.Impacted = nil
	out = append(out, IncidentChange{Kind: ChangeResolved, Incident: in.snapshot()})
	c.gc(in)
	return out
}

func (c *Correlator) recovered(now time.Time, in *incident, name string) IncidentChange {
	dev := c.impactedDevice(name)
	in.Impacted = slices.DeleteFunc(in.Impacted, func(x ImpactedDevice) bool { return x.Name == name })
	in.Recovered = append(in.Recovered, dev)
	in.Updated = now
	ch := IncidentChange{Kind: ChangeRecovered, Incident: in.snapshot(), Devices: []ImpactedDevice{dev}}
	c.gc(in)
	return ch
}

// gc forgets a resolved incident nobody reports to any more.
func (c *Correlator) gc(in *incident) {
	if in.State == IncidentResolved && len(in.waiting) == 0 {
		delete(c.incidents, in.Key)
	}
}

// Flush decides every device down for at least Settle: a device not cut off
// by other down devices is a root and opens (or keeps) its incident; a cut
// off one joins the incident of a root it sits behind. A root found to sit
// behind another root merges into that one's incident.
func (c *Correlator) Flush(now time.Time) []IncidentChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ready []string
	for name, d := range c.down {
		if d.incident == "" && !now.Before(d.since.Add(c.settle)) {
			ready = append(ready, name)
		}
	}
	if len(ready) == 0 {
		// Nothing new to decide; an earlier root can only be found to sit
		// behind a root decided now.
		return nil
	}
	roots := map[string]bool{}
	for name, d := range c.down {
		if in := c.incidents[d.incident]; in != nil && in.Root == name {
			roots[name] = true
		}
	}
	slices.Sort(ready)
	reach := newReachability(c.g, c.down)

	opened := map[string]bool{}
	added := map[string][]ImpactedDevice{}
	var out []IncidentChange

	// Roots first, so that the devices behind them find their incident.
	var behind []string
	for _, name := range ready {
		if reach.explained(name) {
			behind = append(behind, name)
			continue
		}
		d := c.down[name]
		key := "unreachable:" + name
		in := &incident{impacted: map[string]bool{}, waiting: map[string]bool{}}
		if old := c.incidents[key]; old != nil {
			// The same root down again while its last incident still
			// waits on recoveries: keep those, start afresh otherwise.
			in.waiting = old.waiting
		}
		in.Incident = Incident{Key: key, Root: name, Serial: c.info(name).Serial, Alerts: []Alert{d.alert},
			State: IncidentOpen, Opened: now, Updated: now, Suppressed: d.alert.Suppressed}
		c.incidents[key] = in
		d.incident = key
		opened[key] = true
	}
	// Earlier roots now behind a newer one merge into it.
	for _, name := range sortedKeys(roots) {
		if !reach.explained(name) {
			continue
		}
		r := reach.rootOf(name, c.down, c.incidents)
		if r == "" {
			continue
		}
		from := c.incidents[c.down[name].incident]
		into := c.incidents[c.down[r].incident]
		for _, x := range append([]string{name}, sortedKeys(from.impacted)...) {
			c.down[x].incident = into.Key
			into.impacted[x] = true
			added[into.Key] = append(added[into.Key], c.impactedDevice(x))
		}
		from.State = IncidentResolved
		from.Updated = now
		from.impacted = map[string]bool{}
		from.Impacted = nil
		out = append(out, IncidentChange{Kind: ChangeMerged, Incident: from.snapshot(), Into: into.Key})
		c.gc(from)
	}
	for _, name := range behind {
		r := reach.rootOf(name, c.down, c.incidents)
		if r == "" {
			continue // its root is not decided yet: wait for it
		}
		in := c.incidents[c.down[r].incident]
		c.down[name].incident = in.Key
		in.impacted[name] = true
		added[in.Key] = append(added[in.Key], c.impactedDevice(name))
	}
	keys := sortedKeys(opened)
	for k := range added {
		if !opened[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		in := c.incidents[k]
		in.Impacted = append(in.Impacted, added[k]...)
		slices.SortFunc(in.Impacted, func(a, b ImpactedDevice) int { return cmp.Compare(a.Name, b.Name) })
		in.Updated = now
		c.price(in)
		ch := IncidentChange{Kind: ChangeUpdated, Incident: in.snapshot(), Devices: added[k]}
		if opened[k] {
			ch.Kind, ch.Devices = ChangeOpened, nil
		}
		out = append(out, ch)
	}
	for _, name := range ready {
		d := c.down[name]
		if d.incident == "" || d.former == "" {
			continue
		}
		// Decided again after its old root recovered: the old incident
		// stops waiting for it.
		if old := c.incidents[d.former]; old != nil && old.Key != d.incident {
			delete(old.waiting, name)
			c.gc(old)
		}
		d.former = ""
	}
	return out
}

// price sets the incident's customers and priority: the root alert's
// severity against the root's impact, where the number of impacted devices
// counts as its downstream (so a root cutting off ten devices is critical
// impact under the default matrix).
func (c *Correlator) price(in *incident) {
	t := c.info(in.Root).Target
	t.Downstream = max(t.Downstream, len(in.Impacted))
	sev := in.Alerts[0].Severity
	in.Priority = c.matrix.Priority(cmp.Or(sev, SeverityCritical), t)
	cust := map[string]bool{}
	if t.Customer != "" {
		cust[t.Customer] = true
	}
	for _, d := range in.Impacted {
		if d.Customer != "" {
			cust[d.Customer] = true
		}
	}
	in.Customers = sortedKeys(cust)
}

// Incidents returns the open incidents, by key.
func (c *Correlator) Incidents() []Incident {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Incident
	for _, k := range sortedKeys(c.incidents) {
		if in := c.incidents[k]; in.State == IncidentOpen {
			out = append(out, in.snapshot())
		}
	}
	return out
}

// IncidentOf returns the key of the incident a down device belongs to, as
// root or impacted, or "" (up, or not decided yet). The caller can attach a
// device's other alerts to that incident's ticket.
func (c *Correlator) IncidentOf(device string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := c.down[device]; d != nil {
		return d.incident
	}
	return ""
}

func (in *incident) snapshot() Incident {
	out := in.Incident
	out.Alerts = slices.Clone(in.Alerts)
	for i := range out.Alerts {
		out.Alerts[i] = cloneAlert(out.Alerts[i])
	}
	out.Impacted = slices.Clone(in.Impacted)
	out.Recovered = slices.Clone(in.Recovered)
	out.Customers = slices.Clone(in.Customers)
	if out.Impacted == nil {
		out.Impacted = []ImpactedDevice{}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// reachability answers, for one set of down devices, which devices the
// agent can still reach: a device is reachable when it is not down and has
// no upstream (it is next to the agent) or a reachable upstream.
type reachability struct {
	g    *topology.Graph
	down map[string]*downDev
	memo map[string]bool
}

func newReachability(g *topology.Graph, down map[string]*downDev) *reachability {
	return &reachability{g: g, down: down, memo: map[string]bool{}}
}

func (r *reachability) reachable(name string) bool {
	if v, ok := r.memo[name]; ok {
		return v
	}
	r.memo[name] = false // a cycle in learned data reads as unreachable, not as a loop
	v := false
	if r.down[name] == nil {
		ups := r.g.Upstream(name)
		v = len(ups) == 0
		for _, u := range ups {
			if r.reachable(u) {
				v = true
				break
			}
		}
	}
	r.memo[name] = v
	return v
}

// explained reports whether a down device's outage is explained by others:
// it has upstreams and none of them is reachable.
func (r *reachability) explained(name string) bool {
	ups := r.g.Upstream(name)
	if len(ups) == 0 {
		return false
	}
	for _, u := range ups {
		if r.reachable(u) {
			return false
		}
	}
	return true
}

// rootOf walks up from an explained device through unreachable upstreams to
// the down devices that are not explained themselves, and returns the one
// with a decided incident, preferring the first by name; "" when none is
// decided yet.
func (r *reachability) rootOf(name string, down map[string]*downDev, incidents map[string]*incident) string {
	seen := map[string]bool{name: true}
	queue := []string{name}
	var roots []string
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, u := range r.g.Upstream(n) {
			if seen[u] {
				continue
			}
			seen[u] = true
			if down[u] != nil && !r.explained(u) {
				roots = append(roots, u)
				continue
			}
			queue = append(queue, u)
		}
	}
	slices.Sort(roots)
	for _, u := range roots {
		if in := incidents[down[u].incident]; in != nil && in.Root == u && in.State == IncidentOpen {
			return u
		}
	}
	return ""
}
