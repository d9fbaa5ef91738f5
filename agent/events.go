package agent

import (
	"context"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/rules"
)

// startTraps opens the trap receiver when the config names an address. A
// trap from a known device asks for an immediate poll to confirm what it
// says, and link traps feed the rule engine as events.
func (a *Agent) startTraps(ctx context.Context) error {
	if a.config().Agent.TrapListen == "" {
		return nil
	}
	events := make(chan collector.TrapEvent, 1024)
	tr, err := collector.ListenTraps(ctx, a.config().Agent.TrapListen, a.config(), collector.TrapOptions{
		Logger: a.log, Now: a.now,
		OnEvent: func(e collector.TrapEvent) {
			select {
			case events <- e:
			default: // the receiver must never block; a burst beyond the buffer is counted
				a.metrics.trapsDropped.Inc()
			}
		},
	})
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.traps = tr
	a.mu.Unlock()
	go func() {
		if err := tr.Serve(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("trap receiver stopped", "err", err)
		}
	}()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-events:
				a.onTrap(e)
			}
		}
	}()
	a.log.Info("trap receiver listening", "addr", tr.Addr().String())
	return nil
}

func (a *Agent) onTrap(e collector.TrapEvent) {
	if e.Device == "" {
		return
	}
	dev, ok := a.config().Device(e.Device)
	if !ok {
		return
	}
	a.sched.PollNow(dev.Name)
	a.mu.RLock()
	graph, last := a.graph, a.good[dev.Name]
	a.mu.RUnlock()
	kind, instance := "", ""
	switch {
	case e.Kind == collector.TrapLinkDown || e.Kind == collector.TrapLinkUp:
		kind = rules.EventLinkDown
		if e.Kind == collector.TrapLinkUp {
			kind = rules.EventLinkUp
		}
		instance = "ifIndex " + strconv.Itoa(e.IfIndex)
		if last != nil {
			for _, it := range last.Interfaces {
				if it.Index == e.IfIndex && it.Name != "" {
					instance = it.Name
				}
			}
		}
	case e.Kind == collector.TrapBGPDown:
		kind, instance = rules.EventBGPPeerDown, e.BGPPeer
	case e.Kind == collector.TrapBGPUp:
		kind, instance = rules.EventBGPPeerUp, e.BGPPeer
	default:
		return // reboots and replacements are seen by the poll the trap triggers
	}
	alerts := a.engine.Event(a.now(), rules.Event{Device: dev.Name, Kind: kind, Instance: instance, At: e.Time,
		Attrs: map[string]string{"source": e.Source, "trap_oid": e.TrapOID}}, a.ruleTarget(dev, graph))
	for _, al := range alerts {
		a.ingest(al, dev)
	}
}

// trapMetrics exports the trap receiver's counters.
type trapMetrics struct{ a *Agent }

var (
	trapsReceivedDesc = prometheus.NewDesc("nocagent_traps_received_total", "SNMP traps and informs accepted, by kind.", []string{"kind"}, nil)
	trapsUnknownDesc  = prometheus.NewDesc("nocagent_traps_unknown_source_total", "Accepted traps from no inventory device.", nil, nil)
	trapsRejectedDesc = prometheus.NewDesc("nocagent_traps_rejected_total", "Traps with a wrong community or SNMPv3 user, key or digest.", nil, nil)
	trapsBadDesc      = prometheus.NewDesc("nocagent_traps_malformed_total", "Datagrams on the trap port that did not decode.", nil, nil)
	trapsLimitedDesc  = prometheus.NewDesc("nocagent_traps_rate_limited_total", "Traps dropped because their device sent more than its rate (20/s, bursts of 100).", nil, nil)
	ruleErrorsDesc    = prometheus.NewDesc("nocagent_rule_errors_total", "Rule expressions that failed at run time, by rule.", []string{"rule"}, nil)
)

func (t *trapMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- trapsReceivedDesc
	ch <- trapsUnknownDesc
	ch <- trapsRejectedDesc
	ch <- trapsBadDesc
	ch <- trapsLimitedDesc
	ch <- ruleErrorsDesc
}

func (t *trapMetrics) Collect(ch chan<- prometheus.Metric) {
	for rule, n := range t.a.engine.RuleErrors() {
		ch <- prometheus.MustNewConstMetric(ruleErrorsDesc, prometheus.CounterValue, float64(n), rule)
	}
	tr := t.a.trapReceiver()
	if tr == nil {
		return
	}
	st := tr.Stats()
	for kind, n := range st.Received {
		ch <- prometheus.MustNewConstMetric(trapsReceivedDesc, prometheus.CounterValue, float64(n), kind)
	}
	ch <- prometheus.MustNewConstMetric(trapsUnknownDesc, prometheus.CounterValue, float64(st.UnknownSource))
	ch <- prometheus.MustNewConstMetric(trapsRejectedDesc, prometheus.CounterValue, float64(st.Rejected))
	ch <- prometheus.MustNewConstMetric(trapsBadDesc, prometheus.CounterValue, float64(st.Malformed))
	ch <- prometheus.MustNewConstMetric(trapsLimitedDesc, prometheus.CounterValue, float64(st.RateLimited))
}

// trapReceiver is the running trap receiver, nil before Run starts it or
// when none is configured.
func (a *Agent) trapReceiver() *collector.TrapReceiver {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.traps
}
