package ticketing

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// KPIFilter selects the tickets a report covers: opened in [From, To).
// Zero To is now; zero From is 30 days before To.
type KPIFilter struct {
	Customer string
	Contract string
	From, To time.Time
	// Devices is how many devices the customer (or contract, or everyone
	// when neither is set) has; 0 means unknown and leaves Availability nil.
	Devices int
}

// KPIReport is the service performance for one customer/contract and period.
// Ratios are in [0, 1] and nil when there is nothing to measure. Tickets
// cancelled and follow-up tasks are not faults and are left out.
type KPIReport struct {
	Customer string    `json:"customer,omitempty"`
	Contract string    `json:"contract,omitempty"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Tickets  int       `json:"tickets"`
	// MajorFaults counts P1 tickets.
	MajorFaults int `json:"major_faults"`
	// MTTA and MTTR are wall-clock means: opening to the first response,
	// opening to the (last) resolution.
	MTTASeconds float64 `json:"mtta_seconds"`
	MTTRSeconds float64 `json:"mttr_seconds"`
	// ResponseCompliance: responded within target / responded or breached.
	// A person responds (acknowledges, works the ticket); a ticket that
	// monitoring resolved before anyone did is not a response met: it is
	// counted in Unanswered and left out of this ratio, unless its target
	// had already passed (then it is a breach).
	ResponseCompliance *float64 `json:"response_compliance"`
	// Unanswered counts tickets resolved by monitoring before any person
	// responded and within the response target.
	Unanswered int `json:"unanswered"`
	// ResolutionCompliance: resolved within target / resolved or breached.
	ResolutionCompliance *float64 `json:"resolution_compliance"`
	// RepairTimeliness: resolved within target / all tickets of the period.
	RepairTimeliness *float64 `json:"repair_timeliness"`
	// Availability is 1 - DowntimeSeconds / (devices × period), from the
	// availability-category tickets; nil when the number of devices is
	// unknown or the period has not begun.
	Availability *float64 `json:"availability"`
	// DowntimeSeconds is the devices' downtime in the period, overlapping
	// outages of one device counted once.
	DowntimeSeconds float64                `json:"downtime_seconds"`
	ByCategory      map[string]CategoryKPI `json:"by_category"`
	Satisfaction    SatisfactionKPI        `json:"satisfaction"`
}

// CategoryKPI is the fault count and total fault duration of one category.
type CategoryKPI struct {
	Count        int     `json:"count"`
	FaultSeconds float64 `json:"fault_seconds"` // opening to resolution, or to now while open
}

// SatisfactionKPI summarises the surveys answered in the period.
type SatisfactionKPI struct {
	Responses int            `json:"responses"`
	Counts    map[Rating]int `json:"counts"`
	// Score is (very satisfied + satisfied) / responses.
	Score *float64 `json:"score"`
}

// maxReportTickets bounds one report's scan.
const maxReportTickets = 100000

// KPIs computes the report for f as seen by a: a customer always gets its
// own customer's figures.
func (s *Service) KPIs(ctx context.Context, a Actor, f KPIFilter) (KPIReport, error) {
	if err := a.validate(); err != nil {
		return KPIReport{}, err
	}
	if a.Role == RoleCustomer {
		if f.Customer != "" && f.Customer != a.Customer {
			return KPIReport{}, Errorf(EFORBIDDEN, "customer %s may not read the figures of customer %s", a.Customer, f.Customer)
		}
		f.Customer = a.Customer
	}
	if f.Devices < 0 {
		return KPIReport{}, Errorf(EINVALID, "invalid number of devices %d: want 0 (unknown) or more", f.Devices)
	}
	now := s.now().UTC()
	if f.To.IsZero() {
		f.To = now
	}
	if f.From.IsZero() {
		f.From = f.To.Add(-30 * 24 * time.Hour)
	}
	if !f.To.After(f.From) {
		return KPIReport{}, Errorf(EINVALID, "invalid period: to %s is not after from %s", f.To.Format(time.RFC3339), f.From.Format(time.RFC3339))
	}
	ts, err := s.store.ListTickets(ctx, Filter{Customer: f.Customer, OpenedFrom: f.From, OpenedTo: f.To,
		WithTimeline: true, Limit: maxReportTickets})
	if err != nil {
		return KPIReport{}, fmt.Errorf("kpis for %q: %w", f.Customer, err)
	}
	svs, err := s.store.Surveys(ctx, f.Customer, f.From, f.To)
	if err != nil {
		return KPIReport{}, fmt.Errorf("kpis for %q: %w", f.Customer, err)
	}
	var kept []Ticket
	for _, t := range ts {
		if (f.Contract == "" || t.Device.Contract == f.Contract) && t.ParentID == "" {
			kept = append(kept, s.decorate(t, now))
		}
	}
	r := kpis(kept, now)
	r.Customer, r.Contract, r.From, r.To = f.Customer, f.Contract, f.From, f.To
	r.Satisfaction = satisfaction(svs)
	// An outage that began before the period still counts for the part
	// inside it, so this reads further back than the tickets opened in it.
	down, err := s.store.ListTickets(ctx, Filter{Affecting: f.Customer, OpenedFrom: f.From.Add(-availabilityLookback),
		OpenedTo: f.To, WithTimeline: true, Limit: maxReportTickets})
	if err != nil {
		return KPIReport{}, fmt.Errorf("kpis for %q: availability: %w", f.Customer, err)
	}
	r.DowntimeSeconds, r.Availability = availability(down, f, now)
	return r, nil
}

func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	v := float64(n) / float64(d)
	return &v
}

// kpis computes the ticket figures of decorated tickets at now.
func kpis(ts []Ticket, now time.Time) KPIReport {
	r := KPIReport{ByCategory: map[string]CategoryKPI{}}
	var (
		ackSum, resSum           time.Duration
		acked, resolved          int
		respMet, respMeasured    int
		resMet, resMeasured      int
		repairedInTime, measured int
	)
	for _, t := range ts {
		if t.State == StateCancelled || t.SLA == nil {
			continue
		}
		r.Tickets++
		measured++
		if t.Priority == P1 {
			r.MajorFaults++
		}
		if at, ok := firstResponse(t); ok {
			ackSum += at.Sub(t.OpenedAt)
			acked++
		}
		end := now
		if t.ResolvedAt != nil && !t.State.Open() {
			end = *t.ResolvedAt
			resSum += end.Sub(t.OpenedAt)
			resolved++
		}
		ck := r.ByCategory[t.Category]
		ck.Count++
		ck.FaultSeconds += end.Sub(t.OpenedAt).Seconds()
		r.ByCategory[t.Category] = ck

		if rc := t.SLA.Response; rc.StoppedAt != nil || rc.Breached {
			_, responded := firstResponse(t)
			switch {
			case !responded && !rc.Breached:
				r.Unanswered++
			default:
				respMeasured++
				if rc.Met() && responded {
					respMet++
				}
			}
		}
		if rc := t.SLA.Resolution; rc.StoppedAt != nil || rc.Breached {
			resMeasured++
			if rc.Met() {
				resMet++
				repairedInTime++
			}
		}
	}
	if acked > 0 {
		r.MTTASeconds = (ackSum / time.Duration(acked)).Seconds()
	}
	if resolved > 0 {
		r.MTTRSeconds = (resSum / time.Duration(resolved)).Seconds()
	}
	r.ResponseCompliance = ratio(respMet, respMeasured)
	r.ResolutionCompliance = ratio(resMet, resMeasured)
	r.RepairTimeliness = ratio(repairedInTime, measured)
	return r
}

// firstResponse is when a person first moved t out of new; monitoring
// resolving a fault that cleared by itself is no response.
func firstResponse(t Ticket) (time.Time, bool) {
	for _, ev := range t.Timeline {
		if ev.Kind.changesState() && ev.From == string(StateNew) && ev.To != string(StateNew) {
			if ev.Actor == ActorMonitoring || ev.Actor == ActorSystem {
				return time.Time{}, false
			}
			return ev.At, true
		}
	}
	return time.Time{}, false
}

func satisfaction(svs []Survey) SatisfactionKPI {
	k := SatisfactionKPI{Counts: map[Rating]int{}}
	good := 0
	for _, sv := range svs {
		k.Responses++
		k.Counts[sv.Rating]++
		if sv.Rating == VerySatisfied || sv.Rating == Satisfied {
			good++
		}
	}
	k.Score = ratio(good, k.Responses)
	return k
}

// KPISample is one value of a report as a metric.
type KPISample struct {
	Name   string
	Help   string
	Labels map[string]string
	Value  float64
}

// Samples returns the report as metric samples (names prefixed
// nocagent_service_), labelled by customer and contract; a ratio with
// nothing to measure is left out rather than exported as 0.
func (r KPIReport) Samples() []KPISample {
	base := map[string]string{"customer": r.Customer, "contract": r.Contract}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for a, b := range base {
			m[a] = b
		}
		return m
	}
	out := []KPISample{
		{"nocagent_service_tickets", "Tickets opened in the period (cancelled excluded).", base, float64(r.Tickets)},
		{"nocagent_service_major_faults", "P1 tickets opened in the period.", base, float64(r.MajorFaults)},
		{"nocagent_service_mtta_seconds", "Mean time to acknowledge.", base, r.MTTASeconds},
		{"nocagent_service_mttr_seconds", "Mean time to resolve.", base, r.MTTRSeconds},
		{"nocagent_service_unanswered", "Tickets monitoring resolved before any person responded (not counted as responses met).", base, float64(r.Unanswered)},
	}
	for _, x := range []struct {
		name, help string
		v          *float64
	}{
		{"nocagent_service_response_compliance_ratio", "Responses within target / measured responses.", r.ResponseCompliance},
		{"nocagent_service_resolution_compliance_ratio", "Resolutions within target / measured resolutions.", r.ResolutionCompliance},
		{"nocagent_service_repair_timeliness_ratio", "Repaired within target / all tickets.", r.RepairTimeliness},
		{"nocagent_service_satisfaction_ratio", "Satisfied or very satisfied / survey responses.", r.Satisfaction.Score},
		{"nocagent_service_availability_ratio", "1 - device downtime / (devices × period), from availability tickets.", r.Availability},
	} {
		if x.v != nil {
			out = append(out, KPISample{x.name, x.help, base, *x.v})
		}
	}
	cats := make([]string, 0, len(r.ByCategory))
	for c := range r.ByCategory {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	for _, c := range cats {
		k := r.ByCategory[c]
		out = append(out,
			KPISample{"nocagent_service_faults", "Faults by category.", with("category", c), float64(k.Count)},
			KPISample{"nocagent_service_fault_duration_seconds", "Total fault duration by category.", with("category", c), k.FaultSeconds})
	}
	for _, rt := range Ratings {
		out = append(out, KPISample{"nocagent_service_survey_responses", "Survey responses by rating.", with("rating", string(rt)), float64(r.Satisfaction.Counts[rt])})
	}
	return out
}

// CategoryAvailability is the ticket category whose tickets are outages.
const CategoryAvailability = "availability"

// availabilityLookback bounds how long before a report's period an outage
// still counted in it may have begun: longer outages would have been
// escalated to the top long before, and the bound keeps the scan small.
const availabilityLookback = 90 * 24 * time.Hour

// span is one stretch of downtime.
type span struct{ from, to time.Time }

// outages returns when t's device was down, at now: from the opening (or a
// reopening by monitoring, the fault returning) until monitoring resolved
// it. When a person resolved it while the fault still fired, the outage
// lasts until monitoring saw its symptoms clear; a ticket with nothing to
// monitor ends at the person's resolution.
func outages(t Ticket, now time.Time) []span {
	var (
		out  []span
		from *time.Time
	)
	end := func(at time.Time) {
		if from != nil && at.After(*from) {
			out = append(out, span{*from, at})
		}
		from = nil
	}
	for _, ev := range t.Timeline {
		switch {
		case ev.Kind == KindOpened || (ev.Kind == KindReopened && ev.Actor == ActorMonitoring):
			if from == nil {
				at := ev.At
				from = &at
			}
		case ev.Kind == KindResolved && from != nil:
			if ev.Actor == ActorMonitoring {
				end(ev.At)
				continue
			}
			at, ok := symptomsClearedAt(t, *from, ev.At)
			if !ok {
				continue // still firing: the outage goes on
			}
			end(at)
		}
	}
	if from != nil {
		end(now)
	}
	return out
}

// symptomsClearedAt is when the last of t's symptoms that fired in
// [from, resolved] cleared, or resolved when there were none; false while
// one still fires.
func symptomsClearedAt(t Ticket, from, resolved time.Time) (time.Time, bool) {
	at := resolved
	for _, e := range t.Evidence {
		if e.At.After(resolved) || (e.ClearedAt != nil && e.ClearedAt.Before(from)) {
			continue
		}
		if e.Firing || e.ClearedAt == nil {
			return time.Time{}, false
		}
		if e.ClearedAt.After(at) {
			at = *e.ClearedAt
		}
	}
	return at, true
}

// availability computes the downtime in f's period of the devices f covers,
// from the availability-category tickets ts (cancelled ones and follow-up
// tasks are no outages), and the availability ratio when f.Devices is known.
// Devices cut off behind a ticket's device were down too, from when they
// were attached until they recovered or the outage ended; they carry no
// contract, so a report by contract counts only the tickets' own devices.
func availability(ts []Ticket, f KPIFilter, now time.Time) (float64, *float64) {
	to := f.To
	if now.Before(to) {
		to = now
	}
	if !to.After(f.From) {
		return 0, nil
	}
	perDevice := map[string][]span{}
	add := func(dev string, iv span) {
		if iv.from.Before(f.From) {
			iv.from = f.From
		}
		if iv.to.After(to) {
			iv.to = to
		}
		if iv.to.After(iv.from) {
			perDevice[dev] = append(perDevice[dev], iv)
		}
	}
	covers := func(customer string) bool { return f.Customer == "" || customer == f.Customer }
	for _, t := range ts {
		if t.Category != CategoryAvailability || t.State == StateCancelled || t.ParentID != "" {
			continue
		}
		if f.Contract != "" && t.Device.Contract != f.Contract {
			continue
		}
		for _, iv := range outages(t, now) {
			if covers(t.Device.Customer) {
				add(t.Device.Name, iv)
			}
			if f.Contract != "" {
				continue
			}
			for _, d := range t.ImpactedDevices {
				if !covers(d.Customer) {
					continue
				}
				cut := span{iv.from, iv.to}
				if d.AddedAt.After(cut.from) {
					cut.from = d.AddedAt
				}
				if d.RecoveredAt != nil && d.RecoveredAt.Before(cut.to) {
					cut.to = *d.RecoveredAt
				}
				add(d.Name, cut)
			}
		}
	}
	var down time.Duration
	for _, ivs := range perDevice {
		down += merged(ivs)
	}
	if f.Devices <= 0 {
		return down.Seconds(), nil
	}
	total := time.Duration(f.Devices) * to.Sub(f.From)
	v := 1 - float64(down)/float64(total)
	v = max(0, min(1, v)) // more devices down than were declared
	return down.Seconds(), &v
}

// merged returns the length of the union of ivs.
func merged(ivs []span) time.Duration {
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].from.Before(ivs[j].from) })
	var (
		sum time.Duration
		cur span
		has bool
	)
	for _, iv := range ivs {
		switch {
		case !has:
			cur, has = iv, true
		case !iv.from.After(cur.to):
			if iv.to.After(cur.to) {
				cur.to = iv.to
			}
		default:
			sum += cur.to.Sub(cur.from)
			cur = iv
		}
	}
	if has {
		sum += cur.to.Sub(cur.from)
	}
	return sum
}
