package collector

import (
	"math"
	"net/netip"
	"slices"

	"github.com/gosnmp/gosnmp"
)

// BGP4-MIB (RFC 4273). Only the standard MIB: vendors that moved their peers
// to their own tables (Cisco CISCO-BGP4-MIB cbgpPeer2Table for IPv6 and
// VRF peers, Juniper BGP4-V2-MIB-JUNIPER, Arista and Dell BGP4V2 MIBs,
// Nokia TIMETRA-BGP-MIB) report only what they still put in bgpPeerTable,
// often nothing.
const (
	oidBgpLocalAs   = ".1.3.6.1.2.1.15.2"
	oidBgpPeerEntry = ".1.3.6.1.2.1.15.3.1"
)

// bgpPeerTable columns. bgpPeerRemoteAddr (7) is the table's index, so it
// is read from the OIDs and not walked.
const (
	bgpPeerState              = 2
	bgpPeerAdminStatus        = 3
	bgpPeerRemoteAs           = 9
	bgpPeerFsmEstablishedTime = 16
)

// bgpRoots are walked with the entity columns (see modules): a device
// without BGP4-MIB ends every one of them in the first answer, so the table
// costs that answer a few varbinds and no request of its own. bgpLocalAs is
// a scalar; walking its parent fetches it in the same request.
var bgpRoots = slices.Concat(
	cols(oidBgpPeerEntry, bgpPeerState, bgpPeerAdminStatus, bgpPeerRemoteAs, bgpPeerFsmEstablishedTime),
	[]string{oidBgpLocalAs},
)

var bgpStates = [...]string{1: "idle", 2: "connect", 3: "active", 4: "opensent", 5: "openconfirm", 6: "established"}

func bgpStateName(s int64) string {
	if s > 0 && s < int64(len(bgpStates)) {
		return bgpStates[s]
	}
	return "unknown"
}

func bgpAdminName(s int64) string {
	switch s {
	case 1:
		return "stop"
	case 2:
		return "start"
	}
	return "unknown"
}

// bgpAS reads an AS number. BGP4-MIB types it INTEGER (0..65535); agents
// that put a four-byte AS there anyway sometimes send it as a negative
// 32-bit INTEGER, which pduUint reads back as the same bits.
func bgpAS(p gosnmp.SnmpPDU) uint32 {
	n, ok := pduUint(p)
	if !ok || n > math.MaxUint32 {
		return 0
	}
	return uint32(n)
}

// decodeBGP builds peers from bgpPeerTable, sorted by address, each with
// bgpLocalAs. A row is a peer when any of its columns came back.
func decodeBGP(pdus []gosnmp.SnmpPDU) []BGPPeer {
	type row struct {
		addr netip.Addr
		peer BGPPeer
	}
	var rows []row
	pos := map[netip.Addr]int{}
	var localAS uint32
	var arcs []int
	for _, p := range pdus {
		if absent(p) {
			continue
		}
		if p.Name == oidBgpLocalAs+".0" {
			localAS = bgpAS(p)
			continue
		}
		c, index, ok := splitColumn(p.Name, oidBgpPeerEntry)
		if !ok {
			continue
		}
		if arcs, ok = indexArcs(index, arcs); !ok || len(arcs) != 4 {
			continue
		}
		var a [4]byte
		for i, v := range arcs {
			if v > 255 {
				ok = false
			}
			a[i] = byte(v)
		}
		if !ok {
			continue
		}
		addr := netip.AddrFrom4(a)
		i, seen := pos[addr]
		if !seen {
			i = len(rows)
			pos[addr] = i
			rows = append(rows, row{addr: addr, peer: BGPPeer{RemoteAddr: addr.String(), State: "unknown", AdminStatus: "unknown"}})
		}
		r := &rows[i].peer
		switch c {
		case bgpPeerState:
			n, _ := pduInt(p)
			r.State = bgpStateName(n)
		case bgpPeerAdminStatus:
			n, _ := pduInt(p)
			r.AdminStatus = bgpAdminName(n)
		case bgpPeerRemoteAs:
			r.RemoteAS = bgpAS(p)
		case bgpPeerFsmEstablishedTime:
			r.EstablishedSeconds, _ = pduUint(p)
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return a.addr.Compare(b.addr) })
	out := make([]BGPPeer, len(rows))
	for i, r := range rows {
		out[i] = r.peer
		out[i].LocalAS = localAS
	}
	return out
}
