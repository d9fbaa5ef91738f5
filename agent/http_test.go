package agent

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector/snmpsim"
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
	win := `{"id":"chg-1","reason":"IOS upgrade","start":"2026-01-01T00:00:00Z","end":"2099-01-01T00:00:00Z","devices":["acme-acc-1"]}`
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
