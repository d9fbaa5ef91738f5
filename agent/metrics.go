package agent

import (
	"context"
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
		trapsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nocagent_traps_dropped_total", Help: "Traps accepted but dropped because the event queue was full.",
		}),
	}
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
	m.pollDuration.Observe(s.PollDuration.Seconds())
}

func (m *selfMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.polls.Describe(ch)
	m.pollDuration.Describe(ch)
	m.ruleEval.Describe(ch)
	m.trapsDropped.Describe(ch)
}

func (m *selfMetrics) Collect(ch chan<- prometheus.Metric) {
	m.polls.Collect(ch)
	m.pollDuration.Collect(ch)
	m.ruleEval.Collect(ch)
	m.trapsDropped.Collect(ch)
}

// ticketMetrics reads open tickets and the notification backlog from the
// store at scrape time, so the figures survive restarts.
type ticketMetrics struct{ a *Agent }

var (
	openTicketsDesc = prometheus.NewDesc("nocagent_tickets_open", "Open tickets by priority and state.", []string{"priority", "state"}, nil)
	backlogDesc     = prometheus.NewDesc("nocagent_notification_backlog", "Ticket notices waiting for delivery.", nil, nil)
	alertsDesc      = prometheus.NewDesc("nocagent_alerts_firing", "Alerts firing now.", []string{"severity"}, nil)
)

func (t *ticketMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- openTicketsDesc
	ch <- backlogDesc
	ch <- alertsDesc
}

func (t *ticketMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if open, err := t.a.tickets.List(ctx, ticketing.Filter{Open: true, Limit: ticketing.MaxListLimit}); err == nil {
		counts := map[[2]string]int{}
		for _, tk := range open {
			counts[[2]string{string(tk.Priority), string(tk.State)}]++
		}
		for k, n := range counts {
			ch <- prometheus.MustNewConstMetric(openTicketsDesc, prometheus.GaugeValue, float64(n), k[0], k[1])
		}
	} else {
		t.a.log.Warn("tickets for metrics", "err", err)
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

// ExportDevices implements export.Source.
func (a *Agent) ExportDevices() []export.Device {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]export.Device, 0, len(a.cfg.Devices))
	for _, d := range a.cfg.Devices {
		out = append(out, export.Device{Name: d.Name, Customer: d.Customer, Site: d.Site, Role: d.Role, Snapshot: a.latest[d.Name]})
	}
	return out
}
