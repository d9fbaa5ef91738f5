package snmpsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

func doJSON(t *testing.T, srv *httptest.Server, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func TestHTTPErrors(t *testing.T) {
	sim, _, _ := startDemo(t)
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	tests := []struct {
		name, method, path, body string
		status                   int
		code, message            string
	}{
		{"bad json", "POST", "/api/v1/devices/acme-core-1/faults", `{"kind":`, 400, "invalid", "request body is not a fault"},
		{"unknown field", "POST", "/api/v1/devices/acme-core-1/faults", `{"kind":"cpu","percnt":5}`, 400, "invalid", `unknown field "percnt"`},
		{"two objects", "POST", "/api/v1/devices/acme-core-1/faults", `{"kind":"down"}{"kind":"down"}`, 400, "invalid", "exactly one fault"},
		{"missing kind", "POST", "/api/v1/devices/acme-core-1/faults", `{}`, 400, "invalid", "kind is missing"},
		{"unknown kind", "POST", "/api/v1/devices/acme-core-1/faults", `{"kind":"flood"}`, 400, "invalid", `unknown kind "flood"`},
		{"link-down without ifIndex", "POST", "/api/v1/devices/acme-core-1/faults", `{"kind":"link-down"}`, 400, "invalid", "link-down needs ifIndex > 0"},
		{"link-down on a missing port", "POST", "/api/v1/devices/acme-core-1/faults", `{"kind":"link-down","ifIndex":99}`, 400, "invalid", "ifIndex 99 does not exist"},
		{"percent too high", "POST", "/api/v1/devices/acme-core-1/faults", `{"kind":"cpu","percent":150}`, 400, "invalid", "percent in 0..100, got 150"},
		{"percent negative", "POST", "/api/v1/devices/acme-core-1/faults", `{"kind":"memory","percent":-1}`, 400, "invalid", "percent in 0..100, got -1"},
		{"celsius out of range", "POST", "/api/v1/devices/acme-core-1/faults", `{"kind":"temperature","celsius":900}`, 400, "invalid", "celsius in -50..200"},
		{"unknown device fault", "POST", "/api/v1/devices/nope/faults", `{"kind":"down"}`, 404, "not_found", `unknown device "nope"`},
		{"unknown device clear", "DELETE", "/api/v1/devices/nope/faults", ``, 404, "not_found", `unknown device "nope"`},
		{"unknown device get", "GET", "/api/v1/devices/nope", ``, 404, "not_found", `device "nope" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := doJSON(t, srv, tt.method, tt.path, tt.body)
			if status != tt.status {
				t.Errorf("status %d, want %d (%s)", status, tt.status, body)
			}
			var e apiError
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.message) {
				t.Errorf("error %+v, want code %s and a message containing %q", e.Error, tt.code, tt.message)
			}
		})
	}
	if info, _ := sim.Device("acme-core-1"); len(info.Faults) != 0 {
		t.Errorf("rejected requests left faults: %+v", info.Faults)
	}
	if status, _ := doJSON(t, srv, "PUT", "/api/v1/devices/acme-core-1/faults", `{}`); status != http.StatusMethodNotAllowed {
		t.Errorf("PUT answered %d, want 405", status)
	}
}

func TestHTTPDevices(t *testing.T) {
	sim, _, _ := startDemo(t)
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	status, body := doJSON(t, srv, "GET", "/api/v1/devices", "")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	var list []DeviceInfo
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range list {
		names = append(names, d.Name)
		if d.Community != "" {
			t.Errorf("%s: community %q leaked in API output", d.Name, d.Community)
		}
		if d.Faults == nil {
			t.Errorf("%s: faults is null, want []", d.Name)
		}
	}
	if !slices.IsSorted(names) || len(names) != 10 {
		t.Errorf("devices %v", names)
	}
	if !strings.Contains(string(body), `"faults":[]`) {
		t.Errorf("faults not rendered as an empty list: %s", body)
	}
	status, body = doJSON(t, srv, "GET", "/api/v1/devices/globex-fw-1", "")
	var one DeviceInfo
	if err := json.Unmarshal(body, &one); err != nil || status != 200 {
		t.Fatalf("status %d body %s err %v", status, body, err)
	}
	if one.Name != "globex-fw-1" || one.Vendor != "Palo Alto Networks" || one.Model != "PA-440" ||
		!slices.Equal(one.Upstream, []string{"globex-edge-1"}) || one.UplinkIfIndex != 1 || one.Port == 0 {
		t.Errorf("device = %+v", one)
	}
}

// TestFaultsThroughHTTP injects each fault kind through the control API and
// checks what SNMP then returns.
func TestFaultsThroughHTTP(t *testing.T) {
	sim, clock, infos := startDemo(t)
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	post := func(name, body string) DeviceInfo {
		t.Helper()
		status, b := doJSON(t, srv, "POST", "/api/v1/devices/"+name+"/faults", body)
		if status != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", body, status, b)
		}
		var info DeviceInfo
		if err := json.Unmarshal(b, &info); err != nil {
			t.Fatal(err)
		}
		return info
	}
	clear := func(name string) {
		t.Helper()
		if status, b := doJSON(t, srv, "DELETE", "/api/v1/devices/"+name+"/faults", ""); status != http.StatusOK {
			t.Fatalf("DELETE: %d %s", status, b)
		}
	}
	core := demoClient(t, infos["acme-core-1"])

	t.Run("cpu memory temperature", func(t *testing.T) {
		post("acme-core-1", `{"kind":"cpu","percent":95.4}`)
		post("acme-core-1", `{"kind":"memory","percent":90}`)
		info := post("acme-core-1", `{"kind":"temperature","celsius":78}`)
		if len(info.Faults) != 3 {
			t.Errorf("faults = %+v", info.Faults)
		}
		for _, idx := range cpuIndexes {
			if load := getUint(t, core, fmt.Sprintf(".1.3.6.1.2.1.25.3.3.1.2.%d", idx)); load != 95 {
				t.Errorf("hrProcessorLoad.%d = %d, want 95", idx, load)
			}
		}
		size, used := getUint(t, core, ".1.3.6.1.2.1.25.2.3.1.5.1"), getUint(t, core, ".1.3.6.1.2.1.25.2.3.1.6.1")
		if used != size*90/100 {
			t.Errorf("memory used %d of %d, want 90%%", used, size)
		}
		if temp := getUint(t, core, ".1.3.6.1.2.1.99.1.1.1.4.4"); temp != 78 {
			t.Errorf("temperature %d, want 78", temp)
		}
		// Replacing a fault of the same kind keeps one of it.
		if info := post("acme-core-1", `{"kind":"cpu","percent":50}`); len(info.Faults) != 3 {
			t.Errorf("faults after replacing cpu = %+v", info.Faults)
		}
		if load := getUint(t, core, ".1.3.6.1.2.1.25.3.3.1.2.196608"); load != 50 {
			t.Errorf("hrProcessorLoad = %d after replacing the fault, want 50", load)
		}
		clear("acme-core-1")
		if load := getUint(t, core, ".1.3.6.1.2.1.25.3.3.1.2.196608"); load < 10 || load > 30 {
			t.Errorf("hrProcessorLoad = %d after clearing", load)
		}
		if temp := getUint(t, core, ".1.3.6.1.2.1.99.1.1.1.4.4"); temp < 37 || temp > 43 {
			t.Errorf("temperature %d after clearing", temp)
		}
	})

	t.Run("link-down affects both ends", func(t *testing.T) {
		devs := DemoNetwork()
		dist := devs[indexOfDemo(devs, "acme-dist-1")]
		coreIf := dist.Ports[0].PeerIfIndex
		distC := demoClient(t, infos["acme-dist-1"])
		lastChange := func(c *gosnmp.GoSNMP, i int) uint64 {
			return getUint(t, c, fmt.Sprintf(".1.3.6.1.2.1.2.2.1.9.%d", i))
		}
		octets := func(c *gosnmp.GoSNMP, i int) uint64 {
			return getUint(t, c, fmt.Sprintf(".1.3.6.1.2.1.31.1.1.1.6.%d", i))
		}
		lcDist, lcCore := lastChange(distC, 1), lastChange(core, coreIf)
		clock.Advance(10 * time.Minute)

		post("acme-dist-1", `{"kind":"link-down","ifIndex":1}`)
		for _, end := range []struct {
			c    *gosnmp.GoSNMP
			i    int
			lc   uint64
			name string
		}{{distC, 1, lcDist, "acme-dist-1"}, {core, coreIf, lcCore, "acme-core-1"}} {
			if o := getUint(t, end.c, fmt.Sprintf(".1.3.6.1.2.1.2.2.1.8.%d", end.i)); o != 2 {
				t.Errorf("%s ifOperStatus.%d = %d, want down", end.name, end.i, o)
			}
			if lc := lastChange(end.c, end.i); lc <= end.lc {
				t.Errorf("%s ifLastChange.%d = %d, not after %d", end.name, end.i, lc, end.lc)
			}
		}
		down := map[string]bool{"acme-dist-1/" + dist.Ports[0].Name: true, "acme-core-1/" + devs[0].Ports[coreIf-1].Name: true}
		for _, name := range []string{"acme-dist-1", "acme-core-1"} {
			got := lldpNeighbours(t, demoClient(t, infos[name]))
			if want := expectedNeighbours(devs[indexOfDemo(devs, name)], down); !slices.Equal(got, want) {
				t.Errorf("%s LLDP during link-down:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		// Counters stand still while the link is down.
		frozen := octets(distC, 1)
		clock.Advance(2 * time.Minute)
		if now := octets(distC, 1); now != frozen {
			t.Errorf("ifHCInOctets moved while down: %d -> %d", frozen, now)
		}
		if info, _ := sim.Device("acme-core-1"); len(info.Faults) != 0 {
			t.Errorf("the far end lists faults %+v; only the injected device should", info.Faults)
		}

		clear("acme-dist-1")
		if o := getUint(t, core, fmt.Sprintf(".1.3.6.1.2.1.2.2.1.8.%d", coreIf)); o != 1 {
			t.Errorf("core end still down after clearing: %d", o)
		}
		if got := lldpNeighbours(t, distC); !slices.Equal(got, expectedNeighbours(dist, nil)) {
			t.Errorf("LLDP not restored: %v", got)
		}
		clock.Advance(time.Minute)
		if now := octets(distC, 1); now <= frozen {
			t.Errorf("ifHCInOctets did not resume: %d -> %d", frozen, now)
		}
	})

	t.Run("down stops answering", func(t *testing.T) {
		post("globex-edge-1", `{"kind":"down"}`)
		c := newClient(t, infos["globex-edge-1"], "public", gosnmp.Version2c, 300*time.Millisecond)
		if _, err := c.Get([]string{".1.3.6.1.2.1.1.5.0"}); err == nil {
			t.Error("a down device answered")
		}
		// Its neighbour still answers, and still sees the link up.
		fw := demoClient(t, infos["globex-fw-1"])
		if o := getUint(t, fw, ".1.3.6.1.2.1.2.2.1.8.1"); o != 1 {
			t.Errorf("globex-fw-1 uplink oper %d", o)
		}
		clear("globex-edge-1")
		if got := getString(t, c, ".1.3.6.1.2.1.1.5.0"); got != "globex-edge-1" {
			t.Errorf("sysName %q after clearing", got)
		}
	})
}
