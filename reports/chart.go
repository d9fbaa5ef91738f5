package reports

import (
	"sort"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// Horizontal bar chart geometry, in SVG user units.
const (
	chartRow    = 26.0
	chartLabelW = 190.0
	chartBarW   = 360.0
	chartTextW  = 130.0
)

type bar struct {
	Label, Text, Color string
	Value              float64
	Y, W               float64 // computed by newChart
}

// chart is a horizontal bar chart drawn as inline SVG by the templates.
type chart struct {
	Bars          []bar
	Width, Height float64
	LabelW, BarX  float64
}

// newChart lays bars out; scaleMax is the value of a full bar (0: the
// largest value).
func newChart(bars []bar, scaleMax float64) chart {
	c := chart{Width: chartLabelW + chartBarW + chartTextW, Height: float64(len(bars))*chartRow + 8, LabelW: chartLabelW - 8, BarX: chartLabelW}
	if scaleMax <= 0 {
		for _, b := range bars {
			scaleMax = max(scaleMax, b.Value)
		}
	}
	for i, b := range bars {
		b.Y = 4 + float64(i)*chartRow
		if scaleMax > 0 && b.Value > 0 {
			b.W = max(2, chartBarW*min(b.Value, scaleMax)/scaleMax)
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// DeviceAvailability is one device's availability over a period.
type DeviceAvailability struct {
	Device          string  `json:"device"`
	Percent         float64 `json:"percent"` // 0..100
	DowntimeSeconds float64 `json:"downtime_seconds"`
}

// Availability computes each device's availability over [from, to) from
// the tickets of category availability: a device is down from a ticket's
// opening to its resolution (or to the end of the period while open), and
// so is each device cut off behind it until it recovered. Overlapping
// outages count once.
func Availability(tickets []ticketing.Ticket, devices []string, from, to time.Time) []DeviceAvailability {
	type span struct{ a, b time.Time }
	down := map[string][]span{}
	add := func(dev string, a time.Time, b *time.Time) {
		end := to
		if b != nil && b.Before(end) {
			end = *b
		}
		if a.Before(from) {
			a = from
		}
		if end.After(a) {
			down[dev] = append(down[dev], span{a, end})
		}
	}
	for _, t := range tickets {
		if t.Category != "availability" || t.State == ticketing.StateCancelled {
			continue
		}
		var end *time.Time
		if t.ResolvedAt != nil && !t.State.Open() {
			end = t.ResolvedAt
		}
		add(t.Device.Name, t.OpenedAt, end)
		for _, im := range t.ImpactedDevices {
			start := im.AddedAt
			if start.IsZero() {
				start = t.OpenedAt
			}
			e := end
			if im.Recovered && im.RecoveredAt != nil && (e == nil || im.RecoveredAt.Before(*e)) {
				e = im.RecoveredAt
			}
			add(im.Name, start, e)
		}
	}
	period := to.Sub(from).Seconds()
	out := make([]DeviceAvailability, 0, len(devices))
	for _, dev := range devices {
		ss := down[dev]
		sort.Slice(ss, func(i, j int) bool { return ss[i].a.Before(ss[j].a) })
		var total time.Duration
		var cur span
		for i, s := range ss {
			switch {
			case i == 0:
				cur = s
			case !s.a.After(cur.b):
				if s.b.After(cur.b) {
					cur.b = s.b
				}
			default:
				total += cur.b.Sub(cur.a)
				cur = s
			}
		}
		if len(ss) > 0 {
			total += cur.b.Sub(cur.a)
		}
		a := DeviceAvailability{Device: dev, DowntimeSeconds: total.Seconds(), Percent: 100}
		if period > 0 {
			a.Percent = 100 * (1 - total.Seconds()/period)
		}
		out = append(out, a)
	}
	return out
}

// MeanAvailability is the mean of the devices' availability, nil when
// there is none.
func MeanAvailability(as []DeviceAvailability) *float64 {
	if len(as) == 0 {
		return nil
	}
	var sum float64
	for _, a := range as {
		sum += a.Percent
	}
	v := sum / float64(len(as))
	return &v
}
