package agent

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/export"
	"github.com/nocagent/nocagent/ticketing"
)

// selfMetrics is the agent's own health.
type selfMetrics struct {
	polls        *prometheus.CounterVec
	pollDuration prometheus.Histogram
	ruleEval     prometheus.Histogram
	trapsDropped prometheus.Counter
	snmpErrors   *prometheus.CounterVec
	// As Prometheus reports its own reloads: 1 when the last reload (or
	// the start) succeeded, and when the last success was.
	reloadOK, reloadAt prometheus.Gauge
}

func newSelfMetrics() *selfMetrics {
	return &selfMetrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nocagent_polls_total", Help: "Device polls by result (ok, partial, unreachable).",
		}, []string{"result"}),
		pollDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "nocagent_poll_duration_seconds", Help: "Wall time of device polls.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		ruleEval: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "nocagent_rule_evaluation_seconds", Help: "Time to evaluate all rules on one snapshot.",
			Buckets: []float64{.00001, .0001, .0005, .001, .005, .01, .05, .1},
		}),
		snmpErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nocagent_snmp_errors_total", Help: "Poll errors by kind: timeout, authentication, privacy, engine, unreachable, loop, too_big, other.",
		}, []string{"kind"}),
		trapsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nocagent_traps_dropped_total", Help: "Traps accepted but dropped because the event queue was full.",
		}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nocagent_config_last_reload_successful", Help: "1 if the last configuration reload (SIGHUP) or the start succeeded, 0 if it was refused.",
		}),
		reloadAt: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nocagent_config_last_reload_success_timestamp_seconds", Help: "When the configuration in force was loaded (start or last successful reload).",
		}),
	}
}

func (m *selfMetrics) reloaded(ok bool, at time.Time) {
	if ok {
		m.reloadOK.Set(1)
		m.reloadAt.Set(float64(at.Unix()))
		return
	}
	m.reloadOK.Set(0)
}

func (m *selfMetrics) observePoll(s *collector.Snapshot) {
	result := "ok"
	switch {
	case !s.Reachable:
		result = "unreachable"
	case len(s.Errors) > 0:
		result = "partial"
	}
	m.polls.WithLabelValues(result).Inc()
	for _, e := range s.Errors {
		m.snmpErrors.WithLabelValues(collector.ErrorKind(e)).Inc()
	}
	m.pollDuration.Observe(s.PollDuration.Seconds())
}

func (m *selfMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.polls.Describe(ch)
	m.pollDuration.Describe(ch)
	m.ruleEval.Describe(ch)
	m.trapsDropped.Describe(ch)
	m.snmpErrors.Describe(ch)
	m.reloadOK.Describe(ch)
	m.reloadAt.Describe(ch)
}

func (m *selfMetrics) Collect(ch chan<- prometheus.Metric) {
	m.polls.Collect(ch)
	m.pollDuration.Collect(ch)
	m.ruleEval.Collect(ch)
	m.trapsDropped.Collect(ch)
	m.snmpErrors.Collect(ch)
	m.reloadOK.Collect(ch)
	m.reloadAt.Collect(ch)
}

// ticketMetrics reads open tickets and the notification backlog from the
// store at scrape time, so the figures survive restarts.
type ticketMetrics struct{ a *Agent }

var (
	openTicketsDesc = prometheus.NewDesc("nocagent_tickets_open", "Open tickets by priority, state and customer.", []string{"priority", "state", "customer"}, nil)
	devTicketsDesc  = prometheus.NewDesc("nocagent_device_tickets_open", "Open tickets of a device by priority.", []string{"device", "customer", "priority"}, nil)
	slaDesc         = prometheus.NewDesc("nocagent_tickets_sla", "Open tickets by SLA clock (response, resolution) and status: breached, at_risk (under 20 % of the target left), ok.", []string{"clock", "status", "priority", "customer"}, nil)
	backlogDesc     = prometheus.NewDesc("nocagent_notification_backlog", "Ticket notices waiting for delivery.", nil, nil)
	deadDesc        = prometheus.NewDesc("nocagent_notification_dead_letters", "Ticket notices a receiver refused for good or that failed too often, by channel: they wait for nocagent outbox retry.", []string{"channel"}, nil)
	alertsDesc      = prometheus.NewDesc("nocagent_alerts_firing", "Alerts firing now.", []string{"severity"}, nil)
)

func (t *ticketMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- openTicketsDesc
	ch <- devTicketsDesc
	ch <- slaDesc
	ch <- backlogDesc
	ch <- deadDesc
	ch <- alertsDesc
}

func (t *ticketMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if open, err := t.a.tickets.List(ctx, ticketing.Filter{Open: true, Limit: ticketing.MaxListLimit}); err == nil {
		counts := map[[3]string]int{}
		perDevice := map[[3]string]int{}
		sla := map[[4]string]int{}
		for _, tk := range open {
			counts[[3]string{string(tk.Priority), string(tk.State), tk.Device.Customer}]++
			if tk.Device.Name != "" {
				perDevice[[3]string{tk.Device.Name, tk.Device.Customer, string(tk.Priority)}]++
			}
			if tk.SLA == nil {
				continue
			}
			for _, c := range []struct {
				name string
				c    ticketing.Clock
			}{{"response", tk.SLA.Response}, {"resolution", tk.SLA.Resolution}} {
				if c.c.StoppedAt != nil || c.c.TargetSeconds <= 0 {
					continue // the clock has done its job
				}
				status := "ok"
				switch {
				case c.c.Breached:
					status = "breached"
				case c.c.RemainingSeconds*5 < c.c.TargetSeconds:
					status = "at_risk"
				}
				sla[[4]string{c.name, status, string(tk.Priority), tk.Device.Customer}]++
			}
		}
		for k, n := range counts {
			ch <- prometheus.MustNewConstMetric(openTicketsDesc, prometheus.GaugeValue, float64(n), k[0], k[1], k[2])
		}
		for k, n := range perDevice {
			ch <- prometheus.MustNewConstMetric(devTicketsDesc, prometheus.GaugeValue, float64(n), k[0], k[1], k[2])
		}
		for k, n := range sla {
			ch <- prometheus.MustNewConstMetric(slaDesc, prometheus.GaugeValue, float64(n), k[0], k[1], k[2], k[3])
		}
	} else {
		t.a.log.Warn("tickets for metrics", "err", err)
	}
	if dead, err := t.a.dispatcher.DeadLetters(ctx, maxDeadLetters); err == nil {
		byChannel := map[string]int{}
		for _, n := range t.a.config().Notifiers {
			byChannel[n.Name] = 0 // 0, not absent, for a channel with none
		}
		for _, m := range dead {
			byChannel[m.Channel]++
		}
		for c, n := range byChannel {
			ch <- prometheus.MustNewConstMetric(deadDesc, prometheus.GaugeValue, float64(n), c)
		}
	}
	if n, err := t.a.dispatcher.Backlog(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(n))
	}
	bySev := map[string]int{}
	for _, al := range t.a.engine.Active() {
		bySev[al.Severity]++
	}
	for sev, n := range bySev {
		ch <- prometheus.MustNewConstMetric(alertsDesc, prometheus.GaugeValue, float64(n), sev)
	}
}

var (
	overrunsDesc = prometheus.NewDesc("nocagent_poll_overruns_total",
		"Polls skipped because the device's previous poll was still queued or running (the device is slower than its interval).", []string{"device"}, nil)
	linkUpDesc = prometheus.NewDesc("nocagent_topology_link_up",
		"1 if both ends of an LLDP/CDP link between inventory devices report the port up.",
		[]string{"device", "interface", "neighbor", "neighbor_interface"}, nil)
)

// pollTopologyMetrics exports poll overruns per device and the state of
// every learned link.
type pollTopologyMetrics struct{ a *Agent }

func (p *pollTopologyMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- overrunsDesc
	ch <- linkUpDesc
}

func (p *pollTopologyMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, st := range p.a.sched.Stats() {
		ch <- prometheus.MustNewConstMetric(overrunsDesc, prometheus.CounterValue, float64(st.Overruns), st.Device)
	}
	p.a.mu.RLock()
	defer p.a.mu.RUnlock()
	operUp := func(dev, port string) bool {
		s := p.a.latest[dev]
		if s == nil || !s.Reachable {
			return false
		}
		for _, it := range s.Interfaces {
			if it.Name == port || it.Descr == port {
				return it.OperStatus == "up"
			}
		}
		return false
	}
	for _, d := range p.a.config().Devices {
		for _, l := range p.a.graph.Links(d.Name) {
			if l.A > l.B {
				continue // each link once, from its lower-named end
			}
			ch <- prometheus.MustNewConstMetric(linkUpDesc, prometheus.GaugeValue, b2f(operUp(l.A, l.APort) && operUp(l.B, l.BPort)), l.A, l.APort, l.B, l.BPort)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ExportDevices implements export.Source.
func (a *Agent) ExportDevices() []export.Device {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]export.Device, 0, len(a.config().Devices))
	for _, d := range a.config().Devices {
		out = append(out, export.Device{Name: d.Name, Customer: d.Customer, Site: d.Site, Role: d.Role, Snapshot: a.latest[d.Name]})
	}
	return out
}

// kpiWindow is the rolling period of the service KPIs exported as metrics;
// contract reports use calendar months instead.
const kpiWindow = 30 * 24 * time.Hour

// kpiRefresh is how often the KPI gauges are computed. A scrape serves the
// last computed values: computing them costs seconds at 10,000 tickets,
// and a scrape that did it could be repeated by anyone who reaches
// /metrics, which needs no token.
const kpiRefresh = time.Minute

// kpiFresh: a scrape that finds the gauges older than this starts one
// refresh in the background (and still answers at once with the cached
// ones), so a worked ticket shows within a scrape or two while scrapes,
// however many, cost at most one computation per kpiFresh.
const kpiFresh = 5 * time.Second

// kpiMetrics exports the service KPIs of every customer over the last 30
// days, as computed by the last refresh. Its metric names and labels come
// from ticketing's KPI report, so it is an unchecked collector (Describe
// sends nothing).
type kpiMetrics struct {
	a *Agent

	mu         sync.Mutex
	metrics    []prometheus.Metric
	at         time.Time       // of the last refresh; zero before the first
	ctx        context.Context // run's, for refreshes a scrape starts
	refreshing bool
}

func (k *kpiMetrics) Describe(chan<- *prometheus.Desc) {}

// Collect sends the cached gauges; it never waits for the store.
func (k *kpiMetrics) Collect(ch chan<- prometheus.Metric) {
	k.mu.Lock()
	ms := k.metrics
	if k.ctx != nil && !k.refreshing && time.Since(k.at) > kpiFresh {
		k.refreshing = true
		go k.refresh(k.ctx)
	}
	k.mu.Unlock()
	for _, m := range ms {
		ch <- m
	}
}

// run refreshes the gauges now and every interval until ctx ends.
func (k *kpiMetrics) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		k.mu.Lock()
		k.ctx, k.refreshing = ctx, true
		k.mu.Unlock()
		k.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refresh computes every customer's KPIs and replaces the cached gauges.
// A customer whose KPIs fail keeps its previous gauges out of the cache
// (a gap in the series, not a stale value) and is logged.
func (k *kpiMetrics) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	now := k.a.now()
	system := ticketing.Actor{Name: "metrics", Role: ticketing.RoleAdmin}
	var out []prometheus.Metric
	for _, c := range k.a.config().Customers {
		rep, err := k.a.tickets.KPIs(ctx, system, ticketing.KPIFilter{Customer: c.ID, From: now.Add(-kpiWindow), To: now,
			Devices: k.a.deviceCount(c.ID, "")})
		if err != nil {
			if ctx.Err() == nil {
				k.a.log.Warn("KPIs for metrics", "customer", c.ID, "err", err)
			}
			continue
		}
		for _, s := range rep.Samples() {
			names := make([]string, 0, len(s.Labels))
			for n := range s.Labels {
				names = append(names, n)
			}
			sort.Strings(names)
			values := make([]string, len(names))
			for i, n := range names {
				values[i] = s.Labels[n]
			}
			d := prometheus.NewDesc(s.Name, s.Help+" Last 30 days.", names, nil)
			m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, s.Value, values...)
			if err == nil {
				out = append(out, m)
			}
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refreshing = false
	if ctx.Err() != nil {
		return // stopping or too slow: keep what was there
	}
	k.metrics, k.at = out, time.Now()
}
