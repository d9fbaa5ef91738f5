package collector

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"
)

// RateTracker turns counters into rates: it keeps each device's last
// reachable Snapshot and fills Interface.Rates of the next one. It is safe
// for concurrent use.
type RateTracker struct {
	// MaxGap: two polls further apart than this give no rates, because an
	// average over a long outage misleads more than it tells. 0 means no
	// limit.
	MaxGap time.Duration

	mu   sync.Mutex
	last map[string]*Snapshot
}

// NewRateTracker returns a tracker with the given MaxGap.
func NewRateTracker(maxGap time.Duration) *RateTracker {
	return &RateTracker{MaxGap: maxGap, last: map[string]*Snapshot{}}
}

// rateKey identifies a device: its inventory name, or the target polled.
func rateKey(s *Snapshot) string {
	if s.Device != "" {
		return s.Device
	}
	return s.Target
}

// Update fills cur's interface rates from the device's previous Snapshot and
// remembers cur for next time. An unreachable cur is not remembered, so the
// poll after an outage still has a baseline. cur must not have been handed
// to anyone yet; the stored previous Snapshot is only read.
func (t *RateTracker) Update(cur *Snapshot) {
	key := rateKey(cur)
	t.mu.Lock()
	if t.last == nil {
		t.last = map[string]*Snapshot{}
	}
	prev := t.last[key]
	if cur.Reachable {
		t.last[key] = cur
	}
	t.mu.Unlock()
	FillRates(prev, cur, t.MaxGap)
}

// Last returns the device's last reachable Snapshot (by Device, or Target
// for ad-hoc polls), or nil. It is shared: only read it.
func (t *RateTracker) Last(key string) *Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last[key]
}

// Forget drops what the tracker holds for a device (by Device, or Target
// for ad-hoc polls), for devices removed from the inventory.
func (t *RateTracker) Forget(key string) {
	t.mu.Lock()
	delete(t.last, key)
	t.mu.Unlock()
}

const (
	wrap32 = 1 << 32
	// uptimeWrap is when sysUpTime (TimeTicks, 1/100 s) wraps: ~497 days.
	uptimeWrap = float64(1<<32) / 100
	// speedSlack allows rates a little above the nominal speed before a
	// 32-bit wrap is judged implausible: speeds are rounded, clocks drift.
	speedSlack = 1.1
)

// FillRates sets Rates on each interface of cur that also appears in prev
// (same ifIndex and name) when the counters between the two are continuous.
// Interfaces must be sorted by Index, as Poll returns them. It leaves Rates
// nil on the first sample, after a reboot, across a gap longer than maxGap
// (0: no limit), and when a counter went back in a way that is not a
// plausible 32-bit wrap.
func FillRates(prev, cur *Snapshot, maxGap time.Duration) {
	if prev == nil || cur == nil || !prev.Reachable || !cur.Reachable {
		return
	}
	gap := cur.Time.Sub(prev.Time)
	if gap <= 0 || (maxGap > 0 && gap > maxGap) {
		return
	}
	dt := gap.Seconds()
	if rebooted(prev.System.UptimeSeconds, cur.System.UptimeSeconds, dt) {
		return
	}
	fillCPUTicks(prev, cur)
	for i := range cur.Interfaces {
		c := &cur.Interfaces[i]
		j, found := slices.BinarySearchFunc(prev.Interfaces, c.Index, func(it Interface, idx int) int {
			return cmp.Compare(it.Index, idx)
		})
		if !found {
			continue
		}
		p := &prev.Interfaces[j]
		if p.HC != c.HC || (p.Name != "" && c.Name != "" && p.Name != c.Name) {
			continue // another interface took the index, or the counters changed width
		}
		c.Rates = interfaceRates(p, c, dt)
	}
}

// rebooted reports whether sysUpTime says the device restarted between two
// polls dt seconds apart: it should have advanced by about dt, modulo its
// 497-day wrap.
func rebooted(prevUp, curUp, dt float64) bool {
	if prevUp == 0 && curUp == 0 {
		return false // no sysUpTime at all: nothing to judge by
	}
	expected := prevUp + dt
	if expected >= uptimeWrap {
		expected -= uptimeWrap
	}
	slack := max(5, dt*0.1) // poll jitter: Time is taken before sysUpTime is read
	return curUp+slack < expected
}

// interfaceRates computes rates, or nil when any counter is discontinuous.
func interfaceRates(p, c *Interface, dt float64) *InterfaceRates {
	width := 32
	if c.HC {
		width = 64
	}
	maxBytes := 0.0 // per second; 0 when the speed is unknown
	if c.SpeedBps > 0 {
		maxBytes = float64(c.SpeedBps) / 8 * speedSlack
	}
	// A 32-bit counter of a fast link can wrap more than once between
	// polls (a busy 1 Gb/s link every 34 s); like every poller we assume at
	// most one wrap, which is why HC counters are preferred.
	var ok [6]bool
	var d [6]float64
	d[0], ok[0] = counterDelta(p.InOctets, c.InOctets, width, dt, maxBytes)
	d[1], ok[1] = counterDelta(p.OutOctets, c.OutOctets, width, dt, maxBytes)
	// Errors and discards are Counter32 in ifTable whatever the octets are.
	d[2], ok[2] = counterDelta(p.InErrors, c.InErrors, 32, dt, 0)
	d[3], ok[3] = counterDelta(p.OutErrors, c.OutErrors, 32, dt, 0)
	d[4], ok[4] = counterDelta(p.InDiscards, c.InDiscards, 32, dt, 0)
	d[5], ok[5] = counterDelta(p.OutDiscards, c.OutDiscards, 32, dt, 0)
	for _, v := range ok {
		if !v {
			return nil
		}
	}
	r := &InterfaceRates{
		InBitsPerSec:      d[0] * 8 / dt,
		OutBitsPerSec:     d[1] * 8 / dt,
		InErrorsPerSec:    d[2] / dt,
		OutErrorsPerSec:   d[3] / dt,
		InDiscardsPerSec:  d[4] / dt,
		OutDiscardsPerSec: d[5] / dt,
	}
	if c.SpeedBps > 0 {
		r.UtilPercent = math.Max(r.InBitsPerSec, r.OutBitsPerSec) / float64(c.SpeedBps) * 100
	}
	return r
}

// counterDelta returns how much a counter of the given width advanced. A
// 64-bit counter going back was reset. A 32-bit one going back wrapped if
// the implied rate fits maxRate (per second), or, with no known maximum, if
// the wrapped delta is under half the counter's range; otherwise it was
// reset.
func counterDelta(prev, cur uint64, width int, dt, maxRate float64) (float64, bool) {
	if cur >= prev {
		return float64(cur - prev), true
	}
	if width == 64 || prev >= wrap32 {
		return 0, false
	}
	d := float64(cur + wrap32 - prev)
	if maxRate > 0 {
		return d, d/dt <= maxRate
	}
	return d, d < wrap32/2
}
