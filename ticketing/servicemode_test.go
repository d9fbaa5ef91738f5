package ticketing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

func TestServiceModeOnSiteVisit(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{Engineers: engineer, Managers: []string{"mia"}})
	tk := e.manual(t, manager, manualInput())
	appt := e.clk.Now().Add(2 * time.Hour)
	soon := e.clk.Now().Add(time.Hour)
	refusals := []struct {
		name string
		who  ticketing.Actor
		act  ticketing.Action
		in   ticketing.ActionInput
		code string
		want string
	}{
		{"customer sets mode", acme, ticketing.ActMode, ticketing.ActionInput{Mode: ticketing.ModeRemoteLogin}, ticketing.EFORBIDDEN, "may not mode"},
		{"no mode", alice, ticketing.ActMode, ticketing.ActionInput{}, ticketing.EINVALID, `"mode"`},
		{"unknown mode", alice, ticketing.ActMode, ticketing.ActionInput{Mode: "telepathy"}, ticketing.EINVALID, `"telepathy"`},
		{"on site without appointment", alice, ticketing.ActMode, ticketing.ActionInput{Mode: ticketing.ModeOnSite}, ticketing.EINVALID, `"appointment_at"`},
		{"appointment on a remote mode", alice, ticketing.ActMode, ticketing.ActionInput{Mode: ticketing.ModeRemoteGuidance, AppointmentAt: &appt}, ticketing.EINVALID, `"appointment_at"`},
		{"arrive without a visit", alice, ticketing.ActArrive, ticketing.ActionInput{}, ticketing.ECONFLICT, "no on-site visit"},
		{"report without a visit", alice, ticketing.ActReport, ticketing.ActionInput{Work: "x", SignedBy: "y"}, ticketing.ECONFLICT, "no on-site visit"},
	}
	for _, r := range refusals {
		_, err := e.svc.Act(ctxBg, r.who, tk.ID, r.act, r.in)
		if ticketing.ErrorCode(err) != r.code || !strings.Contains(ticketing.ErrorMessage(err), r.want) {
			t.Errorf("%s: err = %v, want %s naming %s", r.name, err, r.code, r.want)
		}
	}

	got := e.act(t, manager, tk.ID, ticketing.ActMode, ticketing.ActionInput{Mode: ticketing.ModeRemoteLogin})
	if got.Service == nil || got.Service.Mode != ticketing.ModeRemoteLogin || got.Service.SetBy != "mia" || got.State != ticketing.StateNew {
		t.Fatalf("after remote_login: service %+v state %s", got.Service, got.State)
	}
	if _, err := e.svc.Act(ctxBg, alice, tk.ID, ticketing.ActMode, ticketing.ActionInput{Mode: ticketing.ModeRemoteLogin}); ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("same mode again: %v, want conflict", err)
	}
	got = e.act(t, alice, tk.ID, ticketing.ActMode, ticketing.ActionInput{Mode: ticketing.ModeOnSite, AppointmentAt: &appt, Note: "bring a spare SFP"})
	if s := got.Service; s == nil || s.Mode != ticketing.ModeOnSite || s.AppointmentAt == nil || !s.AppointmentAt.Equal(appt) || s.ArrivedAt != nil {
		t.Fatalf("after on_site: %+v", got.Service)
	}
	last := got.Timeline[len(got.Timeline)-1]
	if last.Kind != ticketing.KindServiceMode || last.From != "remote_login" || last.To != "on_site" || !strings.Contains(last.Note, "bring a spare SFP") {
		t.Errorf("mode event = %+v", last)
	}

	// Only the engineer on site records the visit.
	for _, who := range []ticketing.Actor{manager, admin, acme} {
		if _, err := e.svc.Act(ctxBg, who, tk.ID, ticketing.ActArrive, ticketing.ActionInput{}); ticketing.ErrorCode(err) != ticketing.EFORBIDDEN {
			t.Errorf("arrive by %s: %v, want forbidden", who, err)
		}
	}
	if _, err := e.svc.Act(ctxBg, alice, tk.ID, ticketing.ActReport, ticketing.ActionInput{Work: "x", SignedBy: "y"}); ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("report before arrival: %v, want conflict", err)
	}
	if _, err := e.svc.Act(ctxBg, alice, tk.ID, ticketing.ActArrive, ticketing.ActionInput{ArrivedAt: &soon}); ticketing.ErrorCode(err) != ticketing.EINVALID {
		t.Errorf("arrival in the future: %v, want invalid", err)
	}

	e.clk.Advance(2*time.Hour + 5*time.Minute)
	got = e.act(t, alice, tk.ID, ticketing.ActArrive, ticketing.ActionInput{})
	if s := got.Service; s.ArrivedAt == nil || !s.ArrivedAt.Equal(e.clk.Now()) || s.ArrivedBy != "alice" {
		t.Errorf("arrival = %+v", s)
	}
	if got.State != ticketing.StateInProgress {
		t.Errorf("state after arrival = %s, want in_progress", got.State)
	}
	if got.SLA == nil || got.SLA.Response.StoppedAt == nil {
		t.Errorf("arriving on site did not count as the response: %+v", got.SLA)
	}
	if _, err := e.svc.Act(ctxBg, alice, tk.ID, ticketing.ActArrive, ticketing.ActionInput{}); ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("second arrival: %v, want conflict", err)
	}

	for _, c := range []struct {
		in   ticketing.ActionInput
		want string
	}{
		{ticketing.ActionInput{SignedBy: "Li Wei"}, `"work"`},
		{ticketing.ActionInput{Work: "swapped the SFP"}, `"signed_by"`},
	} {
		if _, err := e.svc.Act(ctxBg, alice, tk.ID, ticketing.ActReport, c.in); ticketing.ErrorCode(err) != ticketing.EINVALID ||
			!strings.Contains(ticketing.ErrorMessage(err), c.want) {
			t.Errorf("report %+v: %v, want a 400 naming %s", c.in, err, c.want)
		}
	}
	// Work text that looks like the report's own layout must survive.
	work := "signed by: nobody\nwork:\nreplaced SFP in Gi0/0/1\nparts replaced: none"
	e.clk.Advance(30 * time.Minute)
	got = e.act(t, alice, tk.ID, ticketing.ActReport, ticketing.ActionInput{Work: work,
		PartsReplaced: "SFP-10G-LR\nS/N AGM1234", SignedBy: "Li Wei"})
	want := ticketing.ServiceReport{Work: work, PartsReplaced: "SFP-10G-LR; S/N AGM1234", SignedBy: "Li Wei", By: "alice", At: e.clk.Now()}
	if r := got.Service.Report; r == nil || *r != want {
		t.Fatalf("report = %+v, want %+v", got.Service.Report, want)
	}
	if _, err := e.svc.Act(ctxBg, alice, tk.ID, ticketing.ActReport, ticketing.ActionInput{Work: "again", SignedBy: "x"}); ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("second report: %v, want conflict", err)
	}

	// What the action returned is what a reader gets back from the store.
	stored := e.get(t, tk.ID)
	if stored.Service == nil || *stored.Service.Report != want || !stored.Service.AppointmentAt.Equal(appt) ||
		!stored.Service.ArrivedAt.Equal(*got.Service.ArrivedAt) {
		t.Errorf("stored service = %+v", stored.Service)
	}
	ls, err := e.svc.List(ctxBg, ticketing.Filter{})
	if err != nil || len(ls) != 1 || ls[0].Service == nil || ls[0].Service.Report == nil {
		t.Errorf("listed ticket service = %+v, %v", ls, err)
	}

	// A new appointment starts a new visit.
	next := e.clk.Now().Add(24 * time.Hour)
	got = e.act(t, alice, tk.ID, ticketing.ActMode, ticketing.ActionInput{Mode: ticketing.ModeOnSite, AppointmentAt: &next})
	if s := got.Service; s.ArrivedAt != nil || s.Report != nil || !s.AppointmentAt.Equal(next) {
		t.Errorf("second visit = %+v", s)
	}
}

func TestServiceModeActionsAreListed(t *testing.T) {
	for _, a := range []ticketing.Action{ticketing.ActMode, ticketing.ActArrive, ticketing.ActReport} {
		found := false
		for _, x := range ticketing.Actions {
			found = found || x == a
		}
		if !found {
			t.Errorf("%s missing from ticketing.Actions", a)
		}
	}
}
