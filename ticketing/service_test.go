package ticketing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

func TestIngestOpensTicketWithContext(t *testing.T) {
	e := newEnv(t, "webhook")
	s := firing(e.clk, "fp-cpu", "core-01", "performance", "P3", "CPU 97% on core-01")
	tk, res := e.ingest(t, s)

	if res.Action != ticketing.ActionOpened {
		t.Fatalf("action = %s, want opened", res.Action)
	}
	if tk.ID != "NOC-000001" {
		t.Errorf("id = %q, want NOC-000001", tk.ID)
	}
	got := e.get(t, tk.ID)
	if got.State != ticketing.StateNew || got.Priority != ticketing.P3 || got.Title != "CPU 97% on core-01" ||
		got.Source != ticketing.SourceMonitoring || got.Category != "performance" ||
		got.DedupKey != "core-01/performance" || got.Fingerprint != "fp-cpu" {
		t.Errorf("ticket fields = %+v", got)
	}
	if !reflect.DeepEqual(got.Device, s.Device) {
		t.Errorf("device = %+v, want %+v", got.Device, s.Device)
	}
	if !got.OpenedAt.Equal(e.clk.Now()) {
		t.Errorf("opened_at = %v, want %v", got.OpenedAt, e.clk.Now())
	}
	if len(got.Evidence) != 1 || got.Evidence[0].Value != 97 || got.Evidence[0].Threshold != 90 ||
		!got.Evidence[0].Firing || got.Evidence[0].Rule != "rule-fp-cpu" || !got.Evidence[0].At.Equal(s.At) {
		t.Errorf("evidence = %+v", got.Evidence)
	}
	want := []ticketing.Event{{Seq: 1, At: e.clk.Now(), Actor: ticketing.ActorMonitoring, Kind: ticketing.KindOpened, To: "new", Note: s.Summary}}
	if !reflect.DeepEqual(got.Timeline, want) {
		t.Errorf("timeline = %+v, want %+v", got.Timeline, want)
	}
	if !reflect.DeepEqual(got, tk) {
		t.Errorf("Ingest returned %+v, stored %+v", tk, got)
	}
}

func TestIngestDedupesPerDeviceAndCategory(t *testing.T) {
	e := newEnv(t)
	a, _ := e.ingest(t, firing(e.clk, "fp-if1", "core-01", "link", "P3", "Gi0/0/1 down"))
	e.clk.Advance(time.Minute)
	b, res := e.ingest(t, firing(e.clk, "fp-if2", "core-01", "link", "P3", "Gi0/0/2 down"))
	if res.Action != ticketing.ActionSymptomAdded || res.PriorityRaised {
		t.Errorf("second signal: %+v, want symptom_added without raise", res)
	}
	if a.ID != b.ID {
		t.Fatalf("second signal opened %s, want it attached to %s", b.ID, a.ID)
	}
	// Another category or another device is another ticket.
	c, _ := e.ingest(t, firing(e.clk, "fp-cpu", "core-01", "performance", "P3", "CPU high"))
	d, _ := e.ingest(t, firing(e.clk, "fp-if1b", "core-02", "link", "P3", "Gi0/0/1 down"))
	if c.ID == a.ID || d.ID == a.ID || c.ID == d.ID {
		t.Errorf("ids %s %s %s: want three tickets", a.ID, c.ID, d.ID)
	}

	got := e.get(t, a.ID)
	if len(got.Evidence) != 2 {
		t.Fatalf("evidence rows = %d, want 2", len(got.Evidence))
	}
	if got.Evidence[1].Fingerprint != "fp-if2" {
		t.Errorf("second evidence = %+v", got.Evidence[1])
	}
	if k := kinds(got); !reflect.DeepEqual(k, []ticketing.EventKind{ticketing.KindOpened, ticketing.KindSymptomAdded}) {
		t.Errorf("timeline kinds = %v", k)
	}
	all, err := e.svc.List(context.Background(), ticketing.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Errorf("tickets = %d, want 3", len(all))
	}
}

func TestIngestRepeatIsNoop(t *testing.T) {
	e := newEnv(t, "webhook")
	s := firing(e.clk, "fp-if1", "core-01", "link", "P2", "Gi0/0/1 down")
	first, _ := e.ingest(t, s)
	e.clk.Advance(time.Minute)
	s.At = e.clk.Now()
	s.Priority = "P1" // even a higher priority: the same firing is not news
	_, res := e.ingest(t, s)
	if res.Action != ticketing.ActionDuplicate {
		t.Fatalf("action = %s, want duplicate", res.Action)
	}
	got := e.get(t, first.ID)
	if len(got.Timeline) != 1 || len(got.Evidence) != 1 || !got.UpdatedAt.Equal(first.UpdatedAt) || got.Priority != ticketing.P2 {
		t.Errorf("duplicate changed the ticket: %+v", got)
	}
	if n, _ := e.store.OutboxBacklog(context.Background()); n != 1 {
		t.Errorf("outbox = %d, want only the opening notice", n)
	}
}

func TestSymptomRaisesPriority(t *testing.T) {
	tests := []struct {
		name       string
		open, next string
		want       ticketing.Priority
		raised     bool
	}{
		{"higher raises", "P3", "P1", ticketing.P1, true},
		{"lower keeps", "P2", "P4", ticketing.P2, false},
		{"equal keeps", "P2", "P2", ticketing.P2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "webhook")
			tk, _ := e.ingest(t, firing(e.clk, "fp-a", "fw-01", "hardware", tc.open, "fan 1 failed"))
			e.clk.Advance(time.Minute)
			_, res := e.ingest(t, firing(e.clk, "fp-b", "fw-01", "hardware", tc.next, "PSU 2 failed"))
			if res.PriorityRaised != tc.raised {
				t.Errorf("PriorityRaised = %v, want %v", res.PriorityRaised, tc.raised)
			}
			got := e.get(t, tk.ID)
			if got.Priority != tc.want {
				t.Errorf("priority = %s, want %s", got.Priority, tc.want)
			}
			wantKinds := []ticketing.EventKind{ticketing.KindOpened, ticketing.KindSymptomAdded}
			wantOutbox := 1
			if tc.raised {
				wantKinds = append(wantKinds, ticketing.KindPriorityRaised)
				wantOutbox = 2
				last := got.Timeline[len(got.Timeline)-1]
				if last.From != tc.open || last.To != tc.next {
					t.Errorf("priority_raised from %s to %s, want %s to %s", last.From, last.To, tc.open, tc.next)
				}
			}
			if k := kinds(got); !reflect.DeepEqual(k, wantKinds) {
				t.Errorf("timeline kinds = %v, want %v", k, wantKinds)
			}
			if n, _ := e.store.OutboxBacklog(context.Background()); n != wantOutbox {
				t.Errorf("outbox = %d, want %d", n, wantOutbox)
			}
		})
	}
}

func TestResolveWhenAllCleared(t *testing.T) {
	e := newEnv(t, "webhook")
	a := firing(e.clk, "fp-a", "core-01", "link", "P2", "Gi0/0/1 down")
	b := firing(e.clk, "fp-b", "core-01", "link", "P2", "Gi0/0/2 down")
	tk, _ := e.ingest(t, a)
	e.ingest(t, b)

	e.clk.Advance(5 * time.Minute)
	ca := cleared(e.clk, a)
	ca.Summary = "Gi0/0/1 up"
	_, res := e.ingest(t, ca)
	if res.Action != ticketing.ActionSymptomCleared {
		t.Fatalf("first clear: %s, want symptom_cleared", res.Action)
	}
	if got := e.get(t, tk.ID); got.State != ticketing.StateNew || got.ResolvedAt != nil {
		t.Fatalf("ticket resolved while fp-b still fires: %+v", got)
	}
	// A clear for something not firing changes nothing.
	if _, res := e.ingest(t, ca); res.Action != ticketing.ActionIgnored {
		t.Errorf("repeated clear: %s, want ignored", res.Action)
	}

	e.clk.Advance(time.Minute)
	clearAt := e.clk.Now()
	_, res = e.ingest(t, cleared(e.clk, b))
	if res.Action != ticketing.ActionResolved {
		t.Fatalf("last clear: %s, want resolved", res.Action)
	}
	got := e.get(t, tk.ID)
	if got.State != ticketing.StateResolved || got.ResolvedBy != ticketing.ActorMonitoring ||
		got.ResolvedAt == nil || !got.ResolvedAt.Equal(clearAt) {
		t.Errorf("resolved ticket = %+v", got)
	}
	for _, ev := range got.Evidence {
		if ev.Firing || ev.ClearedAt == nil {
			t.Errorf("evidence %s still firing: %+v", ev.Fingerprint, ev)
		}
	}
	last := got.Timeline[len(got.Timeline)-1]
	wantNote := "cleared: Gi0/0/2 down at " + clearAt.Format(time.RFC3339)
	if last.Kind != ticketing.KindResolved || last.Actor != "monitoring" || last.Note != wantNote ||
		last.From != "new" || last.To != "resolved" {
		t.Errorf("last event = %+v, want resolved by monitoring with note %q", last, wantNote)
	}
	if k := kinds(got); !reflect.DeepEqual(k, []ticketing.EventKind{"opened", "symptom_added", "symptom_cleared", "resolved"}) {
		t.Errorf("timeline kinds = %v", k)
	}
	// opened + resolved notify; the symptom events do not.
	if n, _ := e.store.OutboxBacklog(context.Background()); n != 2 {
		t.Errorf("outbox = %d, want 2", n)
	}
	if open, _ := e.svc.List(context.Background(), ticketing.Filter{Open: true}); len(open) != 0 {
		t.Errorf("open tickets = %d, want 0", len(open))
	}
}

func TestReopenWindow(t *testing.T) {
	tests := []struct {
		name       string
		after      time.Duration
		wantAction ticketing.IngestAction
	}{
		{"within window reopens", 59 * time.Minute, ticketing.ActionReopened},
		{"at window opens new", time.Hour, ticketing.ActionOpened},
		{"after window opens new", 2 * time.Hour, ticketing.ActionOpened},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "webhook")
			s := firing(e.clk, "fp-a", "core-01", "availability", "P3", "core-01 unreachable")
			first, _ := e.ingest(t, s)
			e.clk.Advance(time.Minute)
			e.ingest(t, cleared(e.clk, s))
			e.clk.Advance(tc.after)

			again := firing(e.clk, "fp-a", "core-01", "availability", "P2", "core-01 unreachable again")
			tk, res := e.ingest(t, again)
			if res.Action != tc.wantAction {
				t.Fatalf("action = %s, want %s", res.Action, tc.wantAction)
			}
			if tc.wantAction == ticketing.ActionOpened {
				if tk.ID == first.ID {
					t.Errorf("opened %s again, want a new ticket", tk.ID)
				}
				if old := e.get(t, first.ID); old.State != ticketing.StateResolved {
					t.Errorf("old ticket state = %s, want resolved", old.State)
				}
				return
			}
			got := e.get(t, first.ID)
			if tk.ID != first.ID || got.State != ticketing.StateNew || got.ResolvedAt != nil || got.ReopenCount != 1 {
				t.Errorf("reopened ticket = %+v", got)
			}
			if !res.PriorityRaised || got.Priority != ticketing.P2 {
				t.Errorf("priority = %s raised=%v, want P2 raised", got.Priority, res.PriorityRaised)
			}
			// The symptom's row fires again, counted; the timeline keeps
			// when it cleared and returned.
			if len(got.Evidence) != 1 || !got.Evidence[0].Firing || got.Evidence[0].Fires != 2 || got.Evidence[0].Summary != "core-01 unreachable again" {
				t.Errorf("evidence = %+v, want the one row firing again, fired twice", got.Evidence)
			}
			want := []ticketing.EventKind{"opened", "resolved", "reopened", "priority_raised"}
			if k := kinds(got); !reflect.DeepEqual(k, want) {
				t.Errorf("timeline kinds = %v, want %v", k, want)
			}
			if r := got.Timeline[2]; r.From != "resolved" || r.To != "new" {
				t.Errorf("reopened event = %+v", r)
			}
			if n, _ := e.store.OutboxBacklog(context.Background()); n != 4 {
				t.Errorf("outbox = %d, want opened, resolved, reopened, priority_raised", n)
			}
		})
	}
}

func TestRestartKeepsTickets(t *testing.T) {
	e := newEnv(t, "webhook")
	s1 := firing(e.clk, "fp-a", "core-01", "link", "P2", "Gi0/0/1 down")
	s2 := firing(e.clk, "fp-b", "core-02", "link", "P3", "Gi0/0/2 down")
	a, _ := e.ingest(t, s1)
	b, _ := e.ingest(t, s2)

	e.restart(t, "webhook")

	if got := e.get(t, a.ID); !reflect.DeepEqual(got, a) {
		t.Errorf("after restart %s = %+v, want %+v", a.ID, got, a)
	}
	e.clk.Advance(time.Minute)
	s1.At = e.clk.Now()
	if tk, res := e.ingest(t, s1); res.Action != ticketing.ActionDuplicate || tk.ID != a.ID {
		t.Errorf("repeated signal after restart: %s on %s, want duplicate on %s", res.Action, tk.ID, a.ID)
	}
	c, _ := e.ingest(t, firing(e.clk, "fp-c", "core-03", "link", "P3", "Gi0/0/3 down"))
	if a.ID != "NOC-000001" || b.ID != "NOC-000002" || c.ID != "NOC-000003" {
		t.Errorf("ids %s %s %s, want NOC-000001..3", a.ID, b.ID, c.ID)
	}
	all, err := e.svc.List(context.Background(), ticketing.Filter{})
	if err != nil || len(all) != 3 {
		t.Fatalf("list = %d tickets, %v; want 3", len(all), err)
	}
	if n, _ := e.store.OutboxBacklog(context.Background()); n != 3 {
		t.Errorf("outbox = %d, want 3 opening notices", n)
	}
}

func TestIngestRejectsBadSignal(t *testing.T) {
	e := newEnv(t)
	good := firing(e.clk, "fp-a", "core-01", "link", "P2", "down")
	tests := []struct {
		name   string
		mutate func(*ticketing.Signal)
		want   string
	}{
		{"no fingerprint", func(s *ticketing.Signal) { s.Fingerprint = " " }, "fingerprint is empty"},
		{"no device", func(s *ticketing.Signal) { s.Device.Name = "" }, "device name is empty"},
		{"no category", func(s *ticketing.Signal) { s.Category = "" }, "category is empty"},
		{"slash in category", func(s *ticketing.Signal) { s.Category = "a/b" }, "contains '/'"},
		{"bad priority", func(s *ticketing.Signal) { s.Priority = "P9" }, `priority "P9"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			tc.mutate(&s)
			_, _, err := e.svc.Ingest(context.Background(), s)
			if ticketing.ErrorCode(err) != ticketing.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v (code %q), want EINVALID containing %q", err, ticketing.ErrorCode(err), tc.want)
			}
		})
	}
	if all, _ := e.svc.List(context.Background(), ticketing.Filter{}); len(all) != 0 {
		t.Errorf("bad signals stored %d tickets", len(all))
	}
}

func TestListFilters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mk := func(fp, dev, customer, prio string) ticketing.Signal {
		s := firing(e.clk, fp, dev, "link", prio, fp)
		s.Device.Customer = customer
		return s
	}
	e.ingest(t, mk("a", "r1", "acme", "P1"))   // NOC-000001
	e.ingest(t, mk("b", "r2", "acme", "P3"))   // NOC-000002
	e.ingest(t, mk("c", "r3", "globex", "P3")) // NOC-000003
	e.ingest(t, cleared(e.clk, mk("b", "r2", "acme", "")))

	tests := []struct {
		name string
		f    ticketing.Filter
		want []string
	}{
		{"all newest first", ticketing.Filter{}, []string{"NOC-000003", "NOC-000002", "NOC-000001"}},
		{"customer", ticketing.Filter{Customer: "acme"}, []string{"NOC-000002", "NOC-000001"}},
		{"device", ticketing.Filter{Device: "r3"}, []string{"NOC-000003"}},
		{"priority", ticketing.Filter{Priority: ticketing.P3}, []string{"NOC-000003", "NOC-000002"}},
		{"state", ticketing.Filter{State: ticketing.StateResolved}, []string{"NOC-000002"}},
		{"open", ticketing.Filter{Open: true}, []string{"NOC-000003", "NOC-000001"}},
		{"open and customer", ticketing.Filter{Open: true, Customer: "acme"}, []string{"NOC-000001"}},
		{"limit", ticketing.Filter{Limit: 1}, []string{"NOC-000003"}},
		{"no match", ticketing.Filter{Customer: "initech"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := e.svc.List(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, tk := range ts {
				ids = append(ids, tk.ID)
				if tk.Timeline != nil {
					t.Errorf("%s: list carries a timeline", tk.ID)
				}
				if len(tk.Evidence) == 0 {
					t.Errorf("%s: list lacks evidence", tk.ID)
				}
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("ids = %v, want %v", ids, tc.want)
			}
		})
	}

	for _, f := range []ticketing.Filter{{State: "open"}, {Priority: "P0"}, {Limit: -1}, {Limit: ticketing.MaxListLimit + 1}} {
		if _, err := e.svc.List(ctx, f); ticketing.ErrorCode(err) != ticketing.EINVALID {
			t.Errorf("List(%+v) err = %v, want EINVALID", f, err)
		}
	}
}

func TestGetErrors(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.Get(context.Background(), "NOC-000009")
	if ticketing.ErrorCode(err) != ticketing.ENOTFOUND || ticketing.ErrorMessage(err) != "ticket NOC-000009 not found" {
		t.Errorf("err = %v (code %s, message %q)", err, ticketing.ErrorCode(err), ticketing.ErrorMessage(err))
	}
	if _, err := e.svc.Get(context.Background(), ""); ticketing.ErrorCode(err) != ticketing.EINVALID {
		t.Errorf("empty id: %v, want EINVALID", err)
	}
}

func TestNoticePayload(t *testing.T) {
	e := newEnv(t, "webhook", "email")
	tk, _ := e.ingest(t, firing(e.clk, "fp-a", "core-01", "link", "P2", "Gi0/0/1 down"))
	msgs, err := e.store.DueOutbox(context.Background(), e.clk.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Channel != "webhook" || msgs[1].Channel != "email" {
		t.Fatalf("outbox = %+v, want one message per channel", msgs)
	}
	for _, m := range msgs {
		if m.EventID != tk.ID+":1" || m.Kind != ticketing.KindOpened || m.TicketID != tk.ID || m.EventSeq != 1 {
			t.Errorf("message = %+v", m)
		}
		var n struct {
			Event   string          `json:"event"`
			EventID string          `json:"event_id"`
			At      time.Time       `json:"at"`
			Ticket  json.RawMessage `json:"ticket"`
		}
		if err := json.Unmarshal(m.Payload, &n); err != nil {
			t.Fatal(err)
		}
		if n.Event != "opened" || n.EventID != m.EventID || !n.At.Equal(e.clk.Now()) {
			t.Errorf("notice = %+v", n)
		}
		var fields map[string]any
		if err := json.Unmarshal(n.Ticket, &fields); err != nil {
			t.Fatal(err)
		}
		if _, ok := fields["timeline"]; ok {
			t.Errorf("notice ticket carries a timeline")
		}
		if fields["id"] != tk.ID || fields["device"].(map[string]any)["serial"] != "FOC1234X0AB" {
			t.Errorf("notice ticket = %v", fields)
		}
	}
}

// failingStore fails EnqueueOutbox inside the transaction, to prove a ticket
// and its notices are written together or not at all.
type failingStore struct {
	ticketing.Store
}

type failingTx struct{ ticketing.Tx }

func (f failingStore) WithTx(ctx context.Context, fn func(ticketing.Tx) error) error {
	return f.Store.WithTx(ctx, func(tx ticketing.Tx) error { return fn(failingTx{tx}) })
}

func (failingTx) EnqueueOutbox(context.Context, []ticketing.OutboxMessage) error {
	return errors.New("disk full")
}

func TestIngestIsAtomic(t *testing.T) {
	e := newEnv(t)
	svc := ticketing.NewService(failingStore{e.store}, ticketing.Options{Now: e.clk.Now, Logger: quietLogger(), Channels: []string{"webhook"}})
	_, _, err := svc.Ingest(context.Background(), firing(e.clk, "fp-a", "core-01", "link", "P2", "down"))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the enqueue failure", err)
	}
	if ticketing.ErrorCode(err) != ticketing.EINTERNAL {
		t.Errorf("code = %s, want internal", ticketing.ErrorCode(err))
	}
	all, err := e.svc.List(context.Background(), ticketing.Filter{})
	if err != nil || len(all) != 0 {
		t.Errorf("after failed ingest: %d tickets (%v), want none", len(all), err)
	}
	// The failed ticket's number is not burnt into a half-written row.
	tk, _ := e.ingest(t, firing(e.clk, "fp-a", "core-01", "link", "P2", "down"))
	if tk.ID != "NOC-000001" {
		t.Errorf("id = %s, want NOC-000001", tk.ID)
	}
}

func TestConcurrentIngestKeepsOneOpenTicket(t *testing.T) {
	e := newEnv(t)
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			s := firing(e.clk, fmt.Sprintf("fp-%d", i), "core-01", "link", "P3", "down")
			_, _, err := e.svc.Ingest(context.Background(), s)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	all, err := e.svc.List(context.Background(), ticketing.Filter{})
	if err != nil || len(all) != 1 || len(all[0].Evidence) != n {
		t.Fatalf("got %d tickets (%v), want 1 with %d evidence", len(all), err, n)
	}
}
