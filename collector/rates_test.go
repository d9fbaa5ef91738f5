package collector

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// snapAt builds a reachable snapshot taken at t0+at with one interface.
func snapAt(at time.Duration, uptime float64, it Interface) *Snapshot {
	s := newSnapshot("192.0.2.1:161", t0.Add(at))
	s.Device = "sw1"
	s.Reachable = true
	s.System.UptimeSeconds = uptime
	s.Interfaces = []Interface{it}
	return s
}

func TestFillRates(t *testing.T) {
	gig := Interface{Index: 1, Name: "Gi1", SpeedBps: 1_000_000_000, HC: true}
	with := func(base Interface, in, out, inErr, outDisc uint64) Interface {
		base.InOctets, base.OutOctets, base.InErrors, base.OutDiscards = in, out, inErr, outDisc
		return base
	}
	c32 := Interface{Index: 1, Name: "Fa0", SpeedBps: 100_000_000}
	noSpeed := Interface{Index: 1, Name: "tun0"}
	tests := []struct {
		name      string
		prev, cur *Snapshot
		maxGap    time.Duration
		want      *InterfaceRates // nil: no rates
	}{
		{
			name: "steady HC traffic",
			prev: snapAt(0, 1000, with(gig, 1_000_000, 2_000_000, 10, 0)),
			cur:  snapAt(60*time.Second, 1060, with(gig, 1_000_000+750_000_000, 2_000_000+75_000_000, 70, 6)),
			want: &InterfaceRates{InBitsPerSec: 100_000_000, OutBitsPerSec: 10_000_000, InErrorsPerSec: 1, OutDiscardsPerSec: 0.1, UtilPercent: 10},
		},
		{name: "first sample", prev: nil, cur: snapAt(0, 10, gig)},
		{
			name: "reboot: uptime went back",
			prev: snapAt(0, 5000, with(gig, 1000, 1000, 0, 0)),
			cur:  snapAt(60*time.Second, 30, with(gig, 2000, 2000, 0, 0)),
		},
		{
			name: "reboot between polls although uptime grew",
			prev: snapAt(0, 100, with(gig, 1000, 1000, 0, 0)),
			cur:  snapAt(300*time.Second, 150, with(gig, 2000, 2000, 0, 0)),
		},
		{
			name: "sysUpTime wrapped after 497 days: not a reboot",
			prev: snapAt(0, uptimeWrap-30, with(gig, 0, 0, 0, 0)),
			cur:  snapAt(60*time.Second, 30, with(gig, 60, 0, 0, 0)),
			want: &InterfaceRates{InBitsPerSec: 8, UtilPercent: 8e-7},
		},
		{
			name: "Counter32 wrap at a plausible rate",
			prev: snapAt(0, 1000, with(c32, math.MaxUint32-99, 0, 0, 0)),
			cur:  snapAt(10*time.Second, 1010, with(c32, 900, 0, 0, 0)),
			want: &InterfaceRates{InBitsPerSec: 800, UtilPercent: 0.0008},
		},
		{
			name: "Counter32 went back faster than the link: reset, no rates",
			prev: snapAt(0, 1000, with(c32, 2_000_000_000, 0, 0, 0)),
			cur:  snapAt(10*time.Second, 1010, with(c32, 1_000_000_000, 0, 0, 0)),
		},
		{
			name: "Counter32 wrap with unknown speed: small wrap accepted",
			prev: snapAt(0, 1000, with(noSpeed, math.MaxUint32-999, 0, 0, 0)),
			cur:  snapAt(10*time.Second, 1010, with(noSpeed, 1000, 0, 0, 0)),
			want: &InterfaceRates{InBitsPerSec: 1600},
		},
		{
			name: "Counter32 back by a little with unknown speed: reset",
			prev: snapAt(0, 1000, with(noSpeed, 5000, 0, 0, 0)),
			cur:  snapAt(10*time.Second, 1010, with(noSpeed, 4000, 0, 0, 0)),
		},
		{
			name: "Counter64 went back: reset, no rates",
			prev: snapAt(0, 1000, with(gig, 1<<40, 0, 0, 0)),
			cur:  snapAt(60*time.Second, 1060, with(gig, 5, 0, 0, 0)),
		},
		{
			name: "error counter cleared: no rates",
			prev: snapAt(0, 1000, with(gig, 0, 0, 500, 0)),
			cur:  snapAt(60*time.Second, 1060, with(gig, 10, 0, 0, 0)),
		},
		{
			name: "error counter (always 32-bit) wrapped on an HC port",
			prev: snapAt(0, 1000, with(gig, 0, 0, math.MaxUint32, 0)),
			cur:  snapAt(10*time.Second, 1010, with(gig, 0, 0, 9, 0)),
			want: &InterfaceRates{InErrorsPerSec: 1},
		},
		{
			name:   "gap longer than MaxGap",
			prev:   snapAt(0, 1000, with(gig, 0, 0, 0, 0)),
			cur:    snapAt(2*time.Hour, 1000+7200, with(gig, 100, 0, 0, 0)),
			maxGap: time.Hour,
		},
		{
			name: "long gap without MaxGap still gives the average",
			prev: snapAt(0, 1000, with(gig, 0, 0, 0, 0)),
			cur:  snapAt(2*time.Hour, 1000+7200, with(gig, 900_000_000, 0, 0, 0)),
			want: &InterfaceRates{InBitsPerSec: 1_000_000, UtilPercent: 0.1},
		},
		{
			name: "same time: no rates",
			prev: snapAt(0, 1000, with(gig, 0, 0, 0, 0)),
			cur:  snapAt(0, 1000, with(gig, 100, 0, 0, 0)),
		},
		{
			name: "ifIndex now belongs to another interface",
			prev: snapAt(0, 1000, with(gig, 0, 0, 0, 0)),
			cur:  snapAt(60*time.Second, 1060, with(Interface{Index: 1, Name: "Vlan5", HC: true}, 100, 0, 0, 0)),
		},
		{
			name: "counters changed width",
			prev: snapAt(0, 1000, with(c32, 0, 0, 0, 0)),
			cur:  snapAt(60*time.Second, 1060, with(Interface{Index: 1, Name: "Fa0", HC: true}, 100, 0, 0, 0)),
		},
		{
			name: "previous poll unreachable",
			prev: func() *Snapshot { s := snapAt(0, 1000, gig); s.Reachable = false; return s }(),
			cur:  snapAt(60*time.Second, 1060, gig),
		},
		{
			name: "device without sysUpTime",
			prev: snapAt(0, 0, with(noSpeed, 0, 0, 0, 0)),
			cur:  snapAt(10*time.Second, 0, with(noSpeed, 10, 20, 0, 0)),
			want: &InterfaceRates{InBitsPerSec: 8, OutBitsPerSec: 16},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			FillRates(tt.prev, tt.cur, tt.maxGap)
			got := tt.cur.Interfaces[0].Rates
			switch {
			case tt.want == nil && got != nil:
				t.Fatalf("rates = %+v, want none", *got)
			case tt.want == nil:
				return
			case got == nil:
				t.Fatalf("no rates, want %+v", *tt.want)
			}
			check := func(name string, g, w float64) {
				if math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
					t.Errorf("%s = %v, want %v", name, g, w)
				}
			}
			check("in_bps", got.InBitsPerSec, tt.want.InBitsPerSec)
			check("out_bps", got.OutBitsPerSec, tt.want.OutBitsPerSec)
			check("in_errors", got.InErrorsPerSec, tt.want.InErrorsPerSec)
			check("out_errors", got.OutErrorsPerSec, tt.want.OutErrorsPerSec)
			check("in_discards", got.InDiscardsPerSec, tt.want.InDiscardsPerSec)
			check("out_discards", got.OutDiscardsPerSec, tt.want.OutDiscardsPerSec)
			check("util", got.UtilPercent, tt.want.UtilPercent)
		})
	}
}

func TestRateTrackerKeepsBaselineAcrossOutage(t *testing.T) {
	rt := NewRateTracker(0)
	it := Interface{Index: 1, Name: "Gi1", HC: true}
	first := snapAt(0, 1000, it)
	rt.Update(first)
	if first.Interfaces[0].Rates != nil {
		t.Fatal("first sample has rates")
	}
	down := newSnapshot("192.0.2.1:161", t0.Add(60*time.Second))
	down.Device = "sw1"
	rt.Update(down) // unreachable: must not become the baseline

	it.InOctets = 1200
	back := snapAt(120*time.Second, 1120, it)
	rt.Update(back)
	r := back.Interfaces[0].Rates
	if r == nil || r.InBitsPerSec != 80 {
		t.Fatalf("rates after outage = %+v, want in_bps 80 over 120 s", r)
	}
	if first.Interfaces[0].Rates != nil {
		t.Error("previous snapshot was modified")
	}

	other := snapAt(180*time.Second, 1180, it)
	other.Device = "sw2" // a different device has no baseline
	rt.Update(other)
	if other.Interfaces[0].Rates != nil {
		t.Error("rates computed across devices")
	}

	rt.Forget("sw1")
	again := snapAt(180*time.Second, 1180, it)
	rt.Update(again)
	if again.Interfaces[0].Rates != nil {
		t.Error("rates after Forget")
	}
}
