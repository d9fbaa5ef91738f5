// Package storetest is the conformance suite every ticketing.Store passes:
// the SQLite store and the PostgreSQL store run the same scenarios, through
// the Service as the agent uses them and through Tx where the database's
// own rules are the point.
//
// A store package runs it from a test:
//
//	func TestConformance(t *testing.T) { storetest.Run(t, newDB) }
//	func TestConcurrentAgents(t *testing.T) { storetest.RunConcurrent(t, newDB) }
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// Opener opens a Store on one test's database. Every call is another agent
// (or the same agent after a restart) on that database; the Opener closes
// what it opened when the test ends.
type Opener func(t *testing.T) ticketing.Store

// NewDB creates an empty database for t and returns how to open stores on it.
type NewDB func(t *testing.T) Opener

// Run runs the conformance suite, each scenario on a fresh database.
func Run(t *testing.T, newDB NewDB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"DedupeAndSymptoms", testDedupeAndSymptoms},
		{"ResolveAndReopen", testResolveAndReopen},
		{"RestartKeepsEverything", testRestart},
		{"FailedTransactionLeavesNothing", testAtomic},
		{"DatabaseRules", testDatabaseRules},
		{"OutboxOrderAndRetry", testOutboxOrder},
		{"DispatcherDeliversInOrder", testDispatcher},
		{"ImpactedDevices", testImpacted},
		{"ProblemRecords", testProblems},
		{"ManualLifecycleAndKB", testLifecycle},
		{"Surveys", testSurveys},
		{"ListFilters", testListFilters},
		{"Records", testRecords},
		{"IdempotentCreate", testIdempotentCreate},
		{"EvidenceBounded", testEvidenceBounded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newDB(t)) })
	}
}

var (
	ctx     = context.Background()
	t0      = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	manager = ticketing.Actor{Name: "mia", Role: ticketing.RoleManager}
	alice   = ticketing.Actor{Name: "alice", Role: ticketing.RoleEngineer}
	acme    = ticketing.Actor{Name: "customer:acme", Role: ticketing.RoleCustomer, Customer: "acme"}
)

// Clock is an injected, manually advanced time source shared by agents.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at 2025-03-10 09:00 UTC.
func NewClock() *Clock { return &Clock{t: t0} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// agent is one Service over one Store.
type agent struct {
	store ticketing.Store
	svc   *ticketing.Service
	clk   *Clock
}

func newAgent(t *testing.T, store ticketing.Store, clk *Clock, cfg ticketing.ProcessConfig, channels ...string) *agent {
	t.Helper()
	svc, err := ticketing.New(store, ticketing.Options{Now: clk.Now, Logger: quiet(), Channels: channels, Process: cfg})
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	return &agent{store: store, svc: svc, clk: clk}
}

func (a *agent) ingest(t *testing.T, s ticketing.Signal) (ticketing.Ticket, ticketing.IngestResult) {
	t.Helper()
	tk, res, err := a.svc.Ingest(ctx, s)
	if err != nil {
		t.Fatalf("ingest %s firing=%v: %v", s.Fingerprint, s.Firing, err)
	}
	return tk, res
}

func (a *agent) get(t *testing.T, id string) ticketing.Ticket {
	t.Helper()
	tk, err := a.svc.Get(ctx, id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return tk
}

func (a *agent) act(t *testing.T, who ticketing.Actor, id string, act ticketing.Action, in ticketing.ActionInput) ticketing.Ticket {
	t.Helper()
	tk, err := a.svc.Act(ctx, who, id, act, in)
	if err != nil {
		t.Fatalf("%s %s by %s: %v", act, id, who.Name, err)
	}
	return tk
}

func device(name, customer string) ticketing.DeviceContext {
	return ticketing.DeviceContext{
		Name: name, Address: "192.0.2.10", Serial: "FOC1234X0AB", Model: "ISR4431", Vendor: "cisco",
		Role: "core", Site: "sh-01", Customer: customer, CustomerName: customer + " Ltd",
		Upstream: []string{"wan-" + name}, Neighbors: []string{"Gi0/0/1 -> sw-01 Gi1/0/48 (lldp)"},
	}
}

// Firing returns a firing signal of fingerprint fp at the clock's time.
func Firing(clk *Clock, fp, dev, category, prio, summary string) ticketing.Signal {
	return ticketing.Signal{
		Fingerprint: fp, Rule: "rule-" + fp, Instance: "Gi0/0/1", Firing: true, Severity: "major",
		Category: category, Priority: prio, Value: 97, Threshold: 90, Summary: summary,
		At: clk.Now(), Device: device(dev, "acme"),
	}
}

func cleared(clk *Clock, s ticketing.Signal) ticketing.Signal {
	s.Firing, s.Priority, s.At = false, "", clk.Now()
	return s
}

func kinds(tk ticketing.Ticket) []ticketing.EventKind {
	var ks []ticketing.EventKind
	for _, e := range tk.Timeline {
		ks = append(ks, e.Kind)
	}
	return ks
}

func manualInput() ticketing.ManualInput {
	onset := t0.Add(-30 * time.Minute)
	return ticketing.ManualInput{Customer: "acme", Contact: "Li Wei +86 138 0000 0000", Device: "core-01",
		Symptom: "Branch VPN drops every few minutes", OnsetAt: &onset, RecentChanges: "ISP swapped the modem",
		Channel: "phone", Category: "link", Priority: ticketing.P2}
}

func testDedupeAndSymptoms(t *testing.T, open Opener) {
	a := newAgent(t, open(t), NewClock(), ticketing.ProcessConfig{})
	s := Firing(a.clk, "fp-a", "core-01", "link", "P3", "Gi0/0/1 down")
	tk, res := a.ingest(t, s)
	if res.Action != ticketing.ActionOpened || tk.ID != "NOC-000001" || tk.State != ticketing.StateNew {
		t.Fatalf("first signal: %s %s %s", res.Action, tk.ID, tk.State)
	}
	if !reflect.DeepEqual(tk.Device, s.Device) || tk.DedupKey != "core-01/link" || !tk.OpenedAt.Equal(t0) {
		t.Errorf("opened ticket = %+v", tk)
	}
	a.clk.Advance(time.Minute)
	if _, res := a.ingest(t, s); res.Action != ticketing.ActionDuplicate {
		t.Errorf("repeat: %s, want duplicate", res.Action)
	}
	tk2, res := a.ingest(t, Firing(a.clk, "fp-b", "core-01", "link", "P1", "BGP down"))
	if res.Action != ticketing.ActionSymptomAdded || !res.PriorityRaised || tk2.ID != tk.ID || tk2.Priority != ticketing.P1 {
		t.Fatalf("second symptom: %+v on %s (%s)", res, tk2.ID, tk2.Priority)
	}
	other, res := a.ingest(t, Firing(a.clk, "fp-c", "core-01", "hardware", "P2", "fan"))
	if res.Action != ticketing.ActionOpened || other.ID != "NOC-000002" {
		t.Errorf("other category: %s %s, want a new NOC-000002", res.Action, other.ID)
	}
	dev, res := a.ingest(t, Firing(a.clk, "fp-a2", "core-02", "link", "P3", "down"))
	if res.Action != ticketing.ActionOpened || dev.ID != "NOC-000003" {
		t.Errorf("other device: %s %s, want a new NOC-000003", res.Action, dev.ID)
	}
	got := a.get(t, tk.ID)
	if want := []ticketing.EventKind{"opened", "symptom_added", "priority_raised"}; !reflect.DeepEqual(kinds(got), want) {
		t.Errorf("timeline = %v, want %v", kinds(got), want)
	}
	if len(got.Evidence) != 2 || got.Evidence[0].Fingerprint != "fp-a" || got.Evidence[1].Fingerprint != "fp-b" ||
		!got.Evidence[0].Firing || got.Evidence[0].Value != 97 || got.Evidence[1].Priority != ticketing.P1 ||
		!got.Evidence[1].At.Equal(t0.Add(time.Minute)) || got.Evidence[0].ID == got.Evidence[1].ID {
		t.Errorf("evidence = %+v", got.Evidence)
	}
	if ft, ok, err := a.svc.OpenTicketFor(ctx, "core-01", "link"); err != nil || !ok || ft.ID != tk.ID {
		t.Errorf("OpenTicketFor = %s %v %v", ft.ID, ok, err)
	}
}

func testResolveAndReopen(t *testing.T, open Opener) {
	a := newAgent(t, open(t), NewClock(), ticketing.ProcessConfig{})
	sa := Firing(a.clk, "fp-a", "core-01", "link", "P2", "down")
	sb := Firing(a.clk, "fp-b", "core-01", "link", "P2", "flap")
	tk, _ := a.ingest(t, sa)
	a.ingest(t, sb)
	a.clk.Advance(time.Minute)
	if _, res := a.ingest(t, cleared(a.clk, sa)); res.Action != ticketing.ActionSymptomCleared {
		t.Fatalf("first clear: %s", res.Action)
	}
	if _, res := a.ingest(t, cleared(a.clk, sa)); res.Action != ticketing.ActionIgnored {
		t.Errorf("clearing again: %s, want ignored", res.Action)
	}
	got, res := a.ingest(t, cleared(a.clk, sb))
	if res.Action != ticketing.ActionResolved || got.State != ticketing.StateResolved || got.ResolvedBy != ticketing.ActorMonitoring ||
		got.ResolvedAt == nil || !got.ResolvedAt.Equal(a.clk.Now()) {
		t.Fatalf("last clear: %s, ticket %+v", res.Action, got)
	}
	if e := got.Evidence[0]; e.Firing || e.ClearedAt == nil || !e.ClearedAt.Equal(a.clk.Now()) {
		t.Errorf("cleared evidence = %+v", e)
	}
	a.clk.Advance(10 * time.Minute)
	got, res = a.ingest(t, Firing(a.clk, "fp-a", "core-01", "link", "P2", "down"))
	if res.Action != ticketing.ActionReopened || got.ID != tk.ID || got.ReopenCount != 1 || got.State != ticketing.StateNew || got.ResolvedAt != nil {
		t.Fatalf("fault returned in the window: %s, ticket %+v", res.Action, got)
	}
	a.ingest(t, cleared(a.clk, sa))
	a.clk.Advance(2 * time.Hour)
	got, res = a.ingest(t, Firing(a.clk, "fp-a", "core-01", "link", "P2", "down"))
	if res.Action != ticketing.ActionOpened || got.ID == tk.ID {
		t.Errorf("fault returned after the window: %s %s, want a new ticket", res.Action, got.ID)
	}
}

func testRestart(t *testing.T, open Opener) {
	clk := NewClock()
	first := open(t)
	a := newAgent(t, first, clk, ticketing.ProcessConfig{}, "webhook")
	tk, _ := a.ingest(t, Firing(clk, "fp-a", "core-01", "link", "P2", "down"))
	clk.Advance(time.Minute)
	a.act(t, alice, tk.ID, ticketing.ActAck, ticketing.ActionInput{})
	a.act(t, alice, tk.ID, ticketing.ActNote, ticketing.ActionInput{Note: "looking"})
	before := a.get(t, tk.ID)
	backlog, err := first.OutboxBacklog(ctx)
	if err != nil || backlog == 0 {
		t.Fatalf("backlog before restart = %d (%v), want notices queued", backlog, err)
	}
	if c, ok := first.(io.Closer); ok {
		if err := c.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
	}

	b := newAgent(t, open(t), clk, ticketing.ProcessConfig{}, "webhook")
	after := b.get(t, tk.ID)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("after restart:\n got %+v\nwant %+v", after, before)
	}
	if n, err := b.store.OutboxBacklog(ctx); err != nil || n != backlog {
		t.Errorf("backlog after restart = %d (%v), want %d", n, err, backlog)
	}
	// Numbering continues, and the open ticket still dedupes.
	if _, res := b.ingest(t, Firing(clk, "fp-a", "core-01", "link", "P2", "down")); res.Action != ticketing.ActionDuplicate {
		t.Errorf("same fault after restart: %s, want duplicate", res.Action)
	}
	next, _ := b.ingest(t, Firing(clk, "fp-z", "core-02", "link", "P2", "down"))
	if next.ID != "NOC-000002" {
		t.Errorf("next ticket after restart = %s, want NOC-000002", next.ID)
	}
}

// failingStore fails every transaction's last step, after the ticket, its
// evidence and its events were written.
type failingStore struct{ ticketing.Store }
type failingTx struct{ ticketing.Tx }

func (f failingStore) WithTx(ctx context.Context, fn func(ticketing.Tx) error) error {
	return f.Store.WithTx(ctx, func(tx ticketing.Tx) error { return fn(failingTx{tx}) })
}

func (failingTx) EnqueueOutbox(context.Context, []ticketing.OutboxMessage) error {
	return errors.New("disk full")
}

func testAtomic(t *testing.T, open Opener) {
	store := open(t)
	clk := NewClock()
	bad := newAgent(t, failingStore{store}, clk, ticketing.ProcessConfig{}, "webhook")
	if _, _, err := bad.svc.Ingest(ctx, Firing(clk, "fp-a", "core-01", "link", "P2", "down")); err == nil ||
		!strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the enqueue failure", err)
	}
	good := newAgent(t, store, clk, ticketing.ProcessConfig{}, "webhook")
	if all, err := good.svc.List(ctx, ticketing.Filter{}); err != nil || len(all) != 0 {
		t.Errorf("after a failed ingest: %d tickets (%v), want none", len(all), err)
	}
	// The number the failed transaction took is not burnt.
	if tk, _ := good.ingest(t, Firing(clk, "fp-a", "core-01", "link", "P2", "down")); tk.ID != "NOC-000001" {
		t.Errorf("id = %s, want NOC-000001", tk.ID)
	}
}

// seed writes one open ticket with one event directly through a Tx.
func seed(t *testing.T, s ticketing.Store, key string) ticketing.Ticket {
	t.Helper()
	var tk ticketing.Ticket
	err := s.WithTx(ctx, func(tx ticketing.Tx) error {
		seq, err := tx.NextTicketSeq(ctx)
		if err != nil {
			return err
		}
		tk = ticketing.Ticket{
			ID: fmt.Sprintf("NOC-%06d", seq), Title: "t", Priority: ticketing.P3, State: ticketing.StateNew,
			Category: "link", Source: ticketing.SourceMonitoring, DedupKey: key, Fingerprint: "fp-" + key,
			Device: ticketing.DeviceContext{Name: "r1", Customer: "acme"}, OpenedAt: t0, UpdatedAt: t0, Tier: 1,
		}
		if err := tx.CreateTicket(ctx, seq, tk); err != nil {
			return err
		}
		return tx.AppendEvents(ctx, tk.ID, []ticketing.Event{{Seq: 1, At: t0, Actor: "monitoring", Kind: "opened"}})
	})
	if err != nil {
		t.Fatalf("seed ticket %s: %v", key, err)
	}
	return tk
}

// inTx runs fn in a transaction of s and returns its error.
func inTx(s ticketing.Store, fn func(tx ticketing.Tx) error) error {
	return s.WithTx(ctx, fn)
}

func testDatabaseRules(t *testing.T, open Opener) {
	s := open(t)
	tk := seed(t, s, "r1/link")
	p := func(id, fp, state string) ticketing.Problem {
		return ticketing.Problem{ID: id, Fingerprint: fp, Title: "t", State: state, OpenedAt: t0}
	}
	tests := []struct {
		name string
		fn   func(tx ticketing.Tx) error
	}{
		{"second open ticket for a key", func(tx ticketing.Tx) error {
			return tx.CreateTicket(ctx, 99, ticketing.Ticket{ID: "NOC-000099", Title: "t", Priority: ticketing.P3,
				State: ticketing.StateAcknowledged, Category: "link", Source: "monitoring", DedupKey: "r1/link", OpenedAt: t0, UpdatedAt: t0})
		}},
		{"duplicate event number", func(tx ticketing.Tx) error {
			return tx.AppendEvents(ctx, tk.ID, []ticketing.Event{{Seq: 1, At: t0, Actor: "x", Kind: "note"}})
		}},
		{"event of an unknown ticket", func(tx ticketing.Tx) error {
			return tx.AppendEvents(ctx, "NOC-999999", []ticketing.Event{{Seq: 1, At: t0, Actor: "x", Kind: "note"}})
		}},
		{"evidence not firing", func(tx ticketing.Tx) error { return tx.ClearEvidence(ctx, tk.ID, 12345, t0) }},
		{"second firing evidence of a fingerprint", func(tx ticketing.Tx) error {
			e := ticketing.Evidence{Fingerprint: "fp", Rule: "r", At: t0, Firing: true}
			if _, err := tx.AddEvidence(ctx, tk.ID, e); err != nil {
				return err
			}
			_, err := tx.AddEvidence(ctx, tk.ID, e)
			return err
		}},
		{"two open problems for a fingerprint", func(tx ticketing.Tx) error {
			if err := tx.CreateProblem(ctx, 1, p("PRB-000001", "fp", ticketing.ProblemOpen)); err != nil {
				return err
			}
			return tx.CreateProblem(ctx, 2, p("PRB-000002", "fp", ticketing.ProblemOpen))
		}},
		{"two surveys for a ticket", func(tx ticketing.Tx) error {
			sv := ticketing.Survey{TicketID: tk.ID, Customer: "acme", Rating: ticketing.Neutral, Actor: "customer:acme", At: t0}
			if err := tx.AddSurvey(ctx, sv); err != nil {
				return err
			}
			return tx.AddSurvey(ctx, sv)
		}},
		{"unknown rating", func(tx ticketing.Tx) error {
			return tx.AddSurvey(ctx, ticketing.Survey{TicketID: tk.ID, Customer: "acme", Rating: "meh", Actor: "a", At: t0})
		}},
		{"impacted device of an unknown ticket", func(tx ticketing.Tx) error {
			return tx.SaveImpacted(ctx, "NOC-999999", []ticketing.ImpactedDevice{{Name: "x", AddedAt: t0}})
		}},
		{"impacted device without a name", func(tx ticketing.Tx) error {
			return tx.SaveImpacted(ctx, tk.ID, []ticketing.ImpactedDevice{{Name: "", AddedAt: t0}})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := inTx(s, tc.fn); ticketing.ErrorCode(err) != ticketing.ECONFLICT {
				t.Errorf("err = %v (code %s), want ECONFLICT", err, ticketing.ErrorCode(err))
			}
		})
	}
	// A closed problem does not block a new open one.
	err := inTx(s, func(tx ticketing.Tx) error {
		if err := tx.CreateProblem(ctx, 1, p("PRB-000001", "fp", ticketing.ProblemClosed)); err != nil {
			return err
		}
		return tx.CreateProblem(ctx, 2, p("PRB-000002", "fp", ticketing.ProblemOpen))
	})
	if err != nil {
		t.Errorf("closed then open problem: %v", err)
	}
	// Nothing of the refused transactions stayed, and the timeline is as written.
	got, err := s.TicketByID(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Timeline) != 1 || got.Timeline[0].Actor != "monitoring" || len(got.Evidence) != 0 || len(got.ImpactedDevices) != 0 {
		t.Errorf("ticket after refused writes = %+v", got)
	}
	if svs, err := s.Surveys(ctx, "", time.Time{}, time.Time{}); err != nil || len(svs) != 0 {
		t.Errorf("surveys = %+v (%v), want none", svs, err)
	}
	if _, err := s.TicketByID(ctx, "NOC-999999"); ticketing.ErrorCode(err) != ticketing.ENOTFOUND {
		t.Errorf("unknown ticket: %v, want ENOTFOUND", err)
	}
	err = inTx(s, func(tx ticketing.Tx) error {
		return tx.UpdateTicket(ctx, ticketing.Ticket{ID: "NOC-999999", State: ticketing.StateNew, Priority: ticketing.P3, UpdatedAt: t0})
	})
	if ticketing.ErrorCode(err) != ticketing.ENOTFOUND {
		t.Errorf("update unknown ticket: %v, want ENOTFOUND", err)
	}
}

func testOutboxOrder(t *testing.T, open Opener) {
	s := open(t)
	tk := seed(t, s, "r1/link")
	other := seed(t, s, "r2/link")
	err := inTx(s, func(tx ticketing.Tx) error {
		if err := tx.AppendEvents(ctx, tk.ID, []ticketing.Event{{Seq: 2, At: t0, Actor: "monitoring", Kind: "resolved"}}); err != nil {
			return err
		}
		var msgs []ticketing.OutboxMessage
		for _, m := range []struct {
			id  string
			seq int
		}{{tk.ID, 1}, {tk.ID, 2}, {other.ID, 1}} {
			msgs = append(msgs, ticketing.OutboxMessage{TicketID: m.id, EventSeq: m.seq, EventID: ticketing.EventID(m.id, m.seq),
				Kind: "opened", Channel: "webhook", Payload: []byte(`{"b": 1, "a": [true]}`), CreatedAt: t0, NextAttemptAt: t0})
		}
		return tx.EnqueueOutbox(ctx, msgs)
	})
	if err != nil {
		t.Fatal(err)
	}
	due, err := s.DueOutbox(ctx, t0, 10)
	if err != nil || len(due) != 2 || due[0].TicketID != tk.ID || due[0].EventSeq != 1 || due[1].TicketID != other.ID {
		t.Fatalf("due = %+v (%v), want event 1 of each ticket", due, err)
	}
	if m := due[0]; string(m.Payload) != `{"b": 1, "a": [true]}` || m.EventID != tk.ID+":1" || !m.CreatedAt.Equal(t0) || m.Channel != "webhook" {
		t.Errorf("message = %+v (payload %s), want it as queued", m, m.Payload)
	}
	if err := s.MarkDelivered(ctx, due[1].ID, t0); err != nil {
		t.Fatal(err)
	}
	// Event 1 failing and waiting does not let event 2 overtake it.
	if err := s.MarkFailed(ctx, due[0].ID, 1, t0.Add(time.Minute), "503"); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueOutbox(ctx, t0.Add(30*time.Second), 10); len(due) != 0 {
		t.Errorf("due while event 1 backs off = %+v, want none", due)
	}
	due, _ = s.DueOutbox(ctx, t0.Add(time.Minute), 10)
	if len(due) != 1 || due[0].EventSeq != 1 || due[0].Attempts != 1 || due[0].LastError != "503" || !due[0].NextAttemptAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("due after backoff = %+v", due)
	}
	if err := s.MarkDelivered(ctx, due[0].ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueOutbox(ctx, t0.Add(time.Minute), 10)
	if len(due) != 1 || due[0].EventSeq != 2 {
		t.Errorf("due after delivering 1 = %+v, want event 2", due)
	}
	if n, _ := s.OutboxBacklog(ctx); n != 1 {
		t.Errorf("backlog = %d, want 1", n)
	}
	// A duplicate (event, channel) is refused: a notice is queued once.
	err = inTx(s, func(tx ticketing.Tx) error {
		return tx.EnqueueOutbox(ctx, []ticketing.OutboxMessage{{TicketID: tk.ID, EventSeq: 1, EventID: tk.ID + ":1",
			Kind: "opened", Channel: "webhook", Payload: []byte(`{}`), CreatedAt: t0, NextAttemptAt: t0}})
	})
	if ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("duplicate notice: %v, want ECONFLICT", err)
	}
}

// recorder is a Sender that records what it delivered.
type recorder struct {
	mu   sync.Mutex
	got  []ticketing.OutboxMessage
	fail map[string]int // event id -> failures left
}

func (r *recorder) Send(_ context.Context, m ticketing.OutboxMessage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail[m.EventID] > 0 {
		r.fail[m.EventID]--
		return errors.New("503")
	}
	r.got = append(r.got, m)
	return nil
}

func testDispatcher(t *testing.T, open Opener) {
	clk := NewClock()
	a := newAgent(t, open(t), clk, ticketing.ProcessConfig{}, "webhook")
	s1 := Firing(clk, "fp-a", "core-01", "link", "P3", "down")
	tk, _ := a.ingest(t, s1)
	a.ingest(t, Firing(clk, "fp-b", "core-01", "link", "P1", "bgp")) // priority_raised notifies
	a.ingest(t, cleared(clk, s1))
	a.ingest(t, cleared(clk, Firing(clk, "fp-b", "core-01", "link", "P1", "bgp"))) // resolved
	tk2, _ := a.ingest(t, Firing(clk, "fp-c", "core-02", "link", "P2", "down"))
	want := map[string][]int{}
	for _, id := range []string{tk.ID, tk2.ID} {
		for _, ev := range a.get(t, id).Timeline {
			if ev.Kind.Notifies() {
				want[id] = append(want[id], ev.Seq)
			}
		}
	}
	rec := &recorder{fail: map[string]int{tk.ID + ":1": 1}}
	d := ticketing.NewDispatcher(a.store, map[string]ticketing.Sender{"webhook": rec},
		ticketing.DispatcherOptions{Now: clk.Now, Logger: quiet(), MinBackoff: time.Second, MaxBackoff: time.Second, Rand: func() float64 { return 0 }})
	for range 10 {
		if _, err := d.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	got := map[string][]int{}
	for _, m := range rec.got {
		got[m.TicketID] = append(got[m.TicketID], m.EventSeq)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("delivered %v, want %v (each once, in order)", got, want)
	}
	if n, err := d.Backlog(ctx); err != nil || n != 0 {
		t.Errorf("backlog = %d (%v), want 0", n, err)
	}
}

func testImpacted(t *testing.T, open Opener) {
	s := open(t)
	tk := seed(t, s, "r1/availability")
	save := func(ds ...ticketing.ImpactedDevice) {
		t.Helper()
		if err := inTx(s, func(tx ticketing.Tx) error { return tx.SaveImpacted(ctx, tk.ID, ds) }); err != nil {
			t.Fatal(err)
		}
	}
	t1 := t0.Add(time.Minute)
	save(ticketing.ImpactedDevice{Name: "b", Serial: "S2", Customer: "globex", AddedAt: t0},
		ticketing.ImpactedDevice{Name: "a", Serial: "S1", Customer: "acme", AddedAt: t0})
	save(ticketing.ImpactedDevice{Name: "b", Serial: "S2", Customer: "globex", AddedAt: t0, Recovered: true, RecoveredAt: &t1})
	got, err := s.TicketByID(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []ticketing.ImpactedDevice{
		{Name: "a", Serial: "S1", Customer: "acme", AddedAt: t0},
		{Name: "b", Serial: "S2", Customer: "globex", AddedAt: t0, Recovered: true, RecoveredAt: &t1},
	}
	if !reflect.DeepEqual(got.ImpactedDevices, want) {
		t.Errorf("devices = %+v, want %+v", got.ImpactedDevices, want)
	}
	for _, tc := range []struct {
		f    ticketing.Filter
		want int
	}{
		{ticketing.Filter{Affecting: "globex"}, 1},
		{ticketing.Filter{Affecting: "acme"}, 1}, // the ticket's own customer
		{ticketing.Filter{Affecting: "initech"}, 0},
		{ticketing.Filter{Customer: "globex"}, 0},
	} {
		ts, err := s.ListTickets(ctx, tc.f)
		if err != nil || len(ts) != tc.want {
			t.Errorf("ListTickets(%+v) = %d tickets (%v), want %d", tc.f, len(ts), err, tc.want)
		}
		if len(ts) == 1 && len(ts[0].ImpactedDevices) != 2 {
			t.Errorf("listed ticket carries %d impacted devices, want 2", len(ts[0].ImpactedDevices))
		}
	}

	// Through the Service: a storm is one ticket listing the devices behind it.
	clk := NewClock()
	a := newAgent(t, s, clk, ticketing.ProcessConfig{})
	sig := Firing(clk, "fp-up", "agg-01", "availability", "P2", "agg-01 unreachable")
	sig.Impacted = []ticketing.ImpactedDevice{{Name: "acc-1", Customer: "globex"}, {Name: "acc-2", Customer: "acme"}}
	root, res := a.ingest(t, sig)
	if res.Action != ticketing.ActionOpened || res.ImpactAdded != 2 {
		t.Fatalf("storm: %+v", res)
	}
	clk.Advance(time.Minute)
	sig.Impacted, sig.Recovered, sig.At = nil, []ticketing.ImpactedDevice{{Name: "acc-1", Customer: "globex"}}, clk.Now()
	if _, res := a.ingest(t, sig); res.Action != ticketing.ActionImpactRecovered || res.ImpactRecovered != 1 {
		t.Errorf("recovery: %+v", res)
	}
	stored := a.get(t, root.ID)
	if len(stored.ImpactedDevices) != 2 || !stored.ImpactedDevices[0].Recovered || stored.ImpactedDevices[1].Recovered ||
		!stored.ImpactedDevices[0].RecoveredAt.Equal(clk.Now()) {
		t.Errorf("impacted after recovery = %+v", stored.ImpactedDevices)
	}
}

func testProblems(t *testing.T, open Opener) {
	a := newAgent(t, open(t), NewClock(), ticketing.ProcessConfig{})
	s := Firing(a.clk, "fp-flap", "core-01", "link", "P3", "Gi0/0/1 flapping")
	var ids []string
	for i := range 4 {
		s.At = a.clk.Now()
		tk, res := a.ingest(t, s)
		if res.Action != ticketing.ActionOpened {
			t.Fatalf("round %d: %s", i, res.Action)
		}
		ids = append(ids, tk.ID)
		a.clk.Advance(time.Minute)
		a.ingest(t, cleared(a.clk, s))
		a.clk.Advance(2 * 24 * time.Hour)
	}
	ps, err := a.svc.Problems(ctx, manager, ticketing.ProblemOpen)
	if err != nil || len(ps) != 1 {
		t.Fatalf("problems = %+v, %v", ps, err)
	}
	if p := ps[0]; p.Fingerprint != "fp-flap" || !reflect.DeepEqual(p.TicketIDs, ids) || p.ID != "PRB-000001" || !p.OpenedAt.Equal(t0.Add(4*24*time.Hour+2*time.Minute)) {
		t.Errorf("problem = %+v, want tickets %v", p, ids)
	}
	if got := a.get(t, ids[0]); got.ProblemID != "PRB-000001" || got.Timeline[len(got.Timeline)-1].Kind != ticketing.KindProblemLinked {
		t.Errorf("first ticket = problem %q, %v", got.ProblemID, kinds(got))
	}
	if ps, err := a.store.Problems(ctx, ticketing.ProblemClosed); err != nil || len(ps) != 0 {
		t.Errorf("closed problems = %+v (%v)", ps, err)
	}
}

func testLifecycle(t *testing.T, open Opener) {
	cfg := ticketing.ProcessConfig{Managers: []string{"mia"}, Engineers: []ticketing.Engineer{
		{Name: "alice", Tier: 1, Skills: []string{"link"}, Customers: []string{"acme"}},
		{Name: "bob", Tier: 1, Skills: []string{"*"}},
	}}
	a := newAgent(t, open(t), NewClock(), cfg, "webhook")
	tk, err := a.svc.CreateManual(ctx, acme, manualInput())
	if err != nil {
		t.Fatal(err)
	}
	in := manualInput()
	if tk.Source != ticketing.SourceManual || tk.Assignee != "alice" || tk.Intake == nil || tk.Intake.Channel != "phone" ||
		!tk.Intake.OnsetAt.Equal(*in.OnsetAt) || tk.Intake.RecentChanges != in.RecentChanges {
		t.Fatalf("manual ticket = %+v (intake %+v)", tk, tk.Intake)
	}
	// Manual tickets stand outside the dedup rule.
	if _, err := a.svc.CreateManual(ctx, manager, manualInput()); err != nil {
		t.Errorf("second manual ticket for the same device and category: %v", err)
	}
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
		{alice, ticketing.ActVerify, ticketing.ActionInput{Note: "stable for 1h"}, ticketing.StateVerified},
		{acme, ticketing.ActConfirm, ticketing.ActionInput{}, ticketing.StateConfirmed},
		{manager, ticketing.ActClose, ticketing.ActionInput{}, ticketing.StateClosed},
	}
	for _, st := range steps {
		a.clk.Advance(5 * time.Minute)
		if got := a.act(t, st.actor, tk.ID, st.act, st.in); got.State != st.state {
			t.Fatalf("after %s: state %s, want %s", st.act, got.State, st.state)
		}
	}
	// A forbidden action changes nothing.
	if _, err := a.svc.Act(ctx, alice, tk.ID, ticketing.ActCancel, ticketing.ActionInput{Reason: "x"}); err == nil {
		t.Error("engineer cancelled a closed ticket")
	}
	got := a.get(t, tk.ID)
	want := []ticketing.EventKind{"opened", "assigned", "acknowledged", "note", "state_changed", "paused", "note", "resumed",
		"resolved", "verified", "confirmed", "closed"}
	if !reflect.DeepEqual(kinds(got), want) {
		t.Fatalf("timeline = %v, want %v", kinds(got), want)
	}
	for i, ev := range got.Timeline {
		if ev.Seq != i+1 || ev.At.IsZero() || ev.Actor == "" || ev.At.Location() != time.UTC {
			t.Errorf("event %d = %+v", i, ev)
		}
	}
	if got.Cause != "MTU 1500 on the new modem" || got.ClosedAt == nil || !got.ClosedAt.Equal(a.clk.Now()) || got.WaitingCustomer {
		t.Errorf("closed ticket = %+v", got)
	}
	if r := got.SLA.Resolution; !r.Met() || r.ElapsedSeconds != 20*60 || r.Running {
		t.Errorf("resolution clock = %+v (replayed from the stored timeline)", r)
	}
	arts, err := a.store.Articles(ctx, 10)
	if err != nil || len(arts) != 1 || arts[0].TicketID != tk.ID || arts[0].Solution != "set MTU 1400 on the tunnel" || arts[0].Category != "link" {
		t.Errorf("articles = %+v (%v), want the resolution", arts, err)
	}
	if hits, err := a.svc.SearchKB(ctx, alice, "mtu tunnel", 5); err != nil || len(hits) != 1 {
		t.Errorf("kb search = %+v (%v)", hits, err)
	}
}

func testSurveys(t *testing.T, open Opener) {
	cfg := ticketing.ProcessConfig{Managers: []string{"mia"}, SurveyValidFor: 48 * time.Hour}
	a := newAgent(t, open(t), NewClock(), cfg, "webhook")
	closeTicket := func() ticketing.Ticket {
		tk, err := a.svc.CreateManual(ctx, manager, manualInput())
		if err != nil {
			t.Fatal(err)
		}
		a.act(t, alice, tk.ID, ticketing.ActAck, ticketing.ActionInput{})
		a.act(t, alice, tk.ID, ticketing.ActResolve, ticketing.ActionInput{Cause: "fan", Solution: "replaced"})
		a.act(t, alice, tk.ID, ticketing.ActVerify, ticketing.ActionInput{})
		a.act(t, acme, tk.ID, ticketing.ActConfirm, ticketing.ActionInput{})
		return a.act(t, manager, tk.ID, ticketing.ActClose, ticketing.ActionInput{})
	}
	x, y := closeTicket(), closeTicket()
	a.clk.Advance(time.Hour)
	sv, err := a.svc.SubmitSurvey(ctx, acme, x.ID, ticketing.SurveyInput{Rating: ticketing.Unsatisfied, Comment: "nobody called back"})
	if err != nil {
		t.Fatal(err)
	}
	task := a.get(t, sv.FollowUpID)
	if task.ParentID != x.ID || task.Assignee != "mia" || task.DueAt == nil || !task.DueAt.Equal(a.clk.Now().Add(24*time.Hour)) {
		t.Errorf("follow-up task = %+v", task)
	}
	if _, err := a.svc.SubmitSurvey(ctx, acme, x.ID, ticketing.SurveyInput{Rating: ticketing.Satisfied}); ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("second answer: %v, want ECONFLICT", err)
	}
	if _, err := a.svc.SubmitSurvey(ctx, acme, y.ID, ticketing.SurveyInput{Rating: ticketing.VerySatisfied}); err != nil {
		t.Fatal(err)
	}
	svs, err := a.store.Surveys(ctx, "acme", t0, a.clk.Now().Add(time.Second))
	if err != nil || len(svs) != 2 || svs[0].TicketID != x.ID || svs[0].FollowUpID != task.ID || svs[0].Comment != "nobody called back" ||
		svs[1].Rating != ticketing.VerySatisfied || !svs[1].At.Equal(a.clk.Now()) {
		t.Errorf("surveys = %+v (%v)", svs, err)
	}
	for _, tc := range []struct {
		customer string
		from, to time.Time
		want     int
	}{
		{"globex", time.Time{}, time.Time{}, 0},
		{"", a.clk.Now().Add(time.Second), time.Time{}, 0},
		{"", time.Time{}, a.clk.Now(), 0},
		{"", time.Time{}, time.Time{}, 2},
	} {
		if svs, err := a.store.Surveys(ctx, tc.customer, tc.from, tc.to); err != nil || len(svs) != tc.want {
			t.Errorf("Surveys(%q, %v, %v) = %d (%v), want %d", tc.customer, tc.from, tc.to, len(svs), err, tc.want)
		}
	}
}

func testListFilters(t *testing.T, open Opener) {
	cfg := ticketing.ProcessConfig{Engineers: []ticketing.Engineer{{Name: "bob", Tier: 1, Skills: []string{"*"}}}}
	a := newAgent(t, open(t), NewClock(), cfg)
	p1, _ := a.ingest(t, Firing(a.clk, "fp-1", "core-01", "link", "P1", "down"))
	a.clk.Advance(time.Hour)
	p3, _ := a.ingest(t, Firing(a.clk, "fp-2", "core-02", "hardware", "P3", "fan"))
	a.clk.Advance(time.Hour)
	s3 := Firing(a.clk, "fp-3", "core-03", "link", "P2", "x")
	s3.Device.Customer = "globex"
	g, _ := a.ingest(t, s3)
	a.ingest(t, cleared(a.clk, s3)) // resolved
	a.act(t, alice, p3.ID, ticketing.ActAck, ticketing.ActionInput{})

	ids := func(ts []ticketing.Ticket) []string {
		out := []string{}
		for _, tk := range ts {
			out = append(out, tk.ID)
		}
		return out
	}
	tests := []struct {
		name string
		f    ticketing.Filter
		want []string
	}{
		{"all newest first", ticketing.Filter{}, []string{g.ID, p3.ID, p1.ID}},
		{"state", ticketing.Filter{State: ticketing.StateAcknowledged}, []string{p3.ID}},
		{"priority", ticketing.Filter{Priority: ticketing.P1}, []string{p1.ID}},
		{"customer", ticketing.Filter{Customer: "globex"}, []string{g.ID}},
		{"device", ticketing.Filter{Device: "core-02"}, []string{p3.ID}},
		{"open", ticketing.Filter{Open: true}, []string{p3.ID, p1.ID}},
		{"active", ticketing.Filter{Active: true}, []string{g.ID, p3.ID, p1.ID}},
		{"assignee", ticketing.Filter{Assignee: "bob"}, []string{g.ID, p3.ID, p1.ID}},
		{"opened from", ticketing.Filter{OpenedFrom: t0.Add(time.Hour)}, []string{g.ID, p3.ID}},
		{"opened to", ticketing.Filter{OpenedTo: t0.Add(time.Hour)}, []string{p1.ID}},
		{"limit", ticketing.Filter{Limit: 2}, []string{g.ID, p3.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := a.svc.List(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(ts); !slices.Equal(got, tc.want) {
				t.Errorf("List(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		})
	}
	ts, err := a.store.ListTickets(ctx, ticketing.Filter{Device: "core-03", WithTimeline: true, Limit: 10})
	if err != nil || len(ts) != 1 || len(ts[0].Timeline) == 0 || len(ts[0].Evidence) != 1 || ts[0].Evidence[0].Firing {
		t.Errorf("ListTickets with timeline = %+v (%v)", ts, err)
	}
	ts, err = a.store.ListTickets(ctx, ticketing.Filter{Device: "core-03", Limit: 10})
	if err != nil || len(ts) != 1 || ts[0].Timeline != nil {
		t.Errorf("ListTickets without timeline = %+v (%v)", ts, err)
	}
}

// testRecords: decisions kept outside tickets survive a reopen, are
// replaced by id, listed by kind in id order and deleted once.
func testRecords(t *testing.T, open Opener) {
	rs, ok := open(t).(ticketing.RecordStore)
	if !ok {
		t.Fatal("store does not implement ticketing.RecordStore")
	}
	put := func(kind, id, body string) {
		t.Helper()
		if err := rs.PutRecord(ctx, ticketing.Record{Kind: kind, ID: id, Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	put("maintenance", "mw-2", `{"reason":"second"}`)
	put("maintenance", "mw-1", `{"reason":"first"}`)
	put("maintenance", "mw-2", `{"reason":"second, moved"}`)
	put("remediation", "REM-000001", `{"state":"pending"}`)
	if gone, err := rs.DeleteRecord(ctx, "maintenance", "mw-404"); err != nil || gone {
		t.Fatalf("delete of an absent record = %v, %v", gone, err)
	}

	again := open(t).(ticketing.RecordStore) // another process on the same data
	got, err := again.Records(ctx, "maintenance")
	if err != nil {
		t.Fatal(err)
	}
	var ids, bodies []string
	for _, r := range got {
		ids = append(ids, r.ID)
		var v struct{ Reason string }
		if err := json.Unmarshal(r.Body, &v); err != nil {
			t.Fatalf("record %s body %q: %v", r.ID, r.Body, err)
		}
		bodies = append(bodies, v.Reason)
	}
	if strings.Join(ids, ",") != "mw-1,mw-2" || strings.Join(bodies, ",") != "first,second, moved" {
		t.Fatalf("records = %v %v", ids, bodies)
	}
	if gone, err := again.DeleteRecord(ctx, "maintenance", "mw-1"); err != nil || !gone {
		t.Fatalf("delete mw-1 = %v, %v", gone, err)
	}
	if got, _ := rs.Records(ctx, "maintenance"); len(got) != 1 || got[0].ID != "mw-2" {
		t.Fatalf("after delete: %+v", got)
	}
	if got, _ := rs.Records(ctx, "remediation"); len(got) != 1 {
		t.Fatalf("another kind: %+v", got)
	}
}

// testIdempotentCreate: a retry after a restart (another open of the same
// data) with the same Idempotency-Key returns the ticket the first request
// created; concurrent retries create one ticket between them.
func testIdempotentCreate(t *testing.T, open Opener) {
	cfg := ticketing.ProcessConfig{Managers: []string{"mia"}}
	first := newAgent(t, open(t), NewClock(), cfg, "webhook")
	tk, replayed, err := first.svc.CreateManualOnce(ctx, acme, manualInput(), "k-1")
	if err != nil || replayed {
		t.Fatalf("first create: %v (replayed %v)", err, replayed)
	}
	second := newAgent(t, open(t), NewClock(), cfg, "webhook")
	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		wg.Go(func() {
			got, replayed, err := second.svc.CreateManualOnce(ctx, acme, manualInput(), "k-1")
			if err != nil || !replayed {
				t.Errorf("retry %d: %v (replayed %v)", i, err, replayed)
			}
			ids[i] = got.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != tk.ID {
			t.Errorf("retries got %v, want %s every time", ids, tk.ID)
			break
		}
	}
	other := manualInput()
	other.Symptom = "something else"
	if _, _, err := second.svc.CreateManualOnce(ctx, acme, other, "k-1"); ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("same key, other request: %v, want ECONFLICT", err)
	}
	// Concurrent first requests with a fresh key: one ticket.
	fresh := make([]string, 4)
	for i := range fresh {
		wg.Go(func() {
			got, _, err := second.svc.CreateManualOnce(ctx, acme, manualInput(), "k-2")
			if err != nil {
				t.Errorf("concurrent create %d: %v", i, err)
			}
			fresh[i] = got.ID
		})
	}
	wg.Wait()
	for _, id := range fresh {
		if id != fresh[0] || id == "" || id == tk.ID {
			t.Errorf("concurrent creates with one key got %v, want one new ticket", fresh)
			break
		}
	}
}

// testEvidenceBounded: a symptom that clears and returns on an open ticket
// is its one row again, counted; distinct symptoms beyond MaxEvidence are
// noted on the timeline without rows.
func testEvidenceBounded(t *testing.T, open Opener) {
	a := newAgent(t, open(t), NewClock(), ticketing.ProcessConfig{})
	tk, _ := a.ingest(t, Firing(a.clk, "fp-anchor", "core-01", "link", "P3", "uplink down"))
	for range 50 {
		a.clk.Advance(time.Second)
		a.ingest(t, Firing(a.clk, "fp-flap", "core-01", "link", "P3", "Gi0/0/9 down"))
		a.clk.Advance(time.Second)
		a.ingest(t, cleared(a.clk, Firing(a.clk, "fp-flap", "core-01", "link", "P3", "Gi0/0/9 down")))
	}
	got := a.get(t, tk.ID)
	if len(got.Evidence) != 2 || got.Evidence[1].Fingerprint != "fp-flap" || got.Evidence[1].Fires != 50 || got.Evidence[1].Firing {
		t.Fatalf("after 50 flaps: %d rows, flap row %+v; want 2 rows, fp-flap fired 50 times and cleared", len(got.Evidence), got.Evidence[len(got.Evidence)-1])
	}
	for i := range ticketing.MaxEvidence + 20 {
		a.ingest(t, Firing(a.clk, fmt.Sprintf("fp-port-%d", i), "core-01", "link", "P3", fmt.Sprintf("port %d down", i)))
	}
	got = a.get(t, tk.ID)
	if len(got.Evidence) != ticketing.MaxEvidence {
		t.Errorf("%d evidence rows, want the bound %d", len(got.Evidence), ticketing.MaxEvidence)
	}
	if last := got.Timeline[len(got.Timeline)-1]; !strings.Contains(last.Note, "not listed as evidence") {
		t.Errorf("last symptom beyond the bound: %q, want it noted", last.Note)
	}
}
