package collector

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

func TestBuiltinProfiles(t *testing.T) {
	set, err := LoadProfiles("")
	if err != nil {
		t.Fatal(err)
	}
	// The vendors issue 3 names, by profile.
	for _, name := range []string{
		"generic", "linux", "cisco-ios", "cisco-iosxe", "cisco-nxos", "cisco-iosxr", "cisco-asa",
		"juniper-junos", "arista-eos", "huawei-vrp", "h3c-comware", "hpe-procurve", "aruba-cx",
		"mikrotik-routeros", "fortinet-fortigate", "paloalto-panos", "checkpoint-gaia",
		"sonicwall-sonicos", "ubiquiti-edgeos", "ubiquiti-edgeswitch", "dell-os10", "dell-dnos",
		"extreme-exos", "extreme-voss", "ruijie-rgos", "zte-zxr10", "hillstone-stoneos", "sangfor",
	} {
		p, ok := set.Lookup(name)
		if !ok {
			t.Errorf("no built-in profile %q", name)
			continue
		}
		if name != "generic" && (len(p.Match) == 0 || p.Vendor == "") {
			t.Errorf("%s: no match rules or vendor", name)
		}
	}
	// Inherited specs came through extends.
	xe, _ := set.Lookup("cisco-iosxe")
	ios, _ := set.Lookup("cisco-ios")
	if len(xe.CPU) == 0 || !reflect.DeepEqual(xe.CPU, ios.CPU) || xe.OS != "iosxe" {
		t.Errorf("cisco-iosxe did not inherit cisco-ios's CPU specs: %+v", xe.CPU)
	}
}

func TestSelectProfile(t *testing.T) {
	set := BuiltinProfiles()
	tests := []struct {
		objectID, descr, want string
	}{
		{"1.3.6.1.4.1.9.1.1208", "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.0(2a)EX5", "cisco-ios"},
		{".1.3.6.1.4.1.9.1.1116", "Cisco IOS Software, ASR1000 Software (PPC_LINUX_IOSD-ADVENTERPRISEK9-M), Version 15.5(3)S1a", "cisco-iosxe"},
		{"1.3.6.1.4.1.9.12.3.1.3.1163", "Cisco NX-OS(tm) n3000", "cisco-nxos"},
		{"1.3.6.1.4.1.9.1.1639", "Cisco IOS XR Software (Cisco ASR9K Series),  Version 6.6.3[Default]", "cisco-iosxr"},
		{"1.3.6.1.4.1.9.1.3055", "Cisco Firepower Threat Defense, Version 7.4.1.1 (Build 12)", "cisco-asa"},
		{"1.3.6.1.4.1.9.1.2404", "Cisco Adaptive Security Appliance Version 9.12(3)", "cisco-asa"},
		{"1.3.6.1.4.1.2636.1.1.1.2.90", "Juniper Networks, Inc. mx5-t internet router, kernel JUNOS 19.4R3.11", "juniper-junos"},
		{"1.3.6.1.4.1.1916.2.302", "VSP-7432CQ (8.0.5.0)", "extreme-voss"},
		{"1.3.6.1.4.1.1916.2.170", "ExtremeXOS (X460G2-24p-10G4) version 30.7.1.1", "extreme-exos"},
		{"1.0.3.0.6.0.1.0", "SonicWALL TZ 570 (SonicOS 7.0.1-R1456)", "sonicwall-sonicos"}, // bogus sysObjectID
		{"1.3.6.1.4.1.8072.3.2.10", "Linux fw1 5.10.0-21-amd64 #1 SMP Debian", "linux"},
		{"1.3.6.1.4.1.99999.1", "Linux box 4.19.0", "linux"}, // sysDescr fallback
		{"1.3.6.1.4.1.28557.1.1", "Hillstone Networks StoneOS", "hillstone-stoneos"},
		{"1.3.6.1.4.1.35047.1", "", "sangfor"},
		{"1.3.6.1.4.1.99999.1", "Some Appliance 1.0", "generic"},
		{"", "", "generic"},
	}
	for _, tt := range tests {
		if got := set.Select(tt.objectID, tt.descr).Name; got != tt.want {
			t.Errorf("Select(%q, %q) = %s, want %s", tt.objectID, tt.descr, got, tt.want)
		}
	}
}

func TestParseProfileErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "name: x\nmatch:\n  - sys_object_id: 1.3.6\n    sysdescr: foo\n", "p.yaml:4: field sysdescr not found"},
		{"bad OID", "name: x\ncpu:\n  - oid: 1.3.6.x\n", `p.yaml:3: "1.3.6.x" is not a numeric OID`},
		{"bad regexp", "match:\n  - sys_descr: '(('\n", "p.yaml:2: bad regexp"},
		{"bad status", "sensors:\n  - class: fan\n    status: 1.2.3\n    status_map: {1: fine}\n", `p.yaml:4: status 1 maps to "fine"`},
		{"status without map", "sensors:\n  - class: fan\n    status: 1.2.3\n", "status needs a status_map"},
		{"unknown class", "sensors:\n  - class: smell\n    value: 1.2.3\n", `unknown class "smell"`},
		{"table-only field on scalar", "cpu:\n  - oid: 1.2.3.0\n    require: 1.2.4\n", "need table: true"},
		{"memory without values", "memory:\n  - total: 1.2.3.0\n", "needs used, free or percent"},
		{"two sources in one", "serial:\n  - oid: 1.2.3.0\n    entity: true\n", "exactly one of"},
		{"unknown skip", "skip: [bgp]\n", `unknown module "bgp"`},
		{"second document", "name: x\n---\nname: y\n", "one profile per file"},
		{"syntax", "name: [x\n", "p.yaml:"},
		{"empty", "", "p.yaml:1: empty profile"},
		{"wrong type", "cpu: 5\n", "p.yaml:1: cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProfile("p.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadProfilesDirectory(t *testing.T) {
	write := func(dir, name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	// A user profile for a new vendor, and a replacement of a built-in.
	write(dir, "acme.yaml", "vendor: acme\nmatch:\n  - sys_object_id: 1.3.6.1.4.1.99999\ncpu:\n  - oid: 1.3.6.1.4.1.99999.1.0\n")
	write(dir, "mine.yaml", "name: cisco-ios\nvendor: cisco\nos: ios-custom\nmatch:\n  - sys_object_id: 1.3.6.1.4.1.9\n")
	write(dir, "notes.txt", "ignored: not yaml")
	set, err := LoadProfiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := set.Select("1.3.6.1.4.1.99999.5", ""); p.Name != "acme" || p.Vendor != "acme" {
		t.Errorf("acme device got profile %q", p.Name)
	}
	p := set.Select("1.3.6.1.4.1.9.1.1208", "Cisco IOS Software")
	if p.OS != "ios-custom" || len(p.CPU) != 0 {
		t.Errorf("cisco-ios not replaced: %+v", p)
	}
	// cisco-iosxe extends the replaced profile, so it sees the user's.
	if xe, _ := set.Lookup("cisco-iosxe"); len(xe.CPU) != 0 {
		t.Errorf("cisco-iosxe kept the built-in CPU specs after cisco-ios was replaced")
	}
	if _, ok := BuiltinProfiles().Lookup("acme"); ok {
		t.Error("a directory load changed the built-in set")
	}

	t.Run("errors name the file", func(t *testing.T) {
		bad := t.TempDir()
		write(bad, "broken.yaml", "name: x\nvendr: y\n")
		_, err := LoadProfiles(bad)
		if err == nil || !strings.Contains(err.Error(), filepath.Join(bad, "broken.yaml")+":2:") {
			t.Errorf("error %v, want file:line", err)
		}
	})
	t.Run("two files one name", func(t *testing.T) {
		d := t.TempDir()
		write(d, "a.yaml", "name: same\n")
		write(d, "b.yaml", "name: same\n")
		if _, err := LoadProfiles(d); err == nil || !strings.Contains(err.Error(), "also defined") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("extends cycle and unknown", func(t *testing.T) {
		d := t.TempDir()
		write(d, "a.yaml", "name: a\nextends: b\n")
		write(d, "b.yaml", "name: b\nextends: a\n")
		if _, err := LoadProfiles(d); err == nil || !strings.Contains(err.Error(), "cycle") {
			t.Errorf("cycle: error %v", err)
		}
		d2 := t.TempDir()
		write(d2, "a.yaml", "name: a\nextends: nope\n")
		if _, err := LoadProfiles(d2); err == nil || !strings.Contains(err.Error(), `unknown profile "nope"`) {
			t.Errorf("unknown: error %v", err)
		}
	})
	t.Run("missing dir", func(t *testing.T) {
		if _, err := LoadProfiles(filepath.Join(dir, "nope")); err != nil {
			t.Errorf("a missing directory has no files, got %v", err)
		}
	})
}

// testProfile exercises every kind of spec on canned varbinds.
const testProfileYAML = `
name: test
vendor: test
match:
  - sys_object_id: 1.3.6.1.4.1.99999
cpu:
  - table: true
    oid: 1.9.1.1.2
    name_column: 1.9.1.1.3
    require: 1.9.1.1.4
  - oid: 1.9.2.0
    name: fallback
    fallback: true
  - oid: 1.9.3.0
    idle: true
    name: idle
  - oid: 1.9.4.0
    value_regexp: '5 Secs \(\s*([0-9.]+)%'
    name: text
  - table: true
    oid: 1.9.5.1.2
    divisor: 100
    index_match: '\.300$'
    index_entity: true
memory:
  - used: 1.9.10.1.0
    free: 1.9.10.2.0
    name: used+free
  - free: 1.9.11.1.0
    total: 1.9.11.2.0
    units: 1024
    name: free+total
  - percent: 1.9.12.1.0
    total: 1.9.12.2.0
    units: 1048576
    name: pct+total
  - percent: 1.9.13.1.0
    name: pct
  - free: 1.9.14.1.0
    total: 1.9.14.2.0
    name: free>total
sensors:
  - class: psu
    table: true
    status: 1.9.20.1.2
    name: 'psu {index}'
    status_map: {1: ok, 2: failed, 5: absent}
  - class: temperature
    table: true
    value: 1.9.21.1.2
    divisor: 10
    name_entity: 1.9.21.1.3
serial:
  - oid: 1.9.30.0
  - entity: true
model:
  - column: 1.9.31.1.2
firmware:
  - descr: 'Version (\S+)'
`

func TestApplyProfile(t *testing.T) {
	p, err := ParseProfile("test.yaml", []byte(testProfileYAML))
	if err != nil {
		t.Fatal(err)
	}
	plan := p.fetchPlan()
	scalars := []gosnmp.SnmpPDU{
		vGauge(".1.9.3.0", 87),
		vStr(".1.9.4.0", "5 Secs ( 31.5%)   60 Secs ( 16.7%)"),
		vGauge(".1.9.10.1.0", 300), vGauge(".1.9.10.2.0", 700),
		vInt(".1.9.11.1.0", 768), vInt(".1.9.11.2.0", 1024),
		vInt(".1.9.12.1.0", 25), vInt(".1.9.12.2.0", 2048),
		vInt(".1.9.13.1.0", 47),
		vInt(".1.9.14.1.0", 9), vInt(".1.9.14.2.0", 5), // nonsense: dropped
		vStr(".1.9.30.0", "NA"), // placeholder: falls through to the entity serial
	}
	walked := []gosnmp.SnmpPDU{
		vGauge(".1.9.1.1.2.1", 10), vStr(".1.9.1.1.3.1", "RE0"), vInt(".1.9.1.1.4.1", 1),
		vGauge(".1.9.1.1.2.2", 20), vStr(".1.9.1.1.3.2", "PIC"), vInt(".1.9.1.1.4.2", 0), // require 0: dropped
		vGauge(".1.9.5.1.2.7.1.60", 1500), vGauge(".1.9.5.1.2.7.1.300", 1234),
		vInt(".1.9.20.1.2.1", 1), vInt(".1.9.20.1.2.2", 5), vInt(".1.9.20.1.2.3", 2),
		vInt(".1.9.21.1.2.4", 415), vInt(".1.9.21.1.3.4", 7),
		vStr(".1.9.31.1.2.2", "MODEL-B"), vStr(".1.9.31.1.2.1", ""),
	}
	for _, o := range plan.scalars {
		if !strings.HasPrefix(o, ".1.9.") {
			t.Errorf("scalar %q not normalised", o)
		}
	}
	snap := newSnapshot("x", t0)
	snap.System.Descr = "TestOS Version 1.2.3"
	snap.Serial = "ENT-SERIAL"
	snap.Entities = []Entity{{Index: 7, Name: "slot 7"}}
	applyProfile(p, newProfileData(plan.columns, scalars, walked), snap)

	wantCPU := []CPU{{"RE0", 10}, {"idle", 13}, {"text", 31.5}, {"slot 7", 12.34}}
	if !reflect.DeepEqual(snap.CPU, wantCPU) {
		t.Errorf("cpu = %+v\nwant %+v", snap.CPU, wantCPU)
	}
	wantMem := []Memory{
		{Name: "used+free", UsedBytes: 300, TotalBytes: 1000, Percent: 30, Class: "system"},
		{Name: "free+total", UsedBytes: 256 * 1024, TotalBytes: 1024 * 1024, Percent: 25, Class: "system"},
		{Name: "pct+total", UsedBytes: 512 << 20, TotalBytes: 2048 << 20, Percent: 25, Class: "system"},
		{Name: "pct", Percent: 47, Class: "system"},
	}
	if !reflect.DeepEqual(snap.Memory, wantMem) {
		t.Errorf("memory = %+v\nwant %+v", snap.Memory, wantMem)
	}
	wantSensors := []Sensor{
		{Class: "psu", Name: "psu 1", Unit: "", Status: "ok"},
		{Class: "psu", Name: "psu 3", Unit: "", Status: "failed"},
		{Class: "temperature", Name: "slot 7", Value: 41.5, Unit: "celsius", Status: "unknown"},
	}
	if !reflect.DeepEqual(snap.Sensors, wantSensors) {
		t.Errorf("sensors = %+v\nwant %+v", snap.Sensors, wantSensors)
	}
	if snap.Serial != "ENT-SERIAL" || snap.Model != "MODEL-B" || snap.Firmware != "1.2.3" {
		t.Errorf("identity = %q %q %q", snap.Serial, snap.Model, snap.Firmware)
	}

	t.Run("fallback when nothing else read", func(t *testing.T) {
		s := newSnapshot("x", t0)
		applyProfile(p, newProfileData(plan.columns, []gosnmp.SnmpPDU{vGauge(".1.9.2.0", 5)}, nil), s)
		if want := []CPU{{"fallback", 5}}; !reflect.DeepEqual(s.CPU, want) {
			t.Errorf("cpu = %+v, want %+v", s.CPU, want)
		}
		// HOST-RESOURCES readings already there stop the fallback and stay.
		s = newSnapshot("x", t0)
		s.CPU = []CPU{{"cpu1", 3}}
		applyProfile(p, newProfileData(plan.columns, []gosnmp.SnmpPDU{vGauge(".1.9.2.0", 5)}, nil), s)
		if want := []CPU{{"cpu1", 3}}; !reflect.DeepEqual(s.CPU, want) {
			t.Errorf("cpu = %+v, want %+v", s.CPU, want)
		}
	})
}

func TestDetectReplacement(t *testing.T) {
	snap := func(serial, model string) *Snapshot { return &Snapshot{Serial: serial, Model: model} }
	tests := []struct {
		name      string
		prev, cur *Snapshot
		want      *Replacement
	}{
		{"swapped", snap("FOC1", "WS-C2960X"), snap("FOC2", "WS-C2960X"), &Replacement{"FOC1", "FOC2", "WS-C2960X", "WS-C2960X"}},
		{"same", snap("FOC1", "A"), snap("FOC1", "A"), nil},
		{"case and blanks only", snap("foc1 ", "A"), snap("FOC1", "A"), nil},
		{"first poll", nil, snap("FOC1", "A"), nil},
		{"unreachable now", snap("FOC1", "A"), snap("", ""), nil},
		{"serial appears", snap("", "A"), snap("FOC1", "A"), nil},
		{"placeholder", snap("N/A", "A"), snap("FOC1", "A"), nil},
		{"model changes too", snap("FOC1", "A"), snap("FOC9", "B"), &Replacement{"FOC1", "FOC9", "A", "B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DetectReplacement(tt.prev, tt.cur); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzLoadProfile(f *testing.F) {
	entries, err := builtinProfiles.ReadDir("profiles")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		b, err := builtinProfiles.ReadFile("profiles/" + e.Name())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(testProfileYAML))
	f.Add([]byte(identityProfileYAML))
	f.Add([]byte("cpu:\n  - oid: 1.2\n    table: true\n    index_match: '('\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml:") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		// A profile that loads must be usable without panicking.
		plan := p.fetchPlan()
		set := &ProfileSet{profiles: []*Profile{p}, generic: &Profile{Name: "generic"}}
		set.Select("1.3.6.1.4.1.9.1.1", "Cisco IOS")
		var pdus []gosnmp.SnmpPDU
		for _, o := range plan.scalars {
			pdus = append(pdus, vStr(o, "42"))
		}
		var walked []gosnmp.SnmpPDU
		for _, c := range plan.columns {
			walked = append(walked, vInt(c+".1", 7), vInt(c+".2.300", -1))
		}
		applyProfile(p, newProfileData(plan.columns, pdus, walked), newSnapshot("x", t0))
	})
}

// Scale and precision columns (CISCO-ENTITY-SENSOR-MIB layout), offset,
// min/max bounds and value_regexp on non-UTF-8 text.
func TestProfileSensorScaling(t *testing.T) {
	p, err := ParseProfile("scale.yaml", []byte(`
name: scale
match: [{sys_object_id: 1.9}]
sensors:
  - class: temperature
    table: true
    value: 1.9.1.4
    scale: 1.9.1.2
    precision: 1.9.1.3
    where: {column: 1.9.1.1, match: '^8$'}
    skip_values: [-127]
    index_entity: true
  - class: temperature
    table: true
    value: 1.9.2
    divisor: 256
    offset: -128
    max: 200
    name: 'sfp {index}'
  - class: temperature
    value: 1.9.3.0
    value_regexp: '^\s*(-?[0-9.]+)'
    name: text
`))
	if err != nil {
		t.Fatal(err)
	}
	plan := p.fetchPlan()
	walked := []gosnmp.SnmpPDU{
		vInt(".1.9.1.1.10", 8), vInt(".1.9.1.2.10", 8), vInt(".1.9.1.3.10", 0), vInt(".1.9.1.4.10", 27835), // milli: 27.835
		vInt(".1.9.1.1.11", 8), vInt(".1.9.1.2.11", 9), vInt(".1.9.1.3.11", 1), vInt(".1.9.1.4.11", 346), // units, 1 digit
		vInt(".1.9.1.1.12", 8), vInt(".1.9.1.2.12", 9), vInt(".1.9.1.3.12", 1615384784), vInt(".1.9.1.4.12", 41), // bogus precision ignored
		vInt(".1.9.1.1.13", 8), vInt(".1.9.1.2.13", 9), vInt(".1.9.1.3.13", 0), vInt(".1.9.1.4.13", -127), // no reading
		vInt(".1.9.1.1.14", 4), vInt(".1.9.1.2.14", 8), vInt(".1.9.1.3.14", 0), vInt(".1.9.1.4.14", 12000), // volts: not this class
		vInt(".1.9.2.1", 41331), vInt(".1.9.2.2", 65535*256), // 33.45 °C; far out of range
	}
	scalars := []gosnmp.SnmpPDU{{Name: ".1.9.3.0", Type: gosnmp.OctetString, Value: []byte(" 61\xa2XC")}}
	snap := newSnapshot("x", t0)
	snap.Entities = []Entity{{Index: 11, Name: "Gi1/0/52 Module"}}
	applyProfile(p, newProfileData(plan.columns, scalars, walked), snap)
	var got []string
	for _, s := range snap.Sensors {
		got = append(got, fmt.Sprintf("%s=%.4g", s.Name, s.Value))
	}
	want := []string{"temperature 10=27.84", "Gi1/0/52 Module=34.6", "temperature 12=41", "sfp 1=33.45", "text=61"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sensors = %q\nwant %q", got, want)
	}
}
