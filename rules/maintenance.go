package rules

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Maintenance is a window during which alerts on the devices it matches are
// still evaluated and recorded but marked Suppressed: no ticket, no notice.
// A fault still firing when the window ends is emitted again, unsuppressed,
// at the first evaluation after it.
//
// A window is one-off (Start, End) or recurring (Schedule, a cron expression
// in robfig/cron/v3's standard five-field syntax with optional CRON_TZ=
// prefix or @daily-style descriptors, plus Duration). A recurring window may
// also be bounded by Start and/or End. It matches a device when any of its
// lists names the device, its site, its customer or one of its tags; a window
// with no list matches nothing (a window for everything must say so, with
// Everything).
type Maintenance struct {
	ID       string        `yaml:"id" json:"id"`
	Reason   string        `yaml:"reason" json:"reason,omitempty"`
	Start    time.Time     `yaml:"start" json:"start,omitzero"`
	End      time.Time     `yaml:"end" json:"end,omitzero"`
	Schedule string        `yaml:"schedule" json:"schedule,omitempty"`
	Duration time.Duration `yaml:"duration" json:"duration,omitempty"`

	Devices    []string `yaml:"devices" json:"devices,omitempty"`
	Sites      []string `yaml:"sites" json:"sites,omitempty"`
	Customers  []string `yaml:"customers" json:"customers,omitempty"`
	Tags       []string `yaml:"tags" json:"tags,omitempty"`
	Everything bool     `yaml:"everything" json:"everything,omitempty"`

	sched     cron.Schedule
	fromRules bool // declared in a rule file: replaced when the rules are
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// compile validates m and parses its schedule.
func (m *Maintenance) compile() error {
	var errs []error
	if m.ID == "" {
		errs = append(errs, errors.New("missing id"))
	}
	if m.Schedule == "" {
		if m.Start.IsZero() || m.End.IsZero() {
			errs = append(errs, errors.New("a one-off window needs start and end (or a schedule and duration)"))
		} else if !m.End.After(m.Start) {
			errs = append(errs, fmt.Errorf("end %s is not after start %s", m.End.Format(time.RFC3339), m.Start.Format(time.RFC3339)))
		}
		if m.Duration != 0 {
			errs = append(errs, errors.New("duration only goes with a schedule"))
		}
	} else {
		s, err := cronParser.Parse(m.Schedule)
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule %q: %w", m.Schedule, err))
		}
		m.sched = s
		if m.Duration <= 0 {
			errs = append(errs, errors.New("a recurring window needs a positive duration"))
		}
	}
	if !m.Everything && len(m.Devices)+len(m.Sites)+len(m.Customers)+len(m.Tags) == 0 {
		errs = append(errs, errors.New("matches nothing: list devices, sites, customers or tags (or set everything)"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("maintenance %q: %w", m.ID, errors.Join(errs...))
	}
	return nil
}

// ActiveAt reports whether the window is open at now. The window is [start,
// end): a recurring one opens at each activation of its schedule.
func (m *Maintenance) ActiveAt(now time.Time) bool {
	if !m.Start.IsZero() && now.Before(m.Start) {
		return false
	}
	if !m.End.IsZero() && !now.Before(m.End) {
		return false
	}
	if m.sched == nil {
		return m.Schedule == "" && !m.Start.IsZero()
	}
	// The latest activation a with now-Duration < a <= now opens a window
	// that contains now; cron only answers "next after", so ask from
	// now-Duration.
	next := m.sched.Next(now.Add(-m.Duration))
	return !next.IsZero() && !next.After(now)
}

// Matches reports whether the window covers t's device.
func (m *Maintenance) Matches(t Target) bool {
	if m.Everything || slices.Contains(m.Devices, t.Name) || slices.Contains(m.Sites, t.Site) && t.Site != "" ||
		slices.Contains(m.Customers, t.Customer) && t.Customer != "" {
		return true
	}
	for _, tag := range t.Tags {
		if slices.Contains(m.Tags, tag) {
			return true
		}
	}
	return false
}

// AddMaintenance adds or replaces (same ID) a window. It returns an error,
// and changes nothing, for an invalid window.
func (e *Engine) AddMaintenance(m Maintenance) error {
	if err := m.compile(); err != nil {
		return err
	}
	m.Devices, m.Sites, m.Customers, m.Tags = slices.Clone(m.Devices), slices.Clone(m.Sites), slices.Clone(m.Customers), slices.Clone(m.Tags)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.maint = slices.DeleteFunc(e.maint, func(x Maintenance) bool { return x.ID == m.ID })
	e.maint = append(e.maint, m)
	slices.SortFunc(e.maint, func(a, b Maintenance) int { return cmp.Compare(a.ID, b.ID) })
	return nil
}

// RemoveMaintenance removes the window with this ID and reports whether there
// was one. Alerts it suppressed that still fire are emitted at their device's
// next evaluation.
func (e *Engine) RemoveMaintenance(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := len(e.maint)
	e.maint = slices.DeleteFunc(e.maint, func(x Maintenance) bool { return x.ID == id })
	return len(e.maint) != n
}

// Maintenances returns every window, by ID.
func (e *Engine) Maintenances() []Maintenance {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := slices.Clone(e.maint)
	for i := range out {
		out[i].Devices, out[i].Sites = slices.Clone(out[i].Devices), slices.Clone(out[i].Sites)
		out[i].Customers, out[i].Tags = slices.Clone(out[i].Customers), slices.Clone(out[i].Tags)
	}
	return out
}

// InMaintenance returns the ID of the first open window covering t's device
// at now, or "".
func (e *Engine) InMaintenance(now time.Time, t Target) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.maintenanceFor(now, t)
}

func (e *Engine) maintenanceFor(now time.Time, t Target) string {
	for i := range e.maint {
		if m := &e.maint[i]; m.Matches(t) && m.ActiveAt(now) {
			return m.ID
		}
	}
	return ""
}

// Bounds of a window a person asks for (through the API): silencing
// monitoring is a decision someone answers for, for a stated reason and a
// bounded time.
const (
	MaxWindow      = 7 * 24 * time.Hour  // a one-off window's length
	MaxWindowAhead = 90 * 24 * time.Hour // how far ahead a one-off window may end
	MaxRecurring   = 24 * time.Hour      // a recurring window's duration
	MaxReasonLen   = 500
)

// CheckRequested refuses a window a person asks for beyond the bounds:
// no reason, too long, too far ahead, or over everything without a
// manager's say (byManager).
func (m Maintenance) CheckRequested(now time.Time, byManager bool) error {
	switch {
	case len(strings.TrimSpace(m.Reason)) == 0:
		return errors.New("reason: required (the change or work the window is for)")
	case len(m.Reason) > MaxReasonLen:
		return fmt.Errorf("reason: at most %d characters", MaxReasonLen)
	case m.Schedule == "" && m.End.Sub(m.Start) > MaxWindow:
		return fmt.Errorf("end: a one-off window lasts at most %s; this one %s", MaxWindow, m.End.Sub(m.Start))
	case m.Schedule == "" && m.End.After(now.Add(MaxWindowAhead)):
		return fmt.Errorf("end: %s is more than %s ahead", m.End.Format(time.RFC3339), MaxWindowAhead)
	case m.Schedule != "" && m.Duration > MaxRecurring:
		return fmt.Errorf("duration: a recurring window lasts at most %s each time", MaxRecurring)
	case m.Everything && !byManager:
		return errors.New("everything: a window over everything needs a manager")
	}
	return nil
}
