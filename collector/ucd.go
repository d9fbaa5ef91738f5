package collector

import (
	"slices"

	"github.com/gosnmp/gosnmp"
)

// UCD-SNMP-MIB, which net-snmp serves on the many Linux- and BSD-based
// network OSes: scalars only, asked for in the profile's GET so they cost
// no request of their own.
const (
	oidMemTotalReal = ".1.3.6.1.4.1.2021.4.5.0"  // kB
	oidMemAvailReal = ".1.3.6.1.4.1.2021.4.6.0"  // kB
	oidMemShared    = ".1.3.6.1.4.1.2021.4.13.0" // kB
	oidMemBuffer    = ".1.3.6.1.4.1.2021.4.14.0" // kB
	oidMemCached    = ".1.3.6.1.4.1.2021.4.15.0" // kB
	oidSsCpuIdle    = ".1.3.6.1.4.1.2021.11.11.0"
	// ssCpuRaw* tick counters, for the load between two polls.
	oidSsCpuRawUser      = ".1.3.6.1.4.1.2021.11.50.0"
	oidSsCpuRawNice      = ".1.3.6.1.4.1.2021.11.51.0"
	oidSsCpuRawSystem    = ".1.3.6.1.4.1.2021.11.52.0"
	oidSsCpuRawIdle      = ".1.3.6.1.4.1.2021.11.53.0"
	oidSsCpuRawWait      = ".1.3.6.1.4.1.2021.11.54.0"
	oidSsCpuRawInterrupt = ".1.3.6.1.4.1.2021.11.56.0"
	oidSsCpuRawSoftIRQ   = ".1.3.6.1.4.1.2021.11.61.0"
	oidSsCpuRawSteal     = ".1.3.6.1.4.1.2021.11.64.0"
)

var ucdOIDs = []string{
	oidMemTotalReal, oidMemAvailReal, oidMemShared, oidMemBuffer, oidMemCached, oidSsCpuIdle,
	oidSsCpuRawUser, oidSsCpuRawNice, oidSsCpuRawSystem, oidSsCpuRawIdle, oidSsCpuRawWait,
	oidSsCpuRawInterrupt, oidSsCpuRawSoftIRQ, oidSsCpuRawSteal,
}

// Where CPU and memory readings come from, in Snapshot.Sources.
const (
	srcHostResources = "HOST-RESOURCES-MIB"
	srcUCDIdle       = "UCD-SNMP-MIB ssCpuIdle"
	srcUCDRaw        = "UCD-SNMP-MIB ssCpuRaw* over two polls"
	srcUCDMemory     = "UCD-SNMP-MIB memTotalReal/memAvailReal/memBuffer/memCached"
)

// cpuTicks are the ssCpuRaw counters of one poll: idle and all ticks.
type cpuTicks struct{ idle, total uint64 }

// decodeUCD fills CPU and memory from UCD-SNMP-MIB scalars where the
// standard walk left them empty: agents that serve hrStorage RAM rows are
// read from those (as LibreNMS does), the rest from memTotalReal less
// what is available, buffers and page cache (which the kernel gives back
// on demand).
func decodeUCD(snap *Snapshot, pdus []gosnmp.SnmpPDU) {
	var v [ucdFields]uint64
	var has [ucdFields]bool
	for _, p := range pdus {
		i, ok := oidsUCDIndex[p.Name]
		if !ok || absent(p) {
			continue
		}
		if n, ok := pduUint(p); ok {
			v[i], has[i] = n, true
		}
	}
	if has[ucdRawIdle] && has[ucdRawUser] && has[ucdRawSystem] {
		t := cpuTicks{idle: v[ucdRawIdle]}
		for _, i := range []int{ucdRawUser, ucdRawNice, ucdRawSystem, ucdRawIdle, ucdRawWait, ucdRawInterrupt, ucdRawSoftIRQ, ucdRawSteal} {
			t.total += v[i]
		}
		snap.cpuTicks = &t
	}
	if len(snap.CPU) == 0 && has[ucdIdle] && v[ucdIdle] <= 100 {
		snap.CPU = []CPU{{Name: "cpu", Percent: 100 - float64(v[ucdIdle])}}
		snap.Sources["cpu"] = srcUCDIdle
	}
	if !has[ucdTotal] || !has[ucdAvail] || v[ucdTotal] == 0 || v[ucdAvail] > v[ucdTotal] ||
		slices.ContainsFunc(snap.Memory, func(m Memory) bool { return m.Class == "system" }) {
		return
	}
	free := v[ucdAvail]
	if f := free + v[ucdBuffer] + v[ucdCached]; f <= v[ucdTotal] {
		free = f
	}
	total := v[ucdTotal] * 1024
	used := total - free*1024
	phys := Memory{Name: "Physical memory", UsedBytes: used, TotalBytes: total, Percent: float64(used) / float64(total) * 100, Class: "system"}
	snap.Memory = slices.Insert(snap.Memory, 0, phys)
	snap.Sources["memory"] = srcUCDMemory
}

const (
	ucdTotal = iota
	ucdAvail
	ucdShared
	ucdBuffer
	ucdCached
	ucdIdle
	ucdRawUser
	ucdRawNice
	ucdRawSystem
	ucdRawIdle
	ucdRawWait
	ucdRawInterrupt
	ucdRawSoftIRQ
	ucdRawSteal
	ucdFields
)

var oidsUCDIndex = func() map[string]int {
	m := make(map[string]int, len(ucdOIDs))
	for i, o := range ucdOIDs {
		m[o] = i
	}
	return m
}()

// fillCPUTicks replaces a UCD CPU reading with the load between two polls
// from the raw tick counters, which is what the CPU did since the last
// poll rather than net-snmp's own one-minute view of it.
func fillCPUTicks(prev, cur *Snapshot) {
	if prev.cpuTicks == nil || cur.cpuTicks == nil || cur.Sources["cpu"] != srcUCDIdle {
		return
	}
	p, c := prev.cpuTicks, cur.cpuTicks
	if c.total <= p.total || c.idle < p.idle {
		return // counters reset or wrapped: keep the one-sample figure
	}
	dIdle, dTotal := float64(c.idle-p.idle), float64(c.total-p.total)
	cur.CPU = []CPU{{Name: "cpu", Percent: max(0, min(100, 100*(1-dIdle/dTotal)))}}
	cur.Sources["cpu"] = srcUCDRaw
}
