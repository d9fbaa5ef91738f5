package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector"
)

func bgpSnapshot(peers ...collector.BGPPeer) *collector.Snapshot {
	s := snapshot(true)
	s.Device = "rtr1"
	s.BGPPeers = peers
	return s
}

func peer(addr string, as uint32, state, admin string) collector.BGPPeer {
	return collector.BGPPeer{RemoteAddr: addr, RemoteAS: as, LocalAS: 65000, State: state, AdminStatus: admin}
}

// TestBGPPeerDownAlert follows the default pack's bgp_peer_down through one
// outage: the alert's identity, labels and summary, and its resolution.
func TestBGPPeerDownAlert(t *testing.T) {
	e := NewEngine(Default(), Options{})
	tgt := Target{Name: "rtr1", Role: "core"}
	up := peer("192.0.2.1", 65001, "established", "start")
	down := peer("192.0.2.1", 65001, "active", "start")
	other := peer("198.51.100.7", 65000, "established", "start")

	sameTransitions(t, "healthy", e.Evaluate(t0, bgpSnapshot(up, other), tgt), nil)
	sameTransitions(t, "down, pending", e.Evaluate(t0.Add(time.Minute), bgpSnapshot(down, other), tgt), nil)
	sameTransitions(t, "still down after 1m", e.Evaluate(t0.Add(2*time.Minute), bgpSnapshot(down, other), tgt), nil)
	got := e.Evaluate(t0.Add(3*time.Minute), bgpSnapshot(down, other), tgt)
	if len(got) != 1 {
		t.Fatalf("got %v, want bgp_peer_down firing", transitions(got))
	}
	a := got[0]
	want := Alert{
		Fingerprint: Fingerprint("bgp_peer_down", "rtr1", "192.0.2.1"),
		Rule:        "bgp_peer_down", Device: "rtr1", Instance: "192.0.2.1", State: StateFiring,
		Severity: SeverityMajor, Category: CategoryLink, Priority: P2, // major on core
		Value:    1,
		Summary:  "rtr1 BGP peer 192.0.2.1 (AS 65001) is active",
		StartsAt: t0.Add(time.Minute), At: t0.Add(3 * time.Minute),
		Labels: map[string]string{"peer": "192.0.2.1", "remote_as": "65001", "state": "active", "admin_status": "start"},
	}
	if fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", want) {
		t.Errorf("alert\n got %+v\nwant %+v", a, want)
	}
	sameTransitions(t, "established again", e.Evaluate(t0.Add(4*time.Minute), bgpSnapshot(up, other), tgt),
		[]transition{{"bgp_peer_down", "192.0.2.1", StateResolved, 0}})
}

// TestBGPInstances covers what the scope shares with the other instance
// scopes: a peer that leaves the table resolves, an empty table (walk failed,
// or no BGP4-MIB) is no data, and a repeated address keeps its own state.
func TestBGPInstances(t *testing.T) {
	rs := mustParse(t, `
groups:
  - name: g
    rules:
      - name: ebgp_down
        scope: bgp
        condition: "bgp.remote_as != bgp.local_as && bgp.state != 'established' && bgp.established_seconds < threshold"
        threshold: 600
        severity: major
        category: link
        summary: "{{.Instance}} {{.Labels.state}}"
`)
	e := NewEngine(rs, Options{})
	tgt := Target{Name: "rtr1"}
	ibgp := peer("10.0.0.1", 65000, "idle", "start")
	ebgp := peer("10.0.0.2", 65010, "connect", "start")
	old := peer("10.0.0.3", 65010, "idle", "start")
	old.EstablishedSeconds = 601

	sameTransitions(t, "only the eBGP peer down for under threshold", e.Evaluate(t0, bgpSnapshot(ibgp, ebgp, old), tgt),
		[]transition{{"ebgp_down", "10.0.0.2", StateFiring, 1}})
	sameTransitions(t, "empty table holds", e.Evaluate(t0.Add(time.Minute), bgpSnapshot(), tgt), nil)
	sameTransitions(t, "unreachable holds", e.Evaluate(t0.Add(2*time.Minute), &collector.Snapshot{Device: "rtr1"}, tgt), nil)
	// Resolved with the last value seen, as for any instance that goes.
	sameTransitions(t, "peer removed resolves", e.Evaluate(t0.Add(3*time.Minute), bgpSnapshot(ibgp), tgt),
		[]transition{{"ebgp_down", "10.0.0.2", StateResolved, 1}})

	dup := e.Evaluate(t0.Add(4*time.Minute), bgpSnapshot(ebgp, ebgp), tgt)
	if len(dup) != 2 || dup[0].Instance == dup[1].Instance || !strings.HasPrefix(dup[1].Instance, "10.0.0.2 #") {
		t.Errorf("repeated peer: %v", transitions(dup))
	}
}

func TestBGPScopeCompiles(t *testing.T) {
	bad := []struct{ name, cond, want string }{
		{"iface in a bgp rule", "iface.oper_status == 'down'", "unknown name iface"},
		{"unknown peer field", "bgp.uptime > 0", "uptime"},
		{"bgp in a device rule", "bgp.state == 'idle'", "unknown name bgp"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			scope := "bgp"
			if strings.HasPrefix(tt.name, "bgp in") {
				scope = "device"
			}
			src := "groups:\n  - name: g\n    rules:\n      - name: r\n        scope: " + scope +
				"\n        condition: \"" + tt.cond + "\"\n        severity: minor\n        category: link\n        summary: x\n"
			_, err := Parse("t.yaml", []byte(src))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "t.yaml:6") {
				t.Errorf("err = %v, want t.yaml:6 and %q", err, tt.want)
			}
		})
	}
}
