package ticketing

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// ProcessConfig is the service-process configuration: SLA policies and
// calendars, escalation timings, engineers and managers, survey and problem
// settings. It is plain data with yaml tags so the agent can load it from
// its config file; Compile checks it and fills the defaults.
type ProcessConfig struct {
	SLA        SLAConfig        `yaml:"sla" json:"sla"`
	Escalation EscalationConfig `yaml:"escalation" json:"escalation"`
	Engineers  []Engineer       `yaml:"engineers" json:"engineers"`
	// Managers are the L3 tier: they get escalations to L3 and the second
	// reminder; the first of them is the supervisor of survey follow-ups.
	Managers []string `yaml:"managers" json:"managers"`
	// SurveyValidFor is how long after closing a survey is accepted
	// (default 14 days).
	SurveyValidFor time.Duration `yaml:"survey_valid_for" json:"survey_valid_for"`
	// ProblemThreshold tickets with one fingerprint opened within
	// ProblemWindow open a problem record (defaults 3 and 7 days).
	ProblemThreshold int           `yaml:"problem_threshold" json:"problem_threshold"`
	ProblemWindow    time.Duration `yaml:"problem_window" json:"problem_window"`
	// VerifyAfter is how long monitoring watches a resolved ticket before
	// verifying it (fault stayed clear) or reopening it (still firing);
	// default 10 minutes.
	VerifyAfter time.Duration `yaml:"verify_after" json:"verify_after"`
}

// SLAConfig holds the default policy and per-contract overrides.
type SLAConfig struct {
	// Calendars by name. "24x7" always exists.
	Calendars map[string]CalendarConfig `yaml:"calendars" json:"calendars"`
	// Default applies to tickets whose contract has no entry in Contracts;
	// its empty targets take DefaultResponse and DefaultResolution.
	Default Policy `yaml:"default" json:"default"`
	// Contracts by contract id (DeviceContext.Contract). An empty target
	// falls back to Default's.
	Contracts map[string]Policy `yaml:"contracts" json:"contracts"`
}

// Policy is one contract's SLA.
type Policy struct {
	Calendar   string              `yaml:"calendar" json:"calendar"` // default "24x7"
	Response   map[Priority]string `yaml:"response" json:"response"`
	Resolution map[Priority]string `yaml:"resolution" json:"resolution"`
	// PauseWhenWaiting pauses both clocks while the ticket waits for the
	// customer (the hold action). Default true; false for contracts whose
	// clock runs regardless.
	PauseWhenWaiting *bool `yaml:"pause_when_waiting" json:"pause_when_waiting"`
}

// Default SLA targets (DESIGN.md). "next_business_day" means by the close of
// the next business day of the contract's calendar.
var (
	DefaultResponse   = map[Priority]string{P1: "15m", P2: "30m", P3: "2h", P4: NextBusinessDay}
	DefaultResolution = map[Priority]string{P1: "4h", P2: "8h", P3: "24h", P4: "72h"}
)

// NextBusinessDay is the target spelling for "by the end of the next business day".
const NextBusinessDay = "next_business_day"

// EscalationConfig sets the reminder timings.
type EscalationConfig struct {
	// ReminderAfter without a progress note on an open P1/P2 reminds the
	// assignee (default 30m); ManagerReminderAfter reminds the managers
	// (default 60m).
	ReminderAfter        time.Duration `yaml:"reminder_after" json:"reminder_after"`
	ManagerReminderAfter time.Duration `yaml:"manager_reminder_after" json:"manager_reminder_after"`
}

// Engineer is one person tickets can be assigned to.
type Engineer struct {
	Name string `yaml:"name" json:"name"`
	// Tier is 1 (L1 engineer, default) or 2 (L2 senior expert).
	Tier int `yaml:"tier" json:"tier"`
	// Skills are ticket categories (hardware, configuration, link, security,
	// performance, availability...); "*" is every category.
	Skills []string `yaml:"skills" json:"skills"`
	// Customers this engineer is the named engineer for.
	Customers []string `yaml:"customers" json:"customers"`
	// OnCall are the rota shifts during which this engineer is on call.
	OnCall []Shift `yaml:"on_call" json:"on_call"`
	// MaxLoad caps open tickets assigned to them; 0 means no cap.
	MaxLoad int `yaml:"max_load" json:"max_load"`
}

// Shift is one on-call window [From, To).
type Shift struct {
	From time.Time `yaml:"from" json:"from"`
	To   time.Time `yaml:"to" json:"to"`
}

func (e Engineer) skilled(category string) bool {
	for _, s := range e.Skills {
		if s == "*" || s == category {
			return true
		}
	}
	return false
}

func (e Engineer) namedFor(customer string) bool {
	for _, c := range e.Customers {
		if c == customer && c != "" {
			return true
		}
	}
	return false
}

func (e Engineer) onCall(now time.Time) bool {
	for _, s := range e.OnCall {
		if !now.Before(s.From) && now.Before(s.To) {
			return true
		}
	}
	return false
}

// process is a compiled ProcessConfig.
type process struct {
	cfg       ProcessConfig
	calendars map[string]*Calendar
	policies  map[string]compiledPolicy // "" is the default
}

type target struct {
	d   time.Duration
	nbd bool // next business day
}

type compiledPolicy struct {
	calendar   *Calendar
	response   map[Priority]target
	resolution map[Priority]target
	pause      bool
}

// Compile checks c, fills defaults and returns the compiled process, or an
// error naming every bad field.
func (c ProcessConfig) compile() (*process, error) {
	c.Engineers = append([]Engineer(nil), c.Engineers...) // defaults must not write through to the caller
	if c.SurveyValidFor == 0 {
		c.SurveyValidFor = 14 * 24 * time.Hour
	}
	if c.ProblemThreshold == 0 {
		c.ProblemThreshold = 3
	}
	if c.ProblemWindow == 0 {
		c.ProblemWindow = 7 * 24 * time.Hour
	}
	if c.VerifyAfter == 0 {
		c.VerifyAfter = 10 * time.Minute
	}
	if c.Escalation.ReminderAfter == 0 {
		c.Escalation.ReminderAfter = 30 * time.Minute
	}
	if c.Escalation.ManagerReminderAfter == 0 {
		c.Escalation.ManagerReminderAfter = time.Hour
	}
	p := &process{calendars: map[string]*Calendar{AlwaysOn.name: AlwaysOn}, policies: map[string]compiledPolicy{}}
	var errs []error
	names := make([]string, 0, len(c.SLA.Calendars))
	for n := range c.SLA.Calendars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		cal, err := NewCalendar(n, c.SLA.Calendars[n])
		if err != nil {
			errs = append(errs, fmt.Errorf("sla: %w", err))
			continue
		}
		p.calendars[n] = cal
	}
	def, err := p.policy("default", c.SLA.Default, Policy{Response: DefaultResponse, Resolution: DefaultResolution})
	errs = append(errs, err)
	p.policies[""] = def
	for id, pol := range c.SLA.Contracts {
		cp, err := p.policy("contract "+id, pol, c.SLA.Default)
		errs = append(errs, err)
		p.policies[id] = cp
	}
	seen := map[string]bool{}
	for i, e := range c.Engineers {
		switch {
		case e.Name == "":
			errs = append(errs, fmt.Errorf("engineers[%d]: name is empty", i))
		case seen[e.Name]:
			errs = append(errs, fmt.Errorf("engineers[%d]: duplicate name %q", i, e.Name))
		case e.Tier < 0 || e.Tier > 2:
			errs = append(errs, fmt.Errorf("engineer %s: tier %d: want 1 or 2", e.Name, e.Tier))
		case e.MaxLoad < 0:
			errs = append(errs, fmt.Errorf("engineer %s: max_load %d is negative", e.Name, e.MaxLoad))
		}
		for j, s := range e.OnCall {
			if !s.To.After(s.From) {
				errs = append(errs, fmt.Errorf("engineer %s: on_call[%d]: to is not after from", e.Name, j))
			}
		}
		if c.Engineers[i].Tier == 0 {
			c.Engineers[i].Tier = 1
		}
		seen[e.Name] = true
	}
	if c.ProblemThreshold < 2 {
		errs = append(errs, fmt.Errorf("problem_threshold %d: want at least 2", c.ProblemThreshold))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("service process config: %w", err)
	}
	p.cfg = c
	return p, nil
}

// policy compiles pol; empty targets come from fallback, then the defaults.
func (p *process) policy(what string, pol, fallback Policy) (compiledPolicy, error) {
	var errs []error
	calName := pol.Calendar
	if calName == "" {
		calName = fallback.Calendar
	}
	if calName == "" {
		calName = AlwaysOn.name
	}
	cp := compiledPolicy{calendar: p.calendars[calName], response: map[Priority]target{}, resolution: map[Priority]target{}, pause: true}
	if cp.calendar == nil {
		errs = append(errs, fmt.Errorf("sla %s: unknown calendar %q", what, calName))
		cp.calendar = AlwaysOn
	}
	if pol.PauseWhenWaiting != nil {
		cp.pause = *pol.PauseWhenWaiting
	} else if fallback.PauseWhenWaiting != nil {
		cp.pause = *fallback.PauseWhenWaiting
	}
	for _, kind := range []struct {
		name          string
		own, fb, defs map[Priority]string
		out           map[Priority]target
	}{
		{"response", pol.Response, fallback.Response, DefaultResponse, cp.response},
		{"resolution", pol.Resolution, fallback.Resolution, DefaultResolution, cp.resolution},
	} {
		for pr := range kind.own {
			if !pr.Valid() {
				errs = append(errs, fmt.Errorf("sla %s %s: priority %q: want P1..P4", what, kind.name, pr))
			}
		}
		for _, pr := range []Priority{P1, P2, P3, P4} {
			s := kind.own[pr]
			if s == "" {
				s = kind.fb[pr]
			}
			if s == "" {
				s = kind.defs[pr]
			}
			t, err := parseTarget(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("sla %s %s %s: %w", what, kind.name, pr, err))
			}
			kind.out[pr] = t
		}
	}
	return cp, errors.Join(errs...)
}

func parseTarget(s string) (target, error) {
	if s == NextBusinessDay {
		return target{nbd: true}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return target{}, fmt.Errorf("target %q: want a positive duration like 30m or %s", s, NextBusinessDay)
	}
	return target{d: d}, nil
}

// CheckProcess reports what New would refuse in c, every bad field at
// once, without opening anything.
func CheckProcess(c ProcessConfig) error {
	_, err := c.compile()
	return err
}
