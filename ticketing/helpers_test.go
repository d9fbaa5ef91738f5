package ticketing_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/sqlite"
)

// clock is an injected, manually advanced time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openStore opens a store on path and closes it when the test ends (a
// second Close after an explicit one is harmless).
func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open store %s: %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func tempDB(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "tickets.db")
}

type env struct {
	store *sqlite.Store
	svc   *ticketing.Service
	clk   *clock
	path  string
}

func newEnv(t *testing.T, channels ...string) *env {
	t.Helper()
	e := &env{clk: newClock(), path: tempDB(t)}
	e.store = openStore(t, e.path)
	e.svc = ticketing.NewService(e.store, ticketing.Options{Now: e.clk.Now, Logger: quietLogger(), Channels: channels})
	return e
}

// restart closes the store and opens the same file again, as a process
// restart would.
func (e *env) restart(t *testing.T, channels ...string) {
	t.Helper()
	if err := e.store.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	e.store = openStore(t, e.path)
	e.svc = ticketing.NewService(e.store, ticketing.Options{Now: e.clk.Now, Logger: quietLogger(), Channels: channels})
}

func (e *env) ingest(t *testing.T, s ticketing.Signal) (ticketing.Ticket, ticketing.IngestResult) {
	t.Helper()
	tk, res, err := e.svc.Ingest(context.Background(), s)
	if err != nil {
		t.Fatalf("ingest %s firing=%v: %v", s.Fingerprint, s.Firing, err)
	}
	return tk, res
}

func (e *env) get(t *testing.T, id string) ticketing.Ticket {
	t.Helper()
	tk, err := e.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return tk
}

func device(name, customer string) ticketing.DeviceContext {
	return ticketing.DeviceContext{
		Name: name, Address: "192.0.2.10", Serial: "FOC1234X0AB", Model: "ISR4431",
		Vendor: "cisco", Role: "core", Site: "sh-01", Customer: customer, CustomerName: customer + " Ltd",
		Upstream: []string{"wan-" + name}, Neighbors: []string{"Gi0/0/1 -> sw-01 Gi1/0/48 (lldp)"},
	}
}

// firing returns a firing signal at the clock's current time.
func firing(clk *clock, fp, dev, category, prio, summary string) ticketing.Signal {
	return ticketing.Signal{
		Fingerprint: fp, Rule: "rule-" + fp, Instance: "Gi0/0/1", Firing: true, Severity: "major",
		Category: category, Priority: prio, Value: 97, Threshold: 90, Summary: summary,
		At: clk.Now(), Device: device(dev, "acme"),
	}
}

func cleared(clk *clock, s ticketing.Signal) ticketing.Signal {
	s.Firing = false
	s.Priority = ""
	s.At = clk.Now()
	return s
}

func kinds(tk ticketing.Ticket) []ticketing.EventKind {
	var ks []ticketing.EventKind
	for _, e := range tk.Timeline {
		ks = append(ks, e.Kind)
	}
	return ks
}
