package agent

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
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
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, "http://"+h.addr+tt.path, nil)
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
