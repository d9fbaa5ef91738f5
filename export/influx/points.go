package influx

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/write"
	lp "github.com/influxdata/line-protocol"

	"github.com/nocagent/nocagent/collector"
)

// precision of the timestamps in the line protocol. It is fixed, not
// configurable, because spooled lines outlive a configuration change and
// must be sent with the precision they were written in.
const precision = time.Millisecond

// Labels is the inventory context of a device, sent as tags on every point.
type Labels struct {
	Device   string // inventory name; empty: Snapshot.Device, else Snapshot.Target
	Customer string
	Site     string
	Role     string
}

// Encode returns the line protocol of one snapshot, one line per point, each
// ending in a newline. The schema is documented in doc.go.
func Encode(s *collector.Snapshot, l Labels) []string {
	if s == nil {
		return nil
	}
	if l.Device == "" {
		l.Device = s.Device
	}
	if l.Device == "" {
		l.Device = s.Target
	}
	e := newEncoder()
	base := func() map[string]string {
		return map[string]string{"device": l.Device, "customer": l.Customer, "site": l.Site, "role": l.Role}
	}
	ts := s.Time

	dev := base()
	dev["vendor"], dev["model"], dev["serial"] = s.Vendor, s.Model, s.Serial
	e.add("device", dev, map[string]any{
		"up":             b2f(s.Reachable),
		"poll_seconds":   s.PollDuration.Seconds(),
		"poll_pdus":      int64(s.PDUs),
		"poll_errors":    int64(len(s.Errors)),
		"uptime_seconds": s.System.UptimeSeconds,
	}, ts)
	if !s.Reachable {
		// Whatever else an unreachable snapshot holds is stale or empty.
		return e.lines
	}

	for _, it := range s.Interfaces {
		tags := base()
		tags["interface"] = ifName(it)
		tags["ifindex"] = strconv.Itoa(it.Index)
		tags["alias"] = it.Alias
		f := map[string]any{
			"in_octets":      it.InOctets,
			"out_octets":     it.OutOctets,
			"in_ucast_pkts":  it.InUcastPkts,
			"out_ucast_pkts": it.OutUcastPkts,
			"in_errors":      it.InErrors,
			"out_errors":     it.OutErrors,
			"in_discards":    it.InDiscards,
			"out_discards":   it.OutDiscards,
			"speed_bps":      it.SpeedBps,
			"admin_up":       b2f(it.AdminStatus == "up"),
			"oper_up":        b2f(it.OperStatus == "up"),
		}
		if r := it.Rates; r != nil {
			f["in_bps"] = r.InBitsPerSec
			f["out_bps"] = r.OutBitsPerSec
			f["util_percent"] = r.UtilPercent
			f["in_errors_per_sec"] = r.InErrorsPerSec
			f["out_errors_per_sec"] = r.OutErrorsPerSec
			f["in_discards_per_sec"] = r.InDiscardsPerSec
			f["out_discards_per_sec"] = r.OutDiscardsPerSec
		}
		e.add("interface", tags, f, ts)
	}
	for _, c := range s.CPU {
		tags := base()
		tags["cpu"] = c.Name
		e.add("cpu", tags, map[string]any{"usage_percent": c.Percent}, ts)
	}
	for _, m := range s.Memory {
		tags := base()
		tags["pool"] = m.Name
		e.add("memory", tags, map[string]any{
			"used_bytes":    m.UsedBytes,
			"total_bytes":   m.TotalBytes,
			"usage_percent": m.Percent,
		}, ts)
	}
	for _, sn := range s.Sensors {
		tags := base()
		tags["sensor"], tags["class"], tags["unit"] = sn.Name, sn.Class, sn.Unit
		f := map[string]any{"value": sn.Value}
		if sn.Status != "" && sn.Status != "unknown" {
			f["ok"] = b2f(sn.Status == "ok")
		}
		e.add("sensor", tags, f, ts)
	}
	return e.lines
}

func ifName(it collector.Interface) string {
	if it.Name != "" {
		return it.Name
	}
	if it.Descr != "" {
		return it.Descr
	}
	return strconv.Itoa(it.Index)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// encoder wraps the line-protocol encoder the influxdb client itself uses,
// so escaping and number formats are exactly the client's.
type encoder struct {
	buf   bytes.Buffer
	enc   *lp.Encoder
	lines []string
}

func newEncoder() *encoder {
	e := &encoder{}
	e.enc = lp.NewEncoder(&e.buf)
	e.enc.SetFieldTypeSupport(lp.UintSupport)
	e.enc.SetPrecision(precision)
	// A NaN or infinite field is skipped, not the whole point.
	e.enc.FailOnFieldErr(false)
	return e
}

func (e *encoder) add(measurement string, tags map[string]string, fields map[string]any, ts time.Time) {
	for k, v := range tags {
		if v = cleanTag(v); v == "" {
			delete(tags, k) // line protocol has no empty tag values
		} else {
			tags[k] = v
		}
	}
	for k, v := range fields {
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			delete(fields, k)
		}
	}
	if len(fields) == 0 {
		return
	}
	e.buf.Reset()
	if _, err := e.enc.Encode(write.NewPoint(measurement, tags, fields, ts)); err != nil {
		return // only ErrNoFields or an invalid name, both excluded above
	}
	e.lines = append(e.lines, e.buf.String())
}

// cleanTag makes a device-supplied string safe as a tag value: the encoder
// escapes commas, spaces and equals signs but a line break would still end
// the line in most parsers, and a trailing backslash would escape the
// separator after it.
func cleanTag(v string) string {
	v = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, v)
	return strings.TrimRight(strings.TrimSpace(v), `\`)
}
