package ticketing

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ImpactedDevice is a device cut off behind a ticket's device: its outage is
// explained by the ticket's, so it has no ticket of its own. In a Signal only
// Name, Serial and Customer are read.
//
// A device that answers again stays listed with Recovered set, so the ticket
// keeps the whole extent of the outage for the customer notice and the
// post-mortem; Active devices are those not recovered.
type ImpactedDevice struct {
	Name     string `json:"name"`
	Serial   string `json:"serial"`
	Customer string `json:"customer"`
	// AddedAt is when the device was last attached: when it went down
	// behind the ticket's device, again if it recovered and fell back.
	AddedAt     time.Time  `json:"added_at,omitzero"`
	Recovered   bool       `json:"recovered"`
	RecoveredAt *time.Time `json:"recovered_at,omitempty"`
}

// maxNamedInNote bounds how many devices an event note names: a storm of
// 200 devices is one readable line, and the ticket lists them all anyway.
const maxNamedInNote = 20

// impactDelta compares what sig says about impacted devices with t. add are
// the devices of sig.Impacted that t does not list, or lists as recovered;
// rec are those of sig.Recovered that t lists as still impacted. A device
// named twice counts once, and one named in both lists counts as recovered:
// the correlator reports a recovery after the loss. Ingest has already
// dropped entries without a name or naming the ticket's own device.
func impactDelta(t Ticket, impacted, recovered []ImpactedDevice) (add, rec []ImpactedDevice) {
	cur := make(map[string]ImpactedDevice, len(t.ImpactedDevices))
	for _, d := range t.ImpactedDevices {
		cur[d.Name] = d
	}
	recovering := map[string]bool{}
	for _, d := range recovered {
		if recovering[d.Name] {
			continue
		}
		recovering[d.Name] = true
		if c, ok := cur[d.Name]; ok && !c.Recovered {
			rec = append(rec, c)
		}
	}
	seen := map[string]bool{}
	for _, d := range impacted {
		if seen[d.Name] || recovering[d.Name] {
			continue
		}
		seen[d.Name] = true
		if c, ok := cur[d.Name]; ok && !c.Recovered {
			continue
		}
		add = append(add, ImpactedDevice{Name: d.Name, Serial: d.Serial, Customer: d.Customer})
	}
	return add, rec
}

// setImpacted replaces or adds ds in t's list, kept sorted by name.
func setImpacted(t *Ticket, ds []ImpactedDevice) {
	for _, d := range ds {
		i := slices.IndexFunc(t.ImpactedDevices, func(x ImpactedDevice) bool { return x.Name == d.Name })
		if i >= 0 {
			t.ImpactedDevices[i] = d
		} else {
			t.ImpactedDevices = append(t.ImpactedDevices, d)
		}
	}
	slices.SortFunc(t.ImpactedDevices, func(a, b ImpactedDevice) int { return strings.Compare(a.Name, b.Name) })
}

// stageImpact applies what sig says about impacted devices to c's ticket
// and queues the entries to store, without events: the caller records
// them, with recordImpact or in its own event (opened, reopened).
func stageImpact(c *change, now time.Time, sig Signal) (add, rec []ImpactedDevice) {
	add, rec = impactDelta(*c.t, sig.Impacted, sig.Recovered)
	at := sig.At.UTC()
	for i := range add {
		add[i].AddedAt = now
	}
	for i := range rec {
		rec[i].Recovered, rec[i].RecoveredAt = true, &at
	}
	setImpacted(c.t, add)
	setImpacted(c.t, rec)
	c.impact = append(append(c.impact, add...), rec...)
	return add, rec
}

// recordImpact records one impact_added event for all of add and one
// impact_recovered event for all of rec, whatever their number.
func recordImpact(c *change, now time.Time, add, rec []ImpactedDevice) {
	if len(add) > 0 {
		c.event(now, ActorMonitoring, KindImpactAdded, "", "", describeDevices(add, "impacted"))
	}
	if len(rec) > 0 {
		c.event(now, ActorMonitoring, KindImpactRecovered, "", "", describeDevices(rec, "recovered"))
	}
}

// withDevices appends to an opening note the devices it cut off.
func withDevices(note string, add []ImpactedDevice) string {
	if len(add) == 0 {
		return note
	}
	if note == "" {
		return describeDevices(add, "impacted")
	}
	return note + "; " + describeDevices(add, "impacted")
}

// describeDevices is the note naming ds: "3 devices impacted: sw-1 (acme),
// sw-2 (acme), sw-3 (globex)", the first maxNamedInNote of them.
func describeDevices(ds []ImpactedDevice, what string) string {
	var b strings.Builder
	noun := "devices"
	if len(ds) == 1 {
		noun = "device"
	}
	fmt.Fprintf(&b, "%d %s %s: ", len(ds), noun, what)
	for i, d := range ds {
		if i == maxNamedInNote {
			fmt.Fprintf(&b, " and %d more", len(ds)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Name)
		if d.Customer != "" {
			fmt.Fprintf(&b, " (%s)", d.Customer)
		}
	}
	return b.String()
}

// withImpact fills the impact fields computed from the stored list: the
// list is never null, and ImpactedCustomers is every customer t affects.
func withImpact(t Ticket) Ticket {
	if t.ImpactedDevices == nil {
		t.ImpactedDevices = []ImpactedDevice{}
	}
	t.ImpactedCustomers = impactedCustomers(t)
	return t
}

// impactedCustomers returns the distinct customers of t's device and of
// every device it lists as impacted (recovered ones too: the outage reached
// them), sorted.
func impactedCustomers(t Ticket) []string {
	cs := []string{}
	if t.Device.Customer != "" {
		cs = append(cs, t.Device.Customer)
	}
	for _, d := range t.ImpactedDevices {
		if d.Customer != "" {
			cs = append(cs, d.Customer)
		}
	}
	slices.Sort(cs)
	return slices.Compact(cs)
}

// cleanImpact drops the entries of ds that name no device or device itself
// (a correlator bug must not cost the root its ticket) and returns how many
// it dropped.
func cleanImpact(ds []ImpactedDevice, device string) ([]ImpactedDevice, int) {
	n := len(ds)
	ds = slices.DeleteFunc(slices.Clone(ds), func(d ImpactedDevice) bool {
		return strings.TrimSpace(d.Name) == "" || d.Name == device
	})
	return ds, n - len(ds)
}

// affects reports whether t's device or one of its impacted devices
// belongs to customer.
func affects(t Ticket, customer string) bool {
	if t.Device.Customer == customer {
		return true
	}
	for _, d := range t.ImpactedDevices {
		if d.Customer == customer {
			return true
		}
	}
	return false
}
