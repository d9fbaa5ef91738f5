package ticketing_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

func (e *env) tick(t *testing.T) ticketing.TickReport {
	t.Helper()
	rep, err := e.svc.Tick(ctxBg, e.clk.Now())
	if err != nil {
		t.Fatalf("tick: %v", err)
	}
	return rep
}

func TestTickEscalatesUnacknowledged(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{Engineers: engineer, Managers: []string{"mia", "max"}}, "webhook")
	tk, _ := e.ingest(t, firing(e.clk, "fp-a", "core-01", "link", "P1", "core-01 uplink down"))
	if tk.Assignee != "alice" {
		t.Fatalf("assignee = %q, want alice", tk.Assignee)
	}
	drain(t, e)

	e.clk.Advance(14 * time.Minute)
	if rep := e.tick(t); rep != (ticketing.TickReport{}) {
		t.Fatalf("tick before the target did %+v", rep)
	}
	e.clk.Advance(time.Minute)
	if rep := e.tick(t); rep.Escalated != 1 {
		t.Fatalf("tick at the target = %+v, want one escalation", rep)
	}
	if rep := e.tick(t); rep != (ticketing.TickReport{}) {
		t.Fatalf("a repeated tick did %+v", rep)
	}
	got := e.get(t, tk.ID)
	if got.Tier != 2 || !got.Escalated || got.Assignee != "sara" {
		t.Fatalf("after escalation tier=%d escalated=%v assignee=%q, want L2 with sara", got.Tier, got.Escalated, got.Assignee)
	}
	ns := drain(t, e)
	esc := noticesOf(ns, ticketing.KindEscalated)
	if len(esc) != 1 || !reflect.DeepEqual(esc[0].Recipients, []string{"tier:L2", "engineer:sara"}) ||
		!strings.Contains(esc[0].Note, "15m0s response target") {
		t.Errorf("escalation notices = %+v", esc)
	}
	if as := noticesOf(ns, ticketing.KindAssigned); len(as) != 1 || as[0].Recipients[0] != "engineer:sara" {
		t.Errorf("reassignment notices = %+v", as)
	}

	e.clk.Advance(15 * time.Minute)
	if rep := e.tick(t); rep.Escalated != 1 {
		t.Fatalf("second target: %+v", rep)
	}
	if esc := noticesOf(drain(t, e), ticketing.KindEscalated); len(esc) != 1 ||
		!reflect.DeepEqual(esc[0].Recipients, []string{"manager:mia", "manager:max"}) {
		t.Errorf("L3 notices = %+v", esc)
	}
	e.clk.Advance(time.Hour)
	if rep := e.tick(t); rep.Escalated != 0 {
		t.Errorf("escalated beyond L3: %+v", rep)
	}
	got = e.get(t, tk.ID)
	if got.Tier != 3 {
		t.Errorf("tier = %d, want 3", got.Tier)
	}
	// Acknowledged tickets do not escalate by timer; a person still can't go past L3.
	e.act(t, alice, tk.ID, ticketing.ActAck, ticketing.ActionInput{})
	if _, err := e.svc.Act(ctxBg, alice, tk.ID, ticketing.ActEscalate, ticketing.ActionInput{Reason: "x"}); ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("escalate past L3: %v", err)
	}
}

func TestManualEscalation(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{Engineers: engineer}, "webhook")
	tk, _ := e.ingest(t, firing(e.clk, "fp-a", "core-01", "link", "P3", "down"))
	e.act(t, alice, tk.ID, ticketing.ActAck, ticketing.ActionInput{})
	got := e.act(t, alice, tk.ID, ticketing.ActEscalate, ticketing.ActionInput{Reason: "needs BGP expertise"})
	if got.Tier != 2 || got.Assignee != "sara" {
		t.Errorf("tier=%d assignee=%q", got.Tier, got.Assignee)
	}
	ev := got.Timeline[len(got.Timeline)-2]
	if ev.Kind != ticketing.KindEscalated || ev.From != "L1" || ev.To != "L2" || ev.Note != "needs BGP expertise" || ev.Actor != "alice" {
		t.Errorf("escalation event = %+v", ev)
	}
}

func TestTickRemindsWithoutProgress(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{Engineers: engineer, Managers: []string{"mia"}}, "webhook")
	p2, _ := e.ingest(t, firing(e.clk, "fp-a", "core-01", "link", "P2", "down"))
	p3, _ := e.ingest(t, firing(e.clk, "fp-b", "core-02", "link", "P3", "down"))
	e.act(t, alice, p2.ID, ticketing.ActAck, ticketing.ActionInput{})
	e.act(t, alice, p3.ID, ticketing.ActAck, ticketing.ActionInput{})
	drain(t, e)

	e.clk.Advance(29 * time.Minute)
	if rep := e.tick(t); rep.Reminded != 0 {
		t.Fatalf("reminded early: %+v", rep)
	}
	e.clk.Advance(time.Minute)
	if rep := e.tick(t); rep.Reminded != 1 {
		t.Fatalf("at 30m: %+v, want one reminder (P3 is not reminded)", rep)
	}
	e.tick(t)
	rs := noticesOf(drain(t, e), ticketing.KindReminder)
	if len(rs) != 1 || rs[0].Ticket.ID != p2.ID || !reflect.DeepEqual(rs[0].Recipients, []string{"engineer:alice"}) {
		t.Fatalf("reminders = %+v", rs)
	}
	e.clk.Advance(30 * time.Minute)
	if rep := e.tick(t); rep.Reminded != 1 {
		t.Fatalf("at 60m: %+v", rep)
	}
	rs = noticesOf(drain(t, e), ticketing.KindReminder)
	if len(rs) != 1 || !reflect.DeepEqual(rs[0].Recipients, []string{"manager:mia"}) {
		t.Fatalf("manager reminder = %+v", rs)
	}
	// A progress note restarts the silence; waiting for the customer stops reminders.
	e.act(t, alice, p2.ID, ticketing.ActNote, ticketing.ActionInput{Note: "replacing the SFP"})
	e.clk.Advance(30 * time.Minute)
	if rep := e.tick(t); rep.Reminded != 1 {
		t.Fatalf("30m after the note: %+v", rep)
	}
	e.act(t, alice, p2.ID, ticketing.ActHold, ticketing.ActionInput{Reason: "waiting for site access"})
	e.clk.Advance(2 * time.Hour)
	if rep := e.tick(t); rep.Reminded != 0 {
		t.Errorf("reminded while waiting for the customer: %+v", rep)
	}
	// A customer's note is not progress.
	e.act(t, alice, p2.ID, ticketing.ActResume, ticketing.ActionInput{})
	e.clk.Advance(10 * time.Minute)
	e.act(t, acme, p2.ID, ticketing.ActNote, ticketing.ActionInput{Note: "any news?"})
	e.clk.Advance(20 * time.Minute)
	if rep := e.tick(t); rep.Reminded != 1 {
		t.Errorf("30m after resuming, 20m after a customer note: %+v, want a reminder", rep)
	}
}

func TestTickVerifiesOrReopens(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{}, "webhook")
	// Monitoring resolved: stays clear for 10 minutes → verified.
	s := firing(e.clk, "fp-a", "core-01", "link", "P3", "down")
	a, _ := e.ingest(t, s)
	e.ingest(t, cleared(e.clk, s))
	// Engineer resolved while the fault still fires → reopened.
	s2 := firing(e.clk, "fp-b", "core-02", "link", "P3", "core-02 down")
	b, _ := e.ingest(t, s2)
	e.act(t, alice, b.ID, ticketing.ActResolve, ticketing.ActionInput{Cause: "c", Solution: "s"})
	// Engineer resolved, and the fault clears afterwards → verified.
	s3 := firing(e.clk, "fp-c", "core-03", "link", "P3", "core-03 down")
	c, _ := e.ingest(t, s3)
	e.act(t, alice, c.ID, ticketing.ActResolve, ticketing.ActionInput{Cause: "c", Solution: "s"})
	e.clk.Advance(3 * time.Minute)
	if _, res := e.ingest(t, cleared(e.clk, s3)); res.Action != ticketing.ActionSymptomCleared {
		t.Fatalf("clear after an engineer's resolution: %s", res.Action)
	}
	// A person cannot verify while a symptom fires.
	if _, err := e.svc.Act(ctxBg, alice, b.ID, ticketing.ActVerify, ticketing.ActionInput{}); ticketing.ErrorCode(err) != ticketing.ECONFLICT ||
		!strings.Contains(err.Error(), "still firing") {
		t.Errorf("verify while firing: %v", err)
	}

	e.clk.Advance(6 * time.Minute)
	if rep := e.tick(t); rep.Verified+rep.Reopened != 0 {
		t.Fatalf("before verify_after: %+v", rep)
	}
	e.clk.Advance(time.Minute)
	if rep := e.tick(t); rep.Verified != 1 || rep.Reopened != 1 {
		for _, id := range []string{a.ID, b.ID, c.ID} {
			g := e.get(t, id)
			t.Logf("%s %s %v %+v", id, g.State, kinds(g), g.Evidence)
		}
		t.Fatalf("tick = %+v, want a and b decided", rep)
	}
	e.clk.Advance(2 * time.Minute)
	if rep := e.tick(t); rep.Verified != 0 {
		t.Fatalf("tick = %+v, c has been clear for 9 minutes only", rep)
	}
	e.clk.Advance(time.Minute)
	if rep := e.tick(t); rep.Verified != 1 {
		t.Fatalf("tick = %+v, want c verified", rep)
	}
	for id, want := range map[string]ticketing.State{a.ID: ticketing.StateVerified, b.ID: ticketing.StateNew, c.ID: ticketing.StateVerified} {
		if got := e.get(t, id); got.State != want {
			t.Errorf("%s state = %s, want %s (%v)", id, got.State, want, kinds(got))
		}
	}
	if ev := e.get(t, b.ID).Timeline; ev[len(ev)-1].Actor != "monitoring" || !strings.Contains(ev[len(ev)-1].Note, "verification failed") {
		t.Errorf("reopen event = %+v", ev[len(ev)-1])
	}
	// After verification the fault returning within the window still reopens.
	e.clk.Advance(5 * time.Minute)
	if _, res := e.ingest(t, firing(e.clk, "fp-a", "core-01", "link", "P3", "down again")); res.Action != ticketing.ActionReopened {
		t.Errorf("fault returning after verification: %s, want reopened", res.Action)
	}
}

func TestPick(t *testing.T) {
	now := time.Date(2025, 3, 10, 3, 0, 0, 0, time.UTC)
	shift := []ticketing.Shift{{From: now.Add(-time.Hour), To: now.Add(time.Hour)}}
	engs := []ticketing.Engineer{
		{Name: "ann", Tier: 1, Skills: []string{"link"}, Customers: []string{"acme"}, MaxLoad: 2},
		{Name: "ben", Tier: 1, Skills: []string{"link", "security"}, OnCall: shift},
		{Name: "cat", Tier: 1, Skills: []string{"link", "security", "hardware"}},
		{Name: "dan", Tier: 2, Skills: []string{"*"}},
	}
	tests := []struct {
		name     string
		category string
		customer string
		tier     int
		exclude  string
		loads    map[string]int
		want     string
		why      string
	}{
		{"named engineer first", "link", "acme", 1, "", nil, "ann", "named engineer"},
		{"named engineer at max load", "link", "acme", 1, "", map[string]int{"ann": 2}, "ben", "on call"},
		{"on call next", "link", "globex", 1, "", nil, "ben", "on call"},
		{"least loaded last", "hardware", "globex", 1, "", nil, "cat", "least loaded"},
		{"excluded skipped", "security", "globex", 1, "ben", nil, "cat", "least loaded"},
		{"least loaded among several", "security", "globex", 1, "", map[string]int{"ben": 5, "cat": 1}, "ben", "on call"},
		{"tier 2 wildcard", "power", "acme", 2, "", nil, "dan", "least loaded"},
		{"falls back to another tier", "power", "acme", 1, "", nil, "dan", "least loaded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, why, ok := ticketing.Pick(engs, tc.category, tc.customer, tc.tier, tc.exclude, tc.loads, now)
			if !ok || e.Name != tc.want || !strings.Contains(why, tc.why) {
				t.Errorf("Pick = %s (%q, %v), want %s (%s)", e.Name, why, ok, tc.want, tc.why)
			}
		})
	}
	if _, _, ok := ticketing.Pick(engs[:1], "security", "acme", 1, "", nil, now); ok {
		t.Error("picked an engineer without the skill")
	}
	// On-call outside the shift does not count.
	if e, why, _ := ticketing.Pick(engs, "link", "globex", 1, "", map[string]int{"ben": 3, "ann": 1}, now.Add(2*time.Hour)); e.Name != "cat" || !strings.Contains(why, "least loaded") {
		t.Errorf("after ben's shift picked %s (%s), want cat, least loaded", e.Name, why)
	}
}

func TestAutoAssignCountsLoad(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{Engineers: []ticketing.Engineer{
		{Name: "x", Skills: []string{"link"}}, {Name: "y", Skills: []string{"link"}},
	}})
	var got []string
	for i, dev := range []string{"r1", "r2", "r3", "r4"} {
		tk, _ := e.ingest(t, firing(e.clk, "fp"+dev, dev, "link", "P3", "down"))
		got = append(got, tk.Assignee)
		if i == 1 {
			// y's ticket is resolved: y is the least loaded again.
			e.act(t, admin, tk.ID, ticketing.ActResolve, ticketing.ActionInput{Cause: "c", Solution: "s"})
		}
	}
	if want := []string{"x", "y", "y", "x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("assignees = %v, want %v", got, want)
	}
}
