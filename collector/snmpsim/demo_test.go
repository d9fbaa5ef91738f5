package snmpsim

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func startDemo(t *testing.T) (*Simulator, *fakeClock, map[string]DeviceInfo) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	sim := New(Options{Now: clock.Now})
	t.Cleanup(func() { sim.Close() })
	infos, err := sim.AddDemoNetwork(context.Background(), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]DeviceInfo{}
	for _, i := range infos {
		m[i.Name] = i
	}
	return sim, clock, m
}

func demoClient(t testing.TB, info DeviceInfo) *gosnmp.GoSNMP {
	t.Helper()
	return newClient(t, info, DemoCommunity, gosnmp.Version2c, 2*time.Second)
}

func get(t testing.TB, c *gosnmp.GoSNMP, oid string) gosnmp.SnmpPDU {
	t.Helper()
	resp, err := c.Get([]string{oid})
	if err != nil {
		t.Fatalf("GET %s: %v", oid, err)
	}
	if resp.Error != gosnmp.NoError || len(resp.Variables) != 1 {
		t.Fatalf("GET %s: error %v, %d varbinds", oid, resp.Error, len(resp.Variables))
	}
	return resp.Variables[0]
}

func getUint(t testing.TB, c *gosnmp.GoSNMP, oid string) uint64 {
	t.Helper()
	p := get(t, c, oid)
	if p.Type == gosnmp.Integer {
		return uint64(p.Value.(int))
	}
	if p.Type != gosnmp.Counter32 && p.Type != gosnmp.Counter64 && p.Type != gosnmp.Gauge32 && p.Type != gosnmp.TimeTicks {
		t.Fatalf("GET %s: type %v", oid, p.Type)
	}
	return gosnmp.ToBigInt(p.Value).Uint64()
}

func getString(t testing.TB, c *gosnmp.GoSNMP, oid string) string {
	t.Helper()
	p := get(t, c, oid)
	b, ok := p.Value.([]byte)
	if !ok {
		t.Fatalf("GET %s: %s is not a string", oid, vbString(p))
	}
	return string(b)
}

func TestDemoNetworkTable(t *testing.T) {
	want := []struct {
		name, customer, site, role, vendor, model, upstream string
	}{
		{"acme-core-1", "acme", "acme-hq", "core", "Cisco", "C9500-24Y4C", ""},
		{"acme-dist-1", "acme", "acme-hq", "distribution", "Cisco", "C9300-48P", "acme-core-1"},
		{"acme-dist-2", "acme", "acme-hq", "distribution", "Cisco", "C9300-48P", "acme-core-1"},
		{"acme-acc-1", "acme", "acme-hq", "access", "Cisco", "C9200-24T", "acme-dist-1"},
		{"acme-acc-2", "acme", "acme-hq", "access", "Cisco", "C9200-24T", "acme-dist-1"},
		{"acme-acc-3", "acme", "acme-hq", "access", "Cisco", "C9200-24T", "acme-dist-2"},
		{"acme-fw-1", "acme", "acme-hq", "firewall", "Fortinet", "FortiGate-100F", "acme-core-1"},
		{"globex-edge-1", "globex", "globex-branch", "edge", "Juniper", "MX204", ""},
		{"globex-fw-1", "globex", "globex-branch", "firewall", "Palo Alto Networks", "PA-440", "globex-edge-1"},
		{"globex-sw-1", "globex", "globex-branch", "access", "Aruba", "6100", "globex-fw-1"},
	}
	enterprise := map[string]string{
		"Cisco": "1.3.6.1.4.1.9.1.", "Juniper": "1.3.6.1.4.1.2636.1.1.1.2.", "Fortinet": "1.3.6.1.4.1.12356.101.1.",
		"Palo Alto Networks": "1.3.6.1.4.1.25461.2.3.", "Aruba": "1.3.6.1.4.1.47196.4.1.1.1.",
	}
	serialFormat := map[string]*regexp.Regexp{
		"Cisco": regexp.MustCompile(`^FCW2233[0-9A-Z]{4}$`), "Juniper": regexp.MustCompile(`^JN[0-9A-F]{10}$`),
		"Fortinet": regexp.MustCompile(`^FG100FTK\d{8}$`), "Palo Alto Networks": regexp.MustCompile(`^0241\d{8}$`),
		"Aruba": regexp.MustCompile(`^SG[0-9A-Z]{8}$`),
	}
	devs := DemoNetwork()
	if len(devs) != len(want) {
		t.Fatalf("%d demo devices, want %d", len(devs), len(want))
	}
	serials := map[string]string{}
	for i, w := range want {
		d := devs[i]
		got := []string{d.Name, d.Customer, d.Site, d.Role, d.Vendor, d.Model, strings.Join(d.Upstream, ",")}
		if exp := []string{w.name, w.customer, w.site, w.role, w.vendor, w.model, w.upstream}; !slices.Equal(got, exp) {
			t.Errorf("device %d = %v, want %v", i, got, exp)
		}
		if !strings.HasPrefix(d.SysObjectID, enterprise[d.Vendor]) {
			t.Errorf("%s sysObjectID %s not under %s", d.Name, d.SysObjectID, enterprise[d.Vendor])
		}
		if !serialFormat[d.Vendor].MatchString(d.Serial) {
			t.Errorf("%s serial %q does not look like a %s serial", d.Name, d.Serial, d.Vendor)
		}
		if other, dup := serials[d.Serial]; dup {
			t.Errorf("%s and %s share serial %s", d.Name, other, d.Serial)
		}
		serials[d.Serial] = d.Name
		if w.upstream != "" {
			p := d.Ports[0]
			if d.UplinkIfIndex != 1 || p.Use != UseUplink || p.Peer != w.upstream || p.Alias != "uplink to "+w.upstream {
				t.Errorf("%s port 1 = %+v (uplink ifIndex %d), want the uplink to %s", d.Name, p, d.UplinkIfIndex, w.upstream)
			}
		} else if d.UplinkIfIndex != 0 || d.Ports[0].Use != UseWAN {
			t.Errorf("%s has no upstream but port 1 = %+v, uplink ifIndex %d", d.Name, d.Ports[0], d.UplinkIfIndex)
		}
		// Every link's far end points back.
		for _, p := range d.Ports {
			if p.Peer == "" {
				continue
			}
			far := devs[indexOfDemo(devs, p.Peer)].Ports[p.PeerIfIndex-1]
			if far.Peer != d.Name || far.PeerIfIndex != p.IfIndex || far.SpeedMbps != p.SpeedMbps {
				t.Errorf("%s ifIndex %d -> %s ifIndex %d, which points to %s ifIndex %d", d.Name, p.IfIndex, p.Peer, p.PeerIfIndex, far.Peer, far.PeerIfIndex)
			}
		}
		// Children hang off downlinks.
		for _, c := range want {
			if c.upstream == d.Name && !slices.ContainsFunc(d.Ports, func(p DemoPort) bool {
				return p.Use == UseDownlink && p.Peer == c.name && p.Alias == "downlink to "+c.name
			}) {
				t.Errorf("%s has no downlink to %s", d.Name, c.name)
			}
		}
	}
}

func TestDemoDevicesOverSNMP(t *testing.T) {
	_, clock, infos := startDemo(t)
	if len(infos) != 10 {
		t.Fatalf("%d devices started", len(infos))
	}
	for _, d := range DemoNetwork() {
		t.Run(d.Name, func(t *testing.T) {
			info := infos[d.Name]
			if info.Kind != KindSynthetic || info.Community != "public" || info.Serial != d.Serial || info.Model != d.Model ||
				info.Role != d.Role || info.UplinkIfIndex != d.UplinkIfIndex || !slices.Equal(info.Upstream, d.Upstream) {
				t.Errorf("DeviceInfo = %+v", info)
			}
			c := demoClient(t, info)
			if got := getString(t, c, ".1.3.6.1.2.1.1.5.0"); got != d.Name {
				t.Errorf("sysName = %q", got)
			}
			if got := get(t, c, ".1.3.6.1.2.1.1.2.0").Value; got != "."+d.SysObjectID {
				t.Errorf("sysObjectID = %v", got)
			}
			if got := getString(t, c, ".1.3.6.1.2.1.1.1.0"); got != d.SysDescr || got == "" {
				t.Errorf("sysDescr = %q", got)
			}
			up1 := getUint(t, c, ".1.3.6.1.2.1.1.3.0")
			clock.Advance(90 * time.Second)
			if up2 := getUint(t, c, ".1.3.6.1.2.1.1.3.0"); up2 != up1+9000 {
				t.Errorf("sysUpTime went from %d to %d over 90 s, want +9000", up1, up2)
			}

			// ENTITY-MIB: chassis with model and serial, PSU, fan.
			if cls := getUint(t, c, ".1.3.6.1.2.1.47.1.1.1.1.5.1"); cls != 3 {
				t.Errorf("entPhysicalClass.1 = %d, want chassis (3)", cls)
			}
			if got := getString(t, c, ".1.3.6.1.2.1.47.1.1.1.1.11.1"); got != d.Serial {
				t.Errorf("chassis serial = %q, want %q", got, d.Serial)
			}
			if got := getString(t, c, ".1.3.6.1.2.1.47.1.1.1.1.13.1"); got != d.Model {
				t.Errorf("chassis model = %q", got)
			}
			for idx, class := range map[int]uint64{entPSU: 6, entFan: 7, entSensor: 8} {
				if got := getUint(t, c, fmt.Sprintf(".1.3.6.1.2.1.47.1.1.1.1.5.%d", idx)); got != class {
					t.Errorf("entPhysicalClass.%d = %d, want %d", idx, got, class)
				}
			}

			// HOST-RESOURCES-MIB: two CPUs at 10-30%, RAM in hrStorageTable.
			for _, idx := range cpuIndexes {
				if load := getUint(t, c, fmt.Sprintf(".1.3.6.1.2.1.25.3.3.1.2.%d", idx)); load < 10 || load > 30 {
					t.Errorf("hrProcessorLoad.%d = %d", idx, load)
				}
			}
			if typ := get(t, c, ".1.3.6.1.2.1.25.2.3.1.2.1").Value; typ != ".1.3.6.1.2.1.25.2.1.2" {
				t.Errorf("hrStorageType.1 = %v", typ)
			}
			units, size, used := getUint(t, c, ".1.3.6.1.2.1.25.2.3.1.4.1"), getUint(t, c, ".1.3.6.1.2.1.25.2.3.1.5.1"), getUint(t, c, ".1.3.6.1.2.1.25.2.3.1.6.1")
			if units != 1024 || size == 0 || used < size*35/100 || used > size*55/100 {
				t.Errorf("RAM units %d size %d used %d", units, size, used)
			}

			// ENTITY-SENSOR-MIB on the sensor entity.
			sensor := func(col int) uint64 { return getUint(t, c, fmt.Sprintf(".1.3.6.1.2.1.99.1.1.1.%d.%d", col, entSensor)) }
			if typ, scale, prec, val, status := sensor(1), sensor(2), sensor(3), sensor(4), sensor(5); typ != 8 || scale != 9 || prec != 0 || val < 37 || val > 43 || status != 1 {
				t.Errorf("sensor type %d scale %d precision %d value %d status %d", typ, scale, prec, val, status)
			}

			// IF-MIB: names, aliases, admin/oper status by use.
			for _, p := range d.Ports {
				if got := getString(t, c, fmt.Sprintf(".1.3.6.1.2.1.31.1.1.1.1.%d", p.IfIndex)); got != p.Name {
					t.Errorf("ifName.%d = %q, want %q", p.IfIndex, got, p.Name)
				}
				if got := getString(t, c, fmt.Sprintf(".1.3.6.1.2.1.31.1.1.1.18.%d", p.IfIndex)); got != p.Alias {
					t.Errorf("ifAlias.%d = %q, want %q", p.IfIndex, got, p.Alias)
				}
				want := uint64(1)
				if p.Use == UseUnused {
					want = 2
				}
				admin, oper := getUint(t, c, fmt.Sprintf(".1.3.6.1.2.1.2.2.1.7.%d", p.IfIndex)), getUint(t, c, fmt.Sprintf(".1.3.6.1.2.1.2.2.1.8.%d", p.IfIndex))
				if admin != want || oper != want {
					t.Errorf("ifIndex %d (%s): admin %d oper %d, want %d", p.IfIndex, p.Use, admin, oper, want)
				}
				if hs := getUint(t, c, fmt.Sprintf(".1.3.6.1.2.1.31.1.1.1.15.%d", p.IfIndex)); hs != p.SpeedMbps {
					t.Errorf("ifHighSpeed.%d = %d", p.IfIndex, hs)
				}
			}
		})
	}
}

func TestDemoCountersAdvance(t *testing.T) {
	_, clock, infos := startDemo(t)
	acc, dist := demoClient(t, infos["acme-acc-1"]), demoClient(t, infos["acme-dist-1"])
	devs := DemoNetwork()
	accPort := devs[indexOfDemo(devs, "acme-acc-1")].Ports[0]
	distIf := accPort.PeerIfIndex
	hc := func(c *gosnmp.GoSNMP, col, ifIndex int) uint64 {
		return getUint(t, c, fmt.Sprintf(".1.3.6.1.2.1.31.1.1.1.%d.%d", col, ifIndex))
	}
	const hcIn, hcOut, hcInUcast = 6, 10, 7

	in0, out0, pk0 := hc(acc, hcIn, 1), hc(acc, hcOut, 1), hc(acc, hcInUcast, 1)
	// The two ends of a link agree: one's out is the other's in.
	if far := hc(dist, hcIn, distIf); far != out0 {
		t.Errorf("acme-acc-1 out %d != acme-dist-1 in %d", out0, far)
	}
	// Without the clock moving, nothing moves.
	if again := hc(acc, hcIn, 1); again != in0 {
		t.Errorf("counter moved without time passing: %d -> %d", in0, again)
	}
	clock.Advance(5 * time.Minute)
	in1, out1, pk1 := hc(acc, hcIn, 1), hc(acc, hcOut, 1), hc(acc, hcInUcast, 1)
	speed := float64(accPort.SpeedMbps) * 1e6 / 8
	for name, d := range map[string]uint64{"in": in1 - in0, "out": out1 - out0} {
		rate := float64(d) / 300
		if rate < 0.02*0.7*speed || rate > 0.15*1.3*speed {
			t.Errorf("%s rate %.0f B/s outside 2-15%% of %d Mb/s with ±30%% swing", name, rate, accPort.SpeedMbps)
		}
	}
	if pk1 <= pk0 {
		t.Errorf("ifHCInUcastPkts did not advance: %d -> %d", pk0, pk1)
	}
	if in1 <= in0 || uint32(in1) != uint32(getUint(t, acc, ".1.3.6.1.2.1.2.2.1.10.1")) {
		t.Errorf("ifInOctets is not the low 32 bits of ifHCInOctets")
	}
	if far := hc(dist, hcIn, distIf); far != out1 {
		t.Errorf("after 5 min: acme-acc-1 out %d != acme-dist-1 in %d", out1, far)
	}
	// Ports differ in rate: the generator is not one number for all.
	if hc(acc, hcIn, 2) == in1 {
		t.Error("two ports have the same counter")
	}
	// Unused ports carry no traffic.
	devAcc := devs[indexOfDemo(devs, "acme-acc-1")]
	unused := devAcc.Ports[len(devAcc.Ports)-1]
	if unused.Use != UseUnused || hc(acc, hcIn, unused.IfIndex) != 0 {
		t.Errorf("unused port %+v has traffic", unused)
	}

	// A second simulator started at the same time sees the same counters.
	clock2 := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	sim2 := New(Options{Now: clock2.Now})
	defer sim2.Close()
	infos2, err := sim2.AddDemoNetwork(context.Background(), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	clock2.Advance(5 * time.Minute)
	if got := hc(demoClient(t, infos2[3]), hcIn, 1); got != in1 {
		t.Errorf("counters are not deterministic: %d vs %d", got, in1)
	}
}

// lldpNeighbours walks lldpRemTable and returns "localPortName -> sysName/portId".
func lldpNeighbours(t *testing.T, c *gosnmp.GoSNMP) []string {
	t.Helper()
	rem, err := c.BulkWalkAll(".1.0.8802.1.1.2.1.4.1.1")
	if err != nil {
		t.Fatal(err)
	}
	loc, err := c.BulkWalkAll(".1.0.8802.1.1.2.1.3.7.1.3")
	if err != nil {
		t.Fatal(err)
	}
	locName := map[string]string{}
	for _, p := range loc {
		locName[p.Name[strings.LastIndex(p.Name, ".")+1:]] = string(p.Value.([]byte))
	}
	type row struct{ sys, port string }
	rows := map[string]*row{}
	for _, p := range rem {
		rest := strings.TrimPrefix(p.Name, ".1.0.8802.1.1.2.1.4.1.1.")
		col, idx, _ := strings.Cut(rest, ".")
		parts := strings.Split(idx, ".") // timeMark.localPortNum.index
		if len(parts) != 3 {
			t.Fatalf("lldpRemTable index %q", idx)
		}
		r := rows[parts[1]]
		if r == nil {
			r = &row{}
			rows[parts[1]] = r
		}
		switch col {
		case "9":
			r.sys = string(p.Value.([]byte))
		case "7":
			r.port = string(p.Value.([]byte))
		}
	}
	var out []string
	for port, r := range rows {
		out = append(out, locName[port]+" -> "+r.sys+"/"+r.port)
	}
	sort.Strings(out)
	return out
}

func expectedNeighbours(d DemoDevice, down map[string]bool) []string {
	devs := DemoNetwork()
	var out []string
	for _, p := range d.Ports {
		if p.Peer == "" || down[d.Name+"/"+p.Name] {
			continue
		}
		far := devs[indexOfDemo(devs, p.Peer)].Ports[p.PeerIfIndex-1]
		out = append(out, p.Name+" -> "+p.Peer+"/"+far.Name)
	}
	sort.Strings(out)
	return out
}

func TestDemoLLDPMatchesTopology(t *testing.T) {
	_, _, infos := startDemo(t)
	for _, d := range DemoNetwork() {
		got := lldpNeighbours(t, demoClient(t, infos[d.Name]))
		if want := expectedNeighbours(d, nil); !slices.Equal(got, want) || len(got) == 0 {
			t.Errorf("%s LLDP neighbours:\n%s\nwant:\n%s", d.Name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestDemoSetAdminStatus(t *testing.T) {
	_, clock, infos := startDemo(t)
	acc := demoClient(t, infos["acme-acc-1"])
	dist := demoClient(t, infos["acme-dist-1"])
	devs := DemoNetwork()
	distIf := devs[indexOfDemo(devs, "acme-acc-1")].Ports[0].PeerIfIndex
	set := func(c *gosnmp.GoSNMP, vbs ...gosnmp.SnmpPDU) *gosnmp.SnmpPacket {
		t.Helper()
		resp, err := c.Set(vbs)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	admin := func(i int) string { return fmt.Sprintf(".1.3.6.1.2.1.2.2.1.7.%d", i) }
	oper := func(i int) string { return fmt.Sprintf(".1.3.6.1.2.1.2.2.1.8.%d", i) }
	intVB := func(oid string, v int) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.Integer, Value: v}
	}

	errCases := []struct {
		name      string
		version   gosnmp.SnmpVersion
		vbs       []gosnmp.SnmpPDU
		wantErr   gosnmp.SNMPError
		wantIndex uint8
	}{
		{"wrong type", gosnmp.Version2c, []gosnmp.SnmpPDU{{Name: admin(3), Type: gosnmp.OctetString, Value: []byte("down")}}, gosnmp.WrongType, 1},
		{"wrong value", gosnmp.Version2c, []gosnmp.SnmpPDU{intVB(admin(3), 3)}, gosnmp.WrongValue, 1},
		{"v1 bad value", gosnmp.Version1, []gosnmp.SnmpPDU{intVB(admin(3), 7)}, gosnmp.BadValue, 1},
		{"not writable", gosnmp.Version2c, []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.5.0", Type: gosnmp.OctetString, Value: []byte("x")}}, gosnmp.NotWritable, 1},
		{"no such port", gosnmp.Version2c, []gosnmp.SnmpPDU{intVB(admin(99), 2)}, gosnmp.NotWritable, 1},
		{"v1 no such port", gosnmp.Version1, []gosnmp.SnmpPDU{intVB(admin(99), 2)}, gosnmp.NoSuchName, 1},
		{"atomic: second varbind fails", gosnmp.Version2c, []gosnmp.SnmpPDU{intVB(admin(3), 2), intVB(oper(3), 2)}, gosnmp.NotWritable, 2},
	}
	for _, tt := range errCases {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, infos["acme-acc-1"], "public", tt.version, 2*time.Second)
			resp := set(c, tt.vbs...)
			if resp.Error != tt.wantErr || resp.ErrorIndex != tt.wantIndex {
				t.Errorf("error %v index %d, want %v index %d", resp.Error, resp.ErrorIndex, tt.wantErr, tt.wantIndex)
			}
			if got := getUint(t, acc, admin(3)); got != 1 {
				t.Errorf("a failed SET changed ifAdminStatus.3 to %d", got)
			}
		})
	}

	t.Run("user port down and up", func(t *testing.T) {
		if resp := set(acc, intVB(admin(3), 2)); resp.Error != gosnmp.NoError || vbString(resp.Variables[0]) != admin(3)+"=Integer:2" {
			t.Fatalf("SET: %v %s", resp.Error, vbStrings(resp.Variables))
		}
		if a, o := getUint(t, acc, admin(3)), getUint(t, acc, oper(3)); a != 2 || o != 2 {
			t.Errorf("after SET 2: admin %d oper %d", a, o)
		}
		set(acc, intVB(admin(3), 1))
		if a, o := getUint(t, acc, admin(3)), getUint(t, acc, oper(3)); a != 1 || o != 1 {
			t.Errorf("after SET 1: admin %d oper %d", a, o)
		}
	})

	t.Run("uplink down takes the far end down", func(t *testing.T) {
		last := getUint(t, dist, fmt.Sprintf(".1.3.6.1.2.1.2.2.1.9.%d", distIf))
		clock.Advance(time.Minute)
		set(acc, intVB(admin(1), 2))
		if o := getUint(t, dist, oper(distIf)); o != 2 {
			t.Errorf("far end oper %d after the uplink was shut", o)
		}
		if a := getUint(t, dist, admin(distIf)); a != 1 {
			t.Errorf("far end admin %d, want it untouched", a)
		}
		if now := getUint(t, dist, fmt.Sprintf(".1.3.6.1.2.1.2.2.1.9.%d", distIf)); now <= last {
			t.Errorf("far end ifLastChange %d did not advance past %d", now, last)
		}
		set(acc, intVB(admin(1), 1))
		if o := getUint(t, dist, oper(distIf)); o != 1 {
			t.Errorf("far end oper %d after no shut", o)
		}
	})
}

func TestDemoNoSuchNameOnV1ForHC(t *testing.T) {
	_, _, infos := startDemo(t)
	c := newClient(t, infos["globex-sw-1"], "public", gosnmp.Version1, 2*time.Second)
	resp, err := c.GetNext([]string{".1.3.6.1.2.1.31.1.1.1.5.12"}) // last ifOutBroadcastPkts
	if err != nil {
		t.Fatal(err)
	}
	// v1 skips the eight HC columns straight to ifLinkUpDownTrapEnable.
	if got := vbString(resp.Variables[0]); got != ".1.3.6.1.2.1.31.1.1.1.14.1=Integer:1" {
		t.Errorf("v1 GETNEXT past ifXTable column 5 = %s", got)
	}
}
