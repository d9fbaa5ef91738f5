package notice

import (
	"fmt"
	"strings"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// data is what the catalog templates read: the notice with every time,
// duration and list already formatted for the language and the audience.
type data struct {
	Audience   string // customer, engineer or manager
	IsCustomer bool
	IsManager  bool

	ID, Title, Priority, Category, State, Source string
	Event, Actor, Note                           string

	Device      string // the ticket's device name; "" for a customer behind another customer's device
	DeviceDesc  string // vendor, model, os, serial (staff)
	Address     string
	Site        string // site name, else id
	Customer    string // display name ("" when unknown)
	CustomerID  string
	Contract    string
	Upstream    bool // customer audience: the fault is on equipment that is not theirs
	Count       int  // devices affected now: the ticket's (if in scope) plus active impacted ones
	Impacted    int  // active impacted devices in scope
	Recovered   int  // impacted devices in scope that answer again
	Total       int  // the whole extent in scope: Count plus the recovered devices
	Assignee    string
	Tier        string
	Recipients  string
	Since       string
	At          string
	NextUpdate  string
	ResolvedAt  string
	Duration    string
	Cause       string
	Solution    string
	SLAResponse string
	SLARepair   string
	Devices     []string // formatted impacted-device lines
	Evidence    []string // formatted firing/cleared conditions (staff)

	// How the ticket is worked (service_mode, arrived, service_report).
	Mode        string // remote_guidance, remote_login, on_site or ""
	ModeName    string // the mode in words
	Appointment string // on-site visit
	ArrivedAt   string
	ArrivedBy   string
	Late        string // how long after the appointment the engineer arrived (staff)
	Work        string // service report; empty for a customer behind another customer's device
	Parts       string
	SignedBy    string
	ReportBy    string

	// ConfirmLink is the full confirmation URL, for the ticket's own
	// customer only; empty when there is none or no base URL to make it whole.
	ConfirmLink string
}

func (r *Renderer) data(n ticketing.Notice, lang, audience string) (*data, error) {
	t := n.Ticket
	loc := r.o.Zones[lang]
	w := words[lang]
	d := &data{
		Audience: audience, ID: t.ID, Title: t.Title, Priority: string(t.Priority), Category: t.Category,
		State: string(t.State), Source: t.Source, Event: string(n.Event), Actor: n.Actor, Note: n.Note,
		Device: t.Device.Name, Address: t.Device.Address,
		Site: firstNonEmpty(t.Device.SiteName, t.Device.Site), Customer: t.Device.CustomerName,
		CustomerID: t.Device.Customer, Contract: t.Device.Contract, Assignee: t.Assignee,
		Cause: t.Cause, Solution: t.Solution, Recipients: strings.Join(n.Recipients, ", "),
	}
	if t.Tier > 0 {
		d.Tier = ticketing.TierName(t.Tier)
	}
	customer, isCustomer := strings.CutPrefix(audience, AudienceCustomer)
	switch {
	case audience == AudienceEngineer || audience == AudienceManager:
		d.IsManager = audience == AudienceManager
	case isCustomer && (customer == "" || strings.HasPrefix(customer, ":")):
		d.Audience, d.IsCustomer = AudienceCustomer, true
		customer = strings.TrimPrefix(customer, ":")
		if customer == "" {
			customer = t.Device.Customer
		}
		if !ForCustomer(n.Event) {
			return nil, ErrNotForCustomer
		}
		if customer != t.Device.Customer {
			// Cut off behind another customer's equipment: name none of it.
			d.Upstream, d.Device, d.Address, d.Site, d.Customer, d.Contract = true, "", "", "", "", ""
		}
		d.CustomerID = customer
	default:
		return nil, ticketing.Errorf(ticketing.EINVALID, "notice: unknown audience %q: want customer, customer:<id>, engineer or manager", audience)
	}

	for _, dev := range t.ImpactedDevices {
		if d.IsCustomer && dev.Customer != d.CustomerID {
			continue
		}
		line := dev.Name
		if !d.IsCustomer && dev.Customer != "" {
			line += " [" + dev.Customer + "]"
		}
		if dev.Serial != "" {
			line += fmt.Sprintf(w.serial, dev.Serial)
		}
		if dev.Recovered {
			d.Recovered++
			at := ""
			if dev.RecoveredAt != nil {
				at = " " + fmtTime(*dev.RecoveredAt, loc)
			}
			line += fmt.Sprintf(w.recovered, at)
		} else {
			d.Impacted++
		}
		d.Devices = append(d.Devices, line)
	}
	d.Count = d.Impacted
	if !d.Upstream {
		d.Count++
	}
	d.Total = d.Count + d.Recovered
	if !d.IsCustomer {
		d.DeviceDesc = joinNonEmpty(" ", t.Device.Vendor, t.Device.Model, t.Device.OS)
		if t.Device.Serial != "" {
			d.DeviceDesc += fmt.Sprintf(w.serial, t.Device.Serial)
		}
		for _, e := range t.Evidence {
			line := e.Summary
			if line == "" {
				line = e.Rule
			}
			if e.Rule != "" && e.Summary != "" {
				line = e.Rule + ": " + e.Summary
			}
			line += " (" + fmtTime(e.At, loc)
			if e.Firing {
				line += ", " + w.firing + ")"
			} else if e.ClearedAt != nil {
				line += " – " + fmtTime(*e.ClearedAt, loc) + ")"
			} else {
				line += ")"
			}
			d.Evidence = append(d.Evidence, line)
		}
		if t.SLA != nil {
			d.SLAResponse = clock(t.SLA.Response, loc, w)
			d.SLARepair = clock(t.SLA.Resolution, loc, w)
		}
	}

	since := t.OpenedAt
	if d.IsCustomer && d.Upstream {
		// Their outage began when their first device went down.
		first := time.Time{}
		for _, dev := range t.ImpactedDevices {
			if dev.Customer == d.CustomerID && !dev.AddedAt.IsZero() && (first.IsZero() || dev.AddedAt.Before(first)) {
				first = dev.AddedAt
			}
		}
		if !first.IsZero() {
			since = first
		}
	}
	if t.Intake != nil && t.Intake.OnsetAt != nil && t.Intake.OnsetAt.Before(since) {
		since = *t.Intake.OnsetAt
	}
	d.Since = fmtTime(since, loc)
	d.At = fmtTime(n.At, loc)
	if every := r.o.UpdateEvery[t.Priority]; every > 0 {
		d.NextUpdate = fmtTime(n.At.Add(every), loc)
	}
	if t.ResolvedAt != nil {
		d.ResolvedAt = fmtTime(*t.ResolvedAt, loc)
		d.Duration = humanDuration(t.ResolvedAt.Sub(since), w)
	}
	d.service(n, loc, w)
	if d.IsCustomer && !d.Upstream {
		// The link confirms the ticket's resolution and its page names the
		// ticket's device and customer: only that customer gets it. Staff
		// never do, so a confirmation always comes from the customer.
		d.ConfirmLink = r.confirmLink(n.ConfirmURL)
	}
	return d, nil
}

// service fills the service-mode fields from the ticket's service info,
// which the notice fixed when the event happened.
func (d *data) service(n ticketing.Notice, loc *time.Location, w vocab) {
	if si := n.Ticket.Service; si != nil {
		d.Mode = string(si.Mode)
		d.ModeName = firstNonEmpty(w.modes[si.Mode], string(si.Mode))
		if si.AppointmentAt != nil {
			d.Appointment = fmtTime(*si.AppointmentAt, loc)
		}
		if si.ArrivedAt != nil {
			d.ArrivedAt, d.ArrivedBy = fmtTime(*si.ArrivedAt, loc), si.ArrivedBy
			if si.AppointmentAt != nil && si.ArrivedAt.Sub(*si.AppointmentAt) >= time.Minute {
				d.Late = humanDuration(si.ArrivedAt.Sub(*si.AppointmentAt), w)
			}
		}
		if r := si.Report; r != nil {
			d.Work, d.Parts, d.SignedBy, d.ReportBy = r.Work, r.PartsReplaced, r.SignedBy, r.By
		}
	}
	switch n.Event {
	case ticketing.KindServiceMode:
		// The appointment line is shown formatted, as a fact.
		if first, rest, _ := strings.Cut(d.Note, "\n"); strings.HasPrefix(first, "appointment: ") {
			d.Note = strings.TrimSpace(rest)
		}
	case ticketing.KindArrived:
		if d.ArrivedAt == "" {
			d.ArrivedAt, d.ArrivedBy = d.At, n.Actor
		}
	case ticketing.KindServiceReport:
		if d.Work == "" {
			d.Work, d.Parts, d.SignedBy = parseReport(n.Note)
		}
		d.ReportBy = firstNonEmpty(d.ReportBy, n.Actor)
		d.Note = "" // the report's layout; its fields are shown instead
	}
	if d.Upstream {
		// The report is about another customer's equipment, signed by
		// that customer.
		d.Work, d.Parts, d.SignedBy = "", "", ""
	}
}

// parseReport reads the service report from a service_report event's note
// ("signed by: …", optional "parts replaced: …", then "work:" and the work
// text), for a notice whose ticket carries no service info.
func parseReport(note string) (work, parts, signedBy string) {
	rest := note
	for rest != "" {
		line, after, _ := strings.Cut(rest, "\n")
		switch {
		case strings.HasPrefix(line, "signed by: "):
			signedBy = strings.TrimPrefix(line, "signed by: ")
		case strings.HasPrefix(line, "parts replaced: "):
			parts = strings.TrimPrefix(line, "parts replaced: ")
		case line == "work:":
			return strings.TrimSpace(after), parts, signedBy
		default:
			return "", "", ""
		}
		rest = after
	}
	return "", "", ""
}

func clock(c ticketing.Clock, loc *time.Location, w vocab) string {
	if c.Target == "" {
		return ""
	}
	switch {
	case c.StoppedAt != nil && c.Breached:
		return fmt.Sprintf(w.clockBreachedStopped, c.Target, fmtTime(*c.StoppedAt, loc))
	case c.StoppedAt != nil:
		return fmt.Sprintf(w.clockMet, c.Target, fmtTime(*c.StoppedAt, loc))
	case c.Breached:
		return fmt.Sprintf(w.clockBreached, c.Target, humanDuration(time.Duration(-c.RemainingSeconds)*time.Second, w))
	case c.DueAt != nil:
		return fmt.Sprintf(w.clockDue, c.Target, fmtTime(*c.DueAt, loc), humanDuration(time.Duration(c.RemainingSeconds)*time.Second, w))
	default:
		return fmt.Sprintf(w.clockPaused, c.Target, humanDuration(time.Duration(c.RemainingSeconds)*time.Second, w))
	}
}

func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// humanDuration says d in days, hours and minutes, rounded to the minute.
func humanDuration(d time.Duration, w vocab) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		return w.lessThanMinute
	}
	days, h, m := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf(w.days, days))
	}
	if h > 0 {
		parts = append(parts, fmt.Sprintf(w.hours, h))
	}
	if m > 0 {
		parts = append(parts, fmt.Sprintf(w.minutes, m))
	}
	return strings.Join(parts, w.durSep)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func joinNonEmpty(sep string, ss ...string) string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, sep)
}
