package ticketing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// impacted returns n devices acc-000..acc-(n-1), customers alternating
// between acme and globex.
func impacted(from, n int) []ticketing.ImpactedDevice {
	ds := make([]ticketing.ImpactedDevice, 0, n)
	for i := from; i < from+n; i++ {
		cust := "acme"
		if i%2 == 1 {
			cust = "globex"
		}
		ds = append(ds, ticketing.ImpactedDevice{Name: fmt.Sprintf("acc-%03d", i), Serial: fmt.Sprintf("SN%05d", i), Customer: cust})
	}
	return ds
}

// rootDown is the root's device_unreachable signal, as the agent builds it
// from a rules.IncidentChange.
func rootDown(clk *clock, prio string, ds []ticketing.ImpactedDevice) ticketing.Signal {
	s := firing(clk, "unreachable:core-01", "core-01", "availability", prio, "core-01 unreachable")
	s.Impacted = ds
	return s
}

func outboxLen(t *testing.T, e *env) int {
	t.Helper()
	n, err := e.store.OutboxBacklog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func names(ds []ticketing.ImpactedDevice) []string {
	var ns []string
	for _, d := range ds {
		ns = append(ns, d.Name)
	}
	return ns
}

func findImpacted(t *testing.T, tk ticketing.Ticket, name string) ticketing.ImpactedDevice {
	t.Helper()
	for _, d := range tk.ImpactedDevices {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("ticket %s does not list %s: %v", tk.ID, name, names(tk.ImpactedDevices))
	return ticketing.ImpactedDevice{}
}

func TestImpactStormIsOneTicket(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "webhook", "email")
	storm := impacted(0, 200)
	tk, res := e.ingest(t, rootDown(e.clk, "P2", storm))
	if res.Action != ticketing.ActionOpened || res.ImpactAdded != 200 {
		t.Fatalf("result = %+v, want opened with 200 impacted", res)
	}
	all, err := e.svc.List(ctx, ticketing.Filter{WithTimeline: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Fatalf("%d tickets, want 1", len(all))
	}
	got := all[0]
	if len(got.ImpactedDevices) != 200 || len(got.Timeline) != 1 || got.Timeline[0].Kind != ticketing.KindOpened {
		t.Fatalf("ticket lists %d devices, timeline %v; want 200 and one opened event", len(got.ImpactedDevices), kinds(got))
	}
	if note := got.Timeline[0].Note; !strings.Contains(note, "200 devices impacted: acc-000 (acme), acc-001 (globex)") ||
		!strings.HasSuffix(note, "and 180 more") {
		t.Errorf("opened note = %q", note)
	}
	if want := []string{"acme", "globex"}; !slices.Equal(got.ImpactedCustomers, want) {
		t.Errorf("impacted customers = %v, want %v", got.ImpactedCustomers, want)
	}
	if d := findImpacted(t, got, "acc-007"); d.Serial != "SN00007" || d.Customer != "globex" || d.Recovered || !d.AddedAt.Equal(e.clk.Now()) {
		t.Errorf("acc-007 = %+v", d)
	}
	if n := outboxLen(t, e); n != 2 {
		t.Errorf("outbox = %d, want one notice per channel", n)
	}
	msgs, err := e.store.DueOutbox(ctx, e.clk.Now(), 10)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("due outbox: %v, %v", msgs, err)
	}
	var n ticketing.Notice
	if err := json.Unmarshal(msgs[0].Payload, &n); err != nil {
		t.Fatal(err)
	}
	if len(n.Ticket.ImpactedDevices) != 200 || !slices.Equal(n.Ticket.ImpactedCustomers, []string{"acme", "globex"}) {
		t.Errorf("notice lists %d devices, customers %v", len(n.Ticket.ImpactedDevices), n.Ticket.ImpactedCustomers)
	}

	// The correlator sends the incident's whole list again with 3 more.
	e.clk.Advance(time.Minute)
	_, res = e.ingest(t, rootDown(e.clk, "P2", impacted(0, 203)))
	if res.Action != ticketing.ActionImpactAdded || res.ImpactAdded != 3 || res.PriorityRaised {
		t.Fatalf("result = %+v, want impact_added 3, no raise", res)
	}
	got = e.get(t, tk.ID)
	if want := []ticketing.EventKind{ticketing.KindOpened, ticketing.KindImpactAdded}; !slices.Equal(kinds(got), want) {
		t.Fatalf("timeline = %v, want %v", kinds(got), want)
	}
	if note := got.Timeline[1].Note; note != "3 devices impacted: acc-200 (acme), acc-201 (globex), acc-202 (acme)" {
		t.Errorf("impact_added note = %q", note)
	}
	if got.Timeline[1].Actor != ticketing.ActorMonitoring || len(got.ImpactedDevices) != 203 {
		t.Errorf("event %+v, %d devices", got.Timeline[1], len(got.ImpactedDevices))
	}
	if n := outboxLen(t, e); n != 4 {
		t.Errorf("outbox = %d, want 2 more (one notice per channel)", n)
	}

	// The same set again, or only the devices already listed, is a no-op.
	for _, ds := range [][]ticketing.ImpactedDevice{impacted(0, 203), impacted(200, 3)} {
		e.clk.Advance(time.Minute)
		_, res = e.ingest(t, rootDown(e.clk, "P2", ds))
		if res.Action != ticketing.ActionDuplicate {
			t.Errorf("repeat with %d devices: action %s, want duplicate", len(ds), res.Action)
		}
	}
	if again := e.get(t, tk.ID); len(again.Timeline) != 2 || !again.UpdatedAt.Equal(got.UpdatedAt) || outboxLen(t, e) != 4 {
		t.Errorf("repeat changed the ticket: %v, outbox %d", kinds(again), outboxLen(t, e))
	}

	// A bigger outage is pricier: the raise is its own event and notice.
	e.clk.Advance(time.Minute)
	_, res = e.ingest(t, rootDown(e.clk, "P1", impacted(203, 1)))
	if res.Action != ticketing.ActionImpactAdded || !res.PriorityRaised {
		t.Fatalf("result = %+v, want impact_added with raise", res)
	}
	got = e.get(t, tk.ID)
	last := got.Timeline[len(got.Timeline)-1]
	if got.Priority != ticketing.P1 || last.Kind != ticketing.KindPriorityRaised || last.From != "P2" || last.To != "P1" ||
		last.Note != "impact: 204 devices cut off" {
		t.Errorf("priority %s, last event %+v", got.Priority, last)
	}
	if n := outboxLen(t, e); n != 8 {
		t.Errorf("outbox = %d, want impact_added and priority_raised on both channels (8)", n)
	}
}

func TestImpactRecovered(t *testing.T) {
	e := newEnv(t, "webhook")
	tk, _ := e.ingest(t, rootDown(e.clk, "P2", impacted(0, 3)))

	e.clk.Advance(time.Minute)
	rec := rootDown(e.clk, "P2", nil)
	rec.Recovered = impacted(1, 1)
	_, res := e.ingest(t, rec)
	if res.Action != ticketing.ActionImpactRecovered || res.ImpactRecovered != 1 {
		t.Fatalf("result = %+v, want impact_recovered 1", res)
	}
	got := e.get(t, tk.ID)
	last := got.Timeline[len(got.Timeline)-1]
	if last.Kind != ticketing.KindImpactRecovered || last.Note != "1 device recovered: acc-001 (globex)" {
		t.Errorf("last event = %+v", last)
	}
	d := findImpacted(t, got, "acc-001")
	if !d.Recovered || d.RecoveredAt == nil || !d.RecoveredAt.Equal(e.clk.Now()) {
		t.Errorf("acc-001 = %+v, want recovered now", d)
	}
	if len(got.ImpactedDevices) != 3 || findImpacted(t, got, "acc-000").Recovered {
		t.Errorf("devices = %+v, want 3 with only acc-001 recovered", got.ImpactedDevices)
	}
	if n := outboxLen(t, e); n != 1 {
		t.Errorf("outbox = %d, want only the opening notice: a recovery is timeline-only", n)
	}
	// Reported twice: the second is news to nobody.
	if _, res = e.ingest(t, rec); res.Action != ticketing.ActionDuplicate {
		t.Errorf("second recovery: %s, want duplicate", res.Action)
	}

	// It falls again: impacted once more, named alone.
	e.clk.Advance(time.Minute)
	_, res = e.ingest(t, rootDown(e.clk, "P2", impacted(0, 3)))
	if res.Action != ticketing.ActionImpactAdded || res.ImpactAdded != 1 {
		t.Fatalf("result = %+v, want acc-001 impacted again", res)
	}
	got = e.get(t, tk.ID)
	if d := findImpacted(t, got, "acc-001"); d.Recovered || d.RecoveredAt != nil || !d.AddedAt.Equal(e.clk.Now()) {
		t.Errorf("acc-001 = %+v, want impacted since now", d)
	}
	if note := got.Timeline[len(got.Timeline)-1].Note; note != "1 device impacted: acc-001 (globex)" {
		t.Errorf("note = %q", note)
	}
}

func TestImpactResolveWithNote(t *testing.T) {
	tests := []struct {
		name, note, wantPrefix string
	}{
		{"root recovered", "root recovered", "root recovered; cleared: core-01 unreachable at "},
		{"merged", "merged into NOC-000012", "merged into NOC-000012; cleared: "},
		{"no note", "", "cleared: core-01 unreachable at "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "webhook")
			down := rootDown(e.clk, "P1", impacted(0, 2))
			tk, _ := e.ingest(t, down)
			e.clk.Advance(5 * time.Minute)
			up := cleared(e.clk, down)
			up.Impacted, up.Note = nil, tc.note
			_, res := e.ingest(t, up)
			if res.Action != ticketing.ActionResolved {
				t.Fatalf("action = %s, want resolved", res.Action)
			}
			got := e.get(t, tk.ID)
			last := got.Timeline[len(got.Timeline)-1]
			if last.Kind != ticketing.KindResolved || !strings.HasPrefix(last.Note, tc.wantPrefix) {
				t.Errorf("resolving event = %+v, want note starting %q", last, tc.wantPrefix)
			}
			if len(got.ImpactedDevices) != 2 {
				t.Errorf("resolution dropped impacted devices: %+v", got.ImpactedDevices)
			}
		})
	}
}

func TestImpactRecoveredAfterRootResolved(t *testing.T) {
	e := newEnv(t, "webhook")
	down := rootDown(e.clk, "P1", impacted(0, 2))
	tk, _ := e.ingest(t, down)
	e.clk.Advance(time.Minute)
	up := cleared(e.clk, down)
	up.Impacted, up.Note = nil, "root recovered"
	e.ingest(t, up)

	// acc-000 was still down when the root came back; it answers later.
	e.clk.Advance(time.Minute)
	late := cleared(e.clk, down)
	late.Impacted, late.Recovered = nil, impacted(0, 1)
	_, res := e.ingest(t, late)
	if res.Action != ticketing.ActionImpactRecovered || res.ImpactRecovered != 1 {
		t.Fatalf("result = %+v, want impact_recovered on the resolved ticket", res)
	}
	got := e.get(t, tk.ID)
	if got.State != ticketing.StateResolved || !findImpacted(t, got, "acc-000").Recovered || findImpacted(t, got, "acc-001").Recovered {
		t.Errorf("state %s, devices %+v", got.State, got.ImpactedDevices)
	}
	if k := kinds(got); k[len(k)-1] != ticketing.KindImpactRecovered {
		t.Errorf("timeline = %v", k)
	}
	// A recovery of a device the ticket never listed changes nothing.
	late.Recovered = []ticketing.ImpactedDevice{{Name: "elsewhere"}}
	if _, res = e.ingest(t, late); res.Action != ticketing.ActionIgnored {
		t.Errorf("unknown device recovery: %s, want ignored", res.Action)
	}
	// Nor does a firing recovery reopen the resolved ticket.
	if tks, _ := e.svc.List(context.Background(), ticketing.Filter{}); len(tks) != 1 {
		t.Errorf("%d tickets, want 1", len(tks))
	}
}

func TestImpactAfterEngineerResolvedStaysOnTicket(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "webhook")
	tk, _ := e.ingest(t, rootDown(e.clk, "P2", impacted(0, 2)))
	eng := ticketing.Actor{Name: "alice", Role: ticketing.RoleEngineer}
	if _, err := e.svc.Act(ctx, eng, tk.ID, ticketing.ActResolve, ticketing.ActionInput{Cause: "power", Solution: "restored"}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	tk2, res := e.ingest(t, rootDown(e.clk, "P2", impacted(0, 4)))
	if res.Action != ticketing.ActionImpactAdded || tk2.ID != tk.ID || tk2.State != ticketing.StateResolved {
		t.Fatalf("result = %+v on %s (%s), want impact_added on %s, still resolved", res, tk2.ID, tk2.State, tk.ID)
	}
	if tks, _ := e.svc.List(ctx, ticketing.Filter{}); len(tks) != 1 {
		t.Errorf("%d tickets, want 1", len(tks))
	}
}

func TestImpactDropsBadEntries(t *testing.T) {
	e := newEnv(t)
	ds := append(impacted(0, 1), ticketing.ImpactedDevice{Name: ""}, ticketing.ImpactedDevice{Name: "core-01"},
		ticketing.ImpactedDevice{Name: "acc-000", Customer: "dup"})
	tk, res := e.ingest(t, rootDown(e.clk, "P2", ds))
	if res.ImpactAdded != 1 || !slices.Equal(names(tk.ImpactedDevices), []string{"acc-000"}) || tk.ImpactedDevices[0].Customer != "acme" {
		t.Errorf("result %+v, devices %+v; want acc-000 of acme only", res, tk.ImpactedDevices)
	}
}

func TestImpactSurvivesRestart(t *testing.T) {
	e := newEnv(t, "webhook")
	tk, _ := e.ingest(t, rootDown(e.clk, "P1", impacted(0, 5)))
	e.clk.Advance(time.Minute)
	rec := rootDown(e.clk, "P1", nil)
	rec.Recovered = impacted(2, 1)
	e.ingest(t, rec)
	before := e.get(t, tk.ID)

	e.restart(t, "webhook")
	after := e.get(t, tk.ID)
	b, _ := json.Marshal(before.ImpactedDevices)
	a, _ := json.Marshal(after.ImpactedDevices)
	if string(a) != string(b) || len(after.ImpactedDevices) != 5 {
		t.Errorf("after restart devices = %s\nwant %s", a, b)
	}
	// Dedup works from the stored list.
	_, res := e.ingest(t, rootDown(e.clk, "P1", impacted(0, 2)))
	if res.Action != ticketing.ActionDuplicate {
		t.Errorf("after restart: %s, want duplicate", res.Action)
	}
}

func TestPlainTicketImpactFields(t *testing.T) {
	e := newEnv(t)
	tk, _ := e.ingest(t, firing(e.clk, "fp-a", "edge-01", "link", "P3", "Gi0/0/1 down"))
	for _, got := range []ticketing.Ticket{tk, e.get(t, tk.ID)} {
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if !strings.Contains(s, `"impacted_devices":[]`) || !strings.Contains(s, `"impacted_customers":["acme"]`) {
			t.Errorf("json = %s, want empty impacted_devices and acme as the only customer", s)
		}
	}
}

func TestCustomerSeesTicketsThatAffectIt(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	// The provider's core, with devices of acme and globex behind it.
	root := rootDown(e.clk, "P1", impacted(0, 2))
	root.Device.Customer = "provider"
	rootTk, _ := e.ingest(t, root)
	own, _ := e.ingest(t, firing(e.clk, "fp-b", "edge-07", "link", "P3", "Gi0/0/2 down")) // acme's own

	tests := []struct {
		customer string
		want     []string
	}{
		{"acme", []string{own.ID, rootTk.ID}},
		{"globex", []string{rootTk.ID}},
		{"provider", []string{rootTk.ID}},
		{"initech", nil},
	}
	for _, tc := range tests {
		t.Run(tc.customer, func(t *testing.T) {
			a := ticketing.Actor{Name: "customer:" + tc.customer, Role: ticketing.RoleCustomer, Customer: tc.customer}
			ts, err := e.svc.ListAs(ctx, a, ticketing.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, tk := range ts {
				ids = append(ids, tk.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("ListAs = %v, want %v", ids, tc.want)
			}
			_, err = e.svc.GetAs(ctx, a, rootTk.ID)
			if sees := slices.Contains(tc.want, rootTk.ID); sees != (err == nil) {
				t.Errorf("GetAs root ticket: err %v, want visible %v", err, sees)
			} else if err != nil && ticketing.ErrorCode(err) != ticketing.ENOTFOUND {
				t.Errorf("GetAs root ticket: %v, want ENOTFOUND", err)
			}
			// Asking for another customer's tickets yields nothing.
			if ts, _ := e.svc.ListAs(ctx, a, ticketing.Filter{Affecting: "someone-else"}); len(ts) != 0 {
				t.Errorf("ListAs another customer = %d tickets, want 0", len(ts))
			}
		})
	}
	// Staff: Customer keeps meaning the ticket's own device, Affecting widens it.
	if ts, _ := e.svc.List(ctx, ticketing.Filter{Customer: "globex"}); len(ts) != 0 {
		t.Errorf("Filter.Customer globex = %d tickets, want 0", len(ts))
	}
	if ts, _ := e.svc.List(ctx, ticketing.Filter{Affecting: "globex"}); len(ts) != 1 || ts[0].ID != rootTk.ID {
		t.Errorf("Filter.Affecting globex = %+v, want the root ticket", ts)
	}
}

func TestOpenTicketFor(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	root, _ := e.ingest(t, rootDown(e.clk, "P1", impacted(0, 1)))
	e.ingest(t, firing(e.clk, "fp-link", "core-01", "link", "P3", "Gi0/0/1 down"))
	for _, tc := range []struct {
		device, category string
		want             string
	}{
		{"core-01", "availability", root.ID},
		{"core-01", "power", ""},
		{"edge-09", "availability", ""},
	} {
		got, ok, err := e.svc.OpenTicketFor(ctx, tc.device, tc.category)
		if err != nil || ok != (tc.want != "") || got.ID != tc.want {
			t.Errorf("OpenTicketFor(%s, %s) = %s %v %v, want %q", tc.device, tc.category, got.ID, ok, err, tc.want)
		}
	}
	e.clk.Advance(time.Minute)
	up := cleared(e.clk, rootDown(e.clk, "P1", nil))
	e.ingest(t, up)
	if _, ok, _ := e.svc.OpenTicketFor(ctx, "core-01", "availability"); ok {
		t.Errorf("resolved ticket still reported open")
	}
}
