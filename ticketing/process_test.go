package ticketing_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

var (
	admin    = ticketing.Actor{Name: "root", Role: ticketing.RoleAdmin}
	manager  = ticketing.Actor{Name: "mia", Role: ticketing.RoleManager}
	alice    = ticketing.Actor{Name: "alice", Role: ticketing.RoleEngineer}
	bob      = ticketing.Actor{Name: "bob", Role: ticketing.RoleEngineer}
	acme     = ticketing.Actor{Name: "customer:acme", Role: ticketing.RoleCustomer, Customer: "acme"}
	globex   = ticketing.Actor{Name: "customer:globex", Role: ticketing.RoleCustomer, Customer: "globex"}
	ctxBg    = context.Background()
	engineer = []ticketing.Engineer{
		{Name: "alice", Tier: 1, Skills: []string{"link", "hardware"}, Customers: []string{"acme"}},
		{Name: "bob", Tier: 1, Skills: []string{"*"}},
		{Name: "sara", Tier: 2, Skills: []string{"link"}},
	}
)

func newProcEnv(t *testing.T, cfg ticketing.ProcessConfig, channels ...string) *env {
	t.Helper()
	e := &env{clk: newClock(), path: tempDB(t)}
	e.store = openStore(t, e.path)
	svc, err := ticketing.New(e.store, ticketing.Options{Now: e.clk.Now, Logger: quietLogger(), Channels: channels, Process: cfg})
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	e.svc = svc
	return e
}

func (e *env) act(t *testing.T, a ticketing.Actor, id string, act ticketing.Action, in ticketing.ActionInput) ticketing.Ticket {
	t.Helper()
	tk, err := e.svc.Act(ctxBg, a, id, act, in)
	if err != nil {
		t.Fatalf("%s %s by %s: %v", act, id, a.Name, err)
	}
	return tk
}

func manualInput() ticketing.ManualInput {
	onset := time.Date(2025, 3, 10, 8, 30, 0, 0, time.UTC)
	return ticketing.ManualInput{Customer: "acme", Contact: "Li Wei +86 138 0000 0000", Device: "core-01",
		Symptom: "Branch VPN drops every few minutes", OnsetAt: &onset, RecentChanges: "ISP swapped the modem",
		Channel: "phone", Category: "link", Priority: ticketing.P2}
}

func (e *env) manual(t *testing.T, a ticketing.Actor, in ticketing.ManualInput) ticketing.Ticket {
	t.Helper()
	tk, err := e.svc.CreateManual(ctxBg, a, in)
	if err != nil {
		t.Fatalf("create manual: %v", err)
	}
	return tk
}

func TestManualIntake(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{Engineers: engineer})
	tk := e.manual(t, manager, manualInput())
	if tk.Source != ticketing.SourceManual || tk.State != ticketing.StateNew || tk.Device.Customer != "acme" ||
		tk.Intake == nil || tk.Intake.Channel != "phone" || tk.Intake.RecentChanges != "ISP swapped the modem" ||
		tk.Title != "Branch VPN drops every few minutes" || tk.Tier != 1 {
		t.Fatalf("manual ticket = %+v (intake %+v)", tk, tk.Intake)
	}
	if tk.Assignee != "alice" {
		t.Errorf("assignee = %q, want alice (named engineer for acme with skill link)", tk.Assignee)
	}
	if got := e.get(t, tk.ID); !reflect.DeepEqual(got.Intake, tk.Intake) {
		t.Errorf("stored intake = %+v, want %+v", got.Intake, tk.Intake)
	}
	// A second manual ticket for the same device and category is allowed.
	e.manual(t, acme, manualInput())

	tests := []struct {
		name  string
		actor ticketing.Actor
		edit  func(*ticketing.ManualInput)
		code  string
		field string
	}{
		{"no contact", manager, func(in *ticketing.ManualInput) { in.Contact = "" }, ticketing.EINVALID, `"contact"`},
		{"no symptom", manager, func(in *ticketing.ManualInput) { in.Symptom = " " }, ticketing.EINVALID, `"symptom"`},
		{"no channel", manager, func(in *ticketing.ManualInput) { in.Channel = "" }, ticketing.EINVALID, `"channel"`},
		{"bad channel", manager, func(in *ticketing.ManualInput) { in.Channel = "fax" }, ticketing.EINVALID, `"channel"`},
		{"no category", manager, func(in *ticketing.ManualInput) { in.Category = "" }, ticketing.EINVALID, `"category"`},
		{"bad priority", manager, func(in *ticketing.ManualInput) { in.Priority = "P0" }, ticketing.EINVALID, `"priority"`},
		{"no customer", manager, func(in *ticketing.ManualInput) { in.Customer = "" }, ticketing.EINVALID, `"customer"`},
		{"future onset", manager, func(in *ticketing.ManualInput) { f := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC); in.OnsetAt = &f }, ticketing.EINVALID, `"onset_at"`},
		{"customer for another", globex, func(*ticketing.ManualInput) {}, ticketing.EFORBIDDEN, "globex"},
		{"monitoring", ticketing.Monitoring, func(*ticketing.ManualInput) {}, ticketing.EFORBIDDEN, "monitoring"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := manualInput()
			tc.edit(&in)
			_, err := e.svc.CreateManual(ctxBg, tc.actor, in)
			if ticketing.ErrorCode(err) != tc.code || !strings.Contains(ticketing.ErrorMessage(err), tc.field) {
				t.Errorf("err = %v (code %s), want %s naming %s", err, ticketing.ErrorCode(err), tc.code, tc.field)
			}
		})
	}
}

func TestManualIntakeUsesDeviceInventory(t *testing.T) {
	e := &env{clk: newClock(), path: tempDB(t)}
	e.store = openStore(t, e.path)
	e.svc = ticketing.NewService(e.store, ticketing.Options{Now: e.clk.Now, Logger: quietLogger(),
		Devices: func(name string) (ticketing.DeviceContext, bool) {
			d := device(name, "acme")
			d.Contract = "gold"
			return d, name == "core-01"
		}})
	tk := e.manual(t, alice, manualInput())
	if tk.Device.Serial != "FOC1234X0AB" || tk.Device.Contract != "gold" {
		t.Errorf("device = %+v, want the inventory context", tk.Device)
	}
	in := manualInput()
	in.Customer = "globex"
	if _, err := e.svc.CreateManual(ctxBg, alice, in); ticketing.ErrorCode(err) != ticketing.EINVALID || !strings.Contains(err.Error(), `"device"`) {
		t.Errorf("device of another customer: %v", err)
	}
}

// TestLifecycleHappyPath drives a manual ticket through every state and
// checks the timeline is the full audit log.
func TestLifecycleHappyPath(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{Engineers: engineer, Managers: []string{"mia"}}, "webhook")
	tk := e.manual(t, acme, manualInput())
	id := tk.ID
	steps := []struct {
		actor ticketing.Actor
		act   ticketing.Action
		in    ticketing.ActionInput
		state ticketing.State
	}{
		{alice, ticketing.ActAck, ticketing.ActionInput{}, ticketing.StateAcknowledged},
		{alice, ticketing.ActNote, ticketing.ActionInput{Note: "checking the tunnel"}, ticketing.StateInProgress},
		{alice, ticketing.ActHold, ticketing.ActionInput{Reason: "need the modem's admin password"}, ticketing.StateInProgress},
		{acme, ticketing.ActNote, ticketing.ActionInput{Note: "password sent by mail"}, ticketing.StateInProgress},
		{alice, ticketing.ActResolve, ticketing.ActionInput{Cause: "MTU 1500 on the new modem", Solution: "set MTU 1400 on the tunnel"}, ticketing.StateResolved},
		{alice, ticketing.ActVerify, ticketing.ActionInput{Note: "tunnel stable for 1h"}, ticketing.StateVerified},
		{acme, ticketing.ActConfirm, ticketing.ActionInput{}, ticketing.StateConfirmed},
		{manager, ticketing.ActClose, ticketing.ActionInput{}, ticketing.StateClosed},
	}
	for _, st := range steps {
		e.clk.Advance(5 * time.Minute)
		got := e.act(t, st.actor, id, st.act, st.in)
		if got.State != st.state {
			t.Fatalf("after %s: state %s, want %s", st.act, got.State, st.state)
		}
	}
	got := e.get(t, id)
	want := []ticketing.EventKind{"opened", "assigned", "acknowledged", "note", "state_changed", "paused", "note", "resumed",
		"resolved", "verified", "confirmed", "closed"}
	if k := kinds(got); !reflect.DeepEqual(k, want) {
		t.Fatalf("timeline = %v, want %v", k, want)
	}
	for i, ev := range got.Timeline {
		if ev.Seq != i+1 || ev.At.IsZero() || ev.Actor == "" {
			t.Errorf("event %d = %+v", i, ev)
		}
	}
	if ev := got.Timeline[8]; ev.Actor != "alice" || ev.From != "in_progress" || ev.To != "resolved" || !strings.Contains(ev.Note, "MTU 1400") {
		t.Errorf("resolved event = %+v", ev)
	}
	if ev := got.Timeline[6]; ev.Actor != "customer:acme" {
		t.Errorf("customer note actor = %q", ev.Actor)
	}
	if got.Cause != "MTU 1500 on the new modem" || got.ClosedAt == nil || got.WaitingCustomer {
		t.Errorf("closed ticket = %+v", got)
	}
	// Response stopped at the ack, 5 minutes in: met. Resolution ran 20
	// minutes minus the 5 minutes waiting for the customer.
	if r := got.SLA.Response; !r.Met() || r.ElapsedSeconds != 300 || r.TargetSeconds != 1800 {
		t.Errorf("response clock = %+v", r)
	}
	if r := got.SLA.Resolution; !r.Met() || r.ElapsedSeconds != 20*60 || r.Running {
		t.Errorf("resolution clock = %+v", r)
	}
}

func TestActionPermissions(t *testing.T) {
	tests := []struct {
		name  string
		setup []ticketing.Action // taken by admin first
		actor ticketing.Actor
		act   ticketing.Action
		in    ticketing.ActionInput
		code  string
		msg   string
	}{
		{"customer cannot ack", nil, acme, ticketing.ActAck, ticketing.ActionInput{}, ticketing.EFORBIDDEN, "customer may not ack"},
		{"engineer cannot close", []ticketing.Action{ticketing.ActAck, ticketing.ActResolve, ticketing.ActVerify, ticketing.ActConfirm}, alice, ticketing.ActClose, ticketing.ActionInput{}, ticketing.EFORBIDDEN, "engineer may not close"},
		{"engineer cannot cancel", nil, alice, ticketing.ActCancel, ticketing.ActionInput{Reason: "dup"}, ticketing.EFORBIDDEN, "may not cancel"},
		{"customer cannot close", []ticketing.Action{ticketing.ActAck, ticketing.ActResolve, ticketing.ActVerify, ticketing.ActConfirm}, acme, ticketing.ActClose, ticketing.ActionInput{}, ticketing.EFORBIDDEN, "may not close"},
		{"engineer cannot confirm", []ticketing.Action{ticketing.ActAck, ticketing.ActResolve, ticketing.ActVerify}, alice, ticketing.ActConfirm, ticketing.ActionInput{}, ticketing.EFORBIDDEN, "may not confirm"},
		{"other customer sees nothing", nil, globex, ticketing.ActNote, ticketing.ActionInput{Note: "hi"}, ticketing.ENOTFOUND, "not found"},
		{"ack twice", []ticketing.Action{ticketing.ActAck}, alice, ticketing.ActAck, ticketing.ActionInput{}, ticketing.ECONFLICT, "state acknowledged"},
		{"confirm before verify", []ticketing.Action{ticketing.ActAck, ticketing.ActResolve}, acme, ticketing.ActConfirm, ticketing.ActionInput{}, ticketing.ECONFLICT, "state resolved"},
		{"close before confirm needs reason", []ticketing.Action{ticketing.ActAck, ticketing.ActResolve, ticketing.ActVerify}, manager, ticketing.ActClose, ticketing.ActionInput{}, ticketing.EINVALID, `"reason"`},
		{"resolve needs cause", nil, alice, ticketing.ActResolve, ticketing.ActionInput{Solution: "x"}, ticketing.EINVALID, `"cause"`},
		{"resolve needs solution", nil, alice, ticketing.ActResolve, ticketing.ActionInput{Cause: "x"}, ticketing.EINVALID, `"solution"`},
		{"monitoring resolve needs evidence", nil, ticketing.Monitoring, ticketing.ActResolve, ticketing.ActionInput{}, ticketing.EINVALID, `"evidence"`},
		{"cancel needs reason", nil, manager, ticketing.ActCancel, ticketing.ActionInput{}, ticketing.EINVALID, `"reason"`},
		{"escalate needs reason", nil, alice, ticketing.ActEscalate, ticketing.ActionInput{}, ticketing.EINVALID, `"reason"`},
		{"reopen needs reason", []ticketing.Action{ticketing.ActAck, ticketing.ActResolve}, acme, ticketing.ActReopen, ticketing.ActionInput{}, ticketing.EINVALID, `"reason"`},
		{"note needs text", nil, alice, ticketing.ActNote, ticketing.ActionInput{}, ticketing.EINVALID, `"note"`},
		{"assign needs assignee", nil, manager, ticketing.ActAssign, ticketing.ActionInput{}, ticketing.EINVALID, `"assignee"`},
		{"engineer assigns only self", nil, alice, ticketing.ActAssign, ticketing.ActionInput{Assignee: "bob"}, ticketing.EFORBIDDEN, "themselves"},
		{"unknown assignee", nil, manager, ticketing.ActAssign, ticketing.ActionInput{Assignee: "mallory"}, ticketing.EINVALID, "mallory"},
		{"unknown action", nil, admin, "explode", ticketing.ActionInput{}, ticketing.EINVALID, "unknown action"},
		{"nameless actor", nil, ticketing.Actor{Role: ticketing.RoleAdmin}, ticketing.ActAck, ticketing.ActionInput{}, ticketing.EUNAUTHORIZED, "no name"},
		{"resume when not waiting", nil, alice, ticketing.ActResume, ticketing.ActionInput{}, ticketing.ECONFLICT, "not waiting"},
		{"cancel after close", []ticketing.Action{ticketing.ActAck, ticketing.ActResolve, ticketing.ActVerify, ticketing.ActConfirm, ticketing.ActClose}, manager, ticketing.ActCancel, ticketing.ActionInput{Reason: "x"}, ticketing.ECONFLICT, "state closed"},
	}
	setupIn := map[ticketing.Action]ticketing.ActionInput{
		ticketing.ActResolve: {Cause: "c", Solution: "s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newProcEnv(t, ticketing.ProcessConfig{Engineers: engineer, Managers: []string{"mia"}})
			tk := e.manual(t, manager, manualInput())
			for _, a := range tc.setup {
				e.act(t, admin, tk.ID, a, setupIn[a])
			}
			before := e.get(t, tk.ID)
			_, err := e.svc.Act(ctxBg, tc.actor, tk.ID, tc.act, tc.in)
			if ticketing.ErrorCode(err) != tc.code || !strings.Contains(ticketing.ErrorMessage(err), tc.msg) {
				t.Fatalf("err = %v (code %s), want %s containing %q", err, ticketing.ErrorCode(err), tc.code, tc.msg)
			}
			if after := e.get(t, tk.ID); len(after.Timeline) != len(before.Timeline) || after.State != before.State {
				t.Errorf("a refused action changed the ticket: %v -> %v", kinds(before), kinds(after))
			}
		})
	}
}

func TestCustomerScope(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{})
	mine := e.manual(t, acme, manualInput())
	in := manualInput()
	in.Customer = "globex"
	theirs := e.manual(t, manager, in)
	if _, err := e.svc.GetAs(ctxBg, acme, theirs.ID); ticketing.ErrorCode(err) != ticketing.ENOTFOUND {
		t.Errorf("acme reading globex's ticket: %v, want not_found", err)
	}
	if _, err := e.svc.GetAs(ctxBg, acme, mine.ID); err != nil {
		t.Errorf("acme reading its own: %v", err)
	}
	for _, f := range []ticketing.Filter{{}, {Customer: "globex"}} {
		ts, err := e.svc.ListAs(ctxBg, acme, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range ts {
			if tk.Device.Customer != "acme" {
				t.Errorf("filter %+v: acme listed %s of %s", f, tk.ID, tk.Device.Customer)
			}
		}
	}
	if ts, _ := e.svc.ListAs(ctxBg, manager, ticketing.Filter{}); len(ts) != 2 {
		t.Errorf("manager lists %d tickets, want 2", len(ts))
	}
}

func TestReopenByCustomerRestartsResponseClock(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{})
	tk := e.manual(t, acme, manualInput())
	e.clk.Advance(10 * time.Minute)
	e.act(t, alice, tk.ID, ticketing.ActAck, ticketing.ActionInput{})
	e.clk.Advance(time.Hour)
	e.act(t, alice, tk.ID, ticketing.ActResolve, ticketing.ActionInput{Cause: "c", Solution: "s"})
	e.clk.Advance(2 * time.Hour)
	got := e.act(t, acme, tk.ID, ticketing.ActReopen, ticketing.ActionInput{Reason: "still dropping"})
	if got.State != ticketing.StateNew || got.ReopenCount != 1 || got.Cause != "" || got.ResolvedAt != nil {
		t.Fatalf("reopened = %+v", got)
	}
	e.clk.Advance(20 * time.Minute)
	got = e.get(t, tk.ID)
	// Response: a fresh clock since the reopen, 20 of 30 minutes gone.
	if r := got.SLA.Response; r.ElapsedSeconds != 20*60 || !r.Running || r.Breached {
		t.Errorf("response after reopen = %+v", r)
	}
	// Resolution: 70 minutes before the fix, the 2 resolved hours excluded, 20 since.
	if r := got.SLA.Resolution; r.ElapsedSeconds != 90*60 || !r.Running {
		t.Errorf("resolution after reopen = %+v", r)
	}
}

func TestSLATargetsAndBreach(t *testing.T) {
	off := false
	cfg := ticketing.ProcessConfig{SLA: ticketing.SLAConfig{
		Calendars: map[string]ticketing.CalendarConfig{
			"office": {TimeZone: "UTC", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "18:00"},
		},
		Contracts: map[string]ticketing.Policy{
			"silver": {Calendar: "office", Response: map[ticketing.Priority]string{ticketing.P2: "1h"}},
			"bronze": {Calendar: "office", PauseWhenWaiting: &off},
		},
	}}
	tests := []struct {
		contract string
		prio     ticketing.Priority
		response int64 // seconds
		resolve  int64
	}{
		{"", ticketing.P1, 15 * 60, 4 * 3600},
		{"", ticketing.P2, 30 * 60, 8 * 3600},
		{"", ticketing.P3, 2 * 3600, 24 * 3600},
		{"", ticketing.P4, 24 * 3600, 72 * 3600},             // 24x7: next business day is 24 h
		{"silver", ticketing.P2, 3600, 8 * 3600},             // contract override, default resolution
		{"silver", ticketing.P4, 9*3600 + 9*3600, 72 * 3600}, // Monday 09:00 → end of Tuesday: 18 business hours
	}
	for _, tc := range tests {
		e := newProcEnv(t, cfg)
		in := manualInput()
		in.Priority, in.Contract = tc.prio, tc.contract
		tk := e.manual(t, manager, in)
		if r := tk.SLA.Response; r.TargetSeconds != tc.response || r.ElapsedSeconds != 0 || !r.Running || r.DueAt == nil {
			t.Errorf("%s %s: response = %+v, want target %d", tc.contract, tc.prio, r, tc.response)
		}
		if r := tk.SLA.Resolution; r.TargetSeconds != tc.resolve {
			t.Errorf("%s %s: resolution target = %d, want %d", tc.contract, tc.prio, r.TargetSeconds, tc.resolve)
		}
	}

	// Breach on the default P1: 16 minutes unacknowledged.
	e := newProcEnv(t, cfg)
	in := manualInput()
	in.Priority = ticketing.P1
	tk := e.manual(t, manager, in)
	e.clk.Advance(16 * time.Minute)
	got := e.get(t, tk.ID)
	r := got.SLA.Response
	if !r.Breached || r.RemainingSeconds != -60 || !r.DueAt.Equal(tk.OpenedAt.Add(15*time.Minute)) {
		t.Errorf("breached response = %+v", r)
	}
	got = e.act(t, alice, tk.ID, ticketing.ActAck, ticketing.ActionInput{})
	if r := got.SLA.Response; !r.Breached || r.Running || r.Met() || r.StoppedAt == nil {
		t.Errorf("late ack = %+v", r)
	}

	// Business hours: a silver P2 opened Monday 17:30 UTC is due Tuesday 09:30.
	e = newProcEnv(t, cfg)
	e.clk.Advance(8*time.Hour + 30*time.Minute) // 2025-03-10 17:30, a Monday
	in = manualInput()
	in.Contract = "silver"
	tk = e.manual(t, manager, in)
	if want := time.Date(2025, 3, 11, 9, 30, 0, 0, time.UTC); !tk.SLA.Response.DueAt.Equal(want) {
		t.Errorf("silver P2 due %s, want %s", tk.SLA.Response.DueAt, want)
	}
	e.clk.Advance(14 * time.Hour) // Tuesday 07:30: only 30 business minutes gone
	if r := e.get(t, tk.ID).SLA.Response; r.ElapsedSeconds != 30*60 || r.Breached {
		t.Errorf("overnight response = %+v", r)
	}
}

func TestSLAPausesOnlyWhereConfigured(t *testing.T) {
	off := false
	cfg := ticketing.ProcessConfig{SLA: ticketing.SLAConfig{Contracts: map[string]ticketing.Policy{
		"strict": {PauseWhenWaiting: &off},
	}}}
	for _, tc := range []struct {
		contract string
		elapsed  int64
		paused   bool
	}{{"", 20 * 60, true}, {"strict", 80 * 60, false}} {
		e := newProcEnv(t, cfg)
		in := manualInput()
		in.Contract = tc.contract
		tk := e.manual(t, manager, in)
		e.clk.Advance(10 * time.Minute)
		e.act(t, alice, tk.ID, ticketing.ActAck, ticketing.ActionInput{})
		e.act(t, alice, tk.ID, ticketing.ActHold, ticketing.ActionInput{Reason: "waiting for site access"})
		e.clk.Advance(time.Hour)
		mid := e.get(t, tk.ID)
		if mid.SLA.Paused != tc.paused || mid.SLA.Resolution.Running == tc.paused {
			t.Errorf("%q while waiting: %+v", tc.contract, mid.SLA)
		}
		if tc.paused && mid.SLA.Resolution.DueAt != nil {
			t.Errorf("%q: paused clock has a due time %s", tc.contract, mid.SLA.Resolution.DueAt)
		}
		e.act(t, alice, tk.ID, ticketing.ActResume, ticketing.ActionInput{})
		e.clk.Advance(10 * time.Minute)
		if r := e.get(t, tk.ID).SLA.Resolution; r.ElapsedSeconds != tc.elapsed {
			t.Errorf("%q: resolution elapsed %ds, want %d", tc.contract, r.ElapsedSeconds, tc.elapsed)
		}
	}
}

func TestProcessConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  ticketing.ProcessConfig
		want string
	}{
		{ticketing.ProcessConfig{SLA: ticketing.SLAConfig{Default: ticketing.Policy{Calendar: "nope"}}}, `unknown calendar "nope"`},
		{ticketing.ProcessConfig{SLA: ticketing.SLAConfig{Contracts: map[string]ticketing.Policy{"gold": {Response: map[ticketing.Priority]string{ticketing.P1: "soon"}}}}}, `contract gold response P1: target "soon"`},
		{ticketing.ProcessConfig{SLA: ticketing.SLAConfig{Default: ticketing.Policy{Resolution: map[ticketing.Priority]string{"P7": "1h"}}}}, `priority "P7"`},
		{ticketing.ProcessConfig{Engineers: []ticketing.Engineer{{Name: "a"}, {Name: "a"}}}, `duplicate name "a"`},
		{ticketing.ProcessConfig{Engineers: []ticketing.Engineer{{Name: "a", Tier: 3}}}, `tier 3`},
		{ticketing.ProcessConfig{ProblemThreshold: 1}, `problem_threshold 1`},
	}
	for _, tc := range tests {
		_, err := ticketing.New(nil, ticketing.Options{Process: tc.cfg})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want error containing %q", tc.cfg, err, tc.want)
		}
	}
}

// drain delivers every queued notice through a recording sender and
// returns them in delivery order.
func drain(t *testing.T, e *env) []ticketing.Notice {
	t.Helper()
	var got []ticketing.Notice
	d := ticketing.NewDispatcher(e.store, map[string]ticketing.Sender{"webhook": ticketing.SenderFunc(
		func(_ context.Context, m ticketing.OutboxMessage) error {
			var n ticketing.Notice
			if err := json.Unmarshal(m.Payload, &n); err != nil {
				return err
			}
			got = append(got, n)
			return nil
		})}, ticketing.DispatcherOptions{Now: e.clk.Now, Logger: quietLogger()})
	for range 100 {
		n, err := d.DeliverDue(ctxBg)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return got
		}
	}
	t.Fatal("outbox never drained")
	return nil
}

func noticesOf(ns []ticketing.Notice, kind ticketing.EventKind) []ticketing.Notice {
	var out []ticketing.Notice
	for _, n := range ns {
		if n.Event == kind {
			out = append(out, n)
		}
	}
	return out
}
