package agent

import (
	"context"
	"strings"
	"time"

	"github.com/nocagent/nocagent/rules"
	"github.com/nocagent/nocagent/ticketing"
)

// reconcile runs once per device after the agent starts (and after a
// reload; and again at each next answered poll while a symptom is only
// pending), on the second
// snapshot in which the device answers (the first has no rates, so rate
// rules cannot hold yet): alert state lives in memory, so a
// fault that cleared while the agent was down would never send its
// "resolved". Every symptom of the device's open monitoring tickets that the
// rules no longer hold (pending or firing) is cleared now, with a note
// saying why.
func (a *Agent) reconcile(device string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	open, err := a.tickets.List(ctx, ticketing.Filter{Device: device, Open: true, Limit: ticketing.MaxListLimit})
	if err != nil {
		a.log.Warn("reconcile open tickets", "device", device, "err", err)
		return
	}
	holding := a.engine.Holding(device)
	again := false
	defer func() {
		if again {
			a.mu.Lock()
			a.reconciled[device] = 1 // its next answered poll reconciles again
			a.mu.Unlock()
		}
	}()
	a.mu.RLock()
	why := a.reconcileWhy
	a.mu.RUnlock()
	for _, summary := range open {
		if summary.Source != ticketing.SourceMonitoring {
			continue
		}
		t, err := a.tickets.Get(ctx, summary.ID)
		if err != nil {
			continue
		}
		for _, ev := range t.Evidence {
			if !ev.Firing || ev.ClearedAt != nil || strings.HasPrefix(ev.Rule, "inspection/") {
				continue
			}
			if firing, held := holding[ev.Fingerprint]; held {
				// Only pending, it may never fire (a repair in between):
				// look again at the device's next answered poll.
				again = again || !firing
				continue
			}
			dc, _ := a.deviceContext(device)
			sig := ticketing.Signal{
				Fingerprint: ev.Fingerprint, Rule: ev.Rule, Instance: ev.Instance, Firing: false,
				Severity: ev.Severity, Category: t.Category, Priority: string(ev.Priority), Value: ev.Value,
				Threshold: ev.Threshold, Summary: ev.Summary, At: a.now(), Device: dc,
				Note: why,
			}
			a.ingestSignal(sig, rules.Alert{Rule: ev.Rule, Device: device, Summary: ev.Summary})
		}
	}
}
