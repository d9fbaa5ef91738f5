package dashboards

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/nocagent/nocagent/ticketing"
)

// workTickets takes the demo's tickets through the service process over the
// REST API, as NOC staff and the customer would, so that every ticket and
// service-KPI series the dashboards show has data:
//   - the acme-acc-1 uplink ticket is acknowledged by an engineer, resolved
//     by monitoring once the link is back, verified by the engineer,
//     confirmed by the customer, closed by a manager and rated by the
//     customer (MTTA, MTTR, response and resolution compliance, repair
//     timeliness, satisfaction);
//   - the acme-fw-1 CPU ticket is put on hold for the customer once its
//     response clock is at risk, which pauses the clock there (SLA at risk);
//   - the other ACME tickets are left alone until one breaches its response
//     target (SLA breached).
//
// It returns when all three are done, and fails the test after the
// response target and 30 s more.
func (d *demo) workTickets(t *testing.T) {
	t.Helper()
	limit := responseTarget + 30*time.Second
	deadline := time.Now().Add(limit)
	var life, held string
	cleared, surveyed, onHold, breached := false, false, false, false
	for !(surveyed && onHold && breached) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: ticket %q worked to a survey %t, ticket %q held while at risk %t, a response clock breached %t",
				limit, life, surveyed, held, onHold, breached)
		}
		byID := map[string]ticketing.Ticket{}
		for _, tk := range d.tickets(t) {
			byID[tk.ID] = tk
			switch {
			case life == "" && tk.Device.Name == "acme-acc-1" && tk.Category == "link":
				life = tk.ID
			case held == "" && tk.Device.Name == "acme-fw-1":
				held = tk.ID
			}
			if tk.State == ticketing.StateNew && tk.SLA != nil && tk.SLA.Response.Breached {
				breached = true
			}
		}
		if tk, ok := byID[life]; ok && !surveyed {
			switch tk.State {
			case ticketing.StateNew:
				d.act(t, "engineer", tk.ID, ticketing.ActAck, ticketing.ActionInput{Note: "looking at the uplink"})
			case ticketing.StateAcknowledged, ticketing.StateInProgress:
				// Cleared only once acknowledged, so the response is an
				// acknowledgement and monitoring does the resolving.
				if !cleared {
					if err := d.sim.ClearFaults("acme-acc-1"); err != nil {
						t.Fatal(err)
					}
					cleared = true
				}
			case ticketing.StateResolved:
				d.act(t, "engineer", tk.ID, ticketing.ActVerify, ticketing.ActionInput{})
			case ticketing.StateVerified:
				d.act(t, "customer:acme", tk.ID, ticketing.ActConfirm, ticketing.ActionInput{Note: "link is back"})
			case ticketing.StateConfirmed:
				d.act(t, "manager", tk.ID, ticketing.ActClose, ticketing.ActionInput{})
			case ticketing.StateClosed:
				d.call(t, "customer:acme", "/api/v1/tickets/"+tk.ID+"/survey",
					ticketing.SurveyInput{Rating: ticketing.Satisfied}, http.StatusCreated, nil)
				surveyed = true
			default:
				t.Fatalf("ticket %s of the uplink went to state %s", tk.ID, tk.State)
			}
		}
		if tk, ok := byID[held]; ok && !onHold && tk.SLA != nil {
			r := tk.SLA.Response
			switch {
			case tk.State != ticketing.StateNew || r.Breached:
				t.Fatalf("ticket %s (%s, response clock %+v) left new or breached before it could be held at risk", tk.ID, tk.State, r)
			case r.Running && r.RemainingSeconds*5 < r.TargetSeconds:
				got := d.act(t, "engineer", tk.ID, ticketing.ActHold, ticketing.ActionInput{Reason: "customer to confirm the firewall load"})
				if !got.WaitingCustomer {
					t.Fatalf("ticket %s held but not waiting for the customer", tk.ID)
				}
				onHold = true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tickets lists every ticket, as admin.
func (d *demo) tickets(t *testing.T) []ticketing.Ticket {
	t.Helper()
	var l struct {
		Tickets []ticketing.Ticket `json:"tickets"`
	}
	d.request(t, "admin", http.MethodGet, "/api/v1/tickets", nil, http.StatusOK, &l)
	return l.Tickets
}

// act takes action on ticket id as the token holder role and returns the
// ticket after it.
func (d *demo) act(t *testing.T, role, id string, act ticketing.Action, in ticketing.ActionInput) ticketing.Ticket {
	t.Helper()
	var tk ticketing.Ticket
	d.call(t, role, "/api/v1/tickets/"+id+"/actions/"+string(act), in, http.StatusOK, &tk)
	return tk
}

func (d *demo) call(t *testing.T, role, path string, in any, want int, out any) {
	t.Helper()
	d.request(t, role, http.MethodPost, path, in, want, out)
}

// request sends in as JSON with role's bearer token and decodes the answer
// into out; any status but want fails the test with the API's message.
func (d *demo) request(t *testing.T, role, method, path string, in any, want int, out any) {
	t.Helper()
	tok := d.tokens[role]
	if tok == "" {
		t.Fatalf("tokens.json has no token for %q", role)
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+d.addr+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s as %s: %v", method, path, role, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		t.Fatalf("%s %s as %s: read: %v", method, path, role, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, role, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s as %s: %v: %s", method, path, role, err, b)
		}
	}
}

// checkWorkedKPIs asserts that the agent's /metrics tells the story of
// workTickets for ACME: a response in time and one breached, the worked
// ticket resolved in time and rated satisfied, one clock at risk and one
// breached now.
func (d *demo) checkWorkedKPIs(t *testing.T) {
	t.Helper()
	// The KPI gauges are cached: a scrape serves the last computation and
	// starts the next one when it is a few seconds old. Scrape until the
	// worked tickets show, or the deadline, then judge the last scrape.
	var fams map[string]*dto.MetricFamily
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		resp, err := httpClient.Get("http://" + d.addr + "/metrics")
		if err != nil {
			t.Fatalf("scrape agent: %v", err)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err = p.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("parse agent /metrics: %v", err)
		}
		if len(fams["nocagent_service_satisfaction_ratio"].GetMetric()) > 0 || time.Now().After(deadline) {
			break
		}
	}
	// value sums the gauges of name whose labels include want.
	value := func(name string, want map[string]string) (float64, bool) {
		sum, found := 0.0, false
	series:
		for _, m := range fams[name].GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue series
				}
			}
			sum, found = sum+m.GetGauge().GetValue(), true
		}
		return sum, found
	}
	acme := func(kv ...string) map[string]string {
		m := map[string]string{"customer": "acme"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		ok     func(float64) bool
		want   string
	}{
		{"nocagent_service_mtta_seconds", acme(), func(v float64) bool { return v > 0 && v < responseTarget.Seconds()*3 }, "> 0 s"},
		{"nocagent_service_mttr_seconds", acme(), func(v float64) bool { return v > 0 }, "> 0 s"},
		{"nocagent_service_response_compliance_ratio", acme(), func(v float64) bool { return v > 0 && v < 1 }, "in (0, 1): one acknowledged in time, one breached"},
		{"nocagent_service_resolution_compliance_ratio", acme(), func(v float64) bool { return v == 1 }, "1: resolved well within the default target"},
		{"nocagent_service_repair_timeliness_ratio", acme(), func(v float64) bool { return v > 0 && v < 1 }, "in (0, 1): some tickets still open"},
		{"nocagent_service_satisfaction_ratio", acme(), func(v float64) bool { return v == 1 }, "1"},
		{"nocagent_service_survey_responses", acme("rating", "satisfied"), func(v float64) bool { return v == 1 }, "1"},
		{"nocagent_service_faults", acme("category", "link"), func(v float64) bool { return v >= 1 }, ">= 1"},
		{"nocagent_tickets_sla", acme("clock", "response", "status", "at_risk"), func(v float64) bool { return v >= 1 }, ">= 1"},
		{"nocagent_tickets_sla", acme("clock", "response", "status", "breached"), func(v float64) bool { return v >= 1 }, ">= 1"},
	} {
		v, found := value(tc.name, tc.labels)
		switch {
		case !found:
			t.Errorf("%s%v: no series", tc.name, tc.labels)
		case !tc.ok(v):
			t.Errorf("%s%v = %g, want %s", tc.name, tc.labels, v, tc.want)
		}
	}
}
