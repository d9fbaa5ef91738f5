package snmpsim

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

func TestAddBenchSwitches(t *testing.T) {
	var clock atomic.Int64 // the agents read it from their goroutines
	clock.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	sim := New(Options{Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	defer sim.Close()
	infos, err := sim.AddBenchSwitches(context.Background(), 3, func(i int) string { return fmt.Sprintf("127.0.0.%d:0", i+1) })
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 3 || infos[2].Name != "bench-sw-00002" || infos[2].Address != "127.0.0.3" {
		t.Fatalf("infos = %+v, want bench-sw-00000..2 on 127.0.0.1..3", infos)
	}
	c := newClient(t, infos[1], DemoCommunity, gosnmp.Version2c, 2*time.Second)
	walk := func(root string) []gosnmp.SnmpPDU {
		t.Helper()
		vbs, err := c.BulkWalkAll(root)
		if err != nil {
			t.Fatalf("walk %s: %v", root, err)
		}
		return vbs
	}
	if n := len(walk(".1.3.6.1.2.1.31.1.1.1.1")); n != 48 {
		t.Errorf("ifName has %d rows, want 48", n)
	}
	up := 0
	for _, p := range walk(".1.3.6.1.2.1.2.2.1.8") {
		if p.Value.(int) == 1 {
			up++
		}
	}
	if up != benchUsedPorts {
		t.Errorf("%d ports up, want %d", up, benchUsedPorts)
	}
	octets := func() uint64 {
		t.Helper()
		r, err := c.Get([]string{".1.3.6.1.2.1.31.1.1.1.6.1"})
		if err != nil || len(r.Variables) != 1 {
			t.Fatalf("get ifHCInOctets.1: %v %v", r, err)
		}
		return gosnmp.ToBigInt(r.Variables[0].Value).Uint64()
	}
	before := octets()
	clock.Add(int64(time.Minute))
	if after := octets(); after <= before {
		t.Errorf("ifHCInOctets.1 did not move in a minute: %d then %d", before, after)
	}
	if err := sim.InjectFault("bench-sw-00001", Fault{Kind: FaultDown}); err != nil {
		t.Errorf("fault down on a bench switch: %v", err)
	}
	if _, err := sim.AddBenchSwitches(context.Background(), 0, nil); err == nil {
		t.Error("AddBenchSwitches(0) succeeded")
	}
}
