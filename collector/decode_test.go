package collector

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/gosnmp/gosnmp"
)

func TestDecodeSystem(t *testing.T) {
	got, ok := decodeSystem([]gosnmp.SnmpPDU{
		vStr(oidSysDescr, `"Cisco IOS Software, C3560 Software (C3560-IPSERVICESK9-M), Version 12.2(55)SE12"`),
		vOID(oidSysObjectID, "1.3.6.1.4.1.9.1.634"),
		vTicks(oidSysUpTime, 123456),
		vStr(oidSysContact, "noc@example.net"),
		vStr(oidSysName, "sw1.example.net"),
		vStr(oidSysLocation, "Rack 4\x00"),
		{Name: ".1.3.6.1.2.1.1.9.0", Type: gosnmp.Integer, Value: 1}, // ignored
	})
	want := System{
		Name: "sw1.example.net", Descr: "Cisco IOS Software, C3560 Software (C3560-IPSERVICESK9-M), Version 12.2(55)SE12",
		ObjectID: "1.3.6.1.4.1.9.1.634", UptimeSeconds: 1234.56, Location: "Rack 4", Contact: "noc@example.net",
	}
	if !ok || got != want {
		t.Errorf("decodeSystem = %+v %v\nwant %+v", got, ok, want)
	}
	if _, ok := decodeSystem([]gosnmp.SnmpPDU{{Name: oidSysDescr, Type: gosnmp.NoSuchObject}}); ok {
		t.Error("decodeSystem of absent values reports ok")
	}
}

func ifx(c int, idx string) string { return oidIfXEntry + "." + strconv.Itoa(c) + "." + idx }
func ift(c int, idx string) string { return oidIfEntry + "." + strconv.Itoa(c) + "." + idx }

func TestDecodeInterfaces(t *testing.T) {
	pdus := []gosnmp.SnmpPDU{
		// 10: a gigabit port with HC counters and ifHighSpeed.
		vStr(ift(ifDescr, "10"), "GigabitEthernet1/0/1"),
		vInt(ift(ifType, "10"), 6),
		vGauge(ift(ifSpeed, "10"), 1_000_000_000),
		vHex(ift(ifPhysAddress, "10"), "001BAAFF1002"),
		vInt(ift(ifAdminStatus, "10"), 1),
		vInt(ift(ifOperStatus, "10"), 7),
		vC32(ift(ifInOctets, "10"), 111), // superseded by HC
		vC32(ift(ifOutOctets, "10"), 222),
		vC32(ift(ifInUcastPkts, "10"), 5),
		vC32(ift(ifInErrors, "10"), 3),
		vC32(ift(ifOutErrors, "10"), 4),
		vC32(ift(ifInDiscards, "10"), 1),
		vC32(ift(ifOutDiscards, "10"), 2),
		vStr(ifx(ifName, "10"), "Gi1/0/1"),
		vStr(ifx(ifAlias, "10"), "uplink to core"),
		vC64(ifx(ifHCInOctets, "10"), 1<<40),
		vC64(ifx(ifHCOutOctets, "10"), 1<<41),
		vC64(ifx(ifHCInUcastPkts, "10"), 1<<33),
		vGauge(ifx(ifHighSpeed, "10"), 1000),
		// 1: loopback, 32-bit only, no ifXTable row at all.
		vStr(ift(ifDescr, "1"), "lo"),
		vInt(ift(ifType, "1"), 24),
		vGauge(ift(ifSpeed, "1"), 10_000_000),
		vHex(ift(ifPhysAddress, "1"), ""),
		vInt(ift(ifAdminStatus, "1"), 1),
		vInt(ift(ifOperStatus, "1"), 1),
		vC32(ift(ifInOctets, "1"), 4000),
		vC32(ift(ifOutOctets, "1"), 5000),
		vC32(ift(ifInUcastPkts, "1"), 40),
		vC32(ift(ifOutUcastPkts, "1"), 50),
		// 100000: a 100G port: ifSpeed saturates, ifHighSpeed tells.
		vStr(ift(ifDescr, "100000"), "Ethernet49/1"),
		vInt(ift(ifType, "100000"), 161),
		vGauge(ift(ifSpeed, "100000"), 4294967295),
		vInt(ift(ifAdminStatus, "100000"), 2),
		vInt(ift(ifOperStatus, "100000"), 6),
		vGauge(ifx(ifHighSpeed, "100000"), 100000),
		vStr(ifx(ifName, "100000"), ""), // empty ifName: fall back to ifDescr
		// 7: ifHighSpeed 0 must not hide ifSpeed; odd type and status.
		vStr(ift(ifDescr, "7"), "Serial0/0"),
		vInt(ift(ifType, "7"), 250),
		vGauge(ift(ifSpeed, "7"), 64000),
		vGauge(ifx(ifHighSpeed, "7"), 0),
		vInt(ift(ifOperStatus, "7"), 9),
		{Name: ift(ifInOctets, "7"), Type: gosnmp.NoSuchInstance},
		// Unrelated varbinds are ignored.
		vInt(".1.3.6.1.2.1.2.2.1.4.10", 1500), // ifMtu
		vInt(".1.3.6.1.2.1.2.1.0", 4),         // ifNumber
	}
	want := []Interface{
		{Index: 1, Name: "lo", Descr: "lo", Type: "softwareLoopback", AdminStatus: "up", OperStatus: "up",
			SpeedBps: 10_000_000, InOctets: 4000, OutOctets: 5000, InUcastPkts: 40, OutUcastPkts: 50},
		{Index: 7, Name: "Serial0/0", Descr: "Serial0/0", Type: "ifType250", OperStatus: "unknown", SpeedBps: 64000},
		{Index: 10, Name: "Gi1/0/1", Descr: "GigabitEthernet1/0/1", Alias: "uplink to core", Type: "ethernetCsmacd",
			MAC: "00:1b:aa:ff:10:02", AdminStatus: "up", OperStatus: "lowerLayerDown", SpeedBps: 1_000_000_000,
			InOctets: 1 << 40, OutOctets: 1 << 41, InUcastPkts: 1 << 33, InErrors: 3, OutErrors: 4,
			InDiscards: 1, OutDiscards: 2, HC: true},
		{Index: 100000, Name: "Ethernet49/1", Descr: "Ethernet49/1", Type: "ieee8023adLag", AdminStatus: "down",
			OperStatus: "notPresent", SpeedBps: 100_000_000_000},
	}
	// Order of varbinds must not matter.
	for _, order := range []string{"as given", "reversed"} {
		in := append([]gosnmp.SnmpPDU(nil), pdus...)
		if order == "reversed" {
			for i, j := 0, len(in)-1; i < j; i, j = i+1, j-1 {
				in[i], in[j] = in[j], in[i]
			}
		}
		got := decodeInterfaces(in)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", order, got, want)
		}
	}
	if got := decodeInterfaces(nil); got == nil || len(got) != 0 {
		t.Errorf("no data: got %#v, want empty non-nil", got)
	}
}

func ent(c int, idx string) string { return oidEntPhysicalEntry + "." + strconv.Itoa(c) + "." + idx }

func TestDecodeEntities(t *testing.T) {
	tests := []struct {
		name              string
		pdus              []gosnmp.SnmpPDU
		wantN             int
		wantModel, wantSN string
	}{
		{
			name: "stack: chassis inside a stack, first member wins",
			pdus: []gosnmp.SnmpPDU{
				vStr(ent(entPhysicalDescr, "1"), "c2960x stack"), vInt(ent(entPhysicalClass, "1"), 11), vInt(ent(entPhysicalContainedIn, "1"), 0),
				vInt(ent(entPhysicalClass, "1001"), 3), vInt(ent(entPhysicalContainedIn, "1001"), 1),
				vStr(ent(entPhysicalModelName, "1001"), "WS-C2960X-48FPS-L"), vStr(ent(entPhysicalSerialNum, "1001"), "FOC1111X1AA"),
				vInt(ent(entPhysicalClass, "2001"), 3), vInt(ent(entPhysicalContainedIn, "2001"), 1),
				vStr(ent(entPhysicalModelName, "2001"), "WS-C2960X-24PS-L"), vStr(ent(entPhysicalSerialNum, "2001"), "FOC2222X2BB"),
				vInt(ent(entPhysicalClass, "1002"), 10), vStr(ent(entPhysicalName, "1002"), "Gi1/0/1"),
			},
			wantN: 4, wantModel: "WS-C2960X-48FPS-L", wantSN: "FOC1111X1AA",
		},
		{
			name: "top-level chassis beats a lower index nested one; empty values skipped",
			pdus: []gosnmp.SnmpPDU{
				vInt(ent(entPhysicalClass, "2"), 3), vInt(ent(entPhysicalContainedIn, "2"), 5),
				vStr(ent(entPhysicalSerialNum, "2"), "NESTED"), vStr(ent(entPhysicalModelName, "2"), "NESTED-M"),
				vInt(ent(entPhysicalClass, "7"), 3), vInt(ent(entPhysicalContainedIn, "7"), 0),
				vStr(ent(entPhysicalSerialNum, "7"), "  "), vStr(ent(entPhysicalModelName, "7"), "TOP-M"),
				vInt(ent(entPhysicalClass, "9"), 3), vInt(ent(entPhysicalContainedIn, "9"), 0),
				vStr(ent(entPhysicalSerialNum, "9"), "TOP-SN"),
			},
			wantN: 3, wantModel: "TOP-M", wantSN: "TOP-SN",
		},
		{
			name:  "no chassis",
			pdus:  []gosnmp.SnmpPDU{vInt(ent(entPhysicalClass, "1"), 9), vStr(ent(entPhysicalSerialNum, "1"), "MODSN")},
			wantN: 1,
		},
		{name: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ents, model, serial, _ := decodeEntities(tt.pdus)
			if len(ents) != tt.wantN || model != tt.wantModel || serial != tt.wantSN {
				t.Errorf("got %d entities, model %q serial %q; want %d %q %q", len(ents), model, serial, tt.wantN, tt.wantModel, tt.wantSN)
			}
			if ents == nil {
				t.Error("entities nil, want empty")
			}
			for i := 1; i < len(ents); i++ {
				if ents[i-1].Index >= ents[i].Index {
					t.Errorf("entities not sorted: %d before %d", ents[i-1].Index, ents[i].Index)
				}
			}
		})
	}
	ents, _, _, _ := decodeEntities(tests[0].pdus)
	if ents[0] != (Entity{Index: 1, Class: "stack", Descr: "c2960x stack"}) ||
		ents[1] != (Entity{Index: 1001, Class: "chassis", Model: "WS-C2960X-48FPS-L", Serial: "FOC1111X1AA", ContainedIn: 1}) ||
		ents[2] != (Entity{Index: 1002, Class: "port", Name: "Gi1/0/1"}) {
		t.Errorf("entity fields: %+v", ents)
	}
	for c, want := range map[int]string{1: "other", 2: "unknown", 3: "chassis", 4: "backplane", 5: "container",
		6: "powerSupply", 7: "fan", 8: "sensor", 9: "module", 10: "port", 11: "stack", 12: "cpu", 13: "unknown", 0: "unknown"} {
		if got := entityClassName(c); got != want {
			t.Errorf("entityClassName(%d) = %q, want %q", c, got, want)
		}
	}
}

func TestDecodeHostResources(t *testing.T) {
	st := func(c int, idx string) string { return oidHrStorageEntry + "." + strconv.Itoa(c) + "." + idx }
	pdus := []gosnmp.SnmpPDU{
		vInt(oidHrProcessorLoad+".197", 12),
		vInt(oidHrProcessorLoad+".196", 3),
		vOID(st(hrStorageType, "1"), oidHrStorageRAM), vStr(st(hrStorageDescr, "1"), "Physical memory"),
		vInt(st(hrStorageUnits, "1"), 1024), vInt(st(hrStorageSize, "1"), 8_000_000), vInt(st(hrStorageUsed, "1"), 2_000_000),
		vOID(st(hrStorageType, "3"), oidHrStorageVirt), vStr(st(hrStorageDescr, "3"), "Virtual memory"),
		vInt(st(hrStorageUnits, "3"), 1024), vInt(st(hrStorageSize, "3"), 0), vInt(st(hrStorageUsed, "3"), 0),
		vOID(st(hrStorageType, "31"), ".1.3.6.1.2.1.25.2.1.4"), vStr(st(hrStorageDescr, "31"), "/"), // fixed disk: skipped
		vInt(st(hrStorageUnits, "31"), 4096), vInt(st(hrStorageSize, "31"), 100), vInt(st(hrStorageUsed, "31"), 50),
		vOID(st(hrStorageType, "6"), oidHrStorageRAM), vStr(st(hrStorageDescr, "6"), "Big RAM"), // Integer32 overflow
		vInt(st(hrStorageUnits, "6"), 65536), vInt(st(hrStorageSize, "6"), -1), vInt(st(hrStorageUsed, "6"), 1<<30),
		vOID(st(hrStorageType, "10"), oidHrStorageVirt), vStr(st(hrStorageDescr, "10"), "Swap space"),
		vInt(st(hrStorageUnits, "10"), 1024), vInt(st(hrStorageSize, "10"), 1000), vInt(st(hrStorageUsed, "10"), 10),
	}
	cpu := decodeCPU(pdus)
	if want := []CPU{{"cpu196", 3}, {"cpu197", 12}}; !reflect.DeepEqual(cpu, want) {
		t.Errorf("cpu = %+v, want %+v", cpu, want)
	}
	mem := decodeStorage(pdus)
	want := []Memory{ // the size-0 virtual memory row is left out
		{Name: "Physical memory", UsedBytes: 2_048_000_000, TotalBytes: 8_192_000_000, Percent: 25, Class: "system"},
		{Name: "Big RAM", UsedBytes: 65536 << 30, TotalBytes: 65536 * 4294967295, Percent: float64(1<<30) / 4294967295 * 100, Class: "system"},
		{Name: "Swap space", UsedBytes: 10240, TotalBytes: 1_024_000, Percent: 1, Class: "swap"},
	}
	if !reflect.DeepEqual(mem, want) {
		t.Errorf("memory = %+v\nwant %+v", mem, want)
	}
}

// TestDecodeStorageLinux checks the net-snmp layout: system memory leaves
// out buffers and page cache of the same RAM (the arubaos-cx recording:
// (1626816 − 89044 − 1078996) kB = 469786624 bytes, as LibreNMS says).
func TestDecodeStorageLinux(t *testing.T) {
	st := func(c int, idx string) string { return oidHrStorageEntry + "." + strconv.Itoa(c) + "." + idx }
	row := func(idx, typ, descr string, size, used int) []gosnmp.SnmpPDU {
		return []gosnmp.SnmpPDU{
			vOID(st(hrStorageType, idx), typ), vStr(st(hrStorageDescr, idx), descr),
			vInt(st(hrStorageUnits, idx), 1024), vInt(st(hrStorageSize, idx), size), vInt(st(hrStorageUsed, idx), used),
		}
	}
	tests := []struct {
		name     string
		pdus     []gosnmp.SnmpPDU
		wantUsed uint64
	}{
		{"buffers and cache subtracted", slices.Concat(
			row("1", oidHrStorageRAM, "Physical memory", 3507408, 1626816),
			row("6", oidHrStorageOther, "Memory buffers", 3507408, 89044),
			row("7", oidHrStorageOther, "Cached memory", 1078996+100, 1078996), // size differs: only buffers pair
		), 469786624},
		{"no cache row: raw used", slices.Concat(
			row("1", oidHrStorageRAM, "Physical memory", 3507408, 1626816),
			row("6", oidHrStorageOther, "Memory buffers", 3507408, 89044),
		), 1626816 * 1024},
		{"buffers of other RAM: raw used", slices.Concat(
			row("1", oidHrStorageRAM, "Physical memory", 3507408, 1626816),
			row("6", oidHrStorageOther, "Memory buffers", 100, 89044),
			row("7", oidHrStorageOther, "Cached memory", 100, 1078996),
		), 1626816 * 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := decodeStorage(tt.pdus)
			if len(mem) == 0 || mem[0].Class != "system" || mem[0].UsedBytes != tt.wantUsed {
				t.Fatalf("memory = %+v, want system used %d", mem, tt.wantUsed)
			}
			for _, m := range mem[1:] {
				if m.Class == "system" {
					t.Errorf("%q classed as system", m.Name)
				}
			}
		})
	}
}

func TestDecodeSensors(t *testing.T) {
	s := func(c int, idx string) string { return oidEntPhySensorEntry + "." + strconv.Itoa(c) + "." + idx }
	row := func(idx string, typ, scale, prec, value, status int) []gosnmp.SnmpPDU {
		return []gosnmp.SnmpPDU{
			vInt(s(entPhySensorType, idx), typ), vInt(s(entPhySensorScale, idx), scale),
			vInt(s(entPhySensorPrecision, idx), prec), vInt(s(entPhySensorValue, idx), value),
			vInt(s(entPhySensorOperStatus, idx), status),
		}
	}
	var pdus []gosnmp.SnmpPDU
	pdus = append(pdus, row("10", 8, 9, 0, 41, 1)...)      // 41 °C
	pdus = append(pdus, row("11", 8, 9, 1, 415, 1)...)     // 41.5 °C
	pdus = append(pdus, row("12", 8, 8, 0, 41500, 3)...)   // milli: 41.5 °C, failed
	pdus = append(pdus, row("13", 4, 8, 2, 1205000, 2)...) // milli, precision 2: 12.05 V
	pdus = append(pdus, row("14", 10, 10, 0, 3, 1)...)     // kilo rpm
	pdus = append(pdus, row("15", 12, 9, 0, 1, 1)...)      // truthvalue: skipped
	pdus = append(pdus, row("16", 6, 9, -1, 1234, 1)...)   // negative precision: 12340 W
	ents := []Entity{{Index: 10, Name: "CPU temp"}, {Index: 11, Descr: "Inlet"}, {Index: 13, Name: "PSU 12V"}}
	got := decodeSensors(pdus, ents)
	want := []Sensor{
		{Class: "temperature", Name: "CPU temp", Value: 41, Unit: "celsius", Status: "ok"},
		{Class: "temperature", Name: "Inlet", Value: 41.5, Unit: "celsius", Status: "ok"},
		{Class: "temperature", Name: "sensor12", Value: 41.5, Unit: "celsius", Status: "failed"},
		{Class: "voltage", Name: "PSU 12V", Value: 12.05, Unit: "volts", Status: "unknown"},
		{Class: "fan", Name: "sensor14", Value: 3000, Unit: "rpm", Status: "ok"},
		{Class: "power", Name: "sensor16", Value: 12340, Unit: "watts", Status: "ok"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d sensors %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if math.Abs(g.Value-w.Value) > 1e-9 {
			t.Errorf("sensor %d value %v, want %v", i, g.Value, w.Value)
		}
		g.Value = w.Value
		if g != w {
			t.Errorf("sensor %d = %+v, want %+v", i, got[i], w)
		}
	}
	for _, tt := range []struct {
		raw         int64
		scale, prec int
		want        float64
	}{{1, 14, 0, 1e18}, {1, 15, 0, 1e15}, {5, 1, 0, 5e-24}, {250, 9, 1, 25}} {
		if got := sensorValue(tt.raw, tt.scale, tt.prec); math.Abs(got-tt.want) > math.Abs(tt.want)*1e-12 {
			t.Errorf("sensorValue(%d, %d, %d) = %g, want %g", tt.raw, tt.scale, tt.prec, got, tt.want)
		}
	}
}

var testIfaces = []Interface{
	{Index: 513, Name: "ge-0/0/0", Descr: "ge-0/0/0"},
	{Index: 10101, Name: "Gi1/0/1", Descr: "GigabitEthernet1/0/1"},
	{Index: 10102, Name: "Gi1/0/2", Descr: "GigabitEthernet1/0/2"},
	{Index: 10103, Name: "Gi1/0/3", Descr: "GigabitEthernet1/0/3"},
}

func TestDecodeLLDP(t *testing.T) {
	loc := func(c int, idx string) string { return oidLldpLocPortEntry + "." + strconv.Itoa(c) + "." + idx }
	rem := func(c int, idx string) string { return oidLldpRemEntry + "." + strconv.Itoa(c) + "." + idx }
	pdus := []gosnmp.SnmpPDU{
		// Port 1: lldpLocPortId is the short name (Cisco).
		vInt(loc(lldpLocPortIDSubtype, "1"), 5), vStr(loc(lldpLocPortID, "1"), "Gi1/0/1"), vStr(loc(lldpLocPortDesc, "1"), "uplink"),
		vInt(rem(lldpRemChassisIDSubtyp, "0.1.4"), 4), vHex(rem(lldpRemChassisID, "0.1.4"), "50C58D123456"),
		vInt(rem(lldpRemPortIDSubtype, "0.1.4"), 5), vStr(rem(lldpRemPortID, "0.1.4"), "xe-0/0/1"),
		vStr(rem(lldpRemPortDesc, "0.1.4"), "to sw1"), vStr(rem(lldpRemSysName, "0.1.4"), "core1"),
		vInt(oidLldpRemManAddrEntry+".3.0.1.4.1.4.10.0.0.1", 2),
		// Port 513: lldpLocPortId is the ifIndex (Juniper); remote port a MAC.
		vInt(loc(lldpLocPortIDSubtype, "513"), 7), vStr(loc(lldpLocPortID, "513"), "513"),
		vInt(rem(lldpRemChassisIDSubtyp, "35684499.513.3"), 4), vHex(rem(lldpRemChassisID, "35684499.513.3"), "80711F123456"),
		vInt(rem(lldpRemPortIDSubtype, "35684499.513.3"), 3), vHex(rem(lldpRemPortID, "35684499.513.3"), "80711F123457"),
		vStr(rem(lldpRemSysName, "35684499.513.3"), "deviceb"),
		// Port 3: description is the long name.
		vInt(loc(lldpLocPortIDSubtype, "3"), 3), vHex(loc(lldpLocPortID, "3"), "001122334455"),
		vStr(loc(lldpLocPortDesc, "3"), "GigabitEthernet1/0/3"),
		vInt(rem(lldpRemChassisIDSubtyp, "0.3.1"), 5), vHex(rem(lldpRemChassisID, "0.3.1"), "01C0A80001"),
		vInt(rem(lldpRemPortIDSubtype, "0.3.1"), 7), vHex(rem(lldpRemPortID, "0.3.1"), "0102"),
		// Port 77: no lldpLocPortTable row and no such ifIndex.
		vInt(rem(lldpRemChassisIDSubtyp, "0.77.1"), 7), vStr(rem(lldpRemChassisID, "0.77.1"), "phone-1"),
		vStr(rem(lldpRemSysName, "0.77.1"), "SEP0011"),
		// Management address alone, for a neighbour we do not have: ignored.
		vInt(oidLldpRemManAddrEntry+".3.0.9.9.1.4.10.0.0.9", 2),
	}
	got := decodeLLDP(pdus, testIfaces)
	want := []Neighbor{
		{Protocol: "lldp", LocalPort: "Gi1/0/1", RemoteName: "core1", RemotePort: "xe-0/0/1", RemoteChassisID: "50:c5:8d:12:34:56", RemoteAddress: "10.0.0.1"},
		{Protocol: "lldp", LocalPort: "Gi1/0/3", RemotePort: "01:02", RemoteChassisID: "192.168.0.1"},
		{Protocol: "lldp", LocalPort: "port77", RemoteName: "SEP0011", RemoteChassisID: "phone-1"},
		{Protocol: "lldp", LocalPort: "ge-0/0/0", RemoteName: "deviceb", RemotePort: "80:71:1f:12:34:57", RemoteChassisID: "80:71:1f:12:34:56"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lldp:\n got %+v\nwant %+v", got, want)
	}
}

func TestDecodeCDP(t *testing.T) {
	c := func(col int, idx string) string { return oidCdpCacheEntry + "." + strconv.Itoa(col) + "." + idx }
	pdus := []gosnmp.SnmpPDU{
		vInt(c(cdpCacheAddressType, "10103.1"), 1), vHex(c(cdpCacheAddress, "10103.1"), "AC1B3154"),
		vStr(c(cdpCacheDeviceID, "10103.1"), "ap-1.example.net"), vStr(c(cdpCacheDevicePort, "10103.1"), "GigabitEthernet0"),
		vStr(c(8, "10103.1"), "cisco AIR-AP3802I"), // platform, not kept
		vInt(c(cdpCacheAddressType, "10101.7"), 1), vHex(c(cdpCacheAddress, "10101.7"), "0A364005"),
		vStr(c(cdpCacheDeviceID, "10101.7"), "core1"), vStr(c(cdpCacheDevicePort, "10101.7"), "TenGigabitEthernet1/1/1"),
		vStr(c(cdpCacheDeviceID, "999.1"), "lost"), // ifIndex unknown
	}
	got := decodeCDP(pdus, testIfaces)
	want := []Neighbor{
		{Protocol: "cdp", LocalPort: "ifIndex999", RemoteName: "lost"},
		{Protocol: "cdp", LocalPort: "Gi1/0/1", RemoteName: "core1", RemotePort: "TenGigabitEthernet1/1/1", RemoteAddress: "10.54.64.5"},
		{Protocol: "cdp", LocalPort: "Gi1/0/3", RemoteName: "ap-1.example.net", RemotePort: "GigabitEthernet0", RemoteAddress: "172.27.49.84"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cdp:\n got %+v\nwant %+v", got, want)
	}
}

func TestVendorAndOS(t *testing.T) {
	tests := []struct {
		objectID, descr, vendor, os string
	}{
		{"1.3.6.1.4.1.9.1.634", "Cisco IOS Software, C3560 Software (C3560-IPSERVICESK9-M), Version 12.2(55)SE12", "cisco", "ios"},
		{"1.3.6.1.4.1.9.1.1116", "Cisco IOS Software, ASR1000 Software (PPC_LINUX_IOSD-ADVENTERPRISEK9-M), Version 15.5(3)S1a", "cisco", "iosxe"},
		{"1.3.6.1.4.1.9.1.2494", "Cisco IOS Software [Fuji], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 16.9.4", "cisco", "iosxe"},
		{"1.3.6.1.4.1.9.12.3.1.3.1163", "Cisco NX-OS(tm) nxos.7.0.3.I7.8.bin, Software (nxos)", "cisco", "nxos"},
		{"1.3.6.1.4.1.9.1.1639", "Cisco IOS XR Software (Cisco ASR9K Series),  Version 6.6.3[Default]", "cisco", "iosxr"},
		{"1.3.6.1.4.1.9.1.2404", "Cisco Adaptive Security Appliance Version 9.12(2)", "cisco", "asa"},
		{"1.3.6.1.4.1.2636.1.1.1.2.90", "Juniper Networks, Inc. mx5-t internet router, kernel JUNOS 19.4R3.11", "juniper", "junos"},
		{"1.3.6.1.4.1.2636.1.1.1.2.39", "Juniper SRX240B gsm-fw", "juniper", "junos"},
		{"1.3.6.1.4.1.30065.1.3011.7050.1958.128", "Arista Networks EOS version 4.15.3F running on an Arista Networks DCS-7050TX-128", "arista", "eos"},
		{"1.3.6.1.4.1.2011.2.23.291", "S5720-56C-PWR-EI-AC\nHuawei Versatile Routing Platform Software", "huawei", "vrp"},
		{"1.3.6.1.4.1.25506.11.1.24", "HP Comware Platform Software, Software Version 5.20.99", "h3c", "comware"},
		{"1.3.6.1.4.1.12356.101.1.644", "Firewall Test150", "fortinet", "fortios"},
		{"1.3.6.1.4.1.25461.2.3.24", "Palo Alto Networks PA-5200 series firewall", "paloalto", "panos"},
		{"1.3.6.1.4.1.14988.1", "RouterOS RB750Gr3", "mikrotik", "routeros"},
		{"1.3.6.1.4.1.8072.3.2.10", "Linux host 6.1.0 #1 SMP x86_64", "net-snmp", "linux"},
		{"1.3.6.1.4.1.2620.1.6.123.1.64", "Linux vsx2 2.6.18-92cpx86_64", "checkpoint", "gaia"},
		{"1.0.3.0.6.0.1.0", "SonicWALL TZ 570 (SonicOS 7.0.1-R1456)", "", "sonicos"},
		{".1.3.6.1.4.1.99999.1", "Mystery box", "", ""},
	}
	for _, tt := range tests {
		v := vendorFromObjectID(tt.objectID)
		if v != tt.vendor {
			t.Errorf("vendor(%s) = %q, want %q", tt.objectID, v, tt.vendor)
		}
		if os := guessOS(v, tt.descr); os != tt.os {
			t.Errorf("os(%q) = %q, want %q", tt.descr, os, tt.os)
		}
	}
}
