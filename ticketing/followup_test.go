package ticketing_test

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// closeTicket walks a manual ticket to closed, acked after ack and resolved
// after fix from its opening.
func closeTicket(t *testing.T, e *env, in ticketing.ManualInput, ack, fix time.Duration) ticketing.Ticket {
	t.Helper()
	tk := e.manual(t, manager, in)
	e.clk.Advance(ack)
	e.act(t, alice, tk.ID, ticketing.ActAck, ticketing.ActionInput{})
	e.clk.Advance(fix - ack)
	e.act(t, alice, tk.ID, ticketing.ActResolve, ticketing.ActionInput{Cause: "fan failure in " + in.Device, Solution: "replaced the fan tray"})
	e.act(t, alice, tk.ID, ticketing.ActVerify, ticketing.ActionInput{})
	e.act(t, acme, tk.ID, ticketing.ActConfirm, ticketing.ActionInput{})
	return e.act(t, manager, tk.ID, ticketing.ActClose, ticketing.ActionInput{})
}

func TestSurvey(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{Managers: []string{"mia"}, SurveyValidFor: 48 * time.Hour}, "webhook")
	a := closeTicket(t, e, manualInput(), time.Minute, time.Hour)
	b := closeTicket(t, e, manualInput(), time.Minute, time.Hour)
	open := e.manual(t, acme, manualInput())

	if _, err := e.svc.SubmitSurvey(ctxBg, acme, open.ID, ticketing.SurveyInput{Rating: ticketing.Satisfied}); ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("survey of an open ticket: %v", err)
	}
	if _, err := e.svc.SubmitSurvey(ctxBg, alice, a.ID, ticketing.SurveyInput{Rating: ticketing.Satisfied}); ticketing.ErrorCode(err) != ticketing.EFORBIDDEN {
		t.Errorf("engineer answering: %v", err)
	}
	if _, err := e.svc.SubmitSurvey(ctxBg, acme, a.ID, ticketing.SurveyInput{Rating: "meh"}); ticketing.ErrorCode(err) != ticketing.EINVALID {
		t.Errorf("bad rating: %v", err)
	}
	sv, err := e.svc.SubmitSurvey(ctxBg, acme, a.ID, ticketing.SurveyInput{Rating: ticketing.Unsatisfied, Comment: "nobody called back"})
	if err != nil {
		t.Fatal(err)
	}
	task := e.get(t, sv.FollowUpID)
	if task.ParentID != a.ID || task.Assignee != "mia" || task.Category != "follow_up" || task.Intake.Channel != "survey" ||
		!task.DueAt.Equal(e.clk.Now().Add(24*time.Hour)) || task.SLA.Resolution.TargetSeconds != 24*3600 {
		t.Errorf("follow-up task = %+v", task)
	}
	parent := e.get(t, a.ID)
	if k := kinds(parent); !reflect.DeepEqual(k[len(k)-2:], []ticketing.EventKind{"survey", "follow_up"}) {
		t.Errorf("parent timeline = %v", k)
	}
	if _, err := e.svc.SubmitSurvey(ctxBg, acme, a.ID, ticketing.SurveyInput{Rating: ticketing.Satisfied}); ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("second answer: %v", err)
	}
	// Expiry: b closed 0s ago; 48h later it is still valid, a second later not.
	e.clk.Advance(48*time.Hour + time.Second)
	_, err = e.svc.SubmitSurvey(ctxBg, acme, b.ID, ticketing.SurveyInput{Rating: ticketing.Satisfied})
	if ticketing.ErrorCode(err) != ticketing.ECONFLICT || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired survey: %v", err)
	}
}

func TestProblemRecord(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{})
	s := firing(e.clk, "fp-flap", "core-01", "link", "P3", "Gi0/0/1 flapping")
	var ids []string
	for i := range 4 {
		tk, res := e.ingest(t, s)
		if res.Action != ticketing.ActionOpened {
			t.Fatalf("round %d: %s", i, res.Action)
		}
		ids = append(ids, tk.ID)
		e.clk.Advance(time.Minute)
		e.ingest(t, cleared(e.clk, s))
		e.clk.Advance(2 * 24 * time.Hour) // beyond the reopen window: a new ticket each time
		if i == 1 {
			if ps, _ := e.svc.Problems(ctxBg, manager, ""); len(ps) != 0 {
				t.Fatalf("problem after 2 tickets: %+v", ps)
			}
		}
	}
	ps, err := e.svc.Problems(ctxBg, manager, ticketing.ProblemOpen)
	if err != nil || len(ps) != 1 {
		t.Fatalf("problems = %+v, %v", ps, err)
	}
	if p := ps[0]; p.Fingerprint != "fp-flap" || !reflect.DeepEqual(p.TicketIDs, ids) || p.ID != "PRB-000001" {
		t.Errorf("problem = %+v, want tickets %v", p, ids)
	}
	if got := e.get(t, ids[0]); got.ProblemID != "PRB-000001" || got.Timeline[len(got.Timeline)-1].Kind != ticketing.KindProblemLinked {
		t.Errorf("first ticket = problem %q, %v", got.ProblemID, kinds(got))
	}
	if _, err := e.svc.Problems(ctxBg, acme, ""); ticketing.ErrorCode(err) != ticketing.EFORBIDDEN {
		t.Errorf("customer listing problems: %v", err)
	}
	// Spread over more than 7 days, the same fingerprint opens none.
	e2 := newProcEnv(t, ticketing.ProcessConfig{})
	for range 3 {
		e2.ingest(t, s)
		e2.ingest(t, cleared(e2.clk, s))
		e2.clk.Advance(4 * 24 * time.Hour)
	}
	if ps, _ := e2.svc.Problems(ctxBg, manager, ""); len(ps) != 0 {
		t.Errorf("problem from tickets 8 days apart: %+v", ps)
	}
}

func TestKnowledgeBase(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{})
	old, _ := e.ingest(t, firing(e.clk, "fp-fan", "core-01", "hardware", "P2", "fan tray failure on core-01"))
	e.act(t, alice, old.ID, ticketing.ActResolve, ticketing.ActionInput{Cause: "fan tray failed", Solution: "replaced the fan tray under RMA"})
	other, _ := e.ingest(t, firing(e.clk, "fp-cfg", "core-02", "configuration", "P3", "NTP drift"))
	e.act(t, alice, other.ID, ticketing.ActResolve, ticketing.ActionInput{Cause: "wrong NTP server", Solution: "pointed NTP at the site server"})

	got, err := e.svc.SearchKB(ctxBg, alice, "FAN tray", 5)
	if err != nil || len(got) != 1 || got[0].Article.TicketID != old.ID || got[0].Article.Vendor != "cisco" || got[0].Article.Rule != "rule-fp-fan" {
		t.Fatalf("search = %+v, %v", got, err)
	}
	s := firing(e.clk, "fp-fan", "core-09", "hardware", "P2", "fan tray failure on core-09")
	fresh, _ := e.ingest(t, s)
	sim, err := e.svc.Similar(ctxBg, alice, fresh.ID, 5)
	if err != nil || len(sim) != 1 || sim[0].Article.TicketID != old.ID {
		t.Fatalf("similar = %+v, %v", sim, err)
	}
	if _, err := e.svc.SearchKB(ctxBg, acme, "fan", 5); ticketing.ErrorCode(err) != ticketing.EFORBIDDEN {
		t.Errorf("customer search: %v", err)
	}
	if _, err := e.svc.SearchKB(ctxBg, alice, "a ?", 5); ticketing.ErrorCode(err) != ticketing.EINVALID {
		t.Errorf("empty query: %v", err)
	}
}

func TestKPIs(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{})
	start := e.clk.Now()
	// P2 (30m / 8h): acked in 10m, fixed in 2h → both met.
	a := closeTicket(t, e, manualInput(), 10*time.Minute, 2*time.Hour)
	// P2: acked in 40m (late), fixed in 10h (late).
	b := closeTicket(t, e, manualInput(), 40*time.Minute, 10*time.Hour)
	// P1, hardware, still open after 20m: response breached (15m), resolution running.
	in := manualInput()
	in.Priority, in.Category = ticketing.P1, "hardware"
	e.manual(t, manager, in)
	// Cancelled tickets do not count.
	c := e.manual(t, manager, manualInput())
	e.act(t, manager, c.ID, ticketing.ActCancel, ticketing.ActionInput{Reason: "duplicate"})
	e.clk.Advance(20 * time.Minute)
	if _, err := e.svc.SubmitSurvey(ctxBg, acme, a.ID, ticketing.SurveyInput{Rating: ticketing.VerySatisfied}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SubmitSurvey(ctxBg, acme, b.ID, ticketing.SurveyInput{Rating: ticketing.Neutral}); err != nil {
		t.Fatal(err)
	}
	rep, err := e.svc.KPIs(ctxBg, manager, ticketing.KPIFilter{Customer: "acme", From: start, To: start.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	near := func(got *float64, want float64) bool { return got != nil && math.Abs(*got-want) < 1e-9 }
	if rep.Tickets != 3 || rep.MajorFaults != 1 {
		t.Errorf("tickets=%d major=%d, want 3 and 1", rep.Tickets, rep.MajorFaults)
	}
	if rep.MTTASeconds != (10*60+40*60)/2 || rep.MTTRSeconds != (2*3600+10*3600)/2 {
		t.Errorf("MTTA=%v MTTR=%v", rep.MTTASeconds, rep.MTTRSeconds)
	}
	if !near(rep.ResponseCompliance, 1.0/3) || !near(rep.ResolutionCompliance, 1.0/2) || !near(rep.RepairTimeliness, 1.0/3) {
		t.Errorf("compliance response=%v resolution=%v timeliness=%v", deref(rep.ResponseCompliance), deref(rep.ResolutionCompliance), deref(rep.RepairTimeliness))
	}
	if rep.Unanswered != 0 {
		t.Errorf("unanswered = %d, want 0", rep.Unanswered)
	}
	if hw := rep.ByCategory["hardware"]; hw.Count != 1 || hw.FaultSeconds != 20*60 {
		t.Errorf("hardware = %+v", hw)
	}
	if lk := rep.ByCategory["link"]; lk.Count != 2 || lk.FaultSeconds != 12*3600 {
		t.Errorf("link = %+v", lk)
	}
	if sat := rep.Satisfaction; sat.Responses != 2 || !near(sat.Score, 0.5) || sat.Counts[ticketing.Neutral] != 1 {
		t.Errorf("satisfaction = %+v", sat)
	}
	samples := map[string]float64{}
	for _, s := range rep.Samples() {
		if s.Labels["customer"] != "acme" {
			t.Errorf("sample %s without the customer label", s.Name)
		}
		samples[s.Name+"/"+s.Labels["category"]+s.Labels["rating"]] = s.Value
	}
	if samples["nocagent_service_faults/link"] != 2 || samples["nocagent_service_survey_responses/neutral"] != 1 ||
		math.Abs(samples["nocagent_service_response_compliance_ratio/"]-1.0/3) > 1e-9 {
		t.Errorf("samples = %v", samples)
	}
	// A customer gets its own figures only.
	if r, err := e.svc.KPIs(ctxBg, globex, ticketing.KPIFilter{}); err != nil || r.Tickets != 0 || r.Customer != "globex" {
		t.Errorf("globex kpis = %+v, %v", r, err)
	}
	if _, err := e.svc.KPIs(ctxBg, manager, ticketing.KPIFilter{From: start, To: start}); ticketing.ErrorCode(err) != ticketing.EINVALID {
		t.Errorf("empty period: %v", err)
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// A fault that monitoring opens and resolves before anyone acknowledges it
// is not a response met: it is counted apart, and MTTA does not include it.
func TestKPIsAutoResolvedUnanswered(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{})
	start := e.clk.Now()
	acked := closeTicket(t, e, manualInput(), 10*time.Minute, 2*time.Hour)
	s := firing(e.clk, "fp-flap", "acc-01", "link", "P2", "uplink down")
	auto, _ := e.ingest(t, s)
	e.clk.Advance(5 * time.Minute) // within the 30 m response target
	e.ingest(t, cleared(e.clk, s))
	got, err := e.svc.Get(ctxBg, auto.ID)
	if err != nil || got.State != ticketing.StateResolved {
		t.Fatalf("auto ticket: %+v, %v", got.State, err)
	}
	rep, err := e.svc.KPIs(ctxBg, manager, ticketing.KPIFilter{From: start, To: start.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unanswered != 1 || rep.ResponseCompliance == nil || *rep.ResponseCompliance != 1 {
		t.Errorf("unanswered %d, response compliance %v: want 1 and 1 (only %s, acknowledged in time, measured)", rep.Unanswered, deref(rep.ResponseCompliance), acked.ID)
	}
	if rep.MTTASeconds != 10*60 {
		t.Errorf("MTTA = %v s, want 600: the auto-resolved ticket had no response", rep.MTTASeconds)
	}
}

// Monitoring resolved the fault before anyone looked; the engineer still
// records what it was, which feeds the knowledge base, until closure.
func TestCauseAfterMonitoringResolved(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{})
	s := firing(e.clk, "fp-psu", "core-03", "hardware", "P2", "PSU 2 failed on core-03")
	tk, _ := e.ingest(t, s)
	e.clk.Advance(3 * time.Minute)
	e.ingest(t, cleared(e.clk, s))

	if _, err := e.svc.Act(ctxBg, alice, tk.ID, ticketing.ActCause, ticketing.ActionInput{Cause: "loose PSU cable"}); ticketing.ErrorCode(err) != ticketing.EINVALID {
		t.Errorf("cause without a solution: %v, want invalid", err)
	}
	if _, err := e.svc.Act(ctxBg, acme, tk.ID, ticketing.ActCause, ticketing.ActionInput{Cause: "x", Solution: "y"}); ticketing.ErrorCode(err) != ticketing.EFORBIDDEN {
		t.Errorf("customer records a cause: %v, want forbidden", err)
	}
	got := e.act(t, alice, tk.ID, ticketing.ActCause, ticketing.ActionInput{Cause: "loose PSU cable", Solution: "reseated the cable, secured it"})
	if got.State != ticketing.StateResolved || got.Cause != "loose PSU cable" || got.Solution != "reseated the cable, secured it" {
		t.Errorf("after cause: state %s cause %q solution %q", got.State, got.Cause, got.Solution)
	}
	if last := got.Timeline[len(got.Timeline)-1]; last.Kind != ticketing.KindCauseRecorded || last.Actor != alice.Name {
		t.Errorf("last event = %+v, want cause_recorded by %s", last, alice.Name)
	}
	kb, err := e.svc.SearchKB(ctxBg, alice, "PSU cable", 5)
	if err != nil || len(kb) != 1 || kb[0].Article.TicketID != tk.ID {
		t.Errorf("knowledge base = %+v, %v, want the recorded cause", kb, err)
	}

	// Once closed, the record is final.
	e.act(t, alice, tk.ID, ticketing.ActVerify, ticketing.ActionInput{})
	e.act(t, manager, tk.ID, ticketing.ActClose, ticketing.ActionInput{Reason: "customer unreachable"})
	if _, err := e.svc.Act(ctxBg, alice, tk.ID, ticketing.ActCause, ticketing.ActionInput{Cause: "x", Solution: "y"}); ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("cause on a closed ticket: %v, want conflict", err)
	}
}
