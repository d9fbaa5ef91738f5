package postgres

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/postgres/pgtest"
	"github.com/nocagent/nocagent/ticketing/webhook"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// hookReceiver counts deliveries per idempotency key, in arrival order.
type hookReceiver struct {
	mu    sync.Mutex
	count map[string]int
	order []string
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	key := r.Header.Get("Idempotency-Key")
	h.count[key]++
	h.order = append(h.order, key)
	w.WriteHeader(http.StatusNoContent)
}

// TestTwoDispatchersDeliverEachMessageOnce runs two agents' dispatchers,
// each with its own pool, against one outbox at the same time: every notice
// reaches the receiver exactly once, and a ticket's notices arrive in order.
func TestTwoDispatchersDeliverEachMessageOnce(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	writer := openDSN(t, dsn)
	clk := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return clk }
	svc := ticketing.NewService(writer, ticketing.Options{Now: now, Logger: quiet(), Channels: []string{"webhook"}})
	const tickets = 40
	for i := range tickets {
		dev := fmt.Sprintf("dev-%02d", i)
		for _, s := range []ticketing.Signal{
			{Fingerprint: "fp-a-" + dev, Rule: "r", Firing: true, Category: "link", Priority: "P3", Summary: "down", Device: ticketing.DeviceContext{Name: dev}},
			{Fingerprint: "fp-b-" + dev, Rule: "r", Firing: true, Category: "link", Priority: "P1", Summary: "worse", Device: ticketing.DeviceContext{Name: dev}},
			{Fingerprint: "fp-a-" + dev, Category: "link", Device: ticketing.DeviceContext{Name: dev}},
			{Fingerprint: "fp-b-" + dev, Category: "link", Device: ticketing.DeviceContext{Name: dev}},
		} {
			if _, _, err := svc.Ingest(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	total, err := writer.OutboxBacklog(ctx)
	if err != nil || total != tickets*3 { // opened, priority_raised, resolved
		t.Fatalf("backlog = %d (%v), want %d", total, err, tickets*3)
	}

	rc := &hookReceiver{count: map[string]int{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	sender, err := webhook.New(srv.URL+"/hook", webhook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	delivered := make([]int, 2)
	for i := range 2 {
		store := openDSN(t, dsn) // another agent: its own pool
		d := ticketing.NewDispatcher(store, map[string]ticketing.Sender{"webhook": sender},
			ticketing.DispatcherOptions{Now: now, Logger: quiet(), BatchSize: 7})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				n, err := d.DeliverDue(ctx)
				if err != nil {
					t.Errorf("dispatcher %d: %v", i, err)
					return
				}
				delivered[i] += n
				if left, _ := store.OutboxBacklog(ctx); left == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()

	if left, _ := writer.OutboxBacklog(ctx); left != 0 {
		t.Fatalf("backlog after both dispatchers = %d, want 0", left)
	}
	if delivered[0]+delivered[1] != total {
		t.Errorf("dispatchers delivered %d + %d, want %d in all", delivered[0], delivered[1], total)
	}
	if delivered[0] == 0 || delivered[1] == 0 {
		t.Logf("one dispatcher did all the work (%v): the claims were not contested this run", delivered)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.count) != total {
		t.Errorf("receiver saw %d distinct notices, want %d", len(rc.count), total)
	}
	for key, n := range rc.count {
		if n != 1 {
			t.Errorf("notice %s delivered %d times, want once", key, n)
		}
	}
	// Per ticket, event numbers arrive in increasing order.
	last := map[string]int{}
	for _, key := range rc.order {
		var id string
		var seq int
		if _, err := fmt.Sscanf(key, "NOC-%6s:%d", &id, &seq); err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		if seq <= last[id] {
			t.Errorf("ticket %s: event %d arrived after %d", id, seq, last[id])
		}
		last[id] = seq
	}
}

// enqueue writes n open tickets with one notice each on channel ch.
func enqueue(t *testing.T, s *Store, ch string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		tk := seedTicket(t, s, k)
		err := s.WithTx(ctx, func(tx ticketing.Tx) error {
			return tx.EnqueueOutbox(ctx, []ticketing.OutboxMessage{{TicketID: tk.ID, EventSeq: 1, EventID: tk.ID + ":1",
				Kind: "opened", Channel: ch, Payload: []byte(`{}`), CreatedAt: t0, NextAttemptAt: t0}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestDueOutboxLeases(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := openDSN(t, dsn, WithOutboxLease(time.Minute))
	b := openDSN(t, dsn, WithOutboxLease(time.Minute))
	enqueue(t, a, "webhook", "r1/link", "r2/link", "r3/link")
	enqueue(t, a, "email", "r4/link")

	first, err := a.DueOutbox(ctx, t0, 10)
	if err != nil || len(first) != 4 {
		t.Fatalf("first claim = %d messages (%v), want 4", len(first), err)
	}
	if again, err := b.DueOutbox(ctx, t0.Add(59*time.Second), 10); err != nil || len(again) != 0 {
		t.Fatalf("second dispatcher within the lease got %+v (%v), want none", again, err)
	}
	// a's dispatcher fails on the first webhook message: the rest of its
	// webhook batch is handed back at once, the email one stays claimed.
	if err := a.MarkFailed(ctx, first[0].ID, 1, t0.Add(30*time.Second), "503"); err != nil {
		t.Fatal(err)
	}
	got, err := b.DueOutbox(ctx, t0.Add(time.Second), 10)
	if err != nil || len(got) != 2 || got[0].ID != first[1].ID || got[1].ID != first[2].ID {
		t.Fatalf("after the failure b got %+v (%v), want webhook messages 2 and 3", got, err)
	}
	// A dispatcher that died keeps nothing forever: at the lease's end the
	// email message is due again, the failed one when its backoff ends.
	got, err = b.DueOutbox(ctx, t0.Add(time.Minute), 10)
	if err != nil || len(got) != 2 || got[0].Channel != "email" || got[1].ID != first[0].ID || got[1].Attempts != 1 {
		t.Fatalf("after the lease b got %+v (%v), want the failed webhook message and the email one", got, err)
	}
	for _, m := range got {
		if err := b.MarkDelivered(ctx, m.ID, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := a.OutboxBacklog(ctx); n != 2 {
		t.Errorf("backlog = %d, want 2 (messages 2 and 3 still leased by b)", n)
	}
}

func TestDueOutboxClaimsUnderContention(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	s := openDSN(t, dsn)
	var keys []string
	for i := range 30 {
		keys = append(keys, fmt.Sprintf("r%d/link", i))
	}
	enqueue(t, s, "webhook", keys...)
	const claimers = 6
	stores := make([]*Store, claimers)
	for i := range stores {
		stores[i] = openDSN(t, dsn)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range 5 {
				msgs, err := stores[i].DueOutbox(context.Background(), t0, 3)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, m := range msgs {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(seen) != len(keys) {
		t.Errorf("claimed %d distinct messages, want %d", len(seen), len(keys))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %d claimed %d times", id, n)
		}
	}
}
