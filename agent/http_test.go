package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/internal/testenv"
	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/ticketing"
)

func TestAPIErrorsAreJSON(t *testing.T) {
	h := newHarness(t)
	h.start()
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/v1/devices/nope", http.StatusNotFound, "not_found"},
		{"POST", "/api/v1/devices", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"DELETE", "/api/v1/devices/acme-core-1", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"GET", "/api/v2/whatever", http.StatusNotFound, "not_found"},
		{"GET", "/api/v1/tickets/NOC-999999", http.StatusNotFound, "not_found"},
		{"GET", "/api/v1/tickets?priority=P9", http.StatusBadRequest, "invalid"},
	}
	// Tickets need a token; health and metrics do not.
	resp, err := http.Get("http://" + h.addr + "/api/v1/tickets")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tickets without a token: status %d, want 401", resp.StatusCode)
	}
	for _, open := range []string{"/healthz", "/metrics"} {
		resp, err := http.Get("http://" + h.addr + open)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s without a token: status %d", open, resp.StatusCode)
		}
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, "http://"+h.addr+tt.path, nil)
		req.Header.Set("Authorization", "Bearer "+h.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || err != nil || body.Error.Code != tt.code || body.Error.Message == "" {
			t.Errorf("%s %s: status %d code %q message %q (decode err %v), want %d %q", tt.method, tt.path, resp.StatusCode, body.Error.Code, body.Error.Message, err, tt.status, tt.code)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: content type %q", tt.method, tt.path, resp.Header.Get("Content-Type"))
		}
	}
	// The devices API never shows a community.
	var devs []map[string]any
	h.get("/api/v1/devices", &devs)
	raw, _ := json.Marshal(devs)
	if strings.Contains(string(raw), `"public"`) {
		t.Errorf("devices API leaks the community: %s", raw)
	}
}

// The topology endpoint matches the LLDP neighbours the demo devices
// announce to inventory devices.
func TestTopologyFromLLDP(t *testing.T) {
	h := newHarness(t)
	h.start()
	type view struct {
		Devices []struct {
			Name      string   `json:"name"`
			Upstream  []string `json:"upstream"`
			Neighbors []struct {
				Protocol, Device string
				LocalPort        string `json:"local_port"`
			} `json:"neighbors"`
		} `json:"devices"`
	}
	h.eventually(10*time.Second, "LLDP neighbours matched", func() bool {
		var v view
		h.get("/api/v1/topology", &v)
		for _, d := range v.Devices {
			if d.Name != "acme-acc-1" {
				continue
			}
			for _, n := range d.Neighbors {
				if n.Protocol == "lldp" && n.Device == "acme-dist-1" && len(d.Upstream) == 1 && d.Upstream[0] == "acme-dist-1" {
					return true
				}
			}
		}
		return false
	})
}

func TestMaintenanceAPI(t *testing.T) {
	h := newHarness(t)
	h.start()
	do := func(method, path, body, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+h.addr+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := do("GET", "/api/v1/maintenance", "", ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	if code, body := do("GET", "/api/v1/maintenance", "", h.tokens["customer:acme"]); code != http.StatusForbidden {
		t.Errorf("customer token: %d %s", code, body)
	}
	now := time.Now().UTC().Truncate(time.Second)
	window := func(id, reason string, from, to time.Time, scope string) string {
		return fmt.Sprintf(`{"id":%q,"reason":%q,"start":%q,"end":%q,%s}`, id, reason, from.Format(time.RFC3339), to.Format(time.RFC3339), scope)
	}
	// Silencing is bounded: a reason, at most a week, not years ahead, and
	// everything only by a manager.
	for _, bad := range []struct{ body, token, want string }{
		{window("chg-0", "", now, now.Add(time.Hour), `"devices":["acme-acc-1"]`), h.token, "reason"},
		{window("chg-0", "silence", now, now.Add(8*24*time.Hour), `"devices":["acme-acc-1"]`), h.token, "at most"},
		{window("chg-0", "silence", now.Add(900*24*time.Hour), now.Add(901*24*time.Hour), `"devices":["acme-acc-1"]`), h.token, "ahead"},
		{window("chg-0", "silence", now, now.Add(time.Hour), `"everything":true`), h.tokens["engineer"], "manager"},
	} {
		if code, body := do("POST", "/api/v1/maintenance", bad.body, bad.token); code != http.StatusBadRequest || !strings.Contains(body, bad.want) {
			t.Errorf("%s: %d %s, want 400 naming %q", bad.body, code, body, bad.want)
		}
	}
	win := window("chg-1", "IOS upgrade", now.Add(-time.Minute), now.Add(2*time.Hour), `"devices":["acme-acc-1"]`)
	if code, body := do("POST", "/api/v1/maintenance", win, h.token); code != http.StatusCreated || !strings.Contains(body, `"active": true`) {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := do("POST", "/api/v1/maintenance", `{"id":"x","bogus":1}`, h.token); code != http.StatusBadRequest || !strings.Contains(body, "bogus") {
		t.Errorf("unknown field: %d %s", code, body)
	}
	// A fault inside the window opens no ticket.
	acc, _ := h.sim.Device("acme-acc-1")
	if err := h.sim.InjectFault("acme-acc-1", snmpsim.Fault{Kind: "link-down", IfIndex: acc.UplinkIfIndex}); err != nil {
		t.Fatal(err)
	}
	h.eventually(5*time.Second, "acme-dist-1 ticket (not in the window)", func() bool { return len(h.tickets("device=acme-dist-1")) == 1 })
	if got := h.tickets("device=acme-acc-1"); len(got) != 0 {
		t.Fatalf("ticket opened inside a maintenance window: %+v", got)
	}
	// Ending the window opens the ticket for the fault still present.
	if code, _ := do("DELETE", "/api/v1/maintenance/chg-1", "", h.token); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	h.eventually(5*time.Second, "ticket after the window", func() bool { return len(h.tickets("device=acme-acc-1")) == 1 })
	if code, _ := do("DELETE", "/api/v1/maintenance/chg-1", "", h.token); code != http.StatusNotFound {
		t.Errorf("second delete: %d", code)
	}
}

// A BGP backward-transition trap opens a link ticket naming the peer, and
// the established trap clears it.
func TestBGPTraps(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.eventually(10*time.Second, "globex-edge-1 polled", func() bool {
		var d deviceView
		h.get("/api/v1/devices/globex-edge-1", &d)
		return d.Reachable
	})
	peer := []string{".1.3.6.1.2.1.15.3.1.14.192.0.2.9=0x", ".1.3.6.1.2.1.15.3.1.2.192.0.2.9=1"}
	h.agent.onTrap(collector.Classify(collector.TrapEvent{Time: time.Now(), Source: "127.0.0.1", Device: "globex-edge-1", Kind: collector.TrapVendor,
		TrapOID: ".1.3.6.1.2.1.15.0.2", Varbinds: peer}))
	var tk ticketing.Ticket
	h.eventually(5*time.Second, "BGP ticket", func() bool {
		got := h.tickets("device=globex-edge-1")
		if len(got) != 1 {
			return false
		}
		tk = got[0]
		return true
	})
	if tk.Category != "link" || len(tk.Evidence) == 0 || tk.Evidence[0].Instance != "192.0.2.9" || tk.Evidence[0].Rule != "bgp_peer_down_trap" {
		t.Errorf("BGP ticket = %+v", tk)
	}
	h.agent.onTrap(collector.Classify(collector.TrapEvent{Time: time.Now(), Source: "127.0.0.1", Device: "globex-edge-1", Kind: collector.TrapVendor,
		TrapOID: ".1.3.6.1.2.1.15.7.0.1", Varbinds: peer}))
	h.eventually(5*time.Second, "BGP ticket resolved", func() bool {
		var got ticketing.Ticket
		h.get("/api/v1/tickets/"+tk.ID, &got)
		return got.State == ticketing.StateResolved
	})
}

// The agent's trap port accepts a real SNMPv2c trap over UDP and counts it.
func TestTrapReceiverWired(t *testing.T) {
	h := newHarness(t)
	h.cfg.Agent.TrapListen = "127.0.0.1:0"
	h.start()
	var tr *collector.TrapReceiver
	h.eventually(5*time.Second, "the trap receiver listening", func() bool { tr = h.agent.trapReceiver(); return tr != nil })
	addr := tr.Addr().(*net.UDPAddr)
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(addr.Port), Community: "public", Version: gosnmp.Version2c, Timeout: time.Second}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	_, err := g.SendTrap(gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.6.3.1.1.5.3"},
		{Name: ".1.3.6.1.2.1.2.2.1.1.1", Type: gosnmp.Integer, Value: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	h.eventually(5*time.Second, "trap counted in /metrics", func() bool {
		resp, err := http.Get("http://" + h.addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `nocagent_traps_received_total{kind="linkDown"} 1`)
	})
}

// An inspection run on demand through the API renders the contract's
// report, and a major finding opens a ticket.
func TestInspectionOnDemand(t *testing.T) {
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
	if err := h.sim.InjectFault("acme-core-1", snmpsim.Fault{Kind: "temperature", Celsius: 85}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * testInterval) // polled with the fault
	var plugs []map[string]any
	h.get("/api/v1/plugins", &plugs)
	found := false
	for _, p := range plugs {
		found = found || p["name"] == "device-health"
	}
	if !found {
		t.Fatalf("plugins = %v", plugs)
	}
	req, _ := http.NewRequest("POST", "http://"+h.addr+"/api/v1/contracts/ACME-2026-001/inspections", nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		ID, Report string
		Devices    int
	}
	json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || res.Devices != 7 || res.Report == "" {
		t.Fatalf("inspection: status %d %+v", resp.StatusCode, res)
	}
	req, _ = http.NewRequest("GET", "http://"+h.addr+res.Report, nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	core, _ := h.sim.Device("acme-core-1")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(html), core.Serial) || !strings.Contains(string(html), "acme-acc-3") {
		t.Errorf("report: status %d, serial %s present: %v", resp.StatusCode, core.Serial, strings.Contains(string(html), core.Serial))
	}
	h.eventually(5*time.Second, "a ticket from the temperature finding", func() bool {
		for _, tk := range h.tickets("device=acme-core-1") {
			for _, e := range tk.Evidence {
				if strings.HasPrefix(e.Rule, "inspection/") {
					return true
				}
			}
		}
		return false
	})
	// The same report as PDF, printed by headless Chromium.
	testenv.Command(t, "chromium", "chromium")
	req, _ = http.NewRequest("GET", "http://"+h.addr+res.Report+"?format=pdf", nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("PDF report: status %d, %d bytes starting %q", resp.StatusCode, len(pdf), pdf[:min(len(pdf), 8)])
	}
}

// The whole remediation path: an access port hangs, a ticket opens, the
// engineer plans a bounce, approves it, the port comes back through SNMP
// SET, and monitoring resolves the ticket with every step on its timeline.
func TestRemediationBounce(t *testing.T) {
	h := newHarness(t)
	h.cfg.Remediation = &inventory.RemediationPolicy{Default: "approval", MaxPerDevicePerHour: 1}
	h.start()
	tk := hangUserPort(t, h)
	call := func(method, path, body, token string, out any) int {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+h.addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, b)
			}
		}
		return resp.StatusCode
	}
	var offers struct {
		Actions []struct{ Plugin, Name string } `json:"actions"`
	}
	if code := call("GET", "/api/v1/tickets/"+tk.ID+"/remediations", "", h.token, &offers); code != http.StatusOK || len(offers.Actions) == 0 {
		t.Fatalf("offers: %d %+v", code, offers)
	}
	var rec struct {
		ID, State string
		Decision  struct{ Mode string }
		Plan      struct{ Steps []string }
	}
	if code := call("POST", "/api/v1/tickets/"+tk.ID+"/remediations", `{"action":"bounce-interface"}`, h.tokens["engineer"], &rec); code != http.StatusCreated ||
		rec.State != "planned" || rec.Decision.Mode != "approval" || len(rec.Plan.Steps) == 0 {
		t.Fatalf("plan: %d %+v", code, rec)
	}
	if code := call("POST", "/api/v1/remediations/"+rec.ID+"/approve", "", h.tokens["customer:acme"], nil); code != http.StatusForbidden {
		t.Errorf("customer approval: %d, want 403", code)
	}
	// A restart keeps the plan waiting for approval, and ids go on.
	h.stop()
	h.start()
	var listed struct {
		Remediations []struct{ ID, State string } `json:"remediations"`
	}
	if code := call("GET", "/api/v1/tickets/"+tk.ID+"/remediations", "", h.token, &listed); code != http.StatusOK ||
		len(listed.Remediations) != 1 || listed.Remediations[0].ID != rec.ID || listed.Remediations[0].State != "planned" {
		t.Fatalf("after restart: %d %+v", code, listed)
	}
	h.eventually(10*time.Second, "acme-acc-2 polled after the restart", func() bool {
		var d deviceView
		h.get("/api/v1/devices/acme-acc-2", &d)
		return d.Reachable
	})
	h.eventually(10*time.Second, "remediators offered after the restart", func() bool {
		offers.Actions = nil
		return call("GET", "/api/v1/tickets/"+tk.ID+"/remediations", "", h.token, &offers) == http.StatusOK && len(offers.Actions) > 0
	})
	var dry struct {
		ID, State string
		Error     any
	}
	if code := call("POST", "/api/v1/tickets/"+tk.ID+"/remediations", `{"action":"bounce-interface","dry_run":true}`, h.tokens["engineer"], &dry); code != http.StatusCreated ||
		dry.ID <= rec.ID {
		t.Fatalf("plan after restart: %d %+v, want an id after %s", code, dry, rec.ID)
	}
	// A second plan while the first waits: allowed now, but approving
	// both would exceed one run per device and hour.
	var second struct{ ID, State string }
	if code := call("POST", "/api/v1/tickets/"+tk.ID+"/remediations", `{"action":"bounce-interface"}`, h.tokens["engineer"], &second); code != http.StatusCreated || second.State != "planned" {
		t.Fatalf("second plan: %d %+v", code, second)
	}
	// Four eyes: the engineer who planned it may not approve it.
	if code := call("POST", "/api/v1/remediations/"+rec.ID+"/approve", "", h.tokens["engineer"], nil); code != http.StatusConflict {
		t.Errorf("approval by the requester: %d, want 409", code)
	}
	if code := call("POST", "/api/v1/remediations/"+rec.ID+"/approve", "", h.tokens["manager"], &rec); code != http.StatusOK || rec.State != "verified" {
		t.Fatalf("approve: %d %+v", code, rec)
	}
	var refused struct{ Error struct{ Message string } }
	if code := call("POST", "/api/v1/remediations/"+second.ID+"/approve", "", h.tokens["manager"], &refused); code != http.StatusConflict ||
		!strings.Contains(refused.Error.Message, "limit") {
		t.Errorf("approval past the per-device limit: %d %+v, want 409 naming the limit", code, refused)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got ticketing.Ticket
		h.get("/api/v1/tickets/"+tk.ID, &got)
		tk = got
		if got.State == ticketing.StateResolved {
			break
		}
		if time.Now().After(deadline) {
			var lines []string
			for _, e := range got.Timeline {
				lines = append(lines, fmt.Sprintf("%s %s %s %s", e.At.Format("15:04:05.000"), e.Actor, e.Kind, e.Note))
			}
			for _, e := range got.Evidence {
				lines = append(lines, fmt.Sprintf("evidence %s firing=%v fires=%d %s", e.Rule, e.Firing, e.Fires, e.Summary))
			}
			t.Fatalf("ticket not resolved by monitoring in 30s; state %s:\n%s", got.State, strings.Join(lines, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	var steps []string
	for _, e := range tk.Timeline {
		if e.Kind == ticketing.KindRemediation {
			steps = append(steps, strings.Fields(e.Note)[0])
		}
	}
	if want := []string{"remediation_planned", "remediation_planned", "remediation_planned", "remediation_approved", "remediation_executed", "remediation_verified"}; !slices.Equal(steps, want) {
		t.Errorf("remediation steps on the timeline = %v, want %v", steps, want)
	}
	// The customer's copy shows no remediation steps (plans, device evidence).
	req, _ := http.NewRequest("GET", "http://"+h.addr+"/api/v1/tickets/"+tk.ID, nil)
	req.Header.Set("Authorization", "Bearer "+h.tokens["customer:acme"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var theirs ticketing.Ticket
	json.NewDecoder(resp.Body).Decode(&theirs)
	resp.Body.Close()
	for _, e := range theirs.Timeline {
		if e.Kind == ticketing.KindRemediation {
			t.Errorf("customer sees remediation step %q", e.Note)
		}
	}
	if len(theirs.Timeline) == 0 {
		t.Error("customer sees no timeline at all")
	}
}

// A plan whose port came back before approval is refused by the plugin
// when it comes to run: a timeline entry, no escalation.
func TestRemediationRefusedIsNotEscalated(t *testing.T) {
	h := newHarness(t)
	h.start()
	tk := hangUserPort(t, h)
	post := func(path, body, token string, out any) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, "http://"+h.addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	var rec struct {
		ID, State string
		Refused   bool
	}
	if code := post("/api/v1/tickets/"+tk.ID+"/remediations", `{"action":"bounce-interface"}`, h.tokens["engineer"], &rec); code != http.StatusCreated {
		t.Fatalf("plan: %d", code)
	}
	if err := h.sim.ClearFaults("acme-acc-2"); err != nil { // the port comes back on its own
		t.Fatal(err)
	}
	if code := post("/api/v1/remediations/"+rec.ID+"/approve", "", h.tokens["manager"], &rec); code != http.StatusOK || rec.State != "failed" || !rec.Refused {
		t.Fatalf("approve: %d %+v, want failed and refused", code, rec)
	}
	var got ticketing.Ticket
	h.get("/api/v1/tickets/"+tk.ID, &got)
	notRun := false
	for _, e := range got.Timeline {
		if e.Kind == ticketing.KindEscalated {
			t.Errorf("ticket escalated after a refusal: %s", e.Note)
		}
		notRun = notRun || e.Kind == ticketing.KindRemediation && strings.Contains(e.Note, "not run")
	}
	if got.Tier != 1 || !notRun {
		t.Errorf("tier %d, refusal on the timeline %v", got.Tier, notRun)
	}
}

// A receiver that refuses a notice for good leaves a dead letter that
// managers see (API, metric) and retry once the receiver is fixed.
func TestOutboxDeadLetters(t *testing.T) {
	h := newHarness(t)
	var refusing atomic.Bool
	refusing.Store(true)
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refusing.Load() {
			http.Error(w, "hook deleted", http.StatusGone)
			return
		}
		h.recv.ServeHTTP(w, r)
	}))
	defer gone.Close()
	h.cfg.Notifiers = []inventory.Notifier{{Name: "ops", Kind: "webhook", URL: gone.URL}}
	h.start()
	if err := h.sim.InjectFault("globex-fw-1", snmpsim.Fault{Kind: "down"}); err != nil {
		t.Fatal(err)
	}
	call := func(method, path, token string, out any) int {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+h.addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	var dead []ticketing.OutboxMessage
	h.eventually(15*time.Second, "a dead letter for the refused notice", func() bool {
		dead = nil
		return call("GET", "/api/v1/outbox/dead", h.token, &dead) == http.StatusOK && len(dead) > 0
	})
	if !strings.Contains(dead[0].LastError, "410") || dead[0].Channel != "ops" {
		t.Errorf("dead letter = %+v", dead[0])
	}
	if code := call("GET", "/api/v1/outbox/dead", h.tokens["engineer"], nil); code != http.StatusForbidden {
		t.Errorf("engineer reading dead letters: %d, want 403", code)
	}
	resp, err := http.Get("http://" + h.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `nocagent_notification_dead_letters{channel="ops"}`) {
		t.Errorf("no dead-letter metric for channel ops")
	}
	refusing.Store(false)
	for _, m := range dead {
		if code := call("POST", fmt.Sprintf("/api/v1/outbox/%d/retry", m.ID), h.token, nil); code != http.StatusNoContent {
			t.Fatalf("retry %d: %d", m.ID, code)
		}
	}
	h.eventually(10*time.Second, "the retried notices delivered", func() bool {
		dead = nil
		call("GET", "/api/v1/outbox/dead", h.token, &dead)
		return len(dead) == 0 && h.recv.count("opened", dead0Ticket(h)) > 0
	})
	if code := call("POST", "/api/v1/outbox/999999/retry", h.token, nil); code != http.StatusNotFound {
		t.Errorf("retry of no dead letter: %d, want 404", code)
	}
}

func dead0Ticket(h *harness) string {
	ts := h.tickets("device=globex-fw-1")
	if len(ts) == 0 {
		return ""
	}
	return ts[0].ID
}

// hangUserPort hangs a user port of acme-acc-2 (admin up, oper down until
// bounced) and returns the link ticket it opens.
func hangUserPort(t *testing.T, h *harness) ticketing.Ticket {
	t.Helper()
	port := 0
	for _, d := range snmpsim.DemoNetwork() {
		for _, p := range d.Ports {
			if d.Name == "acme-acc-2" && p.Use == snmpsim.UseUser && port == 0 {
				port = p.IfIndex
			}
		}
	}
	h.eventually(10*time.Second, "acme-acc-2 polled", func() bool {
		var d deviceView
		h.get("/api/v1/devices/acme-acc-2", &d)
		return d.Reachable
	})
	if err := h.sim.InjectFault("acme-acc-2", snmpsim.Fault{Kind: "port-stuck", IfIndex: port}); err != nil {
		t.Fatal(err)
	}
	var tk ticketing.Ticket
	h.eventually(10*time.Second, "a link ticket for the hung port", func() bool {
		got := h.tickets("device=acme-acc-2")
		if len(got) == 1 {
			tk = got[0]
		}
		return len(got) == 1
	})
	return tk
}
