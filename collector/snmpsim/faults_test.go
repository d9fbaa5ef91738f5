package snmpsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

func TestPortFaultValidation(t *testing.T) {
	sim, _, _ := startDemo(t)
	recSim, _ := startTestRecording(t, nil)
	tests := []struct {
		name    string
		sim     *Simulator
		device  string
		fault   Fault
		wantErr string // "" for success
	}{
		{"port-stuck", sim, "acme-acc-1", Fault{Kind: FaultPortStuck, IfIndex: 1}, ""},
		{"port-stuck on an unused port", sim, "acme-acc-1", Fault{Kind: FaultPortStuck, IfIndex: 24}, ""},
		{"port-stuck without ifIndex", sim, "acme-acc-1", Fault{Kind: FaultPortStuck}, "kind port-stuck needs ifIndex > 0, got 0"},
		{"port-stuck negative ifIndex", sim, "acme-acc-1", Fault{Kind: FaultPortStuck, IfIndex: -3}, "needs ifIndex > 0"},
		{"port-stuck on a missing port", sim, "acme-acc-1", Fault{Kind: FaultPortStuck, IfIndex: 25}, "ifIndex 25 does not exist (ports 1..24)"},
		{"link-down on a missing port", sim, "acme-acc-1", Fault{Kind: FaultLinkDown, IfIndex: 99}, "ifIndex 99 does not exist"},
		{"port-stuck on a recording", recSim, "testdev", Fault{Kind: FaultPortStuck, IfIndex: 1}, "kind port-stuck is not supported on recording devices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.sim.InjectFault(tt.device, tt.fault)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("InjectFault(%+v) = %v", tt.fault, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidFault) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("InjectFault(%+v) = %v, want ErrInvalidFault saying %q", tt.fault, err, tt.wantErr)
			}
		})
	}
	// Stuck ports are kept one per interface, like link-down.
	if err := sim.InjectFault("acme-acc-1", Fault{Kind: FaultPortStuck, IfIndex: 1}); err != nil {
		t.Fatal(err)
	}
	info, _ := sim.Device("acme-acc-1")
	if got := portFaults(info); !slices.Equal(got, []string{"port-stuck/1", "port-stuck/24"}) {
		t.Errorf("faults %v, want port-stuck on 1 and 24 once each", got)
	}
}

func portFaults(info DeviceInfo) []string {
	var out []string
	for _, f := range info.Faults {
		out = append(out, fmt.Sprintf("%s/%d", f.Kind, f.IfIndex))
	}
	slices.Sort(out)
	return out
}

// TestPortStuckBounce checks the two port faults over SNMP: a stuck port
// (and its far end) stays down until the stuck device's port is shut and
// reopened, while a cut cable ignores every SET.
func TestPortStuckBounce(t *testing.T) {
	sim, _, infos := startDemo(t)
	devs := DemoNetwork()
	distIf := devs[indexOfDemo(devs, "acme-acc-1")].Ports[0].PeerIfIndex
	acc := demoClient(t, infos["acme-acc-1"])
	dist := demoClient(t, infos["acme-dist-1"])
	admin := func(i int) string { return fmt.Sprintf(".1.3.6.1.2.1.2.2.1.7.%d", i) }
	oper := func(i int) string { return fmt.Sprintf(".1.3.6.1.2.1.2.2.1.8.%d", i) }
	set := func(c *gosnmp.GoSNMP, i, v int) {
		t.Helper()
		resp, err := c.Set([]gosnmp.SnmpPDU{{Name: admin(i), Type: gosnmp.Integer, Value: v}})
		if err != nil || resp.Error != gosnmp.NoError {
			t.Fatalf("SET ifAdminStatus.%d=%d: %v %v", i, v, err, resp)
		}
	}
	// state reads admin/oper of the access uplink and of its far end.
	state := func() string {
		t.Helper()
		return fmt.Sprintf("acc %d/%d dist %d/%d", getUint(t, acc, admin(1)), getUint(t, acc, oper(1)),
			getUint(t, dist, admin(distIf)), getUint(t, dist, oper(distIf)))
	}
	const (
		up       = "acc 1/1 dist 1/1"
		linkDown = "acc 1/2 dist 1/2" // admin up, oper down at both ends
	)
	type step struct {
		what string
		do   func()
		want string
	}
	bounce := func(c *gosnmp.GoSNMP, i int) []step {
		return []step{
			{"shut", func() { set(c, i, 2) }, ""},
			{"no shut", func() { set(c, i, 1) }, ""},
		}
	}
	inject := func(kind string) func() {
		return func() {
			if err := sim.InjectFault("acme-acc-1", Fault{Kind: kind, IfIndex: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name       string
		steps      []step
		wantFaults []string // acme-acc-1's faults at the end
	}{
		{
			name: "port-stuck cleared by a bounce",
			steps: []step{
				{"inject", inject(FaultPortStuck), linkDown},
				// Setting up a port that is already up resets nothing.
				{"redundant no shut", func() { set(acc, 1, 1) }, linkDown},
				{"shut", func() { set(acc, 1, 2) }, "acc 2/2 dist 1/2"},
				{"no shut", func() { set(acc, 1, 1) }, up},
			},
			wantFaults: nil,
		},
		{
			name: "port-stuck: bouncing the far end does not help",
			steps: append([]step{{"inject", inject(FaultPortStuck), linkDown}},
				append(bounce(dist, distIf), step{"check", func() {}, linkDown})...),
			wantFaults: []string{"port-stuck/1"},
		},
		{
			name: "port-stuck: bouncing another port does not help",
			steps: append([]step{{"inject", inject(FaultPortStuck), linkDown}},
				append(bounce(acc, 3), step{"check", func() {}, linkDown})...),
			wantFaults: []string{"port-stuck/1"},
		},
		{
			name: "link-down ignores a bounce",
			steps: append([]step{{"inject", inject(FaultLinkDown), linkDown}},
				append(bounce(acc, 1), step{"check", func() {}, linkDown})...),
			wantFaults: []string{"link-down/1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := sim.ClearFaults("acme-acc-1"); err != nil {
				t.Fatal(err)
			}
			if got := state(); got != up {
				t.Fatalf("before: %s, want %s", got, up)
			}
			for _, s := range tt.steps {
				s.do()
				if s.want == "" {
					continue
				}
				if got := state(); got != s.want {
					t.Errorf("after %s: %s, want %s", s.what, got, s.want)
				}
			}
			info, _ := sim.Device("acme-acc-1")
			if got := portFaults(info); !slices.Equal(got, tt.wantFaults) {
				t.Errorf("faults at the end %v, want %v", got, tt.wantFaults)
			}
			if info, _ := sim.Device("acme-dist-1"); len(info.Faults) != 0 {
				t.Errorf("the far end lists faults %+v", info.Faults)
			}
		})
	}
	// Clearing the faults repairs what a bounce could not.
	if err := sim.ClearFaults("acme-acc-1"); err != nil {
		t.Fatal(err)
	}
	if got := state(); got != up {
		t.Errorf("after clearing: %s, want %s", got, up)
	}
}

// TestPortStuckThroughHTTP drives port-stuck through the control API and
// the repair through SNMP, as the demo's remote bounce does.
func TestPortStuckThroughHTTP(t *testing.T) {
	sim, _, infos := startDemo(t)
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	path := "/api/v1/devices/globex-sw-1/faults"

	for _, tt := range []struct {
		body, msg string
	}{
		{`{"kind":"port-stuck"}`, "needs ifIndex > 0"},
		{`{"kind":"port-stuck","ifIndex":13}`, "ifIndex 13 does not exist"},
	} {
		status, b := doJSON(t, srv, "POST", path, tt.body)
		var e apiError
		if err := json.Unmarshal(b, &e); err != nil || status != http.StatusBadRequest || e.Error.Code != "invalid" || !strings.Contains(e.Error.Message, tt.msg) {
			t.Errorf("POST %s: %d %s, want 400 invalid saying %q", tt.body, status, b, tt.msg)
		}
	}

	status, b := doJSON(t, srv, "POST", path, `{"kind":"port-stuck","ifIndex":1}`)
	var info DeviceInfo
	if err := json.Unmarshal(b, &info); err != nil || status != http.StatusCreated {
		t.Fatalf("POST port-stuck: %d %s", status, b)
	}
	if got := portFaults(info); !slices.Equal(got, []string{"port-stuck/1"}) {
		t.Errorf("faults %v after POST", got)
	}
	sw := demoClient(t, infos["globex-sw-1"])
	fw := demoClient(t, infos["globex-fw-1"])
	devs := DemoNetwork()
	fwIf := devs[indexOfDemo(devs, "globex-sw-1")].Ports[0].PeerIfIndex
	ifStatus := func(c *gosnmp.GoSNMP, col, i int) uint64 {
		return getUint(t, c, fmt.Sprintf(".1.3.6.1.2.1.2.2.1.%d.%d", col, i))
	}
	if a, o, fo := ifStatus(sw, 7, 1), ifStatus(sw, 8, 1), ifStatus(fw, 8, fwIf); a != 1 || o != 2 || fo != 2 {
		t.Errorf("stuck uplink admin %d oper %d, far end oper %d; want 1 2 2", a, o, fo)
	}
	// The bounce in one PDU, as some NMS scripts send it.
	resp, err := sw.Set([]gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.2.2.1.7.1", Type: gosnmp.Integer, Value: 2},
		{Name: ".1.3.6.1.2.1.2.2.1.7.1", Type: gosnmp.Integer, Value: 1},
	})
	if err != nil || resp.Error != gosnmp.NoError {
		t.Fatalf("SET bounce: %v %v", err, resp)
	}
	if a, o, fo := ifStatus(sw, 7, 1), ifStatus(sw, 8, 1), ifStatus(fw, 8, fwIf); a != 1 || o != 1 || fo != 1 {
		t.Errorf("after the bounce admin %d oper %d, far end oper %d; want all up", a, o, fo)
	}
	status, b = doJSON(t, srv, "GET", "/api/v1/devices/globex-sw-1", "")
	if err := json.Unmarshal(b, &info); err != nil || status != http.StatusOK || len(info.Faults) != 0 || info.Faults == nil {
		t.Errorf("GET after the bounce: %d %s, want no faults", status, b)
	}
}
