package collector

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

func bgpCol(c int, addr string) string { return col(oidBgpPeerEntry, c) + "." + addr }

func TestDecodeBGP(t *testing.T) {
	tests := []struct {
		name string
		pdus []gosnmp.SnmpPDU
		want []BGPPeer
	}{
		{name: "no BGP4-MIB", pdus: nil, want: []BGPPeer{}},
		{
			name: "peers sorted by address, local AS on each",
			pdus: []gosnmp.SnmpPDU{
				vInt(oidBgpLocalAs+".0", 65065),
				vInt(bgpCol(bgpPeerState, "192.0.2.10"), 2),
				vInt(bgpCol(bgpPeerState, "172.31.31.50"), 6),
				vInt(bgpCol(bgpPeerAdminStatus, "192.0.2.10"), 2),
				vInt(bgpCol(bgpPeerAdminStatus, "172.31.31.50"), 2),
				vInt(bgpCol(bgpPeerRemoteAs, "192.0.2.10"), 65065),
				vInt(bgpCol(bgpPeerRemoteAs, "172.31.31.50"), 23456),
				vGauge(bgpCol(bgpPeerFsmEstablishedTime, "172.31.31.50"), 836),
				vGauge(bgpCol(bgpPeerFsmEstablishedTime, "192.0.2.10"), 0),
			},
			want: []BGPPeer{
				{RemoteAddr: "172.31.31.50", RemoteAS: 23456, LocalAS: 65065, State: "established", AdminStatus: "start", EstablishedSeconds: 836},
				{RemoteAddr: "192.0.2.10", RemoteAS: 65065, LocalAS: 65065, State: "connect", AdminStatus: "start"},
			},
		},
		{
			name: "every FSM state and an admin-stopped peer",
			pdus: []gosnmp.SnmpPDU{
				vInt(bgpCol(bgpPeerState, "10.0.0.1"), 1), vInt(bgpCol(bgpPeerAdminStatus, "10.0.0.1"), 1),
				vInt(bgpCol(bgpPeerState, "10.0.0.3"), 3),
				vInt(bgpCol(bgpPeerState, "10.0.0.4"), 4),
				vInt(bgpCol(bgpPeerState, "10.0.0.5"), 5),
				vInt(bgpCol(bgpPeerState, "10.0.0.9"), 9), vInt(bgpCol(bgpPeerAdminStatus, "10.0.0.9"), 7),
			},
			want: []BGPPeer{
				{RemoteAddr: "10.0.0.1", State: "idle", AdminStatus: "stop"},
				{RemoteAddr: "10.0.0.3", State: "active", AdminStatus: "unknown"},
				{RemoteAddr: "10.0.0.4", State: "opensent", AdminStatus: "unknown"},
				{RemoteAddr: "10.0.0.5", State: "openconfirm", AdminStatus: "unknown"},
				{RemoteAddr: "10.0.0.9", State: "unknown", AdminStatus: "unknown"},
			},
		},
		{
			// Nokia SR OS keeps only bgpPeerRemoteAs here (its sessions
			// are in TIMETRA-BGP-MIB): the peer is listed, its state
			// unknown, which no rule mistakes for down.
			name: "a row with only the remote AS",
			pdus: []gosnmp.SnmpPDU{vInt(bgpCol(bgpPeerRemoteAs, "10.4.1.30"), 14224)},
			want: []BGPPeer{{RemoteAddr: "10.4.1.30", RemoteAS: 14224, State: "unknown", AdminStatus: "unknown"}},
		},
		{
			name: "four-byte AS sent as a negative INTEGER",
			pdus: []gosnmp.SnmpPDU{
				vInt(oidBgpLocalAs+".0", -2),                                // 4294967294
				vInt(bgpCol(bgpPeerRemoteAs, "169.254.250.255"), -94967296), // 4200000000
				vInt(bgpCol(bgpPeerState, "169.254.250.255"), 6),
			},
			want: []BGPPeer{{RemoteAddr: "169.254.250.255", RemoteAS: 4200000000, LocalAS: 4294967294, State: "established", AdminStatus: "unknown"}},
		},
		{
			name: "malformed indexes, absent values and other tables are skipped",
			pdus: []gosnmp.SnmpPDU{
				vInt(bgpCol(bgpPeerState, "10.0.0"), 6),     // 3 arcs
				vInt(bgpCol(bgpPeerState, "10.0.0.1.5"), 6), // 5 arcs
				vInt(bgpCol(bgpPeerState, "10.0.0.256"), 6), // not a byte
				vInt(bgpCol(bgpPeerState, "10.0.0.x"), 6),   // not a number
				{Name: bgpCol(bgpPeerState, "10.0.0.2"), Type: gosnmp.NoSuchInstance},
				vInt(".1.3.6.1.2.1.15.4.1.2.10.0.0.3", 6), // bgpRcvdPathAttrTable
				vInt(".1.3.6.1.2.1.2.2.1.8.7", 1),         // ifOperStatus
				vInt(bgpCol(bgpPeerState, "10.0.0.7"), 6),
			},
			want: []BGPPeer{{RemoteAddr: "10.0.0.7", State: "established", AdminStatus: "unknown"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeBGP(tt.pdus)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decodeBGP =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestCollectBGP polls a router whose BGP4-MIB sits between other tables
// and checks the peers arrive without a request of their own; a switch
// without BGP4-MIB must cost no request more than it did without the walk.
func TestCollectBGP(t *testing.T) {
	router := append(syntheticSwitch(4),
		vInt(oidBgpLocalAs+".0", 65000),
		vInt(".1.3.6.1.2.1.15.1.0", 4), // bgpVersion: not ours
		vInt(bgpCol(bgpPeerState, "2.2.2.2"), 6), vInt(bgpCol(bgpPeerState, "5.5.5.5"), 3),
		vInt(bgpCol(bgpPeerAdminStatus, "2.2.2.2"), 2), vInt(bgpCol(bgpPeerAdminStatus, "5.5.5.5"), 2),
		vInt(bgpCol(5, "2.2.2.2"), 0), // bgpPeerLocalAddr: not walked
		vInt(bgpCol(bgpPeerRemoteAs, "2.2.2.2"), 65000), vInt(bgpCol(bgpPeerRemoteAs, "5.5.5.5"), 65010),
		vGauge(bgpCol(bgpPeerFsmEstablishedTime, "2.2.2.2"), 281173),
		vGauge(bgpCol(bgpPeerFsmEstablishedTime, "5.5.5.5"), 60),
	)
	a := newFakeAgent(router...)
	snap := newSnapshot("192.0.2.1:161", t0)
	collect(context.Background(), newBulkWalker(a, false, 25), snap)
	if len(snap.Errors) != 0 {
		t.Fatalf("errors %v", snap.Errors)
	}
	want := []BGPPeer{
		{RemoteAddr: "2.2.2.2", RemoteAS: 65000, LocalAS: 65000, State: "established", AdminStatus: "start", EstablishedSeconds: 281173},
		{RemoteAddr: "5.5.5.5", RemoteAS: 65010, LocalAS: 65000, State: "active", AdminStatus: "start", EstablishedSeconds: 60},
	}
	if !reflect.DeepEqual(snap.BGPPeers, want) {
		t.Errorf("peers = %+v\nwant %+v", snap.BGPPeers, want)
	}
	if snap.Serial != "FOC1234X0AB" {
		t.Errorf("serial %q: the entity walk the BGP columns ride on lost its data", snap.Serial)
	}

	// The same switch without BGP4-MIB: the BGP columns must not add a
	// request to the entity walk they share.
	psnap := newSnapshot("192.0.2.1:161", t0)
	collect(context.Background(), newBulkWalker(newFakeAgent(syntheticSwitch(4)...), false, 25), psnap)
	entityOnly := newFakeAgent(syntheticSwitch(4)...)
	w := newBulkWalker(entityOnly, false, 25)
	if err := w.Walk(context.Background(), entityRoots, func(gosnmp.SnmpPDU) error { return nil }); err != nil {
		t.Fatal(err)
	}
	joined := newFakeAgent(syntheticSwitch(4)...)
	w = newBulkWalker(joined, false, 25)
	if err := w.Walk(context.Background(), entityBGPRoots, func(gosnmp.SnmpPDU) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if a, b := entityOnly.requests, joined.requests; a != b {
		t.Errorf("entity walk took %d requests, with the BGP columns %d", a, b)
	}
	b, err := json.Marshal(psnap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"bgp_peers":[]`) {
		t.Errorf("no BGP: JSON lacks \"bgp_peers\":[]: %s", b)
	}
}
