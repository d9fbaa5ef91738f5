package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/rules"
	"github.com/nocagent/nocagent/ticketing"
)

// DemoOptions configure `nocagent demo`.
type DemoOptions struct {
	Listen   string        // agent HTTP API, default 127.0.0.1:9310
	Control  string        // simulator control API, default 127.0.0.1:9311
	DataDir  string        // "" = a temporary directory removed at the end
	Store    string        // "" = SQLite in DataDir; or a postgres:// URL
	Interval time.Duration // poll interval, default 10s
	Duration time.Duration // 0 = until ctx ends
	// Scenario timing; zero values take the defaults (15 s, 20 s, 25 s, 75 s).
	LinkDownAt, CPUAt, StuckAt, ClearLinkAt time.Duration
	// MaxFor caps every rule's pending period (default 20 s) so that tickets
	// appear within a minute of the faults.
	MaxFor time.Duration
	Out    io.Writer
	Logger *slog.Logger
}

// demoCustomers are the two customers of the simulated network.
var demoCustomers = []inventory.Customer{
	{ID: "acme", Name: "ACME Manufacturing", Tier: "gold", Contract: "ACME-2026-001",
		Contacts: []inventory.Contact{{Name: "Alice Chen", Email: "alice.chen@acme.example", Role: "IT manager"}}},
	{ID: "globex", Name: "Globex Retail", Tier: "silver", Contract: "GLX-2026-007",
		Contacts: []inventory.Contact{{Name: "Bob Müller", Email: "bob.mueller@globex.example", Role: "network admin"}}},
}

var demoSites = []inventory.Site{
	{ID: "acme-hq", Name: "ACME headquarters, Plant 1", Customer: "acme"},
	{ID: "globex-branch", Name: "Globex branch 12", Customer: "globex"},
}

// DemoConfig builds the inventory of the simulated network from the devices
// the simulator serves.
func DemoConfig(devs []snmpsim.DeviceInfo, listen, dataDir string, interval time.Duration) (*inventory.Config, error) {
	cfg := &inventory.Config{
		Agent:       inventory.Agent{Listen: listen, PollInterval: interval, PollTimeout: min(time.Second, interval/2), Retries: 1, Workers: 4, DataDir: dataDir},
		Credentials: []inventory.Credential{{Name: "demo-v2c", Version: inventory.SNMPv2c, Community: "public"}},
		Customers:   demoCustomers,
		Sites:       demoSites,
	}
	where := map[string]snmpsim.DemoDevice{}
	for _, d := range snmpsim.DemoNetwork() {
		where[d.Name] = d
	}
	for _, d := range devs {
		cust, site := where[d.Name].Customer, where[d.Name].Site
		cfg.Devices = append(cfg.Devices, inventory.Device{
			Name: d.Name, Address: net.JoinHostPort(d.Address, fmt.Sprint(d.Port)), Credential: "demo-v2c",
			Customer: cust, Site: site, Role: d.Role, Upstream: d.Upstream,
		})
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("demo inventory: %w", err)
	}
	return cfg, nil
}

// Demo runs the simulated network, the agent and a scripted fault scenario,
// printing a line for every ticket event and delivered notice.
func Demo(ctx context.Context, o DemoOptions) error {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:9310"
	}
	if o.Control == "" {
		o.Control = "127.0.0.1:9311"
	}
	if o.Interval == 0 {
		o.Interval = 10 * time.Second
	}
	if o.LinkDownAt == 0 {
		o.LinkDownAt = 15 * time.Second
	}
	if o.CPUAt == 0 {
		o.CPUAt = 20 * time.Second
	}
	if o.StuckAt == 0 {
		o.StuckAt = 25 * time.Second
	}
	if o.ClearLinkAt == 0 {
		o.ClearLinkAt = 75 * time.Second
	}
	if o.MaxFor == 0 {
		o.MaxFor = 20 * time.Second
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	if o.DataDir == "" {
		dir, err := os.MkdirTemp("", "nocagent-demo-")
		if err != nil {
			return fmt.Errorf("demo data directory: %w", err)
		}
		defer os.RemoveAll(dir)
		o.DataDir = dir
	}
	// Stdout is the human timeline; the logs go to a file beside the data
	// unless the caller wants them (nocagent demo -v).
	logFile := ""
	if o.Logger == nil {
		logFile = filepath.Join(o.DataDir, "nocagent.log")
		f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("demo log: %w", err)
		}
		defer f.Close()
		o.Logger = slog.New(slog.NewTextHandler(f, nil))
	}
	p := &printer{w: o.Out}

	sim := snmpsim.New(snmpsim.Options{Logger: o.Logger})
	defer sim.Close()
	devs, err := sim.AddDemoNetwork(ctx, "127.0.0.1")
	if err != nil {
		return fmt.Errorf("start simulated network: %w", err)
	}
	ctlLn, err := net.Listen("tcp", o.Control)
	if err != nil {
		return fmt.Errorf("simulator control API on %s: %w", o.Control, err)
	}
	ctl := NewHTTPServer(sim.Handler())
	go ctl.Serve(ctlLn)
	defer ctl.Close()

	// A webhook receiver on loopback shows notices leaving the outbox.
	hookLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo webhook receiver: %w", err)
	}
	hook := NewHTTPServer(http.HandlerFunc(p.notice))
	go hook.Serve(hookLn)
	defer hook.Close()

	cfg, err := DemoConfig(devs, o.Listen, o.DataDir, o.Interval)
	if err != nil {
		return err
	}
	cfg.Store = o.Store
	cfg.Notifiers = []inventory.Notifier{{Name: "demo-webhook", Kind: "webhook", URL: "http://" + hookLn.Addr().String() + "/notices"}}
	ag, err := New(ctx, cfg, Options{Logger: o.Logger, Rules: rules.Default().WithMaxFor(o.MaxFor), OnTicket: p.ticket})
	if err != nil {
		return err
	}

	p.linef("nocagent demo: %d simulated devices for %d customers, polled every %s", len(devs), len(demoCustomers), o.Interval)
	p.linef("  API        http://%s/api/v1/tickets   metrics http://%s/metrics", o.Listen, o.Listen)
	p.linef("  simulator  http://%s/api/v1/devices   (POST .../devices/NAME/faults to inject your own)", o.Control)
	p.linef("  data       %s", o.DataDir)
	if logFile != "" {
		p.linef("  logs       %s   (or nocagent demo -v to see them here)", logFile)
	}
	p.linef("  tokens     %s   (curl -H \"Authorization: Bearer $(jq -r .admin %s)\" ...)", ag.TokensFile(), ag.TokensFile())

	var wg sync.WaitGroup
	wg.Go(func() { runScenario(ctx, sim, o, p) })
	err = ag.Run(ctx)
	wg.Wait()
	if err != nil {
		return err
	}
	p.linef("demo stopped")
	return nil
}

func runScenario(ctx context.Context, sim *snmpsim.Simulator, o DemoOptions, p *printer) {
	acc, ok := sim.Device("acme-acc-1")
	if !ok {
		return
	}
	step := func(at time.Duration, say string, do func() error) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(at):
		}
		p.linef("scenario   %s", say)
		if err := do(); err != nil {
			p.linef("scenario   failed: %v", err)
		}
		return true
	}
	start := time.Now()
	since := func(d time.Duration) time.Duration { return max(0, d-time.Since(start)) }
	if !step(since(o.LinkDownAt), fmt.Sprintf("acme-acc-1 loses its uplink (ifIndex %d)", acc.UplinkIfIndex), func() error {
		return sim.InjectFault("acme-acc-1", snmpsim.Fault{Kind: "link-down", IfIndex: acc.UplinkIfIndex})
	}) {
		return
	}
	if !step(since(o.CPUAt), "acme-fw-1 CPU goes to 97 %", func() error {
		return sim.InjectFault("acme-fw-1", snmpsim.Fault{Kind: "cpu", Percent: 97})
	}) {
		return
	}
	stuck := 0
	for _, d := range snmpsim.DemoNetwork() {
		for _, p := range d.Ports {
			if d.Name == "acme-acc-2" && p.Use == snmpsim.UseUser && stuck == 0 {
				stuck = p.IfIndex
			}
		}
	}
	if !step(since(o.StuckAt), fmt.Sprintf("acme-acc-2 access port ifIndex %d hangs; a remote bounce repairs it "+
		"(GET/POST /api/v1/tickets/ID/remediations, then POST /api/v1/remediations/REM-ID/approve)", stuck), func() error {
		return sim.InjectFault("acme-acc-2", snmpsim.Fault{Kind: "port-stuck", IfIndex: stuck})
	}) {
		return
	}
	step(since(o.ClearLinkAt), "acme-acc-1 uplink restored", func() error { return sim.ClearFaults("acme-acc-1") })
}

// printer writes the demo's readable lines; calls come from several
// goroutines.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) linef(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (p *printer) ticket(e TicketEvent) {
	t := e.Ticket
	d := t.Device
	switch e.Result.Action {
	case ticketing.ActionDuplicate, ticketing.ActionIgnored:
		return
	case ticketing.ActionOpened, ticketing.ActionReopened:
		p.linef("ticket     %s %-9s %s %-12s %s — %s", t.ID, e.Result.Action, t.Priority, t.Category, d.Name, t.Title)
		p.linef("             serial %s, model %s, site %s, customer %s, contract %s, upstream %s",
			orDash(d.Serial), orDash(d.Model), orDash(d.SiteName), orDash(d.CustomerName), orDash(d.Contract), orDash(strings.Join(d.Upstream, ",")))
	case ticketing.ActionResolved, ticketing.ActionSymptomCleared:
		p.linef("ticket     %s %-9s %s %-12s %s — cleared: %s", t.ID, e.Result.Action, t.Priority, t.Category, d.Name, e.Alert.Summary)
	default:
		p.linef("ticket     %s %-9s %s %-12s %s — %s", t.ID, e.Result.Action, t.Priority, t.Category, d.Name, e.Alert.Summary)
	}
}

func (p *printer) notice(w http.ResponseWriter, r *http.Request) {
	var n struct {
		Event  string `json:"event"`
		Ticket struct {
			ID string `json:"id"`
		} `json:"ticket"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, &n)
	}
	if err != nil {
		http.Error(w, "bad notice", http.StatusBadRequest)
		return
	}
	p.linef("notice     webhook received %q for %s", n.Event, n.Ticket.ID)
	w.WriteHeader(http.StatusNoContent)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
