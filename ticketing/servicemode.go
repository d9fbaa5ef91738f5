package ticketing

import (
	"strings"
	"time"
)

// ServiceMode is how the engineer works a ticket with the customer.
type ServiceMode string

// Service modes.
const (
	ModeRemoteGuidance ServiceMode = "remote_guidance" // the engineer talks the customer's staff through it
	ModeRemoteLogin    ServiceMode = "remote_login"    // the engineer logs in to the device
	ModeOnSite         ServiceMode = "on_site"         // a visit, with an appointment time
)

// ServiceModes lists every mode.
var ServiceModes = []ServiceMode{ModeRemoteGuidance, ModeRemoteLogin, ModeOnSite}

// Valid reports whether m is a known mode.
func (m ServiceMode) Valid() bool {
	for _, x := range ServiceModes {
		if m == x {
			return true
		}
	}
	return false
}

// Service-mode event kinds. Each sends a notice: the customer learns of
// the appointment, the arrival and what was done on site.
const (
	// KindServiceMode: From is the previous mode, To the new one; for
	// on_site the note's first line is "appointment: <RFC 3339>".
	KindServiceMode EventKind = "service_mode"
	// KindArrived: the engineer arrived on site; To is the arrival time
	// (RFC 3339), which may be earlier than the event when recorded late.
	KindArrived EventKind = "arrived"
	// KindServiceReport: the on-site service report, in the note's
	// fixed layout (see reportNote).
	KindServiceReport EventKind = "service_report"
)

// ServiceInfo is how a ticket is being worked: the mode and, for an on-site
// visit, the appointment, the arrival and the service report. It is replayed
// from the timeline when the ticket is read, so the timeline stays the one
// record of it; a new appointment starts a new visit, and earlier visits
// remain on the timeline.
type ServiceInfo struct {
	Mode          ServiceMode    `json:"mode"`
	SetBy         string         `json:"set_by"`
	SetAt         time.Time      `json:"set_at"`
	AppointmentAt *time.Time     `json:"appointment_at,omitempty"`
	ArrivedAt     *time.Time     `json:"arrived_at,omitempty"`
	ArrivedBy     string         `json:"arrived_by,omitempty"`
	Report        *ServiceReport `json:"report,omitempty"`
}

// ServiceReport is what an on-site engineer did, signed by the customer.
type ServiceReport struct {
	Work          string    `json:"work"`
	PartsReplaced string    `json:"parts_replaced,omitempty"`
	SignedBy      string    `json:"signed_by"` // the customer's signature name
	By            string    `json:"by"`
	At            time.Time `json:"at"`
}

const (
	appointmentPrefix = "appointment: "
	signedPrefix      = "signed by: "
	partsPrefix       = "parts replaced: "
	workHeader        = "work:"
)

// reportNote lays a report out for the timeline. The single-line fields
// come first and the free-text work last, so the note reads well and
// parses back unambiguously whatever the work text holds.
func reportNote(r ServiceReport) string {
	var b strings.Builder
	b.WriteString(signedPrefix + r.SignedBy + "\n")
	if r.PartsReplaced != "" {
		b.WriteString(partsPrefix + r.PartsReplaced + "\n")
	}
	b.WriteString(workHeader + "\n" + r.Work)
	return b.String()
}

func parseReportNote(note string) (ServiceReport, bool) {
	var r ServiceReport
	rest := note
	for {
		line, after, ok := strings.Cut(rest, "\n")
		switch {
		case strings.HasPrefix(line, signedPrefix):
			r.SignedBy = strings.TrimPrefix(line, signedPrefix)
		case strings.HasPrefix(line, partsPrefix):
			r.PartsReplaced = strings.TrimPrefix(line, partsPrefix)
		case line == workHeader && ok:
			r.Work = after
			return r, r.SignedBy != ""
		default:
			return ServiceReport{}, false
		}
		if !ok {
			return ServiceReport{}, false
		}
		rest = after
	}
}

// oneLine folds a single-line field's line breaks into "; " so the report
// layout holds.
func oneLine(s string) string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	return strings.Join(f, "; ")
}

// serviceOf replays t's timeline into its service info; nil when no mode
// was ever set.
func serviceOf(t Ticket) *ServiceInfo {
	var si *ServiceInfo
	for _, ev := range t.Timeline {
		switch ev.Kind {
		case KindServiceMode:
			si = &ServiceInfo{Mode: ServiceMode(ev.To), SetBy: ev.Actor, SetAt: ev.At}
			if si.Mode == ModeOnSite {
				first, _, _ := strings.Cut(ev.Note, "\n")
				if v, ok := strings.CutPrefix(first, appointmentPrefix); ok {
					if at, err := time.Parse(time.RFC3339, v); err == nil {
						at = at.UTC()
						si.AppointmentAt = &at
					}
				}
			}
		case KindArrived:
			if si == nil {
				continue
			}
			at := ev.At
			if v, err := time.Parse(time.RFC3339, ev.To); err == nil {
				at = v.UTC()
			}
			si.ArrivedAt, si.ArrivedBy = &at, ev.Actor
		case KindServiceReport:
			if si == nil {
				continue
			}
			if r, ok := parseReportNote(ev.Note); ok {
				r.By, r.At = ev.Actor, ev.At
				si.Report = &r
			}
		}
	}
	return si
}

// setMode applies the mode action.
func (s *Service) setMode(now time.Time, who string, in ActionInput, c *change) error {
	t := c.t
	mode := ServiceMode(strings.TrimSpace(string(in.Mode)))
	switch {
	case mode == "":
		return missing("mode", "want one of remote_guidance, remote_login, on_site")
	case !mode.Valid():
		return Errorf(EINVALID, "invalid field \"mode\": %q is not one of remote_guidance, remote_login, on_site", mode)
	}
	cur := serviceOf(*t)
	var note string
	if mode == ModeOnSite {
		if in.AppointmentAt == nil || in.AppointmentAt.IsZero() {
			return missing("appointment_at", "an on-site visit needs the appointment time (RFC 3339)")
		}
		at := in.AppointmentAt.UTC()
		if at.Before(t.OpenedAt) {
			return Errorf(EINVALID, "invalid field \"appointment_at\": %s is before the ticket was opened (%s)",
				at.Format(time.RFC3339), t.OpenedAt.Format(time.RFC3339))
		}
		if cur != nil && cur.Mode == ModeOnSite && cur.AppointmentAt != nil && cur.AppointmentAt.Equal(at) && cur.Report == nil {
			return Errorf(ECONFLICT, "ticket %s already has an on-site appointment at %s", t.ID, at.Format(time.RFC3339))
		}
		note = appointmentPrefix + at.Format(time.RFC3339)
	} else {
		if in.AppointmentAt != nil {
			return Errorf(EINVALID, "invalid field \"appointment_at\": only an on_site visit has an appointment")
		}
		if cur != nil && cur.Mode == mode {
			return Errorf(ECONFLICT, "ticket %s is already worked by %s", t.ID, mode)
		}
	}
	if r := strings.TrimSpace(in.Note); r != "" {
		if note != "" {
			note += "\n"
		}
		note += r
	}
	from := ""
	if cur != nil {
		from = string(cur.Mode)
	}
	c.event(now, who, KindServiceMode, from, string(mode), note)
	return nil
}

// arrive records the engineer's arrival on site; an acknowledged (or still
// new) ticket is then in progress.
func (s *Service) arrive(now time.Time, who string, in ActionInput, c *change) error {
	t := c.t
	cur := serviceOf(*t)
	switch {
	case cur == nil || cur.Mode != ModeOnSite:
		return Errorf(ECONFLICT, "ticket %s has no on-site visit: set the mode to on_site with an appointment first", t.ID)
	case cur.ArrivedAt != nil:
		return Errorf(ECONFLICT, "arrival on ticket %s was already recorded at %s by %s; a new visit needs a new appointment",
			t.ID, cur.ArrivedAt.Format(time.RFC3339), cur.ArrivedBy)
	}
	at := now
	if in.ArrivedAt != nil {
		at = in.ArrivedAt.UTC()
		if at.After(now) {
			return Errorf(EINVALID, "invalid field \"arrived_at\": %s is in the future", at.Format(time.RFC3339))
		}
		if at.Before(t.OpenedAt) {
			return Errorf(EINVALID, "invalid field \"arrived_at\": %s is before the ticket was opened", at.Format(time.RFC3339))
		}
	}
	c.event(now, who, KindArrived, "", at.Format(time.RFC3339), strings.TrimSpace(in.Note))
	if t.State == StateNew || t.State == StateAcknowledged {
		from := t.State
		t.State = StateInProgress
		c.event(now, who, KindStateChanged, string(from), string(StateInProgress), "engineer on site")
	}
	return nil
}

// report records the on-site service report.
func (s *Service) report(now time.Time, who string, in ActionInput, c *change) error {
	t := c.t
	cur := serviceOf(*t)
	switch {
	case cur == nil || cur.Mode != ModeOnSite:
		return Errorf(ECONFLICT, "ticket %s has no on-site visit to report on", t.ID)
	case cur.ArrivedAt == nil:
		return Errorf(ECONFLICT, "ticket %s: record the arrival on site before the service report", t.ID)
	case cur.Report != nil:
		return Errorf(ECONFLICT, "ticket %s already has a service report for this visit (by %s)", t.ID, cur.Report.By)
	}
	r := ServiceReport{Work: strings.TrimSpace(in.Work), PartsReplaced: oneLine(in.PartsReplaced), SignedBy: oneLine(in.SignedBy)}
	if r.Work == "" {
		return missing("work", "the service report says what was done on site")
	}
	if r.SignedBy == "" {
		return missing("signed_by", "the service report needs the name of the customer who signed it")
	}
	c.event(now, who, KindServiceReport, "", "", reportNote(r))
	return nil
}
