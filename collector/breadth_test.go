package collector

import (
	"context"
	"math"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

func TestDecodeUCD(t *testing.T) {
	ucd := func(total, avail, buf, cached, idle uint) []gosnmp.SnmpPDU {
		return []gosnmp.SnmpPDU{
			vInt(oidMemTotalReal, int(total)), vInt(oidMemAvailReal, int(avail)),
			vInt(oidMemBuffer, int(buf)), vInt(oidMemCached, int(cached)), vInt(oidSsCpuIdle, int(idle)),
		}
	}
	hrRAM := Memory{Name: "Real Memory", UsedBytes: 1, TotalBytes: 2, Percent: 50, Class: "system"}
	tests := []struct {
		name       string
		cpu        []CPU
		mem        []Memory
		pdus       []gosnmp.SnmpPDU
		wantCPU    []CPU
		wantMem    []Memory
		wantSource map[string]string
	}{
		{
			name: "no standard readings: UCD less buffers and cache",
			pdus: ucd(4021920, 814888, 21280, 1344372, 97),
			// 4021920 kB total, 814888+21280+1344372 = 2180540 kB free.
			wantCPU:    []CPU{{Name: "cpu", Percent: 3}},
			wantMem:    []Memory{{Name: "Physical memory", UsedBytes: (4021920 - 2180540) * 1024, TotalBytes: 4021920 * 1024, Percent: float64(4021920-2180540) / 4021920 * 100, Class: "system"}},
			wantSource: map[string]string{"cpu": srcUCDIdle, "memory": srcUCDMemory},
		},
		{
			name:       "hrStorage RAM and hrProcessorLoad win",
			cpu:        []CPU{{Name: "cpu1", Percent: 40}},
			mem:        []Memory{hrRAM},
			pdus:       ucd(4021920, 814888, 21280, 1344372, 97),
			wantCPU:    []CPU{{Name: "cpu1", Percent: 40}},
			wantMem:    []Memory{hrRAM},
			wantSource: map[string]string{},
		},
		{
			name:       "available above total is nonsense: no pool",
			pdus:       ucd(100, 200, 0, 0, 250),
			wantCPU:    []CPU{},
			wantMem:    []Memory{},
			wantSource: map[string]string{},
		},
		{
			name:       "buffers and cache beyond total: avail alone",
			pdus:       ucd(1000, 400, 500, 500, 10),
			wantCPU:    []CPU{{Name: "cpu", Percent: 90}},
			wantMem:    []Memory{{Name: "Physical memory", UsedBytes: 600 * 1024, TotalBytes: 1000 * 1024, Percent: 60, Class: "system"}},
			wantSource: map[string]string{"cpu": srcUCDIdle, "memory": srcUCDMemory},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := newSnapshot("x", t0)
			if tt.cpu != nil {
				snap.CPU = tt.cpu
			}
			if tt.mem != nil {
				snap.Memory = tt.mem
			}
			decodeUCD(snap, tt.pdus)
			if !reflect.DeepEqual(snap.CPU, tt.wantCPU) || !reflect.DeepEqual(snap.Memory, tt.wantMem) || !reflect.DeepEqual(snap.Sources, tt.wantSource) {
				t.Errorf("cpu %+v memory %+v sources %v\nwant cpu %+v memory %+v sources %v", snap.CPU, snap.Memory, snap.Sources, tt.wantCPU, tt.wantMem, tt.wantSource)
			}
		})
	}
}

func TestCPUTicksBetweenPolls(t *testing.T) {
	raw := func(user, system, idle uint64) []gosnmp.SnmpPDU {
		return []gosnmp.SnmpPDU{vInt(oidSsCpuIdle, 50),
			vC64(oidSsCpuRawUser, user), vC64(oidSsCpuRawSystem, system), vC64(oidSsCpuRawIdle, idle)}
	}
	poll := func(at time.Duration, pdus []gosnmp.SnmpPDU) *Snapshot {
		s := newSnapshot("x", t0.Add(at))
		s.Reachable = true
		s.System.UptimeSeconds = 1000 + at.Seconds()
		decodeUCD(s, pdus)
		return s
	}
	first := poll(0, raw(1000, 500, 8500))
	if first.CPU[0].Percent != 50 || first.Sources["cpu"] != srcUCDIdle {
		t.Fatalf("first poll: %+v from %q, want ssCpuIdle's 50", first.CPU, first.Sources["cpu"])
	}
	// 100 ticks later: 60 busy, 40 idle.
	second := poll(60*time.Second, raw(1040, 520, 8540))
	FillRates(first, second, 0)
	if second.CPU[0].Percent != 60 || second.Sources["cpu"] != srcUCDRaw {
		t.Errorf("second poll: %+v from %q, want 60 from the raw ticks", second.CPU, second.Sources["cpu"])
	}
	// Counters went back (agent restart): the one-sample figure stays.
	third := poll(120*time.Second, raw(10, 10, 10))
	FillRates(second, third, 0)
	if third.CPU[0].Percent != 50 {
		t.Errorf("after a counter reset: %+v, want ssCpuIdle's 50", third.CPU)
	}
}

func TestDecodeStorageKernelZonesAndAvailable(t *testing.T) {
	st := func(c int, idx string) string { return oidHrStorageEntry + "." + strconv.Itoa(c) + "." + idx }
	row := func(idx, typ, descr string, units, size, used int) []gosnmp.SnmpPDU {
		return []gosnmp.SnmpPDU{
			vOID(st(hrStorageType, idx), typ), vStr(st(hrStorageDescr, idx), descr),
			vInt(st(hrStorageUnits, idx), units), vInt(st(hrStorageSize, idx), size), vInt(st(hrStorageUsed, idx), used),
		}
	}
	// bsnmpd (pfSense): RAM metrics sized as pages in use, kernel zones
	// typed as RAM; hrMemorySize is the RAM.
	bsd := decodeStorage(slices.Concat(
		[]gosnmp.SnmpPDU{vInt(oidHrMemorySize+".0", 4146732)},
		row("1", oidHrStorageRAM, "Real Memory Metrics", 4096, 59033, 57778),
		row("2", oidHrStorageRAM, "Shared Real Memory Metrics", 4096, 4002, 2785),
		row("40", oidHrStorageRAM, "UMA: mbuf_packet", 1, 529785600, 131072),
		row("41", oidHrStorageRAM, "MALLOC: temp", 1, 1000, 999),
	))
	if len(bsd) != 2 || bsd[0].TotalBytes != 4146732*1024 || bsd[1].TotalBytes != 4146732*1024 || bsd[0].UsedBytes != 57778*4096 {
		t.Errorf("bsnmpd pools = %+v, want the two RAM metrics sized as hrMemorySize", bsd)
	}
	// net-snmp's "Available memory" is free memory, not a pool.
	linux := decodeStorage(slices.Concat(
		row("1", oidHrStorageRAM, "Physical memory", 1024, 1000, 500),
		row("8", oidHrStorageOther, "Available memory", 1024, 600, 0),
	))
	if len(linux) != 1 || linux[0].Name != "Physical memory" {
		t.Errorf("net-snmp pools = %+v, want Physical memory alone", linux)
	}
}

func TestLLDPLocalPortByMACAndBridgePort(t *testing.T) {
	loc := func(c int, idx string) string { return oidLldpLocPortEntry + "." + strconv.Itoa(c) + "." + idx }
	rem := func(c int, idx string) string { return oidLldpRemEntry + "." + strconv.Itoa(c) + "." + idx }
	ifaces := []Interface{
		{Index: 1, Name: "Port1", Descr: "Ethernet Port on unit 1, port 1", MAC: "70:72:cf:66:bf:11"},
		{Index: 2, Name: "Port2", Descr: "Ethernet Port on unit 1, port 2", MAC: "70:72:cf:66:bf:12"},
		{Index: 10101, Name: "Gi1/0/1", MAC: "00:aa:bb:cc:00:01"},
		{Index: 10102, Name: "Gi1/0/2", MAC: "00:aa:bb:cc:00:01"}, // shared base MAC: not a key
	}
	neighbour := func(port, name string) []gosnmp.SnmpPDU {
		k := "0." + port + ".1"
		return []gosnmp.SnmpPDU{vInt(rem(lldpRemChassisIDSubtyp, k), 7), vStr(rem(lldpRemChassisID, k), name), vStr(rem(lldpRemSysName, k), name)}
	}
	pdus := slices.Concat(
		// Port 1's ID is its MAC, with no description: the MAC finds it.
		[]gosnmp.SnmpPDU{vInt(loc(lldpLocPortIDSubtype, "1"), 3), vHex(loc(lldpLocPortID, "1"), "7072cf66bf11")},
		neighbour("1", "by-mac"),
		// Port 52 names itself with the shared MAC: the bridge port table maps it.
		[]gosnmp.SnmpPDU{vInt(loc(lldpLocPortIDSubtype, "52"), 3), vHex(loc(lldpLocPortID, "52"), "00aabbcc0001")},
		neighbour("52", "by-bridge"),
	)
	if !lldpNeedsBridge(pdus, ifaces) {
		t.Fatal("port 52 cannot be resolved without BRIDGE-MIB, yet no bridge walk is asked for")
	}
	pdus = append(pdus, vInt(oidDot1dBasePortIfIndex+".52", 10102))
	got := decodeLLDP(pdus, ifaces)
	if len(got) != 2 || got[0].LocalPort != "Port1" || got[1].LocalPort != "Gi1/0/2" {
		t.Errorf("local ports = %+v, want Port1 (by MAC) and Gi1/0/2 (bridge port 52)", got)
	}
	if lldpNeedsBridge(pdus, ifaces) {
		t.Error("all ports resolve, yet a bridge walk is asked for")
	}
}

const identityProfileYAML = `
name: ident
match:
  - sys_object_id: 1.3.6.1.4.1.99998
model:
  - entity_field: name
    entity_index: [9, 1001]
  - object_id:
      1.3.6.1.4.1.99998.1.7: 'Box 7'
  - oid: 1.9.8.0
    map: {'3': 'Box 3'}
serial:
  - template: '{oid:1.9.1.0} rev {oid:1.9.2.0}'
firmware:
  - descr: 'FW (\S+)'
    match: '^v?([0-9.]+)$'
    replace:
      - {pattern: '\.0$', with: ''}
memory:
  - percent: 1.9.7.0
    percent_divisor: 100
    total_bytes: 268435456
    name: ram
cpu:
  - table: true
    oid: 1.9.5.1.2
    where: {column: 1.9.5.1.3, match: '^cpu'}
    skip_values: [-1]
    name: 'cpu {index}'
  - table: true
    oid: 1.9.9.1.2
    where: {column: 1.9.9.1.3, match: '^1$'}
    name: 'core {index}'
sensors:
  - class: temperature
    table: true
    value: 1.9.6.1.2
    value_regexp: '^([0-9.]+) degrees'
    skip_values: [0]
    name: 'sfp {index}'
`

func TestProfileIdentityAndRowFilters(t *testing.T) {
	p, err := ParseProfile("ident.yaml", []byte(identityProfileYAML))
	if err != nil {
		t.Fatal(err)
	}
	plan := p.fetchPlan()
	if !slices.Contains(plan.scalars, ".1.9.1.0") || !slices.Contains(plan.scalars, ".1.9.2.0") || !slices.Contains(plan.columns, ".1.9.5.1.3") {
		t.Fatalf("plan %+v lacks the template's scalars or the where column", plan)
	}
	snap := newSnapshot("x", t0)
	snap.System = System{ObjectID: "1.3.6.1.4.1.99998.1.7", Descr: "Box FW v2.1.0"}
	snap.Entities = []Entity{{Index: 1, Class: "chassis", Name: "chassis"}, {Index: 1001, Class: "module", Name: "BX-7-24"}}
	scalars := []gosnmp.SnmpPDU{vStr(".1.9.1.0", "SN123"), vStr(".1.9.2.0", ""), vInt(".1.9.7.0", 2550)}
	walked := []gosnmp.SnmpPDU{
		vInt(".1.9.5.1.2.1", 12), vStr(".1.9.5.1.3.1", "cpu0"),
		vInt(".1.9.5.1.2.2", 99), vStr(".1.9.5.1.3.2", "fpga"), // not a CPU
		vInt(".1.9.5.1.2.3", -1), vStr(".1.9.5.1.3.3", "cpu1"), // no reading
		vInt(".1.9.9.1.2.1", 33), vInt(".1.9.9.1.3.1", 1), // an INTEGER type column
		vInt(".1.9.9.1.2.2", 44), vInt(".1.9.9.1.3.2", 2),
		vStr(".1.9.6.1.2.1", "41.50 degrees C normal"), vStr(".1.9.6.1.2.2", "0 degrees C"),
	}
	applyProfile(p, newProfileData(plan.columns, scalars, walked), snap)
	if snap.Model != "BX-7-24" || snap.Sources["model"] != "profile ident ENTITY-MIB name of entity 1001" {
		t.Errorf("model %q from %q, want entity 1001's name", snap.Model, snap.Sources["model"])
	}
	if snap.Serial != "SN123 rev" || snap.Firmware != "2.1" {
		t.Errorf("serial %q firmware %q, want the template with its empty part left out, and 2.1", snap.Serial, snap.Firmware)
	}
	if !reflect.DeepEqual(snap.CPU, []CPU{{Name: "cpu 1", Percent: 12}, {Name: "core 1", Percent: 33}}) {
		t.Errorf("cpu = %+v, want the cpu row alone", snap.CPU)
	}
	if len(snap.Memory) != 1 || snap.Memory[0].TotalBytes != 268435456 || math.Abs(snap.Memory[0].Percent-25.5) > 0.01 {
		t.Errorf("memory = %+v, want 25.5%% of a fixed 256 MiB", snap.Memory)
	}
	if len(snap.Sensors) != 1 || snap.Sensors[0].Value != 41.5 {
		t.Errorf("sensors = %+v, want 41.5 from the text", snap.Sensors)
	}
	// Without the entity, the sysObjectID table names the model; without
	// that, the enum's name.
	snap3 := newSnapshot("x", t0)
	applyProfile(p, newProfileData(plan.columns, []gosnmp.SnmpPDU{vInt(".1.9.8.0", 3)}, nil), snap3)
	if snap3.Model != "Box 3" {
		t.Errorf("model %q, want Box 3 from the enum map", snap3.Model)
	}
	snap2 := newSnapshot("x", t0)
	snap2.System = System{ObjectID: "1.3.6.1.4.1.99998.1.7"}
	applyProfile(p, newProfileData(plan.columns, nil, nil), snap2)
	if snap2.Model != "Box 7" || snap2.Sources["model"] != "profile ident sysObjectID" {
		t.Errorf("model %q from %q, want Box 7 from the sysObjectID table", snap2.Model, snap2.Sources["model"])
	}
	for _, bad := range []string{
		"name: x\nmodel:\n  - entity_index: [1]\n",
		"name: x\nmodel:\n  - template: 'no oids'\n",
		"name: x\ncpu:\n  - oid: 1.2.3\n    where: {column: 1.2.4}\n",
		"name: x\nmodel:\n  - entity_field: colour\n",
	} {
		if _, err := ParseProfile("bad.yaml", []byte(bad)); err == nil {
			t.Errorf("%q parsed, want an error", bad)
		}
	}
}

func TestModuleStatuses(t *testing.T) {
	prof := &Profile{Name: "p", Skip: []string{"cdp"}}
	snap := newSnapshot("x", t0)
	snap.Interfaces = []Interface{{Index: 1}}
	snap.Neighbors = []Neighbor{{Protocol: "lldp"}}
	got := moduleStatuses(snap, prof, map[string]string{"entity+bgp": "request timeout"})
	want := map[string]string{
		"system": ModuleOK, "interfaces": ModuleOK, "entity": ModuleError, "cpu": ModuleUnsupported,
		"memory": ModuleUnsupported, "sensors": ModuleEmpty, "lldp": ModuleOK, "cdp": ModuleUnsupported,
	}
	for _, m := range got {
		if want[m.Module] != m.Status {
			t.Errorf("%s: %s (%s), want %s", m.Module, m.Status, m.Reason, want[m.Module])
		}
		delete(want, m.Module)
	}
	if len(want) > 0 {
		t.Errorf("modules not reported: %v", want)
	}
}

func TestPollReusesWhatThePreviousPollProved(t *testing.T) {
	a := newFakeAgent(append(syntheticSwitch(48), vTicks(oidEntLastChangeTime, 4200))...)
	first := newSnapshot("192.0.2.1:161", t0)
	collectWith(context.Background(), newBulkWalker(a, false, 25), first, nil, nil)
	firstRequests, firstVarbinds := a.requests, a.varbinds
	if len(first.Entities) == 0 || !first.hasEntLastChange || first.entityWalked.IsZero() {
		t.Fatalf("first poll: %d entities, entLastChange %v, walked %v", len(first.Entities), first.hasEntLastChange, first.entityWalked)
	}
	first.Reachable = true

	a.requests, a.varbinds = 0, 0
	second := newSnapshot("192.0.2.1:161", t0.Add(time.Minute))
	collectWith(context.Background(), newBulkWalker(a, false, 25), second, nil, first)
	if !reflect.DeepEqual(second.Entities, first.Entities) || second.Model != first.Model || second.Serial != first.Serial {
		t.Errorf("reused identity %q %q, want %q %q", second.Model, second.Serial, first.Model, first.Serial)
	}
	if !reflect.DeepEqual(second.Interfaces, first.Interfaces) || len(second.Sensors) != len(first.Sensors) {
		t.Errorf("second poll read other interfaces or sensors than the first")
	}
	if a.varbinds >= firstVarbinds || a.requests > firstRequests {
		t.Errorf("second poll: %d requests %d varbinds, first %d and %d: nothing saved", a.requests, a.varbinds, firstRequests, firstVarbinds)
	}

	// The table changed: it is walked again.
	third := newSnapshot("192.0.2.1:161", t0.Add(2*time.Minute))
	b := newFakeAgent(append(syntheticSwitch(48), vTicks(oidEntLastChangeTime, 4300))...)
	collectWith(context.Background(), newBulkWalker(b, false, 25), third, nil, second)
	if third.entityWalked != third.Time {
		t.Error("entLastChangeTime moved, yet the entity table was not walked again")
	}
}

func TestProbeMatchesOnlyWhenNothingElseFits(t *testing.T) {
	a := newFakeAgent(vStr(oidSysDescr, ""), vStr(".1.3.6.1.4.1.39165.1.1.0", "DS-2CD2185FWD-I"))
	snap := newSnapshot("x", t0)
	collect(context.Background(), newBulkWalker(a, false, 25), snap)
	if snap.Profile != "hikvision-cam" || snap.Model != "DS-2CD2185FWD-I" {
		t.Errorf("profile %q model %q, want hikvision-cam chosen by its probe", snap.Profile, snap.Model)
	}
	if got := BuiltinProfiles().Select("", "").Name; got != "generic" {
		t.Errorf("Select on an empty system group = %s, want generic (probes are asked for, not assumed)", got)
	}
	if _, err := ParseProfile("bad.yaml", []byte("name: x\nmatch:\n  - probe: 1.2.3.0\n    sys_descr: 'x'\n")); err == nil {
		t.Error("a probe combined with sys_descr parsed, want an error")
	}
}

func TestDecodeInterfacesZeroHCCounters(t *testing.T) {
	c := func(entry string, col, idx int) string {
		return entry + "." + strconv.Itoa(col) + "." + strconv.Itoa(idx)
	}
	got := decodeInterfaces([]gosnmp.SnmpPDU{
		vStr(c(oidIfEntry, ifDescr, 52), "cpe 1001 ethernet 1"),
		vC32(c(oidIfEntry, ifInOctets, 52), 804735243), vC32(c(oidIfEntry, ifOutOctets, 52), 568929057),
		vC32(c(oidIfEntry, ifInUcastPkts, 52), 7), vC64(c(oidIfXEntry, ifHCInUcastPkts, 52), 0),
		vC64(c(oidIfXEntry, ifHCInOctets, 52), 0), vC64(c(oidIfXEntry, ifHCOutOctets, 52), 0),
		// An idle port with real 64-bit counters stays 64-bit.
		vC32(c(oidIfEntry, ifInOctets, 53), 0), vC32(c(oidIfEntry, ifOutOctets, 53), 0),
		vC64(c(oidIfXEntry, ifHCInOctets, 53), 0), vC64(c(oidIfXEntry, ifHCOutOctets, 53), 0),
	})
	if len(got) != 2 || got[0].HC || got[0].InOctets != 804735243 || got[0].OutOctets != 568929057 || got[0].InUcastPkts != 7 {
		t.Errorf("port with zero 64-bit counters = %+v, want the 32-bit ones", got[0])
	}
	if !got[1].HC {
		t.Errorf("idle port = %+v, want 64-bit", got[1])
	}
}

func TestSupersedes(t *testing.T) {
	complete := &Snapshot{Reachable: true, Time: t0, Modules: []ModuleStatus{{Module: "entity", Status: ModuleOK}}}
	partial := &Snapshot{Reachable: true, Time: t0.Add(time.Minute), Modules: []ModuleStatus{{Module: "entity", Status: ModuleError}}}
	down := &Snapshot{Time: t0.Add(time.Minute)}
	late := &Snapshot{Reachable: true, Time: t0.Add(time.Hour), Modules: partial.Modules}
	for _, tt := range []struct {
		name      string
		prev, cur *Snapshot
		want      bool
	}{
		{"first poll, even partial", nil, partial, true},
		{"complete replaces", partial, complete, true},
		{"partial keeps the complete one", complete, partial, false},
		{"unreachable never", complete, down, false},
		{"partial after the complete one grew stale", complete, late, true},
	} {
		if got := Supersedes(tt.prev, tt.cur, 10*time.Minute); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
