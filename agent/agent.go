// Package agent wires the stages together — inventory, collector, rules,
// ticketing, export — and owns their lifecycle: start, serve, stop. It
// decides nothing about SNMP, rules or tickets.
package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/export"
	"github.com/nocagent/nocagent/export/influx"
	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/plugins/inspection"
	"github.com/nocagent/nocagent/plugins/remediation"
	"github.com/nocagent/nocagent/rules"
	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/email"
	"github.com/nocagent/nocagent/ticketing/httpapi"
	"github.com/nocagent/nocagent/topology"
)

// TicketEvent is reported to Options.OnTicket after each change that
// monitoring made to a ticket.
type TicketEvent struct {
	Ticket ticketing.Ticket
	Result ticketing.IngestResult
	Alert  rules.Alert
}

// Options tune an Agent beyond its configuration file.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Rules replaces the rule files named in the config (nil: config, or the
	// built-in default pack when the config names none).
	Rules *rules.RuleSet
	// OnTicket, if set, is called for every ticket change monitoring makes.
	OnTicket func(TicketEvent)
}

// Agent is one running nocagent process.
type Agent struct {
	cfg   atomic.Pointer[inventory.Config] // replaced by Reload
	log   *slog.Logger
	now   func() time.Time
	opts  Options
	graph *topology.Graph

	store         TicketStore
	tickets       *ticketing.Service
	dispatcher    *ticketing.Dispatcher
	engine        *rules.Engine
	sched         *collector.Scheduler
	metrics       *selfMetrics
	corr          *rules.Correlator
	plugins       *plugins.Host
	rem           remediations
	mailer        *email.Sender // the first email notifier; nil when none
	inspections   *inspection.Scheduler
	inspectionDir string
	dataDir       string
	influx        *influx.Exporter        // nil when not configured
	traps         *collector.TrapReceiver // nil when not configured
	tokens        *httpapi.Tokens
	tokensFile    string
	kpi           *kpiMetrics
	// limits bound the HTTP server: timeouts, body size, request rates.
	limits httpLimits

	mu     sync.RWMutex
	latest map[string]*collector.Snapshot
	good   map[string]*collector.Snapshot // last snapshot that answered completely (see onSnapshot)
	nbrSig map[string]string              // neighbour signature per device, to rebuild the graph only on change
	flaps  map[string]bool                // fingerprints of flapping symptoms on tickets
	// reconciled counts answering polls per device since the start, up to
	// the one that checks its open tickets against the rules' state.
	reconciled map[string]int
	// reconcileWhy is the note on symptoms reconcile clears.
	reconcileWhy string

	ln net.Listener
}

// New validates the configuration, opens the ticket store in the data
// directory and prepares every stage. It starts nothing; Run does.
func New(ctx context.Context, cfg *inventory.Config, opts Options) (_ *Agent, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &Agent{log: opts.Logger, now: opts.Now, opts: opts,
		latest: map[string]*collector.Snapshot{}, good: map[string]*collector.Snapshot{},
		nbrSig: map[string]string{}, flaps: map[string]bool{}, reconciled: map[string]int{},
		reconcileWhy: "no longer present when the agent restarted",
		rem:          remediations{byID: map[string]*remediation.Remediation{}}, limits: defaultHTTPLimits}
	a.cfg.Store(cfg)
	a.kpi = &kpiMetrics{a: a}

	a.graph = a.buildTopology()

	rs := opts.Rules
	if rs == nil {
		if rs, err = loadRules(cfg); err != nil {
			return nil, err
		}
	}
	matrix := priorityMatrix(cfg)
	if err := matrix.Validate(); err != nil {
		return nil, fmt.Errorf("priority matrix: %w", err)
	}
	a.engine = rules.NewEngine(rs, rules.Options{Logger: a.log, Matrix: matrix, NetworkDevice: func(n string) bool { _, ok := a.config().Device(n); return ok }})

	dataDir := cfg.ResolvePath(cfg.Agent.DataDir)
	a.dataDir = dataDir
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dataDir, err)
	}
	store, err := openStore(ctx, cfg.Store, dataDir)
	if err != nil {
		return nil, err
	}
	a.store = store
	defer func() {
		if err != nil {
			store.Close()
		}
	}()
	senders, err := newSenders(cfg, a.log)
	if err != nil {
		return nil, err
	}
	for _, n := range cfg.Notifiers {
		if n.Kind == inventory.NotifierITSM {
			senders[n.Name] = &sinkSender{a: a, plugin: n.Plugin}
		}
	}
	channels := make([]string, 0, len(senders))
	for name, s := range senders {
		channels = append(channels, name)
		if m, ok := s.(*email.Sender); ok && a.mailer == nil {
			a.mailer = m // also mails contract reports
		}
	}
	sort.Strings(channels)
	process, err := LoadProcess(cfg.ServiceFile)
	if err != nil {
		return nil, err
	}
	confirmKey, err := secretFile(filepath.Join(dataDir, "confirm.key"))
	if err != nil {
		return nil, err
	}
	a.tickets, err = ticketing.New(store, ticketing.Options{Now: a.now, Logger: a.log, Channels: channels, Process: process,
		Devices: a.deviceContext, ConfirmSecret: confirmKey, Categories: rules.Categories(),
		Customers: func(id string) (string, bool) {
			c, ok := a.config().Customer(id)
			return c.Contract, ok
		}})
	if err != nil {
		return nil, fmt.Errorf("service process %s: %w", cfg.ServiceFile, err)
	}
	if a.tokens, a.tokensFile, err = loadTokens(cfg, dataDir, a.now); err != nil {
		return nil, err
	}
	if cfg.Influx != nil {
		if a.influx, err = newInflux(cfg, dataDir, a.log, a.now); err != nil {
			return nil, err
		}
	}
	if err := a.loadMaintenance(ctx); err != nil {
		return nil, err
	}
	if err := a.loadRemediations(ctx); err != nil {
		return nil, err
	}
	a.dispatcher = ticketing.NewDispatcher(store, senders, ticketing.DispatcherOptions{Now: a.now, Logger: a.log})
	a.corr = a.newCorrelator()
	a.metrics = newSelfMetrics()
	a.metrics.reloaded(true, a.now())
	profiles, err := loadProfiles(cfg)
	if err != nil {
		return nil, err
	}
	a.sched = collector.NewScheduler(collector.SchedulerOptions{
		Workers: cfg.Agent.Workers, Logger: a.log, Now: a.now, Profiles: profiles,
		Session: collector.SessionOptions{Timeout: cfg.Agent.PollTimeout, Retries: cfg.Agent.Retries,
			// Remember per device what GETBULK sizes and table lengths worked.
			Tuning: collector.NewTuningCache()},
	}, a.onSnapshot)
	return a, nil
}

// loadProfiles is the built-in vendor profiles with the config's
// profiles_dir laid over them.
func loadProfiles(cfg *inventory.Config) (*collector.ProfileSet, error) {
	if cfg.Agent.ProfilesDir == "" {
		return collector.BuiltinProfiles(), nil
	}
	p, err := collector.LoadProfiles(cfg.Agent.ProfilesDir)
	if err != nil {
		return nil, fmt.Errorf("vendor profiles: %w", err)
	}
	return p, nil
}

// loadRules is the built-in pack plus the config's rule files.
func loadRules(cfg *inventory.Config) (*rules.RuleSet, error) {
	sets := []*rules.RuleSet{rules.Default()}
	for _, p := range cfg.Rules {
		rs, err := rules.LoadFile(cfg.ResolvePath(p))
		if err != nil {
			return nil, err
		}
		sets = append(sets, rs)
	}
	return rules.Merge(sets...)
}

// Run serves the HTTP API and polls until ctx ends, then stops every stage
// and closes the store. It returns the first error that stopped it.
func (a *Agent) Run(ctx context.Context) error {
	defer a.store.Close()
	ln, err := net.Listen("tcp", a.config().Agent.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.config().Agent.Listen, err)
	}
	// The key pair is loaded before anything starts, not by ServeTLS, so
	// a bad pair stops the start with a clear error.
	var tlsConfig *tls.Config
	tlsOn := a.config().Agent.TLSCert != ""
	if tlsOn {
		cert, err := tls.LoadX509KeyPair(a.config().Agent.TLSCert, a.config().Agent.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("agent.tls_cert/tls_key: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	a.mu.Lock()
	a.ln = ln
	a.mu.Unlock()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		export.NewCollector(a), a.metrics, &ticketMetrics{a: a}, &trapMetrics{a: a}, a.kpi, &pollTopologyMetrics{a: a})
	if a.influx != nil {
		reg.MustRegister(a.influx)
		if err := a.influx.Check(ctx); err != nil {
			if errors.Is(err, influx.ErrAuth) || errors.Is(err, influx.ErrNotFound) {
				ln.Close()
				return fmt.Errorf("influx export: %w", err)
			}
			// An unreachable server is an outage the spool rides out.
			a.log.Warn("influx export: server not reachable now; points are spooled until it is", "err", err)
		}
	}
	if err := a.startPlugins(ctx, a.dataDir); err != nil {
		ln.Close()
		return err
	}
	defer a.plugins.Close()
	go a.pullSinks(ctx)
	if err := a.startTraps(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("trap receiver: %w", err)
	}
	api := httpapi.New(a.tickets, httpapi.Options{Tokens: a.tokens, Logger: a.log, DeviceCount: a.deviceCount})
	srv := a.limits.server(a.handler(reg, api), a.tokens)
	srv.TLSConfig = tlsConfig
	// TLS handshake failures and the like: scanners make many, so they
	// are debug lines, never on stderr.
	srv.ErrorLog = slog.NewLogLogger(a.log.Handler(), slog.LevelDebug)

	// A stage that fails stops the others; the parent context ending (Ctrl-C,
	// --duration) is a normal stop.
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		serve := func() error { return srv.Serve(ln) }
		if tlsOn {
			serve = func() error { return srv.ServeTLS(ln, "", "") }
		}
		if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cancel(fmt.Errorf("http server: %w", err))
		}
	})
	wg.Go(func() { a.dispatcher.Run(ctx) })
	wg.Go(func() { a.kpi.run(ctx, kpiRefresh) })
	wg.Go(func() { a.tickLoop(ctx) })
	wg.Go(func() { a.flushLoop(ctx) })
	if a.influx != nil {
		wg.Go(func() {
			if err := a.influx.Run(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("influx export stopped", "err", err)
			}
		})
	}
	wg.Go(func() {
		if err := a.sched.Run(ctx, a.targets()); err != nil && ctx.Err() == nil {
			cancel(fmt.Errorf("poll scheduler: %w", err))
		}
	})
	a.log.Info("agent started", "listen", ln.Addr().String(), "tls", tlsOn, "devices", len(a.config().Devices))
	<-ctx.Done()

	shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shutdown)
	wg.Wait()
	a.log.Info("agent stopped")
	if parent.Err() == nil {
		return context.Cause(ctx)
	}
	return nil
}

// config is the configuration in force.
func (a *Agent) config() *inventory.Config { return a.cfg.Load() }

// Addr is the HTTP listen address once Run has bound it, else "".
func (a *Agent) Addr() string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.ln == nil {
		return ""
	}
	return a.ln.Addr().String()
}

func (a *Agent) targets() []collector.Target { return a.targetsOf(a.config()) }

func (a *Agent) targetsOf(cfg *inventory.Config) []collector.Target {
	out := make([]collector.Target, 0, len(cfg.Devices))
	for _, d := range cfg.Devices {
		cred, _ := cfg.Credential(d.Credential) // validated: it exists
		out = append(out, collector.Target{Device: d, Credential: cred, Interval: cfg.PollInterval(d)})
	}
	return out
}

// onSnapshot is the collector's output: keep it for export, evaluate the
// rules on it, and hand every alert transition to ticketing.
// staleGood, in poll intervals, is how long the last complete snapshot of a
// device stands in for polls that answered only in part.
const staleGood = 10

func (a *Agent) onSnapshot(s *collector.Snapshot) {
	a.metrics.observePoll(s)
	dev, ok := a.config().Device(s.Device)
	if !ok {
		return
	}
	if a.influx != nil {
		a.influx.Write(s, influx.Labels{Device: dev.Name, Customer: dev.Customer, Site: dev.Site, Role: dev.Role})
	}
	rebuilt := false
	a.mu.Lock()
	a.latest[s.Device] = s
	reconcile := false
	if s.Reachable {
		if n := a.reconciled[s.Device]; n < 2 {
			a.reconciled[s.Device] = n + 1
			reconcile = n+1 == 2
		}
		if collector.Supersedes(a.good[s.Device], s, staleGood*a.config().Agent.PollInterval) {
			a.good[s.Device] = s
			if sig := neighborSignature(s); sig != a.nbrSig[s.Device] {
				a.nbrSig[s.Device] = sig
				a.graph = a.buildTopology()
				rebuilt = true
			}
		}
	}
	graph := a.graph
	a.mu.Unlock()
	if rebuilt {
		// Outside a.mu: the correlator calls back into the agent under
		// its own lock.
		a.corr.SetGraph(graph)
	}

	start := time.Now()
	alerts := a.engine.Evaluate(a.now(), s, a.ruleTarget(dev, graph))
	a.metrics.ruleEval.Observe(time.Since(start).Seconds())
	for _, al := range alerts {
		a.ingest(al, dev)
	}
	if reconcile {
		a.reconcile(dev.Name)
	}
}

// ruleTarget is what the rules know of a device beyond its snapshot.
func (a *Agent) ruleTarget(dev inventory.Device, graph *topology.Graph) rules.Target {
	cust, _ := a.config().Customer(dev.Customer)
	t := rules.Target{
		Name: dev.Name, Role: dev.Role, Customer: dev.Customer, Tier: cust.Tier,
		Site: dev.Site, Tags: dev.Tags, Downstream: len(graph.Downstream(dev.Name)),
	}
	for _, l := range graph.Links(dev.Name) {
		if l.APort != "" {
			t.Uplinks = append(t.Uplinks, l.APort)
		}
	}
	return t
}

func (a *Agent) ingest(al rules.Alert, dev inventory.Device) {
	if al.Suppressed {
		// Inside a maintenance window: the engine keeps the state and sends
		// the alert again, unsuppressed, if it still fires when the window
		// ends; no ticket and no notice now.
		a.log.Info("alert suppressed by maintenance window", "device", dev.Name, "rule", al.Rule,
			"instance", al.Instance, "state", al.State, "window", al.Maintenance)
		return
	}
	if al.Rule == unreachableRule {
		a.applyIncidents(a.corr.Observe(a.now(), al))
		return
	}
	dc, _ := a.deviceContext(dev.Name)
	sig := ticketing.Signal{
		Fingerprint: al.Fingerprint, Rule: al.Rule, Instance: al.Instance,
		Firing: al.State == rules.StateFiring, Severity: al.Severity, Category: al.Category,
		Priority: al.Priority, Value: al.Value, Threshold: al.Threshold, Summary: al.Summary,
		Description: al.Description, At: al.At, Device: dc,
	}
	a.ingestSignal(sig, al)
	a.flapping(sig, al)
}

// flapping keeps a "flapping" symptom on the fault's ticket while the rule
// engine holds the alert in flapping, so the one ticket says so; it clears
// when the engine reports the alert quiet again or resolved.
func (a *Agent) flapping(sig ticketing.Signal, al rules.Alert) {
	fp := al.Fingerprint + "/flapping"
	a.mu.Lock()
	was := a.flaps[fp]
	now := al.Flapping && al.State == rules.StateFiring
	if now {
		a.flaps[fp] = true
	} else {
		delete(a.flaps, fp)
	}
	a.mu.Unlock()
	if now == was {
		return
	}
	sig.Fingerprint, sig.Firing = fp, now
	sig.Summary = "flapping: " + al.Summary + " (state changes repeatedly; one ticket is kept until it is quiet)"
	a.ingestSignal(sig, al)
}

func (a *Agent) ingestSignal(sig ticketing.Signal, al rules.Alert) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t, res, err := a.tickets.Ingest(ctx, sig)
	if err != nil {
		a.log.Error("ticket ingest failed", "device", sig.Device.Name, "rule", sig.Rule, "err", err)
		return
	}
	if res.Action != ticketing.ActionDuplicate && res.Action != ticketing.ActionIgnored {
		a.dispatcher.Wake()
	}
	if a.opts.OnTicket != nil {
		a.opts.OnTicket(TicketEvent{Ticket: t, Result: res, Alert: al})
	}
}

// buildTopology combines the configured upstreams with the LLDP/CDP
// neighbours of the last answering snapshot of every device. Callers hold
// a.mu (or are New, before anything runs).
func (a *Agent) buildTopology() *topology.Graph {
	devs := make([]topology.Device, 0, len(a.config().Devices))
	for _, d := range a.config().Devices {
		td := topology.Device{Name: d.Name, Addresses: []string{d.Address}, Upstream: d.Upstream}
		if s := a.good[d.Name]; s != nil {
			td.SysName = s.System.Name
			for _, it := range s.Interfaces {
				if it.MAC != "" {
					td.ChassisIDs = append(td.ChassisIDs, it.MAC)
				}
			}
			for _, n := range s.Neighbors {
				td.Neighbors = append(td.Neighbors, topology.Neighbor{
					Protocol: n.Protocol, LocalPort: n.LocalPort, RemoteName: n.RemoteName,
					RemotePort: n.RemotePort, RemoteChassisID: n.RemoteChassisID, RemoteAddress: n.RemoteAddress,
				})
			}
		}
		devs = append(devs, td)
	}
	return topology.Build(devs)
}

func neighborSignature(s *collector.Snapshot) string {
	var b strings.Builder
	for _, n := range s.Neighbors {
		b.WriteString(n.LocalPort + "\x00" + n.RemoteName + "\x00" + n.RemotePort + "\x00" + n.RemoteChassisID + "\x01")
	}
	return s.System.Name + "\x02" + b.String()
}
