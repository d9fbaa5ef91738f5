package snmpsim

import (
	"fmt"
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

// portFault reports whether a fault holds the port oper down: a cut
// cable (link-down) or a hung PHY (port-stuck).
func portFault(faults []Fault, ifIndex int) bool {
	return slices.ContainsFunc(faults, func(f Fault) bool { return f.perPort() && f.IfIndex == ifIndex })
}

// update recomputes every port's oper status from admin status and faults,
// records the transitions at now, and publishes new tables.
func (n *synthNet) update(now time.Time, faults map[string][]Fault) {
	for _, d := range n.devs {
		for _, p := range d.ports {
			up := p.connected && p.adminUp && !portFault(faults[d.spec.Name], p.IfIndex)
			if p.peer != nil {
				up = up && p.peer.adminUp && !portFault(faults[p.peerDev.spec.Name], p.peer.IfIndex)
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
	v := newVitals(d, faults)
	inlet := v.temp(0)
	scol := func(c uint32) OID { return entPhySensorEntry.child(c, entSensor) }
	add(scol(1), intValue(8)) // celsius
	add(scol(2), intValue(9)) // units
	add(scol(3), intValue(0))
	dyn(scol(4), gosnmp.Integer, func(now time.Time) Value { return intValue(int64(math.Round(inlet(now)))) })
	add(scol(5), intValue(1)) // ok
	add(scol(6), strValue("C"))
	dyn(scol(7), gosnmp.TimeTicks, uptime)
	add(scol(8), uintValue(gosnmp.Gauge32, 60000))

	// HOST-RESOURCES-MIB: uptime, RAM in hrStorageTable, two CPUs.
	dyn(hrSystemUptime, gosnmp.TimeTicks, uptime)
	add(hrMemorySize, intValue(d.prof.memKB))
	memUsed := func(now time.Time) Value {
		return intValue(int64(float64(d.prof.memKB) * v.mem(now) / 100))
	}
	add(hrStorageEntry.child(1, 1), intValue(1))
	add(hrStorageEntry.child(2, 1), oidValue(hrStorageRam))
	add(hrStorageEntry.child(3, 1), strValue("Physical memory"))
	add(hrStorageEntry.child(4, 1), intValue(1024))
	add(hrStorageEntry.child(5, 1), intValue(d.prof.memKB))
	dyn(hrStorageEntry.child(6, 1), gosnmp.Integer, memUsed)
	add(hrStorageEntry.child(7, 1), uintValue(gosnmp.Counter32, 0))
	for n, idx := range cpuIndexes {
		add(hrDeviceEntry.child(1, idx), intValue(int64(idx)))
		add(hrDeviceEntry.child(2, idx), oidValue(hrDeviceProcessor))
		add(hrDeviceEntry.child(3, idx), strValue("CPU "+string(rune('0'+n))))
		add(hrDeviceEntry.child(5, idx), intValue(2)) // running
		load := v.cpu("cpu"+string(rune('0'+n)), 20)
		add(hrProcessorEntry.child(1, idx), oidValue(OID{0, 0}))
		dyn(hrProcessorEntry.child(2, idx), gosnmp.Integer, func(now time.Time) Value { return intValue(int64(math.Round(load(now)))) })
	}

	// The vendor MIBs the collector's profile for this model reads
	// instead of (or besides) the standard ones.
	if d.prof.vendorMIB != nil {
		b := &mibBuilder{}
		d.prof.vendorMIB(b, d, v)
		es = append(es, b.es...)
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

// vitals are the device's health readings as functions of time, with the
// cpu, memory and temperature faults applied. HOST-RESOURCES-MIB,
// ENTITY-SENSOR-MIB and the vendor MIBs all read them, so a fault shows in
// whichever MIBs the collector's profile for the model reads.
type vitals struct {
	d                             *synthDevice
	cpuFault, memFault, tempFault *Fault
}

// Unfaulted readings swing around their mean: CPU by half its mean over
// 10 minutes, memory by 5 points over an hour, temperature by 2 degrees
// over half an hour.
const (
	cpuSwing, cpuPeriod = 0.5, 600.0
	memMean, memSwing   = 45.0, 5.0
	memPeriod           = 3600.0
	tempMean, tempSwing = 40.0, 2.0
	tempPeriod          = 1800.0
)

func newVitals(d *synthDevice, faults []Fault) vitals {
	v := vitals{d: d}
	for _, f := range faults {
		// Copies: the tables built from these outlive the fault list.
		switch f.Kind {
		case FaultCPU:
			v.cpuFault = &f
		case FaultMemory:
			v.memFault = &f
		case FaultTemperature:
			v.tempFault = &f
		}
	}
	return v
}

// wave swings amp either side of mean over period seconds, with a phase
// fixed by the device and key so that readings differ between devices.
func (v vitals) wave(key string, mean, amp, period float64) func(time.Time) float64 {
	ph := 2 * math.Pi * unit(hashOf(v.d.spec.Name, key))
	start := v.d.net.start
	return func(now time.Time) float64 {
		return mean + amp*math.Sin(2*math.Pi*now.Sub(start).Seconds()/period+ph)
	}
}

func constant(x float64) func(time.Time) float64 { return func(time.Time) float64 { return x } }

// cpu is the load in percent of the processor called key, around mean
// when no cpu fault holds it: a fault loads every processor alike.
func (v vitals) cpu(key string, mean float64) func(time.Time) float64 {
	if v.cpuFault != nil {
		return constant(v.cpuFault.Percent)
	}
	// Periods differ between processors so that they drift apart
	// instead of moving in lockstep.
	period := cpuPeriod * (0.75 + 0.5*unit(hashOf(v.d.spec.Name, key, "period")))
	return v.wave(key, mean, mean*cpuSwing, period)
}

// mem is the percent used of the device's main memory pool, the one a
// memory fault fills.
func (v vitals) mem(now time.Time) float64 {
	if v.memFault != nil {
		return v.memFault.Percent
	}
	return v.wave("mem", memMean, memSwing, memPeriod)(now)
}

// temp is a temperature sensor offset degrees above the inlet. A
// temperature fault sets every sensor to its value: the demo wants one
// number to alert on, not a spread.
func (v vitals) temp(offset float64) func(time.Time) float64 {
	if v.tempFault != nil {
		return constant(v.tempFault.Celsius)
	}
	return v.wave("temp", tempMean+offset, tempSwing, tempPeriod)
}

// mibBuilder collects the entries of a vendor MIB.
type mibBuilder struct{ es []entry }

func (b *mibBuilder) add(oid OID, v Value) { b.es = append(b.es, newStaticEntry(oid, v)) }

func (b *mibBuilder) dyn(oid OID, typ gosnmp.Asn1BER, f func(time.Time) Value) {
	b.es = append(b.es, newDynEntry(oid, typ, f))
}

// gauge serves f rounded to a Gauge32; below zero reads 0, as unsigned
// agents do.
func (b *mibBuilder) gauge(oid OID, f func(time.Time) float64) {
	b.dyn(oid, gosnmp.Gauge32, func(now time.Time) Value { return gaugeValue(f(now)) })
}

func gaugeValue(x float64) Value {
	return uintValue(gosnmp.Gauge32, uint64(min(math.MaxUint32, max(0, math.Round(x)))))
}

// Vendor MIB objects, as collector/profiles reads them.
var (
	cpmCPUTotalEntry       = mustOID("1.3.6.1.4.1.9.9.109.1.1.1.1")
	cempMemPoolEntry       = mustOID("1.3.6.1.4.1.9.9.221.1.1.1.1")
	ciscoEnvMonTemperature = mustOID("1.3.6.1.4.1.9.9.13.1.3.1")
	ciscoEnvMonFan         = mustOID("1.3.6.1.4.1.9.9.13.1.4.1")
	ciscoEnvMonSupply      = mustOID("1.3.6.1.4.1.9.9.13.1.5.1")
	fgSystemInfo           = mustOID("1.3.6.1.4.1.12356.101.4.1")
	fgProcessorUsage       = mustOID("1.3.6.1.4.1.12356.101.4.4.2.1.2")
	jnxOperatingEntry      = mustOID("1.3.6.1.4.1.2636.3.1.13.1")
)

const (
	// cpmCPUTotalIndex of the route processor, as IOS-XE numbers it.
	ciscoCPUTotalIndex = 2
	// The reserve Processor pool, the small emergency heap IOS keeps.
	ciscoReservePoolBytes, ciscoReservePoolUsed = 102404, 88

	ciscoEnvMonNormal, ciscoEnvMonWarning, ciscoEnvMonCritical = 1, 2, 3
	ciscoEnvMonNotPresent                                      = 5

	fortiGateCores = 8

	jnxOperatingRunning = 2
)

// ciscoMIB serves what profile cisco-ios (and cisco-iosxe, which extends
// it) reads of a Catalyst 9000: CISCO-PROCESS-MIB cpmCPUTotal5minRev,
// CISCO-ENHANCED-MEMPOOL-MIB 64-bit pools and CISCO-ENVMON-MIB.
func ciscoMIB(b *mibBuilder, d *synthDevice, v vitals) {
	// One route processor; PhysicalIndex 0 says it maps to no entity.
	b.add(cpmCPUTotalEntry.child(2, ciscoCPUTotalIndex), intValue(0))
	b.gauge(cpmCPUTotalEntry.child(8, ciscoCPUTotalIndex), v.cpu("cpm", 15))

	// IOSd's Processor pool gets a quarter of DRAM; the reserve pool is
	// the small emergency heap every IOS-XE device lists.
	poolBytes := uint64(d.prof.memKB) * 1024 / 4
	procUsed := func(now time.Time) uint64 { return uint64(math.Round(float64(poolBytes) * v.mem(now) / 100)) }
	pool := func(idx []uint32, typ int64, name string, used func(time.Time) uint64, total uint64) {
		col := func(c uint32) OID { return cempMemPoolEntry.child(append([]uint32{c}, idx...)...) }
		b.add(col(2), intValue(typ)) // cempMemPoolType
		b.add(col(3), strValue(name))
		b.dyn(col(5), gosnmp.Gauge32, func(now time.Time) Value { return uintValue(gosnmp.Gauge32, min(used(now), math.MaxUint32)) })
		b.dyn(col(6), gosnmp.Gauge32, func(now time.Time) Value { return uintValue(gosnmp.Gauge32, min(total-used(now), math.MaxUint32)) })
		b.dyn(col(18), gosnmp.Counter64, func(now time.Time) Value { return uintValue(gosnmp.Counter64, used(now)) })
		b.dyn(col(20), gosnmp.Counter64, func(now time.Time) Value { return uintValue(gosnmp.Counter64, total-used(now)) })
	}
	// cempMemPoolType processorMemory(2) and reservedMemory(11).
	pool([]uint32{entChassis, 1}, 2, "Processor", procUsed, poolBytes)
	pool([]uint32{entChassis, 2}, 11, "reserve Processor", func(time.Time) uint64 { return ciscoReservePoolUsed }, ciscoReservePoolBytes)

	// Temperatures, whose state follows the threshold: warning within
	// 10 degrees of it, critical at it.
	temps := []struct {
		idx       uint32
		name      string
		offset    float64
		threshold int64
	}{
		{1010, "Switch 1 - Inlet Temp Sensor", 0, 56},
		{1012, "Switch 1 - Hotspot Temp Sensor", 22, 125},
	}
	for _, t := range temps {
		temp := v.temp(t.offset)
		col := func(c uint32) OID { return ciscoEnvMonTemperature.child(c, t.idx) }
		b.add(col(2), strValue(t.name))
		b.gauge(col(3), temp)
		b.add(col(4), intValue(t.threshold))
		b.add(col(5), intValue(0)) // ciscoEnvMonTemperatureLastShutdown
		b.dyn(col(6), gosnmp.Integer, func(now time.Time) Value {
			switch c := int64(math.Round(temp(now))); {
			case c >= t.threshold:
				return intValue(ciscoEnvMonCritical)
			case c >= t.threshold-10:
				return intValue(ciscoEnvMonWarning)
			}
			return intValue(ciscoEnvMonNormal)
		})
	}
	for i, name := range []string{"Switch 1 - FAN - T1 1", "Switch 1 - FAN - T1 2", "Switch 1 - FAN - T1 3"} {
		idx := uint32(1020 + i)
		b.add(ciscoEnvMonFan.child(2, idx), strValue(name))
		b.add(ciscoEnvMonFan.child(3, idx), intValue(ciscoEnvMonNormal))
	}
	// One power supply fitted, the second bay empty, as most are shipped.
	for _, ps := range []struct {
		idx   uint32
		name  string
		state int64
	}{{1030, "Switch 1 - Power Supply A", ciscoEnvMonNormal}, {1031, "Switch 1 - Power Supply B", ciscoEnvMonNotPresent}} {
		b.add(ciscoEnvMonSupply.child(2, ps.idx), strValue(ps.name))
		b.add(ciscoEnvMonSupply.child(3, ps.idx), intValue(ps.state))
		b.add(ciscoEnvMonSupply.child(4, ps.idx), intValue(2)) // ciscoEnvMonSupplySource: ac
	}
}

// fortiGateMIB serves FORTINET-FORTIGATE-MIB's system CPU, per-core load
// and memory, as profile fortinet-fortigate reads them.
func fortiGateMIB(b *mibBuilder, d *synthDevice, v vitals) {
	cores := make([]func(time.Time) float64, fortiGateCores)
	for i := range cores {
		cores[i] = v.cpu(fmt.Sprintf("core%d", i), 12)
		b.gauge(fgProcessorUsage.child(uint32(i+1)), cores[i])
	}
	// fgSysCpuUsage is the mean over cores, as FortiOS reports it.
	b.gauge(fgSystemInfo.child(3, 0), func(now time.Time) float64 {
		sum := 0.0
		for _, c := range cores {
			sum += math.Round(c(now))
		}
		return sum / float64(len(cores))
	})
	b.gauge(fgSystemInfo.child(4, 0), v.mem)
	b.add(fgSystemInfo.child(5, 0), uintValue(gosnmp.Gauge32, uint64(d.prof.memKB)))
}

// junosMIB serves JUNIPER-MIB's jnxOperatingTable for an MX204: power
// supplies, fans, the built-in FPC and the Routing Engine, which holds the
// device's main memory.
func junosMIB(b *mibBuilder, d *synthDevice, v vitals) {
	type row struct {
		idx         []uint32 // container.L1.L2.L3
		descr       string
		temp        func(time.Time) float64
		cpu         func(time.Time) float64
		buffer      func(time.Time) float64
		memoryMB    int64
		hasReadings bool
	}
	rows := []row{
		{idx: []uint32{2, 1, 0, 0}, descr: "PEM 0"},
		{idx: []uint32{2, 2, 0, 0}, descr: "PEM 1"},
	}
	for tray := range 3 {
		for fan := range 2 {
			rows = append(rows, row{idx: []uint32{4, uint32(tray + 1), uint32(fan + 1), 0}, descr: fmt.Sprintf("Fan Tray %d Fan %d", tray, fan)})
		}
	}
	rows = append(rows,
		row{idx: []uint32{7, 1, 0, 0}, descr: "FPC: MPC7E-BUILTIN @ 0/*/*", hasReadings: true,
			temp: v.temp(6), cpu: v.cpu("fpc0", 18), buffer: v.wave("fpc0-mem", 30, 3, 3600), memoryMB: 2048},
		row{idx: []uint32{9, 1, 0, 0}, descr: "Routing Engine", hasReadings: true,
			temp: v.temp(-2), cpu: v.cpu("re0", 8), buffer: v.mem, memoryMB: d.prof.memKB / 1024},
	)
	for _, r := range rows {
		col := func(c uint32) OID { return jnxOperatingEntry.child(append([]uint32{c}, r.idx...)...) }
		zero := constant(0)
		temp, cpu, buffer := zero, zero, zero
		if r.hasReadings {
			temp, cpu, buffer = r.temp, r.cpu, r.buffer
		}
		b.add(col(5), strValue(r.descr))
		b.add(col(6), intValue(jnxOperatingRunning))
		b.gauge(col(7), temp)
		b.gauge(col(8), cpu)
		b.gauge(col(11), buffer)
		b.add(col(15), intValue(r.memoryMB))
	}
}
