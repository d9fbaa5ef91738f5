package collector

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// The decoders below are pure: canned varbinds in, Snapshot parts out. They
// accept varbinds in any order and ignore those they do not know, so one
// walk can feed several of them.

// SNMPv2-MIB system group.
const (
	oidSysDescr    = ".1.3.6.1.2.1.1.1.0"
	oidSysObjectID = ".1.3.6.1.2.1.1.2.0"
	oidSysUpTime   = ".1.3.6.1.2.1.1.3.0"
	oidSysContact  = ".1.3.6.1.2.1.1.4.0"
	oidSysName     = ".1.3.6.1.2.1.1.5.0"
	oidSysLocation = ".1.3.6.1.2.1.1.6.0"
)

var systemOIDs = []string{oidSysDescr, oidSysObjectID, oidSysUpTime, oidSysContact, oidSysName, oidSysLocation}

// decodeSystem reads the system group; ok is false when none of it came back.
func decodeSystem(pdus []gosnmp.SnmpPDU) (sys System, ok bool) {
	for _, p := range pdus {
		if absent(p) {
			continue
		}
		switch p.Name {
		case oidSysDescr:
			sys.Descr = strings.Trim(pduString(p), `"`)
		case oidSysObjectID:
			if s, isStr := p.Value.(string); isStr {
				sys.ObjectID = strings.TrimPrefix(s, ".")
			}
		case oidSysUpTime:
			if v, isNum := pduUint(p); isNum {
				sys.UptimeSeconds = float64(v) / 100
			}
		case oidSysContact:
			sys.Contact = pduString(p)
		case oidSysName:
			sys.Name = pduString(p)
		case oidSysLocation:
			sys.Location = pduString(p)
		default:
			continue
		}
		ok = true
	}
	return sys, ok
}

// IF-MIB ifTable and ifXTable.
const (
	oidIfEntry  = ".1.3.6.1.2.1.2.2.1"
	oidIfXEntry = ".1.3.6.1.2.1.31.1.1.1"
)

// ifTable and ifXTable columns.
const (
	ifDescr         = 2
	ifType          = 3
	ifSpeed         = 5
	ifPhysAddress   = 6
	ifAdminStatus   = 7
	ifOperStatus    = 8
	ifInOctets      = 10
	ifInUcastPkts   = 11
	ifInDiscards    = 13
	ifInErrors      = 14
	ifOutOctets     = 16
	ifOutUcastPkts  = 17
	ifOutDiscards   = 19
	ifOutErrors     = 20
	ifName          = 1
	ifHCInOctets    = 6
	ifHCInUcastPkts = 7
	ifHCOutOctets   = 10
	ifHCOutUcast    = 11
	ifHighSpeed     = 15
	ifAlias         = 18
)

var interfaceRoots = slices.Concat(
	cols(oidIfEntry, ifDescr, ifType, ifSpeed, ifPhysAddress, ifAdminStatus, ifOperStatus,
		ifInOctets, ifInUcastPkts, ifInDiscards, ifInErrors, ifOutOctets, ifOutUcastPkts, ifOutDiscards, ifOutErrors),
	cols(oidIfXEntry, ifName, ifHCInOctets, ifHCInUcastPkts, ifHCOutOctets, ifHCOutUcast, ifHighSpeed, ifAlias),
)

func col(entry string, c int) string { return entry + "." + strconv.Itoa(c) }

// cols are the OIDs of several columns of one table entry.
func cols(entry string, cs ...int) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = col(entry, c)
	}
	return out
}

// ifRow is an Interface being assembled, with what the 32-bit and 64-bit
// columns offered kept apart until the end.
type ifRow struct {
	Interface
	in32, out32, inPkts32, outPkts32 uint64
	hcIn, hcOut, hcInPkts, hcOutPkts uint64
	has                              uint16
	speed32, highSpeed               uint64
}

const (
	hasHCIn = 1 << iota
	hasHCOut
	hasHCInPkts
	hasHCOutPkts
	hasHighSpeed
	hasName
)

// decodeInterfaces builds interfaces from ifTable and ifXTable varbinds,
// sorted by ifIndex. 64-bit counters win where the device offers both
// octet counters; speed comes from ifHighSpeed when it is non-zero.
func decodeInterfaces(pdus []gosnmp.SnmpPDU) []Interface {
	t := newTableRows(64, func(idx int) ifRow { return ifRow{Interface: Interface{Index: idx}} })
	row := t.at
	for _, p := range pdus {
		if absent(p) {
			continue
		}
		x := false
		c, index, ok := splitColumn(p.Name, oidIfEntry)
		if !ok {
			if c, index, ok = splitColumn(p.Name, oidIfXEntry); !ok {
				continue
			}
			x = true
		}
		idx, ok := parseIndex1(index)
		if !ok {
			continue
		}
		r := row(idx)
		n, _ := pduUint(p)
		if x {
			switch c {
			case ifName:
				r.Name = pduString(p)
				r.has |= hasName
			case ifHCInOctets:
				r.hcIn = n
				r.has |= hasHCIn
			case ifHCInUcastPkts:
				r.hcInPkts = n
				r.has |= hasHCInPkts
			case ifHCOutOctets:
				r.hcOut = n
				r.has |= hasHCOut
			case ifHCOutUcast:
				r.hcOutPkts = n
				r.has |= hasHCOutPkts
			case ifHighSpeed:
				r.highSpeed = n
				r.has |= hasHighSpeed
			case ifAlias:
				r.Alias = pduString(p)
			}
			continue
		}
		switch c {
		case ifDescr:
			r.Descr = pduString(p)
		case ifType:
			r.Type = ifTypeName(int(n))
		case ifSpeed:
			r.speed32 = n
		case ifPhysAddress:
			r.MAC = formatMAC(pduBytes(p))
		case ifAdminStatus:
			r.AdminStatus = ifStatusName(int(n))
		case ifOperStatus:
			r.OperStatus = ifStatusName(int(n))
		case ifInOctets:
			r.in32 = n
		case ifInUcastPkts:
			r.inPkts32 = n
		case ifInDiscards:
			r.InDiscards = n
		case ifInErrors:
			r.InErrors = n
		case ifOutOctets:
			r.out32 = n
		case ifOutUcastPkts:
			r.outPkts32 = n
		case ifOutDiscards:
			r.OutDiscards = n
		case ifOutErrors:
			r.OutErrors = n
		}
	}
	rows := t.rows
	out := make([]Interface, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		it := r.Interface
		if r.has&hasName == 0 || it.Name == "" {
			it.Name = it.Descr
		}
		it.HC = r.has&(hasHCIn|hasHCOut) == hasHCIn|hasHCOut
		// Some agents list the 64-bit columns but leave them at zero
		// while the 32-bit ones count: those have no 64-bit counters.
		if it.HC && r.hcIn == 0 && r.hcOut == 0 && (r.in32 != 0 || r.out32 != 0) {
			it.HC = false
			r.has &^= hasHCInPkts | hasHCOutPkts
		}
		if it.HC {
			it.InOctets, it.OutOctets = r.hcIn, r.hcOut
		} else {
			it.InOctets, it.OutOctets = r.in32, r.out32
		}
		// Packet counters follow the octets' width so that the rate code
		// can trust HC for both; a device with HC octets but no HC packets
		// is rare enough to read its 32-bit packets as they are.
		it.InUcastPkts, it.OutUcastPkts = r.inPkts32, r.outPkts32
		if r.has&hasHCInPkts != 0 {
			it.InUcastPkts = r.hcInPkts
		}
		if r.has&hasHCOutPkts != 0 {
			it.OutUcastPkts = r.hcOutPkts
		}
		it.hcPkts = r.has&(hasHCInPkts|hasHCOutPkts) == hasHCInPkts|hasHCOutPkts
		it.SpeedBps = r.speed32
		if r.has&hasHighSpeed != 0 && r.highSpeed > 0 {
			it.SpeedBps = r.highSpeed * 1_000_000
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b Interface) int { return a.Index - b.Index })
	return out
}

var ifTypeNames = map[int]string{
	1: "other", 6: "ethernetCsmacd", 7: "iso88023Csmacd", 9: "iso88025TokenRing",
	15: "fddi", 18: "ds1", 20: "basicISDN", 22: "propPointToPointSerial", 23: "ppp",
	24: "softwareLoopback", 28: "slip", 30: "ds3", 32: "frameRelay", 37: "atm",
	39: "sonet", 49: "aal5", 53: "propVirtual", 56: "fibreChannel", 62: "fastEther",
	63: "isdn", 69: "fastEtherFX", 71: "ieee80211", 77: "lapd", 81: "ds0", 94: "adsl",
	97: "vdsl", 117: "gigabitEthernet", 131: "tunnel", 134: "atmSubInterface",
	135: "l2vlan", 136: "l3ipvlan", 142: "ipForward", 150: "mplsTunnel",
	161: "ieee8023adLag", 166: "mpls", 188: "radioMAC", 209: "bridge",
	243: "wwanPP", 244: "wwanPP2",
}

// ifTypeName names an IANAifType; unknown numbers keep their number.
func ifTypeName(t int) string {
	if s, ok := ifTypeNames[t]; ok {
		return s
	}
	return "ifType" + strconv.Itoa(t)
}

// ifStatusName names ifAdminStatus and ifOperStatus values.
func ifStatusName(s int) string {
	switch s {
	case 1:
		return "up"
	case 2:
		return "down"
	case 3:
		return "testing"
	case 5:
		return "dormant"
	case 6:
		return "notPresent"
	case 7:
		return "lowerLayerDown"
	}
	return "unknown"
}

// ENTITY-MIB entPhysicalTable.
const oidEntPhysicalEntry = ".1.3.6.1.2.1.47.1.1.1.1"

const (
	entPhysicalDescr       = 2
	entPhysicalContainedIn = 4
	entPhysicalClass       = 5
	entPhysicalName        = 7
	entPhysicalSoftwareRev = 10
	entPhysicalSerialNum   = 11
	entPhysicalModelName   = 13
)

var entityRoots = cols(oidEntPhysicalEntry, entPhysicalDescr, entPhysicalContainedIn, entPhysicalClass,
	entPhysicalName, entPhysicalSoftwareRev, entPhysicalSerialNum, entPhysicalModelName)

var entityClasses = [...]string{
	1: "other", 2: "unknown", 3: "chassis", 4: "backplane", 5: "container",
	6: "powerSupply", 7: "fan", 8: "sensor", 9: "module", 10: "port", 11: "stack", 12: "cpu",
}

func entityClassName(c int) string {
	if c > 0 && c < len(entityClasses) {
		return entityClasses[c]
	}
	return "unknown"
}

// decodeEntities builds entPhysicalTable rows sorted by index, and picks the
// chassis's model, serial and firmware (see chassisValue).
func decodeEntities(pdus []gosnmp.SnmpPDU) (ents []Entity, model, serial, firmware string) {
	t := newTableRows(16, func(idx int) Entity { return Entity{Index: idx, Class: "unknown"} })
	eachRow(pdus, oidEntPhysicalEntry, func(c, idx int, p gosnmp.SnmpPDU) {
		r := t.at(idx)
		switch c {
		case entPhysicalDescr:
			r.Descr = pduString(p)
		case entPhysicalContainedIn:
			n, _ := pduInt(p)
			r.ContainedIn = int(n)
		case entPhysicalClass:
			n, _ := pduInt(p)
			r.Class = entityClassName(int(n))
		case entPhysicalName:
			r.Name = pduString(p)
		case entPhysicalSerialNum:
			r.Serial = pduString(p)
		case entPhysicalSoftwareRev:
			r.Firmware = pduString(p)
		case entPhysicalModelName:
			r.Model = pduString(p)
		}
	})
	ents = t.rows
	slices.SortFunc(ents, func(a, b Entity) int { return a.Index - b.Index })
	model, _ = chassisValue(ents, func(e *Entity) string { return e.Model })
	firmware, _ = chassisValue(ents, func(e *Entity) string { return e.Firmware })
	serial, _ = chassisValue(ents, func(e *Entity) string { return e.Serial })
	return ents, model, serial, firmware
}

// chassisValue returns get of the entity that is the box, and its index:
// the first top-level chassis-class entity (lowest index), then any
// chassis, then, for agents that leave the class out or call the box a
// container or stack (Catalyst 3560, AlliedWare, Edgecore), the lowest
// index of a class that can be the box, as LibreNMS does. Entities whose
// value is empty or a placeholder are passed over.
func chassisValue(ents []Entity, get func(*Entity) string) (string, int) {
	boxLike := func(e *Entity) bool {
		switch e.Class {
		case "unknown", "other", "container", "stack", "backplane":
			return true
		}
		return false
	}
	tiers := [...]func(*Entity) bool{
		func(e *Entity) bool { return e.Class == "chassis" && e.ContainedIn == 0 },
		func(e *Entity) bool { return e.Class == "chassis" },
		boxLike,
	}
	for _, fits := range tiers {
		for i := range ents {
			e := &ents[i]
			if !fits(e) {
				continue
			}
			if v := strings.TrimSpace(get(e)); v != "" && !placeholder(v) {
				return v, e.Index
			}
		}
	}
	return "", 0
}

// placeholder reports values agents put where they have no serial or
// model, which must not count as one (a serial change from "NA" to a real
// serial is not a replaced device).
func placeholder(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "na", "n/a", "none", "unknown", "not available", "0", "-":
		return true
	}
	return false
}

// HOST-RESOURCES-MIB.
const (
	oidHrProcessorLoad = ".1.3.6.1.2.1.25.3.3.1.2"
	oidHrStorageEntry  = ".1.3.6.1.2.1.25.2.3.1"
	oidHrStorageRAM    = ".1.3.6.1.2.1.25.2.1.2"
	oidHrStorageVirt   = ".1.3.6.1.2.1.25.2.1.3"
)

const (
	hrStorageType  = 2
	hrStorageDescr = 3
	hrStorageUnits = 4
	hrStorageSize  = 5
	hrStorageUsed  = 6
)

// hrMemorySize is the RAM size in kB, a scalar walked with the tables.
const oidHrMemorySize = ".1.3.6.1.2.1.25.2.2"

var hostResourcesRoots = append([]string{oidHrProcessorLoad, oidHrMemorySize},
	cols(oidHrStorageEntry, hrStorageType, hrStorageDescr, hrStorageUnits, hrStorageSize, hrStorageUsed)...)

// decodeCPU reads hrProcessorLoad. CPUs are named cpu<hrDeviceIndex>: the
// hrDeviceDescr of every core is usually the same string, so it would not
// tell them apart.
func decodeCPU(pdus []gosnmp.SnmpPDU) []CPU {
	type cpu struct {
		idx int
		pct float64
	}
	var cpus []cpu
	for _, p := range pdus {
		if absent(p) || !under(p.Name, oidHrProcessorLoad) {
			continue
		}
		idx, ok := parseIndex1(p.Name[len(oidHrProcessorLoad)+1:])
		if !ok {
			continue
		}
		v, ok := pduInt(p)
		if !ok {
			continue
		}
		cpus = append(cpus, cpu{idx, float64(v)})
	}
	slices.SortFunc(cpus, func(a, b cpu) int { return a.idx - b.idx })
	out := make([]CPU, 0, len(cpus))
	for _, c := range cpus {
		out = append(out, CPU{Name: "cpu" + strconv.Itoa(c.idx), Percent: c.pct})
	}
	return out
}

// hrStorageOther holds, on net-snmp agents, the Linux "Memory buffers",
// "Cached memory" and "Shared memory" rows.
const oidHrStorageOther = ".1.3.6.1.2.1.25.2.1.1"

// decodeStorage reads the memory rows of hrStorageTable (RAM, virtual
// memory, and the "other" rows net-snmp uses for buffers and cache) as
// Memory named by hrStorageDescr; disks are the storage module's business.
//
// A system pool's used bytes leave out buffers and page cache when the
// agent reports them for the same RAM, as LibreNMS does: Linux counts them
// as used though the kernel gives them back on demand, so the raw figure
// sits near 100% on any busy box.
func decodeStorage(pdus []gosnmp.SnmpPDU) []Memory {
	type st struct {
		idx               int
		typ, descr        string
		units, size, used uint64
	}
	t := newTableRows(8, func(idx int) st { return st{idx: idx} })
	eachRow(pdus, oidHrStorageEntry, func(c, idx int, p gosnmp.SnmpPDU) {
		r := t.at(idx)
		switch c {
		case hrStorageType:
			if s, isStr := p.Value.(string); isStr {
				r.typ = normOID(s)
			}
		case hrStorageDescr:
			r.descr = pduString(p)
		case hrStorageUnits:
			r.units, _ = pduUint(p)
		case hrStorageSize:
			r.size, _ = pduUint(p)
		case hrStorageUsed:
			r.used, _ = pduUint(p)
		}
	})
	var ramKB uint64
	for _, p := range pdus {
		if p.Name == oidHrMemorySize+".0" && !absent(p) {
			ramKB, _ = pduUint(p)
		}
	}
	rows := t.rows
	slices.SortFunc(rows, func(a, b st) int { return a.idx - b.idx })
	out := make([]Memory, 0, 4)
	var sizes []uint64 // raw RAM size per out entry, to pair buffers with their RAM
	for _, r := range rows {
		class := storageClass(r.typ, r.descr)
		if class == "" || r.size == 0 {
			continue
		}
		m := Memory{Name: r.descr, UsedBytes: r.units * r.used, TotalBytes: r.units * r.size, Class: class}
		// FreeBSD's bsnmpd sizes its "Real Memory Metrics" rows as the
		// pages in use (active + wired), not the RAM: the RAM is
		// hrMemorySize.
		if class == "system" && ramKB > 0 && strings.Contains(r.descr, "Real Memory Metrics") && ramKB*1024 >= m.UsedBytes {
			m.TotalBytes = ramKB * 1024
		}
		if m.Name == "" {
			m.Name = "storage" + strconv.Itoa(r.idx)
		}
		out = append(out, m)
		sizes = append(sizes, r.units*r.size)
	}
	var buffers, cached uint64
	var haveBuf, haveCache bool
	for _, m := range out {
		switch m.Class {
		case "buffers":
			buffers, haveBuf = m.UsedBytes, true
		case "cached":
			cached, haveCache = m.UsedBytes, true
		}
	}
	for i := range out {
		m := &out[i]
		if m.Class == "system" && haveBuf && haveCache && buffers+cached <= m.UsedBytes && bufferedRAM(out, sizes[i]) {
			m.UsedBytes -= buffers + cached
		}
		if m.TotalBytes > 0 {
			m.Percent = float64(m.UsedBytes) / float64(m.TotalBytes) * 100
		}
	}
	return out
}

// bufferedRAM reports whether the buffers row describes RAM of this size.
func bufferedRAM(out []Memory, size uint64) bool {
	for _, m := range out {
		if m.Class == "buffers" && m.TotalBytes == size {
			return true
		}
	}
	return false
}

// storageClass classifies an hrStorage row as a memory class, or "" for
// disks and unknown kinds.
func storageClass(typ, descr string) string {
	d := strings.ToLower(descr)
	switch typ {
	case oidHrStorageRAM:
		switch {
		case strings.HasPrefix(d, "uma:"), strings.HasPrefix(d, "malloc:"):
			// FreeBSD kernel allocator zones, which bsnmpd types as RAM:
			// they fill by design and are not the machine's memory.
			return ""
		case strings.Contains(d, "buffers"):
			return "buffers"
		case strings.Contains(d, "cache"):
			return "cached"
		}
		return "system"
	case oidHrStorageVirt:
		if strings.Contains(d, "swap") {
			return "swap"
		}
		return "virtual"
	case oidHrStorageOther:
		switch {
		case strings.Contains(d, "buffer"):
			return "buffers"
		case strings.Contains(d, "cache"):
			return "cached"
		case strings.Contains(d, "shared"):
			return "shared"
		case strings.Contains(d, "available"):
			// net-snmp's "Available memory" is free memory sized as a
			// pool of its own (used 0): not a pool to watch.
			return ""
		case strings.Contains(d, "memory"):
			return "system"
		}
	}
	return ""
}

// ENTITY-SENSOR-MIB entPhySensorTable.
const oidEntPhySensorEntry = ".1.3.6.1.2.1.99.1.1.1"

const (
	entPhySensorType       = 1
	entPhySensorScale      = 2
	entPhySensorPrecision  = 3
	entPhySensorValue      = 4
	entPhySensorOperStatus = 5
)

var sensorRoots = cols(oidEntPhySensorEntry, entPhySensorType, entPhySensorScale, entPhySensorPrecision, entPhySensorValue, entPhySensorOperStatus)

// sensorKinds maps EntitySensorDataType to our class and unit; types that
// are not a measurement (truthvalue, other, unknown) are skipped.
var sensorKinds = map[int][2]string{
	3:  {"voltage", "volts"},   // voltsAC
	4:  {"voltage", "volts"},   // voltsDC
	5:  {"current", "amperes"}, // amperes
	6:  {"power", "watts"},
	7:  {"frequency", "hertz"},
	8:  {"temperature", "celsius"},
	9:  {"humidity", "percentRH"},
	10: {"fan", "rpm"},
}

// sensorScaleExp is the power of ten of each EntitySensorDataScale; note
// that the MIB lists exa(14) before peta(15).
var sensorScaleExp = [...]int{
	1: -24, 2: -21, 3: -18, 4: -15, 5: -12, 6: -9, 7: -6, 8: -3, 9: 0,
	10: 3, 11: 6, 12: 9, 13: 12, 14: 18, 15: 15, 16: 21, 17: 24,
}

// sensorValue applies scale and precision: value × 10^scale / 10^precision.
func sensorValue(raw int64, scale, precision int) float64 {
	exp := 0
	if scale > 0 && scale < len(sensorScaleExp) {
		exp = sensorScaleExp[scale]
	}
	return float64(raw) * math.Pow10(exp-precision)
}

// decodeSensors reads entPhySensorTable; names come from entPhysicalName
// (then entPhysicalDescr) of the same index.
func decodeSensors(pdus []gosnmp.SnmpPDU, ents []Entity) []Sensor {
	type sn struct {
		idx                    int
		typ, scale, prec, stat int
		value                  int64
		hasValue               bool
	}
	t := newTableRows(8, func(idx int) sn { return sn{idx: idx, scale: 9} })
	eachRow(pdus, oidEntPhySensorEntry, func(c, idx int, p gosnmp.SnmpPDU) {
		r := t.at(idx)
		n, _ := pduInt(p)
		switch c {
		case entPhySensorType:
			r.typ = int(n)
		case entPhySensorScale:
			r.scale = int(n)
		case entPhySensorPrecision:
			r.prec = int(n)
		case entPhySensorValue:
			r.value, r.hasValue = n, true
		case entPhySensorOperStatus:
			r.stat = int(n)
		}
	})
	rows := t.rows
	slices.SortFunc(rows, func(a, b sn) int { return a.idx - b.idx })
	names := make(map[int]string, len(ents))
	for _, e := range ents {
		if e.Name != "" {
			names[e.Index] = e.Name
		} else if e.Descr != "" {
			names[e.Index] = e.Descr
		}
	}
	out := make([]Sensor, 0, len(rows))
	for _, r := range rows {
		kind, ok := sensorKinds[r.typ]
		if !ok || !r.hasValue {
			continue
		}
		name := names[r.idx]
		if name == "" {
			name = "sensor" + strconv.Itoa(r.idx)
		}
		out = append(out, Sensor{
			Class:  kind[0],
			Name:   name,
			Value:  sensorValue(r.value, r.scale, r.prec),
			Unit:   kind[1],
			Status: sensorStatus(r.stat),
		})
	}
	return out
}

func sensorStatus(s int) string {
	switch s {
	case 1:
		return "ok"
	case 3:
		return "failed"
	}
	return "unknown" // 2 unavailable, or not reported
}

// LLDP-MIB.
const (
	oidLldpLocPortEntry    = ".1.0.8802.1.1.2.1.3.7.1"
	oidLldpRemEntry        = ".1.0.8802.1.1.2.1.4.1.1"
	oidLldpRemManAddrEntry = ".1.0.8802.1.1.2.1.4.2.1"
)

const (
	lldpLocPortIDSubtype   = 2
	lldpLocPortID          = 3
	lldpLocPortDesc        = 4
	lldpRemChassisIDSubtyp = 4
	lldpRemChassisID       = 5
	lldpRemPortIDSubtype   = 6
	lldpRemPortID          = 7
	lldpRemPortDesc        = 8
	lldpRemSysName         = 9
	lldpRemSysDesc         = 10
	lldpRemManAddrIfSubtyp = 3
)

var lldpRoots = slices.Concat(
	cols(oidLldpLocPortEntry, lldpLocPortIDSubtype, lldpLocPortID, lldpLocPortDesc),
	cols(oidLldpRemEntry, lldpRemChassisIDSubtyp, lldpRemChassisID, lldpRemPortIDSubtype, lldpRemPortID,
		lldpRemPortDesc, lldpRemSysName, lldpRemSysDesc),
	cols(oidLldpRemManAddrEntry, lldpRemManAddrIfSubtyp),
)

// BRIDGE-MIB dot1dBasePortIfIndex: many agents number LLDP local ports as
// bridge ports.
const oidDot1dBasePortIfIndex = ".1.3.6.1.2.1.17.1.4.1.2"

// lldpNeedsBridge reports whether some LLDP local port cannot be resolved
// by name, MAC or ifIndex, so that the bridge port table is worth a walk.
func lldpNeedsBridge(pdus []gosnmp.SnmpPDU, ifaces []Interface) bool {
	for _, n := range decodeLLDP(pdus, ifaces) {
		if !slices.ContainsFunc(ifaces, func(it Interface) bool { return it.Name == n.LocalPort }) {
			return true
		}
	}
	return false
}

// decodeLLDP builds neighbours from lldpRemTable, with the remote management
// address from the index of lldpRemManAddrTable and the local port resolved
// to an interface name through lldpLocPortTable (and BRIDGE-MIB's port
// table, when pdus hold it).
func decodeLLDP(pdus []gosnmp.SnmpPDU, ifaces []Interface) []Neighbor {
	type loc struct {
		subtype       int
		id, desc, mac string
	}
	type rem struct {
		key                      string // timeMark.localPort.index
		port                     int
		chassisSub, portSub      int
		chassis, portID          []byte
		portDesc, sysName, addr4 string
		sysDesc                  string
	}
	locs := map[int]*loc{}
	bridge := map[int]int{}
	var rems []*rem
	remByKey := map[string]*rem{}
	getRem := func(key string, port int) *rem {
		r := remByKey[key]
		if r == nil {
			r = &rem{key: key, port: port}
			remByKey[key] = r
			rems = append(rems, r)
		}
		return r
	}
	var arcs []int
	for _, p := range pdus {
		if absent(p) {
			continue
		}
		if under(p.Name, oidDot1dBasePortIfIndex) {
			if port, ok := parseIndex1(p.Name[len(oidDot1dBasePortIfIndex)+1:]); ok {
				if n, ok := pduInt(p); ok {
					bridge[port] = int(n)
				}
			}
			continue
		}
		if c, index, ok := splitColumn(p.Name, oidLldpLocPortEntry); ok {
			idx, ok := parseIndex1(index)
			if !ok {
				continue
			}
			l := locs[idx]
			if l == nil {
				l = &loc{}
				locs[idx] = l
			}
			switch c {
			case lldpLocPortIDSubtype:
				n, _ := pduInt(p)
				l.subtype = int(n)
			case lldpLocPortID:
				l.id = pduString(p)
				if b := pduBytes(p); len(b) == 6 {
					l.mac = formatMAC(b)
				}
			case lldpLocPortDesc:
				l.desc = pduString(p)
			}
			continue
		}
		if c, index, ok := splitColumn(p.Name, oidLldpRemEntry); ok {
			if arcs, ok = indexArcs(index, arcs); !ok || len(arcs) != 3 {
				continue
			}
			r := getRem(index, arcs[1])
			switch c {
			case lldpRemChassisIDSubtyp:
				n, _ := pduInt(p)
				r.chassisSub = int(n)
			case lldpRemChassisID:
				r.chassis = pduBytes(p)
			case lldpRemPortIDSubtype:
				n, _ := pduInt(p)
				r.portSub = int(n)
			case lldpRemPortID:
				r.portID = pduBytes(p)
			case lldpRemPortDesc:
				r.portDesc = pduString(p)
			case lldpRemSysName:
				r.sysName = pduString(p)
			case lldpRemSysDesc:
				r.sysDesc = strings.TrimSpace(pduString(p))
			}
			continue
		}
		if _, index, ok := splitColumn(p.Name, oidLldpRemManAddrEntry); ok {
			// Index: timeMark.localPort.remIndex.addrSubtype.addrLen.addr…
			if arcs, ok = indexArcs(index, arcs); !ok || len(arcs) < 5 {
				continue
			}
			if arcs[3] != 1 || arcs[4] != 4 || len(arcs) != 9 {
				continue // only IPv4 for now
			}
			key := index[:nthDot(index, 3)]
			r := getRem(key, arcs[1])
			if r.addr4 == "" {
				a := [4]byte{byte(arcs[5]), byte(arcs[6]), byte(arcs[7]), byte(arcs[8])}
				r.addr4 = netip.AddrFrom4(a).String()
			}
		}
	}
	slices.SortFunc(rems, func(a, b *rem) int {
		if a.port != b.port {
			return a.port - b.port
		}
		return compareOID(a.key, b.key)
	})
	ports := newPortNames(ifaces)
	ports.bridge = bridge
	out := make([]Neighbor, 0, len(rems))
	for _, r := range rems {
		if r.chassis == nil && r.portID == nil && r.sysName == "" {
			continue // only a management address: not a neighbour by itself
		}
		var local string
		if l := locs[r.port]; l != nil {
			mac := ""
			if l.subtype == lldpPortIDMAC {
				mac = l.mac
			}
			local = ports.resolve(r.port, l.id, mac, l.desc, true)
		} else {
			local = ports.resolve(r.port, "", "", "", false)
		}
		remotePort := lldpID(r.portSub, r.portID, 3, 4)
		if remotePort == "" {
			remotePort = r.portDesc
		}
		out = append(out, Neighbor{
			Protocol:        "lldp",
			LocalPort:       local,
			RemoteName:      r.sysName,
			RemoteDescr:     r.sysDesc,
			RemotePort:      remotePort,
			RemoteChassisID: lldpID(r.chassisSub, r.chassis, 4, 5),
			RemoteAddress:   r.addr4,
		})
	}
	return out
}

// nthDot returns the position of the n-th '.' in s (1-based), or len(s).
func nthDot(s string, n int) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			n--
			if n == 0 {
				return i
			}
		}
	}
	return len(s)
}

// lldpID renders an LLDP chassis or port ID by its subtype: MACs as
// aa:bb:.., network addresses as IPs, text as text, the rest as hex.
func lldpID(subtype int, b []byte, macSubtype, addrSubtype int) string {
	b = trimNUL(b)
	switch {
	case len(b) == 0:
		return ""
	case subtype == macSubtype && len(b) == 6:
		return formatMAC(b)
	case subtype == addrSubtype && len(b) == 5 && b[0] == 1:
		return netip.AddrFrom4([4]byte(b[1:5])).String()
	case subtype == addrSubtype && len(b) == 17 && b[0] == 2:
		return netip.AddrFrom16([16]byte(b[1:17])).String()
	case printable(b):
		return string(b)
	case len(b) == 6:
		return formatMAC(b)
	}
	return formatMAC(b) // hex pairs keep odd binary IDs readable
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// portNames resolves what a neighbour table says about a local port to the
// interface's name.
type portNames struct {
	byIndex map[int]string
	byName  map[string]string // ifName and ifDescr → name
	byMAC   map[string]string // ifPhysAddress → name, for MACs one interface has
	bridge  map[int]int       // bridge port → ifIndex
}

func newPortNames(ifaces []Interface) portNames {
	pn := portNames{byIndex: make(map[int]string, len(ifaces)), byName: make(map[string]string, 2*len(ifaces)), byMAC: map[string]string{}}
	shared := map[string]bool{}
	for _, it := range ifaces {
		pn.byIndex[it.Index] = it.Name
		if it.Descr != "" {
			pn.byName[it.Descr] = it.Name
		}
		if it.Name != "" {
			pn.byName[it.Name] = it.Name
		}
		if it.MAC == "" {
			continue
		}
		if _, dup := pn.byMAC[it.MAC]; dup {
			shared[it.MAC] = true
		}
		pn.byMAC[it.MAC] = it.Name
	}
	for m := range shared {
		delete(pn.byMAC, m) // a switch's ports often share the base MAC
	}
	return pn
}

// lldpPortIDMAC is LldpPortIdSubtype macAddress.
const lldpPortIDMAC = 3

// resolve finds the interface for LLDP local port num. Devices disagree on
// what lldpLocPortId holds (a name, an ifIndex, a MAC), so try, in order:
// the ID as a name, the description as a name, a MAC ID as the interface's
// address, the ID as an ifIndex, then the port number as a bridge port
// (BRIDGE-MIB) and, when the device has no lldpLocPortTable or the ID
// resolves to nothing, as an ifIndex.
func (pn portNames) resolve(num int, id, mac, desc string, haveLoc bool) string {
	if n, ok := pn.byName[id]; ok && id != "" {
		return n
	}
	if n, ok := pn.byName[desc]; ok && desc != "" {
		return n
	}
	if n, ok := pn.byMAC[mac]; ok && mac != "" {
		return n
	}
	if idx, ok := parseIndex1(id); ok {
		if n, ok := pn.byIndex[idx]; ok {
			return n
		}
	}
	if idx, ok := pn.bridge[num]; ok {
		if n, ok := pn.byIndex[idx]; ok {
			return n
		}
	}
	if n, ok := pn.byIndex[num]; ok && (!haveLoc || mac != "" || len(pn.bridge) > 0 || desc == "") {
		return n
	}
	switch {
	case desc != "":
		return desc
	case id != "":
		return id
	}
	return "port" + strconv.Itoa(num)
}

// CISCO-CDP-MIB cdpCacheTable, indexed by ifIndex.deviceIndex.
const oidCdpCacheEntry = ".1.3.6.1.4.1.9.9.23.1.2.1.1"

const (
	cdpCacheAddressType = 3
	cdpCacheAddress     = 4
	cdpCacheDeviceID    = 6
	cdpCacheDevicePort  = 7
)

var cdpRoots = cols(oidCdpCacheEntry, cdpCacheAddressType, cdpCacheAddress, cdpCacheDeviceID, cdpCacheDevicePort)

func decodeCDP(pdus []gosnmp.SnmpPDU, ifaces []Interface) []Neighbor {
	type entry struct {
		key                string
		ifIndex, addrType  int
		addr               []byte
		devID, devPort     string
		hasAddrType, valid bool
	}
	var rows []*entry
	byKey := map[string]*entry{}
	var arcs []int
	for _, p := range pdus {
		if absent(p) {
			continue
		}
		c, index, ok := splitColumn(p.Name, oidCdpCacheEntry)
		if !ok {
			continue
		}
		if arcs, ok = indexArcs(index, arcs); !ok || len(arcs) != 2 {
			continue
		}
		e := byKey[index]
		if e == nil {
			e = &entry{key: index, ifIndex: arcs[0]}
			byKey[index] = e
			rows = append(rows, e)
		}
		switch c {
		case cdpCacheAddressType:
			n, _ := pduInt(p)
			e.addrType, e.hasAddrType = int(n), true
		case cdpCacheAddress:
			e.addr = pduBytes(p)
		case cdpCacheDeviceID:
			e.devID, e.valid = pduString(p), true
		case cdpCacheDevicePort:
			e.devPort, e.valid = pduString(p), true
		}
	}
	slices.SortFunc(rows, func(a, b *entry) int { return compareOID(a.key, b.key) })
	ports := newPortNames(ifaces)
	out := make([]Neighbor, 0, len(rows))
	for _, e := range rows {
		if !e.valid {
			continue
		}
		n := Neighbor{Protocol: "cdp", RemoteName: e.devID, RemotePort: e.devPort}
		if name, ok := ports.byIndex[e.ifIndex]; ok {
			n.LocalPort = name
		} else {
			n.LocalPort = "ifIndex" + strconv.Itoa(e.ifIndex)
		}
		// CiscoNetworkProtocol 1 is ip; some agents leave the type out.
		if len(e.addr) == 4 && (!e.hasAddrType || e.addrType == 1) {
			n.RemoteAddress = netip.AddrFrom4([4]byte(e.addr)).String()
		} else if len(e.addr) == 16 && (!e.hasAddrType || e.addrType == 20) {
			n.RemoteAddress = netip.AddrFrom16([16]byte(e.addr)).String()
		}
		out = append(out, n)
	}
	return out
}

// tableRows gathers a table's rows by their single integer index, in the
// order first seen, so the decoders need no per-row map lookups by OID.
type tableRows[T any] struct {
	rows  []T
	pos   map[int]int
	fresh func(idx int) T
}

func newTableRows[T any](n int, fresh func(idx int) T) *tableRows[T] {
	return &tableRows[T]{rows: make([]T, 0, n), pos: make(map[int]int, n), fresh: fresh}
}

// at returns the row of idx, creating it; the pointer is valid until the
// next call.
func (t *tableRows[T]) at(idx int) *T {
	i, ok := t.pos[idx]
	if !ok {
		i = len(t.rows)
		t.pos[idx] = i
		t.rows = append(t.rows, t.fresh(idx))
	}
	return &t.rows[i]
}

// eachRow calls fn for every present varbind of a table entry with a single
// integer index, with its column number.
func eachRow(pdus []gosnmp.SnmpPDU, entry string, fn func(col, idx int, p gosnmp.SnmpPDU)) {
	for _, p := range pdus {
		if absent(p) {
			continue
		}
		c, index, ok := splitColumn(p.Name, entry)
		if !ok {
			continue
		}
		if idx, ok := parseIndex1(index); ok {
			fn(c, idx, p)
		}
	}
}
