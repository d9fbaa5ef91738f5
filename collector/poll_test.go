package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/nocagent/nocagent/inventory"
)

// syntheticSwitch is a Cisco-like access switch with ports front ports
// (ifIndex 10101…) and a few extra rows, with the columns a real agent
// has and we do not fetch, so walks must skip them.
func syntheticSwitch(ports int) []gosnmp.SnmpPDU {
	p := []gosnmp.SnmpPDU{
		vStr(oidSysDescr, "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E2"),
		vOID(oidSysObjectID, "1.3.6.1.4.1.9.1.1208"),
		vTicks(oidSysUpTime, 8_640_000),
		vStr(oidSysContact, "noc"), vStr(oidSysName, "sw-synth"), vStr(oidSysLocation, "lab"),
		vInt(".1.3.6.1.2.1.2.1.0", ports+1), // ifNumber
	}
	add := func(idx int, name string, typ int) {
		i := fmt.Sprint(idx)
		p = append(p,
			vStr(ift(ifDescr, i), strings.Replace(name, "Gi", "GigabitEthernet", 1)),
			vInt(ift(ifType, i), typ),
			vInt(ift(4, i), 1500), // ifMtu, not fetched
			vGauge(ift(ifSpeed, i), 1_000_000_000),
			vHex(ift(ifPhysAddress, i), fmt.Sprintf("00aabbcc%04x", idx&0xffff)),
			vInt(ift(ifAdminStatus, i), 1),
			vInt(ift(ifOperStatus, i), 1+idx%2),
			vTicks(ift(9, i), 100), // ifLastChange, not fetched
			vC32(ift(ifInOctets, i), uint(idx*1000)),
			vC32(ift(ifInUcastPkts, i), uint(idx)),
			vC32(ift(12, i), 0), // ifInNUcastPkts, not fetched
			vC32(ift(ifInDiscards, i), 1),
			vC32(ift(ifInErrors, i), 2),
			vC32(ift(ifOutOctets, i), uint(idx*2000)),
			vC32(ift(ifOutUcastPkts, i), uint(idx)),
			vC32(ift(ifOutDiscards, i), 3),
			vC32(ift(ifOutErrors, i), 4),
			vStr(ifx(ifName, i), name),
			vC32(ifx(2, i), 0), // ifInMulticastPkts, not fetched
			vC64(ifx(ifHCInOctets, i), uint64(idx)*1_000_000_000_000),
			vC64(ifx(ifHCInUcastPkts, i), uint64(idx)*1000),
			vC64(ifx(ifHCOutOctets, i), uint64(idx)*2_000_000_000_000),
			vC64(ifx(ifHCOutUcast, i), uint64(idx)*2000),
			vGauge(ifx(ifHighSpeed, i), 1000),
			vStr(ifx(ifAlias, i), "port "+name),
		)
	}
	for n := 1; n <= ports; n++ {
		add(10100+n, fmt.Sprintf("Gi1/0/%d", n), 6)
	}
	add(1, "Vl1", 53)
	e := func(c int, idx string) string { return oidEntPhysicalEntry + "." + fmt.Sprint(c) + "." + idx }
	p = append(p,
		vStr(e(entPhysicalDescr, "1001"), "WS-C2960X-48FPS-L"), vInt(e(entPhysicalContainedIn, "1001"), 0),
		vInt(e(entPhysicalClass, "1001"), 3), vStr(e(entPhysicalName, "1001"), "Switch 1"),
		vStr(e(entPhysicalSerialNum, "1001"), "FOC1234X0AB"), vStr(e(entPhysicalModelName, "1001"), "WS-C2960X-48FPS-L"),
		vStr(e(entPhysicalDescr, "1010"), "Temp Sensor"), vInt(e(entPhysicalContainedIn, "1010"), 1001),
		vInt(e(entPhysicalClass, "1010"), 8), vStr(e(entPhysicalName, "1010"), "Switch 1 - Inlet Temp"),
		vInt(oidEntPhySensorEntry+".1.1010", 8), vInt(oidEntPhySensorEntry+".2.1010", 9),
		vInt(oidEntPhySensorEntry+".3.1010", 0), vInt(oidEntPhySensorEntry+".4.1010", 38),
		vInt(oidEntPhySensorEntry+".5.1010", 1),
		vInt(oidCdpCacheEntry+".3.10101.1", 1), vHex(oidCdpCacheEntry+".4.10101.1", "0a000001"),
		vStr(oidCdpCacheEntry+".6.10101.1", "core1"), vStr(oidCdpCacheEntry+".7.10101.1", "Te1/1/1"),
		vInt(".1.3.6.1.4.1.9.9.109.1.1.1.1.8.1", 7), // cpmCPUTotal5minRev: vendor profile's business
	)
	return p
}

func TestCollectSyntheticSwitch(t *testing.T) {
	a := newFakeAgent(syntheticSwitch(48)...)
	snap := newSnapshot("192.0.2.1:161", t0)
	collect(context.Background(), newBulkWalker(a, false, 25), snap)

	if !snap.Reachable || len(snap.Errors) != 0 {
		t.Fatalf("reachable %v errors %v", snap.Reachable, snap.Errors)
	}
	if snap.System.Name != "sw-synth" || snap.System.UptimeSeconds != 86400 {
		t.Errorf("system = %+v", snap.System)
	}
	if snap.Vendor != "cisco" || snap.OS != "ios" || snap.Model != "WS-C2960X-48FPS-L" || snap.Serial != "FOC1234X0AB" {
		t.Errorf("identity = %q %q %q %q", snap.Vendor, snap.OS, snap.Model, snap.Serial)
	}
	if len(snap.Interfaces) != 49 {
		t.Fatalf("%d interfaces, want 49", len(snap.Interfaces))
	}
	gi1 := snap.Interfaces[1]
	if gi1.Index != 10101 || gi1.Name != "Gi1/0/1" || !gi1.HC || gi1.InOctets != 10101*1_000_000_000_000 ||
		gi1.SpeedBps != 1_000_000_000 || gi1.OperStatus != "down" || gi1.MAC != "00:aa:bb:cc:27:75" {
		t.Errorf("Gi1/0/1 = %+v", gi1)
	}
	if len(snap.Sensors) != 1 || snap.Sensors[0].Name != "Switch 1 - Inlet Temp" || snap.Sensors[0].Value != 38 {
		t.Errorf("sensors = %+v", snap.Sensors)
	}
	if len(snap.Neighbors) != 1 || snap.Neighbors[0].LocalPort != "Gi1/0/1" || snap.Neighbors[0].RemoteAddress != "10.0.0.1" {
		t.Errorf("neighbors = %+v", snap.Neighbors)
	}
	// Absent MIBs leave empty lists, not null.
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	// The cisco-ios profile reads cpmCPUTotal5minRev.
	if snap.Profile != "cisco-ios" || len(snap.CPU) != 1 || snap.CPU[0].Percent != 7 || snap.Firmware != "15.2(7)E2" {
		t.Errorf("profile %q cpu %+v firmware %q", snap.Profile, snap.CPU, snap.Firmware)
	}
	for _, key := range []string{`"memory":[]`, `"errors":[]`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	// The system GET, the profile's GET (its scalars, entLastChangeTime,
	// UCD-SNMP-MIB), interfaces in 2 bulk requests (49 rows / 25), then one
	// request per other module to learn it is empty or short.
	if a.requests > 9 {
		t.Errorf("poll took %d requests, want ≤ 9", a.requests)
	}
}

func TestCollectFailures(t *testing.T) {
	t.Run("no answer to the system group", func(t *testing.T) {
		a := newFakeAgent(syntheticSwitch(2)...)
		a.err = errFakeDown
		snap := newSnapshot("192.0.2.1:161", t0)
		collect(context.Background(), newBulkWalker(a, false, 25), snap)
		if snap.Reachable || len(snap.Errors) != 1 || !strings.Contains(snap.Errors[0], "fake agent down") {
			t.Errorf("reachable %v errors %q", snap.Reachable, snap.Errors)
		}
		if a.requests != 1 {
			t.Errorf("%d requests after the system group failed, want 1", a.requests)
		}
	})
	t.Run("one table fails, the rest goes on", func(t *testing.T) {
		a := newFakeAgent(syntheticSwitch(4)...)
		w := &failingWalker{walker: newBulkWalker(a, false, 25), failRoot: entityRoots[0]}
		snap := newSnapshot("192.0.2.1:161", t0)
		collect(context.Background(), w, snap)
		if !snap.Reachable || len(snap.Errors) != 1 || !strings.HasPrefix(snap.Errors[0], "entity+bgp: ") {
			t.Fatalf("errors = %q", snap.Errors)
		}
		if len(snap.Interfaces) != 5 || len(snap.Neighbors) != 1 || len(snap.Entities) != 0 {
			t.Errorf("got %d interfaces %d neighbours %d entities", len(snap.Interfaces), len(snap.Neighbors), len(snap.Entities))
		}
	})
	t.Run("silent after the system group: unreachable, saying why", func(t *testing.T) {
		a := newFakeAgent(syntheticSwitch(4)...)
		ctx, cancel := context.WithCancel(context.Background())
		w := &failingWalker{walker: newBulkWalker(a, false, 25), cancelAfterGet: cancel}
		snap := newSnapshot("192.0.2.1:161", t0)
		collect(ctx, w, snap)
		if snap.Reachable || len(snap.Errors) != 2 || !strings.Contains(snap.Errors[0], "deadline") ||
			snap.Errors[1] != "device stopped answering after the system group" {
			t.Errorf("reachable %v errors = %q", snap.Reachable, snap.Errors)
		}
	})
}

type failingWalker struct {
	walker
	failRoot       string
	cancelAfterGet func()
}

func (f *failingWalker) Get(ctx context.Context, oids []string) ([]gosnmp.SnmpPDU, error) {
	p, err := f.walker.Get(ctx, oids)
	if f.cancelAfterGet != nil {
		f.cancelAfterGet()
	}
	return p, err
}

func (f *failingWalker) Walk(ctx context.Context, roots []string, fn func(gosnmp.SnmpPDU) error) error {
	if roots[0] == f.failRoot {
		return fmt.Errorf("walk %s: %w", roots[0], errFakeDown)
	}
	return f.walker.Walk(ctx, roots, fn)
}

func TestPollOverUDP(t *testing.T) {
	a := newFakeAgent(syntheticSwitch(146)...)
	addr := serveUDP(t, a, "s3cret")
	cred := inventory.Credential{Name: "lab", Version: "2c", Community: "s3cret"}
	clock := []time.Time{t0, t0.Add(35 * time.Millisecond)}
	now := func() time.Time { n := clock[0]; clock = clock[1:]; return n }

	snap := Poll(testCtx(t), addr, cred, PollOptions{Session: SessionOptions{Timeout: time.Second}, Now: now})
	if !snap.Reachable || len(snap.Errors) != 0 {
		t.Fatalf("reachable %v errors %v", snap.Reachable, snap.Errors)
	}
	if snap.Time != t0 || snap.PollDuration != 35*time.Millisecond || snap.Target != addr {
		t.Errorf("time %v duration %v target %q", snap.Time, snap.PollDuration, snap.Target)
	}
	if len(snap.Interfaces) != 147 || snap.Interfaces[146].Name != "Gi1/0/146" || snap.Interfaces[146].InOctets != 10246*1_000_000_000_000 {
		t.Errorf("got %d interfaces, last %+v", len(snap.Interfaces), snap.Interfaces[len(snap.Interfaces)-1])
	}
	if seen, _ := a.count(); snap.PDUs != seen || snap.PDUs > 13 {
		t.Errorf("PDUs = %d, agent saw %d; want ≤ 13", snap.PDUs, seen)
	}

	wrong := Poll(testCtx(t), addr, inventory.Credential{Name: "lab-old", Version: "2c", Community: "public"},
		PollOptions{Session: SessionOptions{Timeout: 100 * time.Millisecond}})
	if wrong.Reachable || len(wrong.Errors) != 1 {
		t.Fatalf("wrong community: reachable %v errors %v", wrong.Reachable, wrong.Errors)
	}
	want := "no answer from " + addr + " within 100ms (check address, port, community/credentials and ACLs)"
	if !strings.HasSuffix(wrong.Errors[0], want) {
		t.Errorf("error %q, want it to end with %q", wrong.Errors[0], want)
	}
	if strings.Contains(wrong.Errors[0], "public") {
		t.Error("error reveals the community")
	}
}

// BenchmarkPollSwitch146 measures one full poll of a 146-port switch over
// loopback UDP, agent included; the agent is the cheap part.
func BenchmarkPollSwitch146(b *testing.B) {
	a := newFakeAgent(syntheticSwitch(146)...)
	addr := serveUDP(b, a, "public")
	cred := inventory.Credential{Name: "bench", Version: "2c", Community: "public"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		snap := Poll(ctx, addr, cred, PollOptions{})
		if len(snap.Interfaces) != 147 {
			b.Fatalf("%d interfaces, errors %v", len(snap.Interfaces), snap.Errors)
		}
	}
}

// BenchmarkDecodeSwitch146 is the decoding share alone.
func BenchmarkDecodeSwitch146(b *testing.B) {
	a := newFakeAgent(syntheticSwitch(146)...)
	b.ReportAllocs()
	for b.Loop() {
		snap := newSnapshot("x", t0)
		collect(context.Background(), newBulkWalker(a, false, 25), snap)
	}
}
