package ticketing

import (
	"fmt"
	"strings"
	"time"

	// Calendars name IANA time zones; embedding the database keeps the static
	// binary correct on hosts without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// CalendarConfig describes when SLA clocks run. An empty Days list means
// 7×24 (Start, End and Holidays are then ignored).
type CalendarConfig struct {
	TimeZone string   `yaml:"time_zone" json:"time_zone"` // IANA name, default UTC
	Days     []string `yaml:"days" json:"days"`           // mon tue wed thu fri sat sun
	Start    string   `yaml:"start" json:"start"`         // "09:00"
	End      string   `yaml:"end" json:"end"`             // "18:00", after Start
	Holidays []string `yaml:"holidays" json:"holidays"`   // "2025-10-01"
}

// Calendar is a compiled CalendarConfig: business hours in one time zone.
type Calendar struct {
	name       string
	loc        *time.Location
	always     bool
	days       [7]bool
	start, end time.Duration // offsets from local midnight
	holidays   map[string]bool
}

// AlwaysOn is the 7×24 calendar.
var AlwaysOn = &Calendar{name: "24x7", loc: time.UTC, always: true}

// maxCalendarDays bounds every walk over days, so a calendar whose business
// days never come (every day a holiday) cannot loop forever.
const maxCalendarDays = 3 * 366

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// NewCalendar compiles c; name is used in errors and shown on tickets.
func NewCalendar(name string, c CalendarConfig) (*Calendar, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("calendar %s: %s", name, fmt.Sprintf(format, args...))
	}
	cal := &Calendar{name: name, loc: time.UTC, holidays: map[string]bool{}}
	if c.TimeZone != "" {
		loc, err := time.LoadLocation(c.TimeZone)
		if err != nil {
			return nil, bad("time_zone %q: %v", c.TimeZone, err)
		}
		cal.loc = loc
	}
	if len(c.Days) == 0 {
		cal.always = true
		return cal, nil
	}
	for _, d := range c.Days {
		wd, ok := weekdays[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return nil, bad("day %q: want one of mon tue wed thu fri sat sun", d)
		}
		cal.days[wd] = true
	}
	var err error
	if cal.start, err = clockTime(c.Start); err != nil {
		return nil, bad("start: %v", err)
	}
	if cal.end, err = clockTime(c.End); err != nil {
		return nil, bad("end: %v", err)
	}
	if cal.end <= cal.start {
		return nil, bad("end %s is not after start %s", c.End, c.Start)
	}
	for _, h := range c.Holidays {
		d, err := time.Parse(time.DateOnly, h)
		if err != nil {
			return nil, bad("holiday %q: want YYYY-MM-DD", h)
		}
		cal.holidays[d.Format(time.DateOnly)] = true
	}
	return cal, nil
}

func clockTime(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		if s == "24:00" {
			return 24 * time.Hour, nil
		}
		return 0, fmt.Errorf("%q: want HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Name is the calendar's configured name.
func (c *Calendar) Name() string { return c.name }

// window returns the business hours of the local day containing t, and
// whether that day has any.
func (c *Calendar) window(day time.Time) (from, to time.Time, ok bool) {
	y, m, d := day.In(c.loc).Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, c.loc)
	if !c.days[midnight.Weekday()] || c.holidays[midnight.Format(time.DateOnly)] {
		return time.Time{}, time.Time{}, false
	}
	// Built from wall-clock parts, so a DST change shifts hours, not the day.
	from = time.Date(y, m, d, int(c.start/time.Hour), int(c.start%time.Hour/time.Minute), 0, 0, c.loc)
	to = time.Date(y, m, d, int(c.end/time.Hour), int(c.end%time.Hour/time.Minute), 0, 0, c.loc)
	return from, to, true
}

func nextDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}

// Between is the business time in [a, b); zero when b is not after a.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	if c.always {
		return b.Sub(a)
	}
	var sum time.Duration
	day := a
	for i := 0; i < maxCalendarDays*4 && day.Before(b); i++ {
		if from, to, ok := c.window(day); ok {
			from, to = later(from, a), earlier(to, b)
			if to.After(from) {
				sum += to.Sub(from)
			}
		}
		day = nextDay(day, c.loc)
	}
	return sum
}

// Add returns the instant at which d of business time has passed since a.
// When the calendar has no business hours within maxCalendarDays it returns
// the last instant it looked at: a deadline too far away to matter.
func (c *Calendar) Add(a time.Time, d time.Duration) time.Time {
	if c.always {
		return a.Add(d)
	}
	day := a
	for range maxCalendarDays {
		if from, to, ok := c.window(day); ok {
			from = later(from, a)
			if to.After(from) {
				if avail := to.Sub(from); d <= avail {
					return from.Add(d)
				} else {
					d -= avail
				}
			}
		}
		day = nextDay(day, c.loc)
	}
	return day
}

// EndOfNextBusinessDay is the close of business of the first business day
// after a's local date: the "next business day" response target. On a 7×24
// calendar it is a plus 24 h.
func (c *Calendar) EndOfNextBusinessDay(a time.Time) time.Time {
	if c.always {
		return a.Add(24 * time.Hour)
	}
	day := nextDay(a, c.loc)
	for range maxCalendarDays {
		if _, to, ok := c.window(day); ok {
			return to
		}
		day = nextDay(day, c.loc)
	}
	return day
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
