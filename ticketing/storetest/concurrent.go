package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// Agents is how many agents the concurrency scenarios run at once.
const Agents = 8

// RunConcurrent runs the scenarios of several agents sharing one database:
// every agent has its own Store (its own connections) and Service, as
// separate processes would, and they write at the same moment. The rules
// must hold because the database enforces them, not because the agents
// share memory.
func RunConcurrent(t *testing.T, newDB NewDB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"DedupeAcrossAgents", testConcurrentDedupe},
		{"TicketNumbersWithoutGaps", testConcurrentNumbers},
		{"ActionsOnOneTicket", testConcurrentActions},
		{"ProblemOpenedOnce", testConcurrentProblem},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newDB(t)) })
	}
}

// agents opens n agents on one database, sharing clk.
func agents(t *testing.T, open Opener, n int, clk *Clock) []*agent {
	t.Helper()
	as := make([]*agent, n)
	for i := range as {
		as[i] = newAgent(t, open(t), clk, ticketing.ProcessConfig{}, "webhook")
	}
	return as
}

// together runs fn(i) for every agent at once, released by one barrier so
// the transactions overlap, and returns the errors.
func together(n int, fn func(i int) error) []error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func noErrors(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Errorf("agent %d: %v", i, err)
		}
	}
}

// testConcurrentDedupe: every agent sees a different symptom of the same
// (device, category) at once: one ticket carries them all.
func testConcurrentDedupe(t *testing.T, open Opener) {
	clk := NewClock()
	as := agents(t, open, Agents, clk)
	actions := make([]ticketing.IngestAction, Agents)
	ids := make([]string, Agents)
	noErrors(t, together(Agents, func(i int) error {
		tk, res, err := as[i].svc.Ingest(ctx, Firing(clk, fmt.Sprintf("fp-%d", i), "core-01", "link", "P3", "down"))
		actions[i], ids[i] = res.Action, tk.ID
		return err
	}))
	all, err := as[0].svc.List(ctx, ticketing.Filter{})
	if err != nil || len(all) != 1 {
		t.Fatalf("got %d tickets (%v), want 1", len(all), err)
	}
	tk := as[0].get(t, all[0].ID)
	if len(tk.Evidence) != Agents {
		t.Errorf("ticket has %d evidence, want %d", len(tk.Evidence), Agents)
	}
	opened := 0
	for i, a := range actions {
		switch {
		case a == ticketing.ActionOpened:
			opened++
		case a != ticketing.ActionSymptomAdded:
			t.Errorf("agent %d: %s, want opened or symptom_added", i, a)
		}
		if ids[i] != tk.ID {
			t.Errorf("agent %d got ticket %q, want %s", i, ids[i], tk.ID)
		}
	}
	if opened != 1 {
		t.Errorf("%d agents opened a ticket, want exactly 1", opened)
	}
	checkTimeline(t, tk)
	// The same fault again from every agent is a duplicate everywhere.
	noErrors(t, together(Agents, func(i int) error {
		_, res, err := as[i].svc.Ingest(ctx, Firing(clk, fmt.Sprintf("fp-%d", i), "core-01", "link", "P3", "down"))
		if err == nil && res.Action != ticketing.ActionDuplicate {
			err = fmt.Errorf("repeat: %s, want duplicate", res.Action)
		}
		return err
	}))
}

// checkTimeline checks the events are numbered 1, 2, 3... without gaps.
func checkTimeline(t *testing.T, tk ticketing.Ticket) {
	t.Helper()
	for i, ev := range tk.Timeline {
		if ev.Seq != i+1 {
			t.Errorf("%s event %d has seq %d", tk.ID, i, ev.Seq)
		}
	}
}

// testConcurrentNumbers: agents opening tickets for different devices at
// once get unique numbers 1..n without gaps.
func testConcurrentNumbers(t *testing.T, open Opener) {
	clk := NewClock()
	as := agents(t, open, Agents, clk)
	const perAgent = 3
	noErrors(t, together(Agents, func(i int) error {
		for j := range perAgent {
			if _, _, err := as[i].svc.Ingest(ctx, Firing(clk, "fp", fmt.Sprintf("dev-%d-%d", i, j), "link", "P3", "down")); err != nil {
				return err
			}
		}
		return nil
	}))
	all, err := as[0].svc.List(ctx, ticketing.Filter{Limit: ticketing.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range all {
		got = append(got, tk.ID)
	}
	slices.Sort(got)
	var want []string
	for n := 1; n <= Agents*perAgent; n++ {
		want = append(want, fmt.Sprintf("NOC-%06d", n))
	}
	if !slices.Equal(got, want) {
		t.Errorf("ticket ids = %v, want %v", got, want)
	}
}

// testConcurrentActions: agents noting on one ticket at once: every note is
// on the timeline, numbered without gaps or clashes.
func testConcurrentActions(t *testing.T, open Opener) {
	clk := NewClock()
	as := agents(t, open, Agents, clk)
	tk, _ := as[0].ingest(t, Firing(clk, "fp-a", "core-01", "link", "P3", "down"))
	clk.Advance(time.Minute)
	as[0].act(t, alice, tk.ID, ticketing.ActAck, ticketing.ActionInput{})
	noErrors(t, together(Agents, func(i int) error {
		_, err := as[i].svc.Act(ctx, alice, tk.ID, ticketing.ActNote, ticketing.ActionInput{Note: fmt.Sprintf("note %d", i)})
		return err
	}))
	got := as[0].get(t, tk.ID)
	notes, started := map[string]bool{}, 0
	for _, ev := range got.Timeline {
		switch ev.Kind {
		case ticketing.KindNote:
			notes[ev.Note] = true
		case ticketing.KindStateChanged:
			started++
		}
	}
	if started != 1 {
		t.Errorf("%d state changes, want 1: each agent saw the state the one before left", started)
	}
	if len(notes) != Agents {
		t.Errorf("timeline has %d distinct notes, want %d: %v", len(notes), Agents, kinds(got))
	}
	checkTimeline(t, got)
	if got.State != ticketing.StateInProgress {
		t.Errorf("state = %s, want in_progress (the first note started work)", got.State)
	}
}

// testConcurrentProblem: tickets of one fingerprint (on different devices)
// open at once, crossing the problem threshold together: one problem record
// is opened and links them all.
func testConcurrentProblem(t *testing.T, open Opener) {
	clk := NewClock()
	as := agents(t, open, Agents, clk)
	noErrors(t, together(Agents, func(i int) error {
		_, _, err := as[i].svc.Ingest(ctx, Firing(clk, "fp-shared", fmt.Sprintf("dev-%d", i), "link", "P3", "down"))
		return err
	}))
	ps, err := as[0].store.Problems(ctx, "")
	if err != nil || len(ps) != 1 {
		t.Fatalf("problems = %+v (%v), want 1", ps, err)
	}
	if len(ps[0].TicketIDs) != Agents {
		t.Errorf("problem links %d tickets, want %d: %v", len(ps[0].TicketIDs), Agents, ps[0].TicketIDs)
	}
}
