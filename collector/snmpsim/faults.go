package snmpsim

import (
	"fmt"
	"math"
	"slices"
)

// Fault is a problem injected into a device.
type Fault struct {
	Kind    string  `json:"kind"`
	IfIndex int     `json:"ifIndex,omitempty"`
	Percent float64 `json:"percent,omitempty"`
	Celsius float64 `json:"celsius,omitempty"`
}

// Fault kinds.
const (
	FaultDown        = "down"        // the device stops answering
	FaultLinkDown    = "link-down"   // a cut cable: IfIndex and the far end of its link go oper down
	FaultPortStuck   = "port-stuck"  // a hung PHY: as link-down, until the port is shut (synthetic only)
	FaultCPU         = "cpu"         // every CPU load reads Percent
	FaultMemory      = "memory"      // the main memory pool reads Percent used
	FaultTemperature = "temperature" // every temperature sensor reads Celsius
)

// FaultKinds lists the kinds InjectFault accepts.
var FaultKinds = []string{FaultDown, FaultLinkDown, FaultPortStuck, FaultCPU, FaultMemory, FaultTemperature}

// validate checks the fields that do not depend on the device.
func (f Fault) validate() error {
	switch f.Kind {
	case FaultDown:
	case FaultLinkDown, FaultPortStuck:
		if f.IfIndex <= 0 {
			return fmt.Errorf("%w: kind %s needs ifIndex > 0, got %d", ErrInvalidFault, f.Kind, f.IfIndex)
		}
	case FaultCPU, FaultMemory:
		if math.IsNaN(f.Percent) || f.Percent < 0 || f.Percent > 100 {
			return fmt.Errorf("%w: kind %s needs percent in 0..100, got %v", ErrInvalidFault, f.Kind, f.Percent)
		}
	case FaultTemperature:
		if math.IsNaN(f.Celsius) || f.Celsius < -50 || f.Celsius > 200 {
			return fmt.Errorf("%w: kind temperature needs celsius in -50..200, got %v", ErrInvalidFault, f.Celsius)
		}
	case "":
		return fmt.Errorf("%w: kind is missing (one of %v)", ErrInvalidFault, FaultKinds)
	default:
		return fmt.Errorf("%w: unknown kind %q (one of %v)", ErrInvalidFault, f.Kind, FaultKinds)
	}
	return nil
}

// sameSlot reports whether g replaces f: one fault per kind, and one
// link-down or port-stuck per interface.
func (f Fault) sameSlot(g Fault) bool {
	return f.Kind == g.Kind && (!f.perPort() || f.IfIndex == g.IfIndex)
}

func (f Fault) perPort() bool { return f.Kind == FaultLinkDown || f.Kind == FaultPortStuck }

// InjectFault adds f to the device (replacing a fault of the same kind, or
// the same kind and ifIndex for link-down and port-stuck). Errors wrap ErrUnknownDevice or
// ErrInvalidFault.
func (s *Simulator) InjectFault(name string, f Fault) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("device %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[name]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownDevice, name)
	}
	if err := d.checkFaultLocked(f); err != nil {
		return fmt.Errorf("device %s: %w", name, err)
	}
	faults := slices.DeleteFunc(slices.Clone(d.faults), f.sameSlot)
	d.faults = append(faults, f)
	s.applyFaultsLocked(d)
	s.log.Info("snmpsim: fault injected", "device", name, "kind", f.Kind, "ifIndex", f.IfIndex)
	return nil
}

// ClearFaults removes every fault from the device.
func (s *Simulator) ClearFaults(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[name]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownDevice, name)
	}
	d.faults = nil
	s.applyFaultsLocked(d)
	s.log.Info("snmpsim: faults cleared", "device", name)
	return nil
}

// checkFaultLocked checks what depends on the device.
func (d *device) checkFaultLocked(f Fault) error {
	if d.synth != nil {
		if f.perPort() && d.synth.port(f.IfIndex) == nil {
			return fmt.Errorf("%w: ifIndex %d does not exist (ports 1..%d)", ErrInvalidFault, f.IfIndex, len(d.synth.ports))
		}
		return nil
	}
	switch f.Kind {
	case FaultDown:
		return nil
	case FaultLinkDown:
		if d.base[d.info.Name].get(ifOperStatus.child(uint32(f.IfIndex)), false) < 0 {
			return fmt.Errorf("%w: ifIndex %d has no ifOperStatus in the recording", ErrInvalidFault, f.IfIndex)
		}
		return nil
	}
	return fmt.Errorf("%w: kind %s is not supported on recording devices (only down and link-down)", ErrInvalidFault, f.Kind)
}

func (s *Simulator) applyFaultsLocked(d *device) {
	d.agent.down.Store(slices.ContainsFunc(d.faults, func(f Fault) bool { return f.Kind == FaultDown }))
	if d.synth != nil {
		s.demo.update(s.now(), s.faultsByDeviceLocked())
		return
	}
	// Recordings: override ifOperStatus of the faulted interfaces.
	var over []entry
	for _, f := range d.faults {
		if f.Kind == FaultLinkDown {
			over = append(over, newStaticEntry(ifOperStatus.child(uint32(f.IfIndex)), intValue(2)))
		}
	}
	v := make(views, len(d.base))
	for comm, t := range d.base {
		if len(over) == 0 {
			v[comm] = t
			continue
		}
		v[comm] = t.withOverrides(over)
	}
	d.agent.views.Store(&v)
}

func (s *Simulator) faultsByDeviceLocked() map[string][]Fault {
	m := make(map[string][]Fault, len(s.devices))
	for name, d := range s.devices {
		if d.synth != nil {
			m[name] = d.faults
		}
	}
	return m
}

// withOverrides returns a copy of t where entries with the OIDs of over
// (that already exist) take over's values.
func (t *table) withOverrides(over []entry) *table {
	es := slices.Clone(t.entries)
	for _, o := range over {
		if i, ok := t.search(o.oid); ok {
			es[i] = o
		}
	}
	return newTable(es)
}
