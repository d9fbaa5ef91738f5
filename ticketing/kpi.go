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
	ResponseCompliance *float64 `json:"response_compliance"`
	// ResolutionCompliance: resolved within target / resolved or breached.
	ResolutionCompliance *float64 `json:"resolution_compliance"`
	// RepairTimeliness: resolved within target / all tickets of the period.
	RepairTimeliness *float64               `json:"repair_timeliness"`
	ByCategory       map[string]CategoryKPI `json:"by_category"`
	Satisfaction     SatisfactionKPI        `json:"satisfaction"`
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
			respMeasured++
			if rc.Met() {
				respMet++
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

// firstResponse is when t first left new.
func firstResponse(t Ticket) (time.Time, bool) {
	for _, ev := range t.Timeline {
		if ev.Kind.changesState() && ev.From == string(StateNew) && ev.To != string(StateNew) {
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
	}
	for _, x := range []struct {
		name, help string
		v          *float64
	}{
		{"nocagent_service_response_compliance_ratio", "Responses within target / measured responses.", r.ResponseCompliance},
		{"nocagent_service_resolution_compliance_ratio", "Resolutions within target / measured resolutions.", r.ResolutionCompliance},
		{"nocagent_service_repair_timeliness_ratio", "Repaired within target / all tickets.", r.RepairTimeliness},
		{"nocagent_service_satisfaction_ratio", "Satisfied or very satisfied / survey responses.", r.Satisfaction.Score},
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
