package ticketing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/webhook"
)

func TestBackoff(t *testing.T) {
	const minB, maxB = time.Second, 5 * time.Minute
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{1, 0, 500 * time.Millisecond},
		{1, 0.5, 750 * time.Millisecond},
		{2, 0, time.Second},
		{3, 0.5, 3 * time.Second},            // nominal 4s
		{9, 0, 128 * time.Second},            // nominal 256s
		{10, 0, 150 * time.Second},           // nominal 512s, capped at 300s
		{10000, 0.5, 225 * time.Second},      // no overflow for huge attempt counts
		{10000, 0.999999, 300 * time.Second}, // never above the cap
	}
	for _, tc := range tests {
		got := ticketing.Backoff(tc.attempt, minB, maxB, tc.r)
		if diff := got - tc.want; diff < -time.Millisecond || diff > time.Millisecond {
			t.Errorf("Backoff(%d, r=%v) = %v, want %v", tc.attempt, tc.r, got, tc.want)
		}
		if got > maxB {
			t.Errorf("Backoff(%d) = %v above cap %v", tc.attempt, got, maxB)
		}
	}
}

// receiver is a webhook endpoint that answers with the next scripted status
// (200 once the script is used up) and records what it was sent.
type receiver struct {
	mu       sync.Mutex
	script   []int
	requests []receivedRequest
}

type receivedRequest struct {
	status int
	key    string
	notice ticketing.Notice
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var n ticketing.Notice
	_ = json.Unmarshal(body, &n)
	rc.mu.Lock()
	status := http.StatusOK
	if len(rc.script) > 0 {
		status, rc.script = rc.script[0], rc.script[1:]
	}
	rc.requests = append(rc.requests, receivedRequest{status: status, key: r.Header.Get("Idempotency-Key"), notice: n})
	rc.mu.Unlock()
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status))
}

func (rc *receiver) got() []receivedRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receivedRequest(nil), rc.requests...)
}

// accepted returns the event ids the receiver answered 2xx to, in order.
func (rc *receiver) accepted() []string {
	var ids []string
	for _, r := range rc.got() {
		if r.status/100 == 2 {
			ids = append(ids, r.key)
		}
	}
	return ids
}

func newDispatcher(t *testing.T, e *env, url string) *ticketing.Dispatcher {
	t.Helper()
	snd, err := webhook.New(url, webhook.Options{Client: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return ticketing.NewDispatcher(e.store, map[string]ticketing.Sender{"webhook": snd}, ticketing.DispatcherOptions{
		Now: e.clk.Now, Logger: quietLogger(), MinBackoff: time.Second, MaxBackoff: 8 * time.Second,
		Rand: func() float64 { return 0.5 },
	})
}

func deliver(t *testing.T, d *ticketing.Dispatcher) int {
	t.Helper()
	n, err := d.DeliverDue(context.Background())
	if err != nil {
		t.Fatalf("deliver: %v", err)
	}
	return n
}

func backlog(t *testing.T, d *ticketing.Dispatcher) int {
	t.Helper()
	n, err := d.Backlog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDispatcherRetriesUntilAccepted(t *testing.T) {
	e := newEnv(t, "webhook")
	rc := &receiver{script: []int{503, 503}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	d := newDispatcher(t, e, srv.URL+"/hook")
	tk, _ := e.ingest(t, firing(e.clk, "fp-a", "core-01", "link", "P1", "Gi0/0/1 down"))

	if n := deliver(t, d); n != 0 {
		t.Fatalf("first pass delivered %d, want 0 (503)", n)
	}
	due, _ := e.store.DueOutbox(context.Background(), e.clk.Now().Add(time.Hour), 10)
	if len(due) != 1 || due[0].Attempts != 1 || !strings.Contains(due[0].LastError, "status 503") {
		t.Fatalf("after a 503: %+v, want attempts 1 and the status recorded", due)
	}
	// Not due yet: a pass before the backoff sends nothing.
	deliver(t, d)
	if len(rc.got()) != 1 {
		t.Fatalf("requests = %d, want 1 before the backoff elapsed", len(rc.got()))
	}
	e.clk.Advance(time.Second) // backoff 1: 750ms
	deliver(t, d)
	e.clk.Advance(2 * time.Second) // backoff 2: 1.5s
	if n := deliver(t, d); n != 1 {
		t.Fatalf("third attempt delivered %d, want 1", n)
	}
	if b := backlog(t, d); b != 0 {
		t.Errorf("backlog = %d, want 0", b)
	}
	e.clk.Advance(time.Hour)
	deliver(t, d)

	reqs := rc.got()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3 (503, 503, 200)", len(reqs))
	}
	wantKey := tk.ID + ":1"
	for _, r := range reqs {
		if r.key != wantKey || r.notice.EventID != wantKey || r.notice.Event != ticketing.KindOpened ||
			r.notice.Ticket.ID != tk.ID || r.notice.Ticket.Priority != ticketing.P1 || r.notice.Ticket.Timeline != nil {
			t.Errorf("request = %+v", r)
		}
	}
	if got := rc.accepted(); len(got) != 1 {
		t.Errorf("accepted deliveries = %v, want exactly one", got)
	}
}

// reserveAddr returns a loopback address nothing listens on.
func reserveAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestDispatcherReceiverDownThenUp(t *testing.T) {
	e := newEnv(t, "webhook")
	addr := reserveAddr(t)
	d := newDispatcher(t, e, "http://"+addr+"/hook")
	e.ingest(t, firing(e.clk, "fp-a", "core-01", "link", "P2", "Gi0/0/1 down"))
	e.ingest(t, firing(e.clk, "fp-b", "core-02", "link", "P2", "Gi0/0/1 down"))

	for range 3 {
		if n := deliver(t, d); n != 0 {
			t.Fatalf("delivered %d with the receiver down", n)
		}
		e.clk.Advance(10 * time.Second)
	}
	if b := backlog(t, d); b != 2 {
		t.Fatalf("backlog while down = %d, want 2", b)
	}
	due, _ := e.store.DueOutbox(context.Background(), e.clk.Now().Add(time.Hour), 10)
	for _, m := range due {
		if m.Attempts == 0 || m.LastError == "" {
			t.Errorf("message %s: attempts %d, last_error %q; want the failures recorded", m.EventID, m.Attempts, m.LastError)
		}
	}

	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	rc := &receiver{}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: rc}}
	srv.Start()
	defer srv.Close()

	e.clk.Advance(10 * time.Second)
	for i := 0; i < 5 && backlog(t, d) > 0; i++ {
		deliver(t, d)
	}
	if b := backlog(t, d); b != 0 {
		t.Fatalf("backlog after the receiver came up = %d, want 0", b)
	}
	if got := rc.accepted(); len(got) != 2 {
		t.Errorf("accepted = %v, want both notices once", got)
	}
}

func TestDispatcherRestartDoesNotResend(t *testing.T) {
	e := newEnv(t, "webhook")
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := firing(e.clk, "fp-a", "core-01", "link", "P2", "Gi0/0/1 down")
	tk, _ := e.ingest(t, s)
	if n := deliver(t, newDispatcher(t, e, srv.URL)); n != 1 {
		t.Fatalf("delivered %d, want 1", n)
	}

	e.restart(t, "webhook")
	d := newDispatcher(t, e, srv.URL)
	e.clk.Advance(time.Hour)
	if n := deliver(t, d); n != 0 {
		t.Errorf("after restart delivered %d, want 0", n)
	}
	e.ingest(t, cleared(e.clk, s))
	if n := deliver(t, d); n != 1 {
		t.Errorf("resolved notice: delivered %d, want 1", n)
	}
	want := []string{tk.ID + ":1", tk.ID + ":2"}
	if got := rc.accepted(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("accepted = %v, want %v", got, want)
	}
	if r := rc.got()[1].notice; r.Event != ticketing.KindResolved || r.Ticket.State != ticketing.StateResolved ||
		!strings.HasPrefix(r.Note, "cleared: ") {
		t.Errorf("resolved notice = %+v", r)
	}
}

func TestDispatcherIsolatesChannels(t *testing.T) {
	e := newEnv(t, "webhook", "audit", "sms")
	var (
		mu      sync.Mutex
		audited []string
		calls   int
	)
	down := ticketing.SenderFunc(func(context.Context, ticketing.OutboxMessage) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return errors.New("connection refused")
	})
	audit := ticketing.SenderFunc(func(_ context.Context, m ticketing.OutboxMessage) error {
		mu.Lock()
		defer mu.Unlock()
		audited = append(audited, m.EventID)
		return nil
	})
	// No sender for "sms": its messages wait for a configuration fix.
	d := ticketing.NewDispatcher(e.store, map[string]ticketing.Sender{"webhook": down, "audit": audit},
		ticketing.DispatcherOptions{Now: e.clk.Now, Logger: quietLogger()})
	for _, dev := range []string{"r1", "r2", "r3"} {
		e.ingest(t, firing(e.clk, "fp-"+dev, dev, "link", "P2", "down"))
	}
	if n := deliver(t, d); n != 3 {
		t.Errorf("delivered %d, want the 3 audit notices", n)
	}
	if calls != 1 {
		t.Errorf("down channel tried %d times in one pass, want 1", calls)
	}
	if len(audited) != 3 {
		t.Errorf("audited = %v", audited)
	}
	if b := backlog(t, d); b != 6 {
		t.Errorf("backlog = %d, want 3 webhook + 3 sms", b)
	}
	// Only the head of each ticket's queue is due, one per channel per ticket.
	due, _ := e.store.DueOutbox(context.Background(), e.clk.Now().Add(time.Hour), 10)
	tried := 0
	for _, m := range due {
		if m.Channel == "sms" && m.Attempts > 0 {
			tried++
			if !strings.Contains(m.LastError, `no sender configured for channel "sms"`) {
				t.Errorf("sms message last_error = %q", m.LastError)
			}
		}
	}
	if tried != 1 {
		t.Errorf("sms messages tried = %d, want 1 per pass", tried)
	}
}

func TestDispatcherRun(t *testing.T) {
	e := newEnv(t, "webhook")
	rc := &receiver{script: []int{500}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	snd, err := webhook.New(srv.URL, webhook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Real time here: this test is about the loop, not the schedule.
	d := ticketing.NewDispatcher(e.store, map[string]ticketing.Sender{"webhook": snd}, ticketing.DispatcherOptions{
		Logger: quietLogger(), PollInterval: 10 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()

	e.clk = &clock{t: time.Now().UTC()}
	e.svc = ticketing.NewService(e.store, ticketing.Options{Now: time.Now, Logger: quietLogger(), Channels: []string{"webhook"}})
	e.ingest(t, firing(e.clk, "fp-a", "core-01", "link", "P2", "down"))
	d.Wake()

	deadline := time.Now().Add(5 * time.Second)
	for backlog(t, d) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
	if b := backlog(t, d); b != 0 {
		t.Fatalf("backlog = %d, want 0", b)
	}
	if got := rc.accepted(); len(got) != 1 || len(rc.got()) != 2 {
		t.Errorf("requests = %+v, want a 500 then one accepted delivery", rc.got())
	}
}

// With Run, each channel has its own worker: a channel whose sends hang
// until their timeout (an SMTP server gone quiet, with a backlog) does
// not slow another channel's notices.
func TestDispatcherSlowChannelDelaysNoOther(t *testing.T) {
	e := newEnv(t, "email", "webhook")
	e.clk = &clock{t: time.Now().UTC()}
	e.svc = ticketing.NewService(e.store, ticketing.Options{Now: time.Now, Logger: quietLogger(), Channels: []string{"email", "webhook"}})
	for i := range 20 {
		e.ingest(t, firing(e.clk, fmt.Sprintf("fp-%d", i), fmt.Sprintf("r%d", i), "link", "P2", "down"))
	}
	var mu sync.Mutex
	delivered := 0
	hang := ticketing.SenderFunc(func(ctx context.Context, _ ticketing.OutboxMessage) error {
		<-ctx.Done() // until the send timeout
		return ctx.Err()
	})
	hook := ticketing.SenderFunc(func(context.Context, ticketing.OutboxMessage) error {
		mu.Lock()
		defer mu.Unlock()
		delivered++
		return nil
	})
	d := ticketing.NewDispatcher(e.store, map[string]ticketing.Sender{"email": hang, "webhook": hook}, ticketing.DispatcherOptions{
		Logger: quietLogger(), PollInterval: 10 * time.Millisecond, SendTimeout: 2 * time.Second,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		mu.Lock()
		n := delivered
		mu.Unlock()
		if n == 20 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	cancel()
	<-done
	if delivered != 20 || took > time.Second {
		t.Errorf("webhook delivered %d of 20 in %s while email hung, want all within 1s", delivered, took.Round(time.Millisecond))
	}
}

// A permanent refusal is a dead letter at once; too many failures make one
// too; a dead letter holds back no later notice of its ticket, and a retry
// makes it due again.
func TestDispatcherDeadLetters(t *testing.T) {
	e := newEnv(t, "webhook")
	refuse := true
	var sent []string
	snd := ticketing.SenderFunc(func(_ context.Context, m ticketing.OutboxMessage) error {
		if refuse && m.EventSeq == 1 {
			return fmt.Errorf("%w: status 410", ticketing.ErrPermanent)
		}
		sent = append(sent, m.EventID)
		return nil
	})
	d := ticketing.NewDispatcher(e.store, map[string]ticketing.Sender{"webhook": snd}, ticketing.DispatcherOptions{
		Now: e.clk.Now, Logger: quietLogger(), MaxAttempts: 3, Rand: func() float64 { return 0.5 },
	})
	tk, _ := e.ingest(t, firing(e.clk, "fp-a", "core-01", "link", "P2", "down"))
	e.clk.Advance(time.Second)
	e.ingest(t, firing(e.clk, "fp-b", "core-01", "link", "P1", "worse"))
	deliver(t, d) // the opening notice: refused for good
	deliver(t, d) // the next ones no longer wait behind it
	dead, err := d.DeadLetters(context.Background(), 10)
	if err != nil || len(dead) != 1 || dead[0].TicketID != tk.ID || dead[0].EventSeq != 1 || !strings.Contains(dead[0].LastError, "410") {
		t.Fatalf("dead letters = %+v, %v", dead, err)
	}
	if len(sent) == 0 {
		t.Errorf("the ticket's later notices waited behind its dead letter")
	}
	if b := backlog(t, d); b != 0 {
		t.Errorf("backlog = %d, want 0 (dead letters are not backlog)", b)
	}
	refuse = false
	if err := d.Retry(context.Background(), dead[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Retry(context.Background(), dead[0].ID); ticketing.ErrorCode(err) != ticketing.ENOTFOUND {
		t.Errorf("second retry: %v, want ENOTFOUND", err)
	}
	deliver(t, d)
	if dead, _ := d.DeadLetters(context.Background(), 10); len(dead) != 0 || sent[len(sent)-1] != ticketing.EventID(tk.ID, 1) {
		t.Errorf("after retry: dead %d, last sent %v", len(dead), sent)
	}

	// A receiver that keeps failing: a dead letter after MaxAttempts.
	failing := ticketing.NewDispatcher(e.store, map[string]ticketing.Sender{"webhook": ticketing.SenderFunc(func(context.Context, ticketing.OutboxMessage) error {
		return errors.New("connection refused")
	})}, ticketing.DispatcherOptions{Now: e.clk.Now, Logger: quietLogger(), MaxAttempts: 3, Rand: func() float64 { return 0.5 }})
	e.ingest(t, firing(e.clk, "fp-c", "core-02", "hardware", "P3", "fan"))
	for range 3 {
		deliver(t, failing)
		e.clk.Advance(time.Hour)
	}
	if dead, _ := failing.DeadLetters(context.Background(), 10); len(dead) != 1 || dead[0].Attempts != 3 {
		due, _ := e.store.DueOutbox(context.Background(), e.clk.Now(), 10)
		t.Errorf("after 3 failures: dead %+v; due %+v", dead, due)
	}
}

// failingMarks is a store whose failure records cannot be written (a full
// disk): the worker must back off, not send the same message every poll.
type failingMarks struct{ ticketing.Store }

func (failingMarks) MarkFailed(context.Context, int64, int, time.Time, string) error {
	return errors.New("disk full")
}

func TestDispatcherBacksOffWhenTheStoreFails(t *testing.T) {
	e := newEnv(t, "email")
	e.ingest(t, firing(e.clk, "fp-a", "core-01", "link", "P2", "down"))
	var mu sync.Mutex
	sends := 0
	snd := ticketing.SenderFunc(func(context.Context, ticketing.OutboxMessage) error {
		mu.Lock()
		defer mu.Unlock()
		sends++
		return errors.New("452 insufficient storage")
	})
	d := ticketing.NewDispatcher(failingMarks{e.store}, map[string]ticketing.Sender{"email": snd}, ticketing.DispatcherOptions{
		Logger: quietLogger(), PollInterval: 5 * time.Millisecond, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	d.Run(ctx)
	mu.Lock()
	defer mu.Unlock()
	// Every 5 ms would be ~120 sends; backing off 50, 100, 200, 400 ms
	// leaves a handful.
	if sends == 0 || sends > 8 {
		t.Errorf("%d sends in 600ms with the store failing, want a few (backoff)", sends)
	}
}
