package snmpsim

import (
	"math"
	"slices"
	"time"

	"github.com/gosnmp/gosnmp"
)

// MIB objects the synthetic devices serve.
var (
	oidSystem           = mustOID("1.3.6.1.2.1.1")
	ifNumber            = mustOID("1.3.6.1.2.1.2.1.0")
	ifEntry             = mustOID("1.3.6.1.2.1.2.2.1")
	ifAdminStatus       = ifEntry.child(7)
	ifOperStatus        = ifEntry.child(8)
	ifXEntry            = mustOID("1.3.6.1.2.1.31.1.1.1")
	entPhysicalEntry    = mustOID("1.3.6.1.2.1.47.1.1.1.1")
	entPhySensorEntry   = mustOID("1.3.6.1.2.1.99.1.1.1")
	hrSystemUptime      = mustOID("1.3.6.1.2.1.25.1.1.0")
	hrMemorySize        = mustOID("1.3.6.1.2.1.25.2.2.0")
	hrStorageEntry      = mustOID("1.3.6.1.2.1.25.2.3.1")
	hrStorageRam        = mustOID("1.3.6.1.2.1.25.2.1.2")
	hrDeviceEntry       = mustOID("1.3.6.1.2.1.25.3.2.1")
	hrDeviceProcessor   = mustOID("1.3.6.1.2.1.25.3.1.3")
	hrProcessorEntry    = mustOID("1.3.6.1.2.1.25.3.3.1")
	lldpLocalSystemData = mustOID("1.0.8802.1.1.2.1.3")
	lldpLocPortEntry    = mustOID("1.0.8802.1.1.2.1.3.7.1")
	lldpRemEntry        = mustOID("1.0.8802.1.1.2.1.4.1.1")
)

// hrDeviceTable indexes of the two CPUs, numbered as net-snmp does.
var cpuIndexes = []uint32{196608, 196609}

// ENTITY-MIB rows of every synthetic device.
const (
	entChassis = 1
	entPSU     = 2
	entFan     = 3
	entSensor  = 4
)

// synthNet is the state of the demo network. Guarded by Simulator.mu.
type synthNet struct {
	start time.Time
	devs  []*synthDevice
}

type synthDevice struct {
	spec  DemoDevice
	prof  modelProfile
	boot  time.Time
	mac   [6]byte
	ports []*synthPort
	net   *synthNet
	agent *agent // set once its socket is open
}

type synthPort struct {
	DemoPort
	mac       [6]byte
	peer      *synthPort
	peerDev   *synthDevice
	connected bool // something is plugged in
	adminUp   bool

	operUp     bool
	lastChange uint32 // sysUpTime ticks
	downSince  time.Time
	downTotal  time.Duration
	in, out    traffic
}

// traffic is one direction of a port's load. The rate swings ±30% over a
// 15-minute period; octets are its integral, so counters are a pure
// function of time and never need timers.
type traffic struct {
	rate  float64 // mean bytes per second
	base  float64 // counter value at start
	phase float64
	pkt   float64 // mean packet size, bytes
}

const (
	trafficSwing  = 0.3
	trafficPeriod = 900.0 // seconds
)

func (t traffic) octets(tau float64) uint64 {
	w := 2 * math.Pi / trafficPeriod
	return uint64(t.base + t.rate*(tau+trafficSwing/w*(math.Cos(t.phase)-math.Cos(w*tau+t.phase))))
}

func newTraffic(key string, speedMbps uint64, lo, hi float64) traffic {
	h := hashOf(key)
	frac := lo + (hi-lo)*unit(h)
	return traffic{
		rate:  float64(speedMbps) * 1e6 / 8 * frac,
		base:  float64(hashOf(key, "base") % (1 << 40)),
		phase: 2 * math.Pi * unit(hashOf(key, "phase")),
		pkt:   400 + 800*unit(hashOf(key, "pkt")),
	}
}

func newSynthNet(start time.Time, demo []DemoDevice) *synthNet {
	n := &synthNet{start: start}
	byName := map[string]*synthDevice{}
	for _, dd := range demo {
		prof := models[dd.Model]
		d := &synthDevice{
			spec: dd, prof: prof, net: n, mac: baseMAC(prof.oui, dd.Name),
			// Booted 3 to 90 days before the simulator started.
			boot: start.Add(-time.Duration(3*24*3600+hashOf(dd.Name, "boot")%(87*24*3600)) * time.Second),
		}
		for _, p := range dd.Ports {
			sp := &synthPort{DemoPort: p, mac: d.mac, connected: p.Use != UseUnused, adminUp: p.Use != UseUnused}
			sp.mac[5] += byte(p.IfIndex)
			switch p.Use {
			case UseUplink, UseDownlink:
				// Keyed by direction so one end's out is the other end's in.
				sp.out = newTraffic(dd.Name+">"+p.Peer, p.SpeedMbps, 0.02, 0.15)
				sp.in = newTraffic(p.Peer+">"+dd.Name, p.SpeedMbps, 0.02, 0.15)
			case UseWAN:
				sp.out = newTraffic(dd.Name+">wan", p.SpeedMbps, 0.05, 0.2)
				sp.in = newTraffic("wan>"+dd.Name, p.SpeedMbps, 0.05, 0.2)
			case UseUser:
				key := dd.Name + "/" + p.Name
				sp.out = newTraffic(key+">", p.SpeedMbps, 0.001, 0.03)
				sp.in = newTraffic(">"+key, p.SpeedMbps, 0.001, 0.03)
			}
			// Ports came up 30 to 90 s after boot.
			sp.lastChange = uint32(3000 + hashOf(dd.Name, p.Name, "up")%6000)
			if sp.connected {
				sp.operUp = true
			} else {
				sp.downSince = start
				sp.lastChange = 0
			}
			d.ports = append(d.ports, sp)
		}
		n.devs = append(n.devs, d)
		byName[dd.Name] = d
	}
	for _, d := range n.devs {
		for _, p := range d.ports {
			if p.Peer != "" {
				p.peerDev = byName[p.Peer]
				p.peer = p.peerDev.port(p.PeerIfIndex)
			}
		}
	}
	return n
}

func (d *synthDevice) port(ifIndex int) *synthPort {
	if ifIndex < 1 || ifIndex > len(d.ports) {
		return nil
	}
	return d.ports[ifIndex-1]
}

func (d *synthDevice) ticks(now time.Time) uint32 {
	return uint32(now.Sub(d.boot) / (10 * time.Millisecond))
}

func linkDownFault(faults []Fault, ifIndex int) bool {
	return slices.ContainsFunc(faults, func(f Fault) bool { return f.Kind == FaultLinkDown && f.IfIndex == ifIndex })
}

// update recomputes every port's oper status from admin status and faults,
// records the transitions at now, and publishes new tables.
func (n *synthNet) update(now time.Time, faults map[string][]Fault) {
	for _, d := range n.devs {
		for _, p := range d.ports {
			up := p.connected && p.adminUp && !linkDownFault(faults[d.spec.Name], p.IfIndex)
			if p.peer != nil {
				up = up && p.peer.adminUp && !linkDownFault(faults[p.peerDev.spec.Name], p.peer.IfIndex)
			}
			if up == p.operUp {
				continue
			}
			if up {
				p.downTotal += now.Sub(p.downSince)
			} else {
				p.downSince = now
			}
			p.operUp = up
			p.lastChange = d.ticks(now)
		}
	}
	for _, d := range n.devs {
		if d.agent != nil {
			v := views{DemoCommunity: d.buildTable(faults[d.spec.Name])}
			d.agent.views.Store(&v)
		}
	}
}

func intValue(n int64) Value                     { return Value{Type: gosnmp.Integer, Int: n} }
func strValue(s string) Value                    { return Value{Type: gosnmp.OctetString, Bytes: []byte(s)} }
func bytesValue(b []byte) Value                  { return Value{Type: gosnmp.OctetString, Bytes: b} }
func oidValue(o OID) Value                       { return Value{Type: gosnmp.ObjectIdentifier, OID: o} }
func uintValue(t gosnmp.Asn1BER, n uint64) Value { return Value{Type: t, Uint: n} }

// portSnap is a port's state frozen into a table: later changes build a
// new table instead of mutating what requests read.
type portSnap struct {
	in, out   traffic
	operUp    bool
	downSince time.Time
	downTotal time.Duration
	start     time.Time
}

// tau is how long the port has carried traffic, in seconds: counters
// stand still while it is down.
func (p portSnap) tau(now time.Time) float64 {
	end := now
	if !p.operUp {
		end = p.downSince
	}
	return max(0, (end.Sub(p.start) - p.downTotal).Seconds())
}

// buildTable renders the device's MIB for its current state and faults.
func (d *synthDevice) buildTable(faults []Fault) *table {
	var es []entry
	add := func(oid OID, v Value) { es = append(es, newStaticEntry(oid, v)) }
	dyn := func(oid OID, typ gosnmp.Asn1BER, f func(time.Time) Value) { es = append(es, newDynEntry(oid, typ, f)) }
	uptime := func(now time.Time) Value { return uintValue(gosnmp.TimeTicks, uint64(d.ticks(now))) }
	phase := func(what string) float64 { return 2 * math.Pi * unit(hashOf(d.spec.Name, what)) }
	since := func(now time.Time) float64 { return now.Sub(d.net.start).Seconds() }
	fault := func(kind string) (Fault, bool) {
		i := slices.IndexFunc(faults, func(f Fault) bool { return f.Kind == kind })
		if i < 0 {
			return Fault{}, false
		}
		return faults[i], true
	}

	// SNMPv2-MIB system group.
	sysServices := int64(76)
	if d.prof.switching {
		sysServices = 6
	}
	add(oidSystem.child(1, 0), strValue(d.spec.SysDescr))
	add(oidSystem.child(2, 0), oidValue(mustOID(d.spec.SysObjectID)))
	dyn(oidSystem.child(3, 0), gosnmp.TimeTicks, uptime)
	add(oidSystem.child(4, 0), strValue("noc@"+d.spec.Customer+".example"))
	add(oidSystem.child(5, 0), strValue(d.spec.Name))
	add(oidSystem.child(6, 0), strValue(d.spec.Site))
	add(oidSystem.child(7, 0), intValue(sysServices))

	// IF-MIB ifTable and ifXTable.
	add(ifNumber, intValue(int64(len(d.ports))))
	for _, p := range d.ports {
		i := uint32(p.IfIndex)
		snap := portSnap{in: p.in, out: p.out, operUp: p.operUp, downSince: p.downSince, downTotal: p.downTotal, start: d.net.start}
		octIn := func(now time.Time) uint64 { return snap.in.octets(snap.tau(now)) }
		octOut := func(now time.Time) uint64 { return snap.out.octets(snap.tau(now)) }
		pkts := func(t traffic, oct func(time.Time) uint64, share float64) func(time.Time) uint64 {
			return func(now time.Time) uint64 { return uint64(float64(oct(now)) / t.pkt * share) }
		}
		ucIn, mcIn, bcIn := pkts(p.in, octIn, 0.96), pkts(p.in, octIn, 0.03), pkts(p.in, octIn, 0.01)
		ucOut, mcOut, bcOut := pkts(p.out, octOut, 0.96), pkts(p.out, octOut, 0.03), pkts(p.out, octOut, 0.01)
		c32 := func(f func(time.Time) uint64) func(time.Time) Value {
			return func(now time.Time) Value { return uintValue(gosnmp.Counter32, f(now)&0xffffffff) }
		}
		c64 := func(f func(time.Time) uint64) func(time.Time) Value {
			return func(now time.Time) Value { return uintValue(gosnmp.Counter64, f(now)) }
		}
		status := func(up bool) Value {
			if up {
				return intValue(1)
			}
			return intValue(2)
		}
		col := func(c uint32) OID { return ifEntry.child(c, i) }
		add(col(1), intValue(int64(i)))
		add(col(2), strValue(p.Descr))
		add(col(3), intValue(6)) // ethernetCsmacd
		add(col(4), intValue(1500))
		add(col(5), uintValue(gosnmp.Gauge32, min(p.SpeedMbps*1_000_000, math.MaxUint32)))
		add(col(6), bytesValue(p.mac[:]))
		add(col(7), status(p.adminUp))
		add(col(8), status(p.operUp))
		add(col(9), uintValue(gosnmp.TimeTicks, uint64(p.lastChange)))
		dyn(col(10), gosnmp.Counter32, c32(octIn))
		dyn(col(11), gosnmp.Counter32, c32(ucIn))
		add(col(13), uintValue(gosnmp.Counter32, 0))
		add(col(14), uintValue(gosnmp.Counter32, 0))
		add(col(15), uintValue(gosnmp.Counter32, 0))
		dyn(col(16), gosnmp.Counter32, c32(octOut))
		dyn(col(17), gosnmp.Counter32, c32(ucOut))
		add(col(19), uintValue(gosnmp.Counter32, 0))
		add(col(20), uintValue(gosnmp.Counter32, 0))

		xcol := func(c uint32) OID { return ifXEntry.child(c, i) }
		add(xcol(1), strValue(p.Name))
		dyn(xcol(2), gosnmp.Counter32, c32(mcIn))
		dyn(xcol(3), gosnmp.Counter32, c32(bcIn))
		dyn(xcol(4), gosnmp.Counter32, c32(mcOut))
		dyn(xcol(5), gosnmp.Counter32, c32(bcOut))
		dyn(xcol(6), gosnmp.Counter64, c64(octIn))
		dyn(xcol(7), gosnmp.Counter64, c64(ucIn))
		dyn(xcol(8), gosnmp.Counter64, c64(mcIn))
		dyn(xcol(9), gosnmp.Counter64, c64(bcIn))
		dyn(xcol(10), gosnmp.Counter64, c64(octOut))
		dyn(xcol(11), gosnmp.Counter64, c64(ucOut))
		dyn(xcol(12), gosnmp.Counter64, c64(mcOut))
		dyn(xcol(13), gosnmp.Counter64, c64(bcOut))
		add(xcol(14), intValue(1))
		add(xcol(15), uintValue(gosnmp.Gauge32, p.SpeedMbps))
		add(xcol(16), intValue(2))
		add(xcol(17), status(p.connected)) // TruthValue: 1 true, 2 false
		add(xcol(18), strValue(p.Alias))
		add(xcol(19), uintValue(gosnmp.TimeTicks, 0))
	}

	// ENTITY-MIB entPhysicalTable: chassis, PSU, fan, temperature sensor.
	type entRow struct {
		idx                                 uint32
		descr, name, model, serial, hw, mfg string
		class, parent, relPos, fru          int64
		vendorType                          OID
	}
	rows := []entRow{
		{entChassis, d.spec.Vendor + " " + d.spec.Model + " chassis", "Chassis", d.spec.Model, d.spec.Serial, "V01", d.spec.Vendor, 3, 0, -1, 1, mustOID(d.spec.SysObjectID)},
		{entPSU, "Power Supply 1", "PS1", d.spec.Model + "-PWR-AC", "PSU" + base36(hashOf(d.spec.Name, "psu"), 8), "V02", d.spec.Vendor, 6, entChassis, 1, 1, OID{0, 0}},
		{entFan, "Fan Tray 1", "FAN1", d.spec.Model + "-FAN", "", "", d.spec.Vendor, 7, entChassis, 2, 1, OID{0, 0}},
		{entSensor, "Inlet Temperature Sensor", "Temp Inlet", "", "", "", d.spec.Vendor, 8, entChassis, 3, 2, OID{0, 0}},
	}
	for _, r := range rows {
		col := func(c uint32) OID { return entPhysicalEntry.child(c, r.idx) }
		add(col(2), strValue(r.descr))
		add(col(3), oidValue(r.vendorType))
		add(col(4), intValue(r.parent))
		add(col(5), intValue(r.class))
		add(col(6), intValue(r.relPos))
		add(col(7), strValue(r.name))
		add(col(8), strValue(r.hw))
		add(col(9), strValue(""))
		add(col(10), strValue(""))
		add(col(11), strValue(r.serial))
		add(col(12), strValue(r.mfg))
		add(col(13), strValue(r.model))
		add(col(14), strValue(""))
		add(col(15), strValue(""))
		add(col(16), intValue(r.fru))
	}

	// ENTITY-SENSOR-MIB: the inlet temperature, whole degrees Celsius.
	tempFault, hot := fault(FaultTemperature)
	tempPhase := phase("temp")
	temperature := func(now time.Time) Value {
		if hot {
			return intValue(int64(math.Round(tempFault.Celsius)))
		}
		return intValue(int64(math.Round(40 + 2*math.Sin(2*math.Pi*since(now)/1800+tempPhase))))
	}
	scol := func(c uint32) OID { return entPhySensorEntry.child(c, entSensor) }
	add(scol(1), intValue(8)) // celsius
	add(scol(2), intValue(9)) // units
	add(scol(3), intValue(0))
	dyn(scol(4), gosnmp.Integer, temperature)
	add(scol(5), intValue(1)) // ok
	add(scol(6), strValue("C"))
	dyn(scol(7), gosnmp.TimeTicks, uptime)
	add(scol(8), uintValue(gosnmp.Gauge32, 60000))

	// HOST-RESOURCES-MIB: uptime, RAM in hrStorageTable, two CPUs.
	dyn(hrSystemUptime, gosnmp.TimeTicks, uptime)
	add(hrMemorySize, intValue(d.prof.memKB))
	memFault, memHigh := fault(FaultMemory)
	memPhase := phase("mem")
	memUsed := func(now time.Time) Value {
		pct := 45 + 5*math.Sin(2*math.Pi*since(now)/3600+memPhase)
		if memHigh {
			pct = memFault.Percent
		}
		return intValue(int64(float64(d.prof.memKB) * pct / 100))
	}
	add(hrStorageEntry.child(1, 1), intValue(1))
	add(hrStorageEntry.child(2, 1), oidValue(hrStorageRam))
	add(hrStorageEntry.child(3, 1), strValue("Physical memory"))
	add(hrStorageEntry.child(4, 1), intValue(1024))
	add(hrStorageEntry.child(5, 1), intValue(d.prof.memKB))
	dyn(hrStorageEntry.child(6, 1), gosnmp.Integer, memUsed)
	add(hrStorageEntry.child(7, 1), uintValue(gosnmp.Counter32, 0))
	cpuFault, busy := fault(FaultCPU)
	for n, idx := range cpuIndexes {
		add(hrDeviceEntry.child(1, idx), intValue(int64(idx)))
		add(hrDeviceEntry.child(2, idx), oidValue(hrDeviceProcessor))
		add(hrDeviceEntry.child(3, idx), strValue("CPU "+string(rune('0'+n))))
		add(hrDeviceEntry.child(5, idx), intValue(2)) // running
		cpuPhase := phase("cpu" + string(rune('0'+n)))
		load := func(now time.Time) Value {
			if busy {
				return intValue(int64(math.Round(cpuFault.Percent)))
			}
			return intValue(int64(math.Round(20 + 10*math.Sin(2*math.Pi*since(now)/600+cpuPhase))))
		}
		add(hrProcessorEntry.child(1, idx), oidValue(OID{0, 0}))
		dyn(hrProcessorEntry.child(2, idx), gosnmp.Integer, load)
	}

	// LLDP-MIB: local system, local ports, and neighbours on links that are up.
	caps := []byte{0x08} // router
	if d.prof.switching {
		caps = []byte{0x28} // bridge, router
	}
	add(lldpLocalSystemData.child(1, 0), intValue(4)) // macAddress
	add(lldpLocalSystemData.child(2, 0), bytesValue(d.mac[:]))
	add(lldpLocalSystemData.child(3, 0), strValue(d.spec.Name))
	add(lldpLocalSystemData.child(4, 0), strValue(d.spec.SysDescr))
	add(lldpLocalSystemData.child(5, 0), bytesValue(caps))
	add(lldpLocalSystemData.child(6, 0), bytesValue(caps))
	for _, p := range d.ports {
		i := uint32(p.IfIndex)
		add(lldpLocPortEntry.child(2, i), intValue(5)) // interfaceName
		add(lldpLocPortEntry.child(3, i), strValue(p.Name))
		add(lldpLocPortEntry.child(4, i), strValue(p.Descr))
		if p.peer == nil || !p.operUp {
			continue
		}
		rcaps := []byte{0x08}
		if p.peerDev.prof.switching {
			rcaps = []byte{0x28}
		}
		col := func(c uint32) OID { return lldpRemEntry.child(c, 0, i, 1) } // timeMark.localPortNum.index
		add(col(4), intValue(4))
		add(col(5), bytesValue(p.peerDev.mac[:]))
		add(col(6), intValue(5))
		add(col(7), strValue(p.peer.Name))
		add(col(8), strValue(p.peer.Descr))
		add(col(9), strValue(p.peerDev.spec.Name))
		add(col(10), strValue(p.peerDev.spec.SysDescr))
		add(col(11), bytesValue(rcaps))
		add(col(12), bytesValue(rcaps))
	}
	return newTable(es)
}
