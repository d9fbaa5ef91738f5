package collector

import (
	"slices"
	"time"

	"github.com/gosnmp/gosnmp"
)

// A poll asks again only for what may have changed since the device's
// previous poll. The poll loop is the agent's hot path: on a 146-port
// switch the entity table alone is a quarter of the varbinds, and a
// device that reports 64-bit counters makes the 32-bit ones noise.

// oidEntLastChangeTime is ENTITY-MIB's entLastChangeTime: sysUpTime when
// the entity table last changed.
const oidEntLastChangeTime = ".1.3.6.1.2.1.47.1.4.1.0"

// entityMaxAge bounds how long an entity table is reused: for agents that
// never move entLastChangeTime although a module was swapped, and for
// agents without it, whose table is reused only while they do not restart.
const entityMaxAge = 15 * time.Minute

func readEntLastChange(snap *Snapshot, scalars []gosnmp.SnmpPDU) {
	for _, p := range scalars {
		if p.Name == oidEntLastChangeTime && !absent(p) {
			snap.entLastChange, snap.hasEntLastChange = pduUint(p)
			return
		}
	}
}

// entitiesSince reuses the previous poll's entity table while nothing
// says it changed: entLastChangeTime the same (or absent on both polls), no
// restart, walked less than entityMaxAge ago. A replaced box restarts, so
// its new serial is read at once. Only BGP4-MIB, which rides in the same
// walk, is asked for.
func entitiesSince(snap, prev *Snapshot) ([]string, func(*Snapshot, []gosnmp.SnmpPDU)) {
	if !prev.Reachable || snap.hasEntLastChange != prev.hasEntLastChange || snap.entLastChange != prev.entLastChange ||
		len(prev.Entities) == 0 || prev.entityWalked.IsZero() || snap.Time.Sub(prev.entityWalked) > entityMaxAge ||
		snap.System.UptimeSeconds < prev.System.UptimeSeconds {
		return nil, nil
	}
	return bgpRoots, func(s *Snapshot, p []gosnmp.SnmpPDU) {
		// Snapshots are never changed once emitted, so the table is shared.
		s.Entities = prev.Entities
		s.Model, _ = chassisValue(s.Entities, func(e *Entity) string { return e.Model })
		s.Serial, _ = chassisValue(s.Entities, func(e *Entity) string { return e.Serial })
		s.Firmware, _ = chassisValue(s.Entities, func(e *Entity) string { return e.Firmware })
		s.entityWalked = prev.entityWalked
		s.BGPPeers = decodeBGP(p)
	}
}

// The 32-bit columns a previous poll can prove redundant.
var (
	ifOctets32 = cols(oidIfEntry, ifInOctets, ifOutOctets)
	ifPkts32   = cols(oidIfEntry, ifInUcastPkts, ifOutUcastPkts)
	ifSpeed32  = cols(oidIfEntry, ifSpeed)
)

// interfaceRootsWithout[mask] is interfaceRoots less, by bit, the 32-bit
// octets (1), packets (2) and ifSpeed (4).
var interfaceRootsWithout = func() [8][]string {
	var out [8][]string
	for mask := range out {
		var drop []string
		for bit, c := range [][]string{ifOctets32, ifPkts32, ifSpeed32} {
			if mask&(1<<bit) != 0 {
				drop = append(drop, c...)
			}
		}
		out[mask] = slices.DeleteFunc(slices.Clone(interfaceRoots), func(oid string) bool { return slices.Contains(drop, oid) })
	}
	return out
}()

// interfacesSince leaves out the 32-bit counters that the previous poll
// showed every interface to have 64-bit twins for, and ifSpeed when every
// speed was whole megabits (what ifHighSpeed carries); the decoder then
// reads the 64-bit ones, as it would anyway. A new interface without them
// reads zero for one poll, after which the full columns come back.
func interfacesSince(_, prev *Snapshot) ([]string, func(*Snapshot, []gosnmp.SnmpPDU)) {
	if !prev.Reachable || len(prev.Interfaces) == 0 {
		return nil, nil
	}
	mask := 7
	for i := range prev.Interfaces {
		it := &prev.Interfaces[i]
		if it.fromProfile {
			continue
		}
		if !it.HC {
			mask &^= 1
		}
		if !it.hcPkts {
			mask &^= 2
		}
		if it.SpeedBps%1_000_000 != 0 {
			mask &^= 4
		}
	}
	if mask == 0 {
		return nil, nil
	}
	return interfaceRootsWithout[mask], func(s *Snapshot, p []gosnmp.SnmpPDU) { s.Interfaces = decodeInterfaces(p) }
}
