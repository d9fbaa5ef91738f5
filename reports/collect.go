package reports

import (
	"context"
	"time"

	"github.com/nocagent/nocagent/plugins/inspection"
	"github.com/nocagent/nocagent/ticketing"
)

// maxListTickets is the ticket store's page limit.
const maxListTickets = ticketing.MaxListLimit

// reportActor reads figures and problem records on behalf of a report.
var reportActor = ticketing.Actor{Name: "nocagent-report", Role: ticketing.RoleManager}

// Collect gathers a contract's monthly service report from the ticket
// store: KPIs, availability of the in-scope devices, major faults and open
// problems, with the latest inspection. from is the first instant of the
// month; a month still in progress is reported up to now. truncated says the
// store held more tickets than one page in the two months read, so
// availability comes from the newest of them.
func Collect(ctx context.Context, svc *ticketing.Service, c inspection.Contract, customerName string, devices []string,
	last *inspection.InspectionResult, from, now time.Time) (d ServiceData, truncated bool, err error) {
	to := from.AddDate(0, 1, 0)
	k, err := svc.KPIs(ctx, reportActor, ticketing.KPIFilter{Customer: c.Customer, Contract: c.ID, From: from, To: to, Devices: len(devices)})
	if err != nil {
		return d, false, err
	}
	// Outages that began last month and lasted into this one count too.
	ts, err := svc.List(ctx, ticketing.Filter{Customer: c.Customer, OpenedFrom: from.AddDate(0, -1, 0), OpenedTo: to, Limit: maxListTickets})
	if err != nil {
		return d, false, err
	}
	var mine, major []ticketing.Ticket
	inMine := map[string]bool{}
	for _, t := range ts {
		if t.Device.Contract != c.ID {
			continue
		}
		mine = append(mine, t)
		inMine[t.ID] = true
		if t.Priority == ticketing.P1 && !t.OpenedAt.Before(from) && t.State != ticketing.StateCancelled && t.ParentID == "" {
			major = append(major, t)
		}
	}
	ps, err := svc.Problems(ctx, reportActor, ticketing.ProblemOpen)
	if err != nil {
		return d, false, err
	}
	var open []ticketing.Problem
	for _, p := range ps {
		for _, id := range p.TicketIDs {
			if inMine[id] {
				open = append(open, p)
				break
			}
		}
	}
	end := to
	if now.Before(end) {
		end = now // a month in progress: availability so far
	}
	return ServiceData{Contract: c, CustomerName: customerName, From: from, To: to, KPIs: k,
		Availability: Availability(mine, devices, from, end), MajorFaults: major, OpenProblems: open,
		Inspection: last, Generated: now}, len(ts) == maxListTickets, nil
}
