package ticketing

import (
	"time"
)

// SLAStatus is a ticket's SLA position at one instant, computed from its
// timeline (never from stored counters), so it is the same whoever reads it
// and whenever the process restarted.
//
// Clock rules:
//   - Response runs from the ticket's (re)opening while it is new, and stops
//     at the first change out of new (acknowledged, resolved, cancelled...).
//     A reopen starts a fresh response clock: somebody must pick it up again.
//   - Resolution runs from the opening while the ticket is in an open state
//     (new, acknowledged, in_progress) and stops while it is resolved or
//     later; a reopen resumes it where it stopped, so a fix that did not hold
//     still counts against the original target.
//   - Both pause while the ticket waits for the customer (hold/resume), if
//     the contract's policy says so (pause_when_waiting, default true). No
//     other state pauses a clock.
//   - Time counts only within the contract calendar's business hours.
type SLAStatus struct {
	Contract   string `json:"contract,omitempty"`
	Calendar   string `json:"calendar"`
	Paused     bool   `json:"paused"`
	Response   Clock  `json:"response"`
	Resolution Clock  `json:"resolution"`
}

// Clock is one SLA clock. Durations are business time, in seconds.
type Clock struct {
	Target           string     `json:"target"` // as configured: "15m", "next_business_day"
	TargetSeconds    int64      `json:"target_seconds"`
	ElapsedSeconds   int64      `json:"elapsed_seconds"`
	RemainingSeconds int64      `json:"remaining_seconds"` // negative once breached
	DueAt            *time.Time `json:"due_at,omitempty"`  // nil while paused before the target is reached
	Running          bool       `json:"running"`
	StoppedAt        *time.Time `json:"stopped_at,omitempty"`
	Breached         bool       `json:"breached"`
}

// Met reports whether the clock stopped within its target.
func (c Clock) Met() bool { return c.StoppedAt != nil && !c.Breached }

type interval struct{ from, to time.Time }

// replay walks t's timeline up to now and returns the intervals during which
// each clock ran, where the current response cycle started and where each
// clock stopped.
type replayed struct {
	cycleStart       time.Time
	response, repair []interval
	respStop         *time.Time
	repairStop       *time.Time
	waiting          bool
	state            State
	lastProgress     time.Time // last sign of work: (re)open, state change, staff note, hold, resume, service mode, arrival, report
}

func replay(t Ticket, pause bool, now time.Time) replayed {
	var r replayed
	r.cycleStart = t.OpenedAt
	for _, ev := range t.Timeline {
		if ev.Kind == KindOpened || ev.Kind == KindReopened {
			r.cycleStart = ev.At
		}
	}
	state, waiting := State(""), false
	var segStart time.Time
	flush := func(end time.Time) {
		if state == "" || !end.After(segStart) {
			return
		}
		held := waiting && pause
		if state.Open() && !held {
			r.repair = append(r.repair, interval{segStart, end})
		}
		if state == StateNew && !held && !segStart.Before(r.cycleStart) {
			r.response = append(r.response, interval{segStart, end})
		}
	}
	for _, ev := range t.Timeline {
		if ev.At.After(now) {
			break
		}
		flush(ev.At)
		segStart = ev.At
		switch {
		case ev.Kind.changesState():
			prev := state
			state = State(ev.To)
			if !state.Open() {
				waiting = false
				at := ev.At
				r.repairStop = &at
			} else {
				r.repairStop = nil
			}
			if prev == StateNew && state != StateNew && !ev.At.Before(r.cycleStart) && r.respStop == nil {
				at := ev.At
				r.respStop = &at
			}
			if ev.Kind == KindReopened {
				r.respStop = nil
				waiting = false
			}
			r.lastProgress = ev.At
		case ev.Kind == KindPaused:
			waiting = true
			r.lastProgress = ev.At
		case ev.Kind == KindResumed:
			// The wait is over: silence is counted from here, not from
			// before the customer was asked.
			waiting = false
			r.lastProgress = ev.At
		case ev.Kind == KindNote && !isCustomerActor(ev.Actor),
			ev.Kind == KindServiceMode, ev.Kind == KindArrived, ev.Kind == KindServiceReport:
			r.lastProgress = ev.At
		}
	}
	flush(now)
	r.waiting, r.state = waiting, state
	return r
}

// isCustomerActor recognises the actor names customers act under.
func isCustomerActor(name string) bool {
	return len(name) > len("customer:") && name[:len("customer:")] == "customer:"
}

// slaStatus computes t's SLA at now under p.
func (p *process) slaStatus(t Ticket, now time.Time) *SLAStatus {
	pol, ok := p.policies[t.Device.Contract]
	if !ok {
		pol = p.policies[""]
	}
	r := replay(t, pol.pause, now)
	st := &SLAStatus{Contract: t.Device.Contract, Calendar: pol.calendar.Name(), Paused: r.waiting && pol.pause && r.state.Open()}

	rt := pol.response[t.Priority]
	respTarget := rt.d
	respLabel := rt.d.String()
	if rt.nbd {
		respTarget = pol.calendar.Between(r.cycleStart, pol.calendar.EndOfNextBusinessDay(r.cycleStart))
		respLabel = NextBusinessDay
	}
	st.Response = runClock(pol.calendar, r.response, respTarget, respLabel, r.respStop, r.state == StateNew && !st.Paused, now)

	cal := pol.calendar
	rs := pol.resolution[t.Priority]
	resTarget, resLabel := rs.d, rs.d.String()
	if rs.nbd {
		resTarget = cal.Between(t.OpenedAt, cal.EndOfNextBusinessDay(t.OpenedAt))
		resLabel = NextBusinessDay
	}
	if t.DueAt != nil {
		// An explicit deadline is wall-clock time, whatever the contract.
		cal = AlwaysOn
		resTarget = t.DueAt.Sub(t.OpenedAt)
		resLabel = resTarget.String()
	}
	st.Resolution = runClock(cal, r.repair, resTarget, resLabel, r.repairStop, r.state.Open() && !st.Paused, now)
	return st
}

func runClock(cal *Calendar, ivs []interval, target time.Duration, label string, stop *time.Time, running bool, now time.Time) Clock {
	var acc time.Duration
	var due *time.Time
	for _, iv := range ivs {
		bt := cal.Between(iv.from, iv.to)
		if due == nil && acc+bt >= target {
			d := cal.Add(iv.from, target-acc)
			due = &d
		}
		acc += bt
	}
	if due == nil && running {
		d := cal.Add(now, target-acc)
		due = &d
	}
	c := Clock{
		Target: label, TargetSeconds: int64(target / time.Second), ElapsedSeconds: int64(acc / time.Second),
		RemainingSeconds: int64((target - acc) / time.Second), DueAt: due, Running: running,
		Breached: acc > target,
	}
	if !running && stop != nil {
		c.StoppedAt = stop
	}
	return c
}
