package agent

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/internal/testenv"
	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/rules"
	"github.com/nocagent/nocagent/ticketing"
)

// receiver is a webhook endpoint that records every notice it accepts.
type receiver struct {
	mu      sync.Mutex
	notices []ticketing.Notice
	keys    map[string]int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var n ticketing.Notice
	if err := json.NewDecoder(req.Body).Decode(&n); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, n)
	r.keys[req.Header.Get("Idempotency-Key")]++
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) count(event, ticketID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.notices {
		if string(x.Event) == event && x.Ticket.ID == ticketID {
			n++
		}
	}
	return n
}

type harness struct {
	t    *testing.T
	sim  *snmpsim.Simulator
	cfg  *inventory.Config
	recv *receiver
	dir  string
	// of the running agent
	addr   string
	agent  *Agent
	token  string            // admin bearer token
	tokens map[string]string // every role's token
	// configure, if set, adjusts the agent between New and Run.
	configure func(*Agent)
	cancel    context.CancelFunc
	done      chan error
}

const testInterval = 500 * time.Millisecond

func newHarness(t *testing.T) *harness {
	t.Helper()
	sim := snmpsim.New(snmpsim.Options{})
	t.Cleanup(func() { sim.Close() })
	devs, err := sim.AddDemoNetwork(context.Background(), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, sim: sim, recv: &receiver{keys: map[string]int{}}, dir: t.TempDir()}
	srv := httptest.NewServer(h.recv)
	t.Cleanup(srv.Close)
	h.cfg, err = DemoConfig(devs, "127.0.0.1:0", h.dir, testInterval)
	if err != nil {
		t.Fatal(err)
	}
	h.cfg.Notifiers = []inventory.Notifier{{Name: "ops", Kind: "webhook", URL: srv.URL}}
	return h
}

func (h *harness) start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, h.cfg, Options{Rules: rules.Default().WithMaxFor(time.Second)})
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	h.agent = a
	if h.configure != nil {
		h.configure(a)
	}
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- a.Run(ctx) }()
	h.addr = ""
	h.eventually(5*time.Second, "agent listening", func() bool { h.addr = a.Addr(); return h.addr != "" })
	b, err := os.ReadFile(a.TokensFile())
	if err != nil {
		h.t.Fatal(err)
	}
	var toks map[string]string
	if err := json.Unmarshal(b, &toks); err != nil || toks["admin"] == "" {
		h.t.Fatalf("tokens file %s: %v", a.TokensFile(), err)
	}
	h.token, h.tokens = toks["admin"], toks
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("agent Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Error("agent did not stop within 10s")
	}
	h.cancel = nil
}

func (h *harness) eventually(limit time.Duration, what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *harness) get(path string, v any) int {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+h.addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			h.t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return resp.StatusCode
}

type ticketList struct {
	Tickets []ticketing.Ticket `json:"tickets"`
	Count   int                `json:"count"`
}

func (h *harness) tickets(query string) []ticketing.Ticket {
	h.t.Helper()
	var l ticketList
	if code := h.get("/api/v1/tickets?"+query, &l); code != http.StatusOK {
		h.t.Fatalf("GET tickets?%s: status %d", query, code)
	}
	return l.Tickets
}

// TestEndToEnd runs the simulated network and the agent over real UDP:
// a link goes down, a ticket with the device's serial opens and the webhook
// receives it; the link comes back and the ticket resolves; a restart on the
// same database loses and duplicates nothing.
func TestEndToEnd(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.eventually(10*time.Second, "every device polled", func() bool {
		var devs []deviceView
		h.get("/api/v1/devices", &devs)
		for _, d := range devs {
			if !d.Polled || !d.Reachable {
				return false
			}
		}
		return len(devs) == 10
	})
	if got := h.tickets(""); len(got) != 0 {
		t.Fatalf("healthy network has tickets: %+v", got)
	}

	acc, _ := h.sim.Device("acme-acc-1")
	if err := h.sim.InjectFault("acme-acc-1", snmpsim.Fault{Kind: "link-down", IfIndex: acc.UplinkIfIndex}); err != nil {
		t.Fatal(err)
	}
	var tk ticketing.Ticket
	h.eventually(3*testInterval+2*time.Second, "a link ticket for acme-acc-1", func() bool {
		for _, x := range h.tickets("device=acme-acc-1") {
			if x.Category == "link" {
				tk = x
				return true
			}
		}
		return false
	})
	if tk.Device.Serial == "" || tk.Device.Serial != acc.Serial {
		t.Errorf("ticket serial = %q, want the simulator's %q", tk.Device.Serial, acc.Serial)
	}
	if !tk.Priority.Valid() || tk.State != ticketing.StateNew {
		t.Errorf("ticket priority %q state %q", tk.Priority, tk.State)
	}
	if tk.Device.Customer != "acme" || tk.Device.Contract != "ACME-2026-001" || tk.Device.Model != acc.Model {
		t.Errorf("ticket device context = %+v", tk.Device)
	}
	h.eventually(5*time.Second, "webhook notice for the opened ticket", func() bool { return h.recv.count("opened", tk.ID) == 1 })

	if err := h.sim.ClearFaults("acme-acc-1"); err != nil {
		t.Fatal(err)
	}
	h.eventually(3*testInterval+2*time.Second, "ticket resolved", func() bool {
		var got ticketing.Ticket
		h.get("/api/v1/tickets/"+tk.ID, &got)
		return got.State == ticketing.StateResolved
	})
	var resolved ticketing.Ticket
	h.get("/api/v1/tickets/"+tk.ID, &resolved)
	if resolved.ResolvedAt == nil || len(resolved.Timeline) < 2 || resolved.Timeline[len(resolved.Timeline)-1].Kind != ticketing.KindResolved {
		t.Errorf("resolved ticket timeline = %+v", resolved.Timeline)
	}
	h.eventually(5*time.Second, "webhook notice for the resolution", func() bool { return h.recv.count("resolved", tk.ID) == 1 })

	// A fault that stays across the restart must not open a second ticket.
	sw, _ := h.sim.Device("globex-sw-1")
	if err := h.sim.InjectFault("globex-sw-1", snmpsim.Fault{Kind: "link-down", IfIndex: sw.UplinkIfIndex}); err != nil {
		t.Fatal(err)
	}
	// Both ends of the link see it down; wait for both tickets, so the
	// count taken before the restart is complete.
	h.eventually(3*testInterval+2*time.Second, "tickets for both ends of the globex-sw-1 uplink", func() bool {
		return len(h.tickets("device=globex-sw-1")) == 1 && len(h.tickets("device=globex-fw-1")) == 1
	})
	before := h.tickets("")
	h.eventually(5*time.Second, "all notices delivered", func() bool {
		h.recv.mu.Lock()
		defer h.recv.mu.Unlock()
		return len(h.recv.notices) >= len(before)+1
	})
	h.recv.mu.Lock()
	noticesBefore := len(h.recv.notices)
	h.recv.mu.Unlock()

	h.stop()
	h.start()
	// Several poll cycles on the same database.
	time.Sleep(4 * testInterval)
	after := h.tickets("")
	if len(after) != len(before) {
		t.Fatalf("after restart %d tickets, before %d", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.ID != b.ID || a.State != b.State || a.Priority != b.Priority || len(a.Evidence) != len(b.Evidence) {
			t.Errorf("ticket %s changed across restart: %+v -> %+v", b.ID, b, a)
		}
	}
	h.recv.mu.Lock()
	defer h.recv.mu.Unlock()
	if len(h.recv.notices) != noticesBefore {
		t.Errorf("restart sent %d more notices", len(h.recv.notices)-noticesBefore)
	}
	for k, n := range h.recv.keys {
		if n != 1 {
			t.Errorf("notice %s delivered %d times", k, n)
		}
	}
}

// TestMetricsLint scrapes /metrics of a running agent and checks it with
// promtool, the linter Prometheus ships.
func TestMetricsLint(t *testing.T) {
	promtool := testenv.Command(t, "promtool", "prometheus")
	h := newHarness(t)
	h.start()
	var body string
	h.eventually(10*time.Second, "device metrics", func() bool {
		resp, err := http.Get("http://" + h.addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Count(body, "nocagent_device_up{") == 10 && strings.Contains(body, "nocagent_interface_in_octets_total{") &&
			strings.Contains(body, "nocagent_topology_link_up{")
	})
	// A silent device is counted as a timeout.
	if err := h.sim.InjectFault("globex-fw-1", snmpsim.Fault{Kind: "down"}); err != nil {
		t.Fatal(err)
	}
	h.eventually(10*time.Second, "a timeout in nocagent_snmp_errors_total", func() bool {
		resp, err := http.Get("http://" + h.addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, `nocagent_snmp_errors_total{kind="timeout"}`)
	})
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	for _, want := range []string{`nocagent_device_info{customer="acme",device="acme-core-1"`, "nocagent_polls_total{", "nocagent_cpu_usage_percent{",
		// The count depends on the machine's load; that it exists per device is the point.
		"nocagent_memory_used_bytes{", `nocagent_poll_overruns_total{device="acme-acc-1"} `,
		`nocagent_topology_link_up{device="acme-acc-1",interface="Gi1/0/1",neighbor="acme-dist-1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestDemo runs `nocagent demo` with a compressed timeline and reads what a
// newcomer would read.
func TestDemo(t *testing.T) {
	var out syncBuffer
	data := t.TempDir()
	err := Demo(context.Background(), DemoOptions{
		Listen: "127.0.0.1:0", Control: "127.0.0.1:0", Interval: testInterval,
		LinkDownAt: time.Second, CPUAt: 1500 * time.Millisecond, StuckAt: 2 * time.Second, ClearLinkAt: 4 * time.Second,
		Duration: 8 * time.Second, MaxFor: time.Second, Out: &out, DataDir: data,
	})
	if err != nil {
		t.Fatalf("Demo: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"acme-acc-1 loses its uplink",
		"opened    P2 link         acme-acc-1",
		"serial FCW",
		"contract ACME-2026-001",
		`webhook received "opened"`,
		"opened    P2 performance  acme-fw-1",
		"resolved  P2 link         acme-acc-1 — cleared:",
		"acme-acc-2 access port ifIndex",
		"acme-acc-2 — acme-acc-2 interface",
		`webhook received "resolved"`,
		"demo stopped",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	// Stdout is the human timeline; the logs are in the data directory.
	if strings.Contains(text, "level=") || !strings.Contains(text, "logs       "+filepath.Join(data, "nocagent.log")) {
		t.Errorf("demo output mixes in log lines or does not say where the log is:\n%s", text)
	}
	if log, err := os.ReadFile(filepath.Join(data, "nocagent.log")); err != nil || !strings.Contains(string(log), `msg="agent started"`) {
		t.Errorf("nocagent.log: %v %.300s", err, log)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestOutageCorrelation: a distribution switch and the access switches
// behind it go silent at once; one ticket for the root lists the others as
// impacted, none of them opens its own, and recovery resolves it.
func TestOutageCorrelation(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.eventually(10*time.Second, "every device polled", func() bool {
		var devs []deviceView
		h.get("/api/v1/devices", &devs)
		for _, d := range devs {
			if !d.Reachable {
				return false
			}
		}
		return len(devs) == 10
	})
	for _, d := range []string{"acme-dist-1", "acme-acc-1", "acme-acc-2"} {
		if err := h.sim.InjectFault(d, snmpsim.Fault{Kind: "down"}); err != nil {
			t.Fatal(err)
		}
	}
	var root ticketing.Ticket
	h.eventually(10*time.Second, "root ticket with both access switches impacted", func() bool {
		got := h.tickets("device=acme-dist-1&open=true")
		if len(got) != 1 {
			return false
		}
		h.get("/api/v1/tickets/"+got[0].ID, &root)
		return len(root.ImpactedDevices) == 2
	})
	if root.Category != "availability" || root.Priority != ticketing.P1 {
		t.Errorf("root ticket category %q priority %q, want availability P1", root.Category, root.Priority)
	}
	acc1, _ := h.sim.Device("acme-acc-1")
	names := map[string]string{}
	for _, d := range root.ImpactedDevices {
		names[d.Name] = d.Serial
	}
	if names["acme-acc-1"] != acc1.Serial || names["acme-acc-2"] == "" {
		t.Errorf("impacted devices = %+v, want acme-acc-1 (serial %s) and acme-acc-2", root.ImpactedDevices, acc1.Serial)
	}
	// Several more cycles: still no ticket for the impacted devices.
	time.Sleep(4 * testInterval)
	for _, d := range []string{"acme-acc-1", "acme-acc-2"} {
		if got := h.tickets("device=" + d); len(got) != 0 {
			t.Errorf("%s opened its own ticket: %+v", d, got)
		}
	}
	for _, d := range []string{"acme-dist-1", "acme-acc-1", "acme-acc-2"} {
		if err := h.sim.ClearFaults(d); err != nil {
			t.Fatal(err)
		}
	}
	h.eventually(10*time.Second, "root ticket resolved", func() bool {
		var got ticketing.Ticket
		h.get("/api/v1/tickets/"+root.ID, &got)
		return got.State == ticketing.StateResolved
	})
	if all := h.tickets(""); len(all) != 1 {
		var titles []string
		for _, x := range all {
			titles = append(titles, x.ID+" "+x.Device.Name+" "+x.Category+": "+x.Title)
		}
		t.Errorf("%d tickets after the outage, want 1: %q", len(all), titles)
	}
}

// TestFlappingOneTicket: a link that goes down and up poll after poll gives
// one ticket that says it is flapping, not a ticket per flap.
func TestFlappingOneTicket(t *testing.T) {
	h := newHarness(t)
	h.start()
	sw, _ := h.sim.Device("globex-sw-1")
	h.eventually(10*time.Second, "globex-sw-1 polled", func() bool {
		var d deviceView
		h.get("/api/v1/devices/globex-sw-1", &d)
		return d.Reachable
	})
	for i := range 8 {
		var err error
		if i%2 == 0 {
			err = h.sim.InjectFault("globex-sw-1", snmpsim.Fault{Kind: "link-down", IfIndex: sw.UplinkIfIndex})
		} else {
			err = h.sim.ClearFaults("globex-sw-1")
		}
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(testInterval + 150*time.Millisecond)
	}
	var tk ticketing.Ticket
	h.eventually(5*time.Second, "a flapping symptom", func() bool {
		got := h.tickets("device=globex-sw-1")
		if len(got) != 1 {
			return false
		}
		h.get("/api/v1/tickets/"+got[0].ID, &tk)
		for _, e := range tk.Evidence {
			if strings.HasPrefix(e.Summary, "flapping: ") {
				return true
			}
		}
		return false
	})
	if got := h.tickets("device=globex-sw-1"); len(got) != 1 {
		t.Errorf("%d tickets for one flapping link", len(got))
	}
}
