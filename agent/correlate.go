package agent

import (
	"context"
	"strings"
	"time"

	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/rules"
	"github.com/nocagent/nocagent/ticketing"
)

// unreachableRule is the rule whose alerts go through topology correlation
// instead of straight to ticketing: a device cut off by a fault upstream
// joins the root cause's ticket as an impacted device.
const unreachableRule = "device_unreachable"

func (a *Agent) newCorrelator() *rules.Correlator {
	return rules.NewCorrelator(a.graph, rules.CorrelatorOptions{
		Settle: settleTime(a.config().Agent),
		Matrix: priorityMatrix(a.config()),
		Rule:   unreachableRule,
		Devices: func(name string) rules.DeviceInfo {
			dev, _ := a.config().Device(name)
			a.mu.RLock()
			defer a.mu.RUnlock()
			info := rules.DeviceInfo{Target: a.ruleTarget(dev, a.graph)}
			if s := a.good[name]; s != nil {
				info.Serial = s.Serial
			}
			return info
		},
	})
}

// flushLoop decides outages that have settled.
func (a *Agent) flushLoop(ctx context.Context) {
	period := min(time.Second, max(a.config().Agent.PollInterval/4, 50*time.Millisecond))
	every(ctx, period, false, func() { a.applyIncidents(a.corr.Flush(a.now())) })
}

// applyIncidents turns incident changes into signals on the root device's
// availability ticket.
func (a *Agent) applyIncidents(changes []rules.IncidentChange) {
	for _, ch := range changes {
		in := ch.Incident
		if in.Suppressed {
			continue
		}
		dc, ok := a.deviceContext(in.Root)
		if !ok {
			continue
		}
		sig := ticketing.Signal{
			Fingerprint: rules.Fingerprint(unreachableRule, in.Root, ""),
			Rule:        unreachableRule, Category: "availability", Severity: "critical",
			Priority: in.Priority, Firing: in.State == rules.IncidentOpen, At: in.Updated, Device: dc,
		}
		if n := len(in.Alerts); n > 0 {
			last := in.Alerts[n-1]
			sig.Summary, sig.Description, sig.Severity, sig.Value = last.Summary, last.Description, last.Severity, last.Value
		}
		switch ch.Kind {
		case rules.ChangeOpened, rules.ChangeUpdated:
			sig.Impacted = impacted(in.Impacted)
		case rules.ChangeRecovered:
			sig.Recovered = impacted(ch.Devices)
		case rules.ChangeResolved:
			sig.Note = "root recovered"
		case rules.ChangeMerged:
			sig.Firing = false
			sig.Note = "merged into the incident of " + strings.TrimPrefix(ch.Into, "unreachable:")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if t, ok, err := a.tickets.OpenTicketFor(ctx, strings.TrimPrefix(ch.Into, "unreachable:"), "availability"); err == nil && ok {
				sig.Note = "merged into " + t.ID
			}
			cancel()
		}
		a.ingestSignal(sig, rules.Alert{Rule: unreachableRule, Device: in.Root, Summary: sig.Summary})
	}
}

func impacted(ds []rules.ImpactedDevice) []ticketing.ImpactedDevice {
	out := make([]ticketing.ImpactedDevice, len(ds))
	for i, d := range ds {
		out[i] = ticketing.ImpactedDevice{Name: d.Name, Serial: d.Serial, Customer: d.Customer}
	}
	return out
}

// settleTime is how long an unreachable device waits before correlation
// decides whether it is a root: every device behind the same fault must
// have reported by then. Polls are spread over the interval, and a poll of
// a device that went down reports only when its requests time out, so the
// upstream's report may come one interval plus one such poll after the
// downstream's.
func settleTime(a inventory.Agent) time.Duration {
	failedPoll := a.PollTimeout * time.Duration(a.Retries+1)
	return a.PollInterval + min(failedPoll, a.PollInterval)
}
