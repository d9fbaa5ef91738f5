package collector

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/internal/testenv"
	"github.com/nocagent/nocagent/inventory"
)

// bgpVendorMIB names, for the LibreNMS recordings with BGP peers, the vendor
// MIB LibreNMS reads them from when the device does not list them in
// BGP4-MIB's bgpPeerTable. The collector reads BGP4-MIB only, so on these
// devices it reports at most the partial rows the standard table still has.
var bgpVendorMIB = map[string]string{
	"arista_eos":      "ARISTA-BGP4V2-MIB aristaBgp4V2PeerTable (1.3.6.1.4.1.30065.4.1)",
	"dell-os10":       "DELLEMC-OS10-BGP4V2-MIB os10bgp4V2PeerTable (1.3.6.1.4.1.674.11000.5000.200)",
	"iosxe":           "CISCO-BGP4-MIB cbgpPeer2Table (1.3.6.1.4.1.9.9.187), IPv4 and IPv6 peers",
	"iosxr_asr9001":   "CISCO-BGP4-MIB cbgpPeer2Table (1.3.6.1.4.1.9.9.187)",
	"junos_mx5t-isis": "BGP4-V2-MIB-JUNIPER jnxBgpM2PeerTable (1.3.6.1.4.1.2636.5.1.1)",
	"junos_rpm":       "BGP4-V2-MIB-JUNIPER jnxBgpM2PeerTable (1.3.6.1.4.1.2636.5.1.1)",
	// SR OS keeps bgpPeerRemoteAs of its base-instance peers in
	// bgpPeerTable and nothing else: those peers come back with their AS
	// and state unknown.
	"timos_ixr": "TIMETRA-BGP-MIB (1.3.6.1.4.1.6527.3.1.2.14)",
}

// lnmsBGPPeer is one row of LibreNMS's bgpPeers table. LibreNMS keeps the
// peer's address in bgpPeerIdentifier; its bgpPeerRemoteAddr is 0.0.0.0.
type lnmsBGPPeer struct {
	Addr        string `json:"bgpPeerIdentifier"`
	RemoteAS    uint32 `json:"bgpPeerRemoteAs"`
	State       string `json:"bgpPeerState"`
	AdminStatus string `json:"bgpPeerAdminStatus"`
	Established uint64 `json:"bgpPeerFsmEstablishedTime"`
}

// TestBGPAgainstLibreNMS serves every LibreNMS recording that has BGP peers
// and compares the peers the collector reads with LibreNMS's. The list and
// AS numbers are in bgp-peers.discovery; state, admin status and uptime
// only in bgp-peers.poller (discovery stores placeholders: idle, stop, 0).
func TestBGPAgainstLibreNMS(t *testing.T) {
	dir := testenv.LibreNMS(t)
	jsons, err := filepath.Glob(filepath.Join(dir, "data", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	sim := snmpsim.New(snmpsim.Options{})
	defer sim.Close()

	var standard int
	for _, js := range jsons {
		name := strings.TrimSuffix(filepath.Base(js), ".json")
		disc, poll, ok := readLibreNMSBGP(t, js)
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			snap := pollRecording(ctx, t, sim, dir, name)
			vendor, isVendor := bgpVendorMIB[name]
			if !isVendor {
				standard++
				checkBGPStandard(t, snap.BGPPeers, disc, poll, snmprecScalar(t, filepath.Join(dir, "snmpsim", name+".snmprec"), "1.3.6.1.2.1.15.2.0"))
				return
			}
			// LibreNMS read these from the vendor MIB: what BGP4-MIB gave
			// us must still be among its peers, with the same AS.
			t.Logf("LibreNMS reads %d peers from %s; BGP4-MIB gives %d", len(disc), vendor, len(snap.BGPPeers))
			for _, p := range snap.BGPPeers {
				i := slices.IndexFunc(disc, func(l lnmsBGPPeer) bool { return l.Addr == p.RemoteAddr })
				if i < 0 {
					t.Errorf("peer %s is not one of LibreNMS's", p.RemoteAddr)
				} else if disc[i].RemoteAS != p.RemoteAS {
					t.Errorf("peer %s AS %d, LibreNMS %d", p.RemoteAddr, p.RemoteAS, disc[i].RemoteAS)
				}
			}
		})
	}
	if standard == 0 {
		t.Error("no recording lists its peers in BGP4-MIB: the comparison checked nothing")
	}
	for name := range bgpVendorMIB {
		if _, err := os.Stat(filepath.Join(dir, "data", name+".json")); err != nil {
			t.Errorf("bgpVendorMIB names %s, which is not in the recordings", name)
		}
	}
}

// checkBGPStandard compares a BGP4-MIB device's peers field by field.
func checkBGPStandard(t *testing.T, got []BGPPeer, disc, poll []lnmsBGPPeer, localAS string) {
	t.Helper()
	if len(got) != len(disc) {
		t.Errorf("%d peers, LibreNMS %d: %+v", len(got), len(disc), got)
	}
	for _, l := range disc {
		i := slices.IndexFunc(got, func(p BGPPeer) bool { return p.RemoteAddr == l.Addr })
		if i < 0 {
			t.Errorf("peer %s missing", l.Addr)
			continue
		}
		p := got[i]
		if p.RemoteAS != l.RemoteAS {
			t.Errorf("peer %s AS %d, LibreNMS %d", l.Addr, p.RemoteAS, l.RemoteAS)
		}
		if localAS != "" && strconv.FormatUint(uint64(p.LocalAS), 10) != localAS {
			t.Errorf("peer %s local AS %d, recording %s", l.Addr, p.LocalAS, localAS)
		}
		j := slices.IndexFunc(poll, func(x lnmsBGPPeer) bool { return x.Addr == l.Addr })
		if j < 0 {
			t.Errorf("peer %s: not in LibreNMS's poller section", l.Addr)
			continue
		}
		if lp := poll[j]; p.State != lp.State || p.AdminStatus != lp.AdminStatus || p.EstablishedSeconds != lp.Established {
			t.Errorf("peer %s: state %s admin %s up %ds; LibreNMS %s %s %ds",
				l.Addr, p.State, p.AdminStatus, p.EstablishedSeconds, lp.State, lp.AdminStatus, lp.Established)
		}
	}
}

// readLibreNMSBGP returns the bgp-peers sections of a LibreNMS dump, peers
// listed once (LibreNMS repeats a peer per VRF it appears in); ok is false
// when the dump has none.
func readLibreNMSBGP(t *testing.T, path string) (disc, poll []lnmsBGPPeer, ok bool) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		BGP *struct {
			Discovery struct {
				Peers []lnmsBGPPeer `json:"bgpPeers"`
			} `json:"discovery"`
			Poller json.RawMessage `json:"poller"` // an object, or "matches discovery"
		} `json:"bgp-peers"`
	}
	if err := json.Unmarshal(raw, &dump); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if dump.BGP == nil || len(dump.BGP.Discovery.Peers) == 0 {
		return nil, nil, false
	}
	disc = uniquePeers(dump.BGP.Discovery.Peers)
	poll = disc
	if p := dump.BGP.Poller; len(p) > 0 && p[0] == '{' {
		var pp struct {
			Peers []lnmsBGPPeer `json:"bgpPeers"`
		}
		if err := json.Unmarshal(p, &pp); err != nil {
			t.Fatalf("%s bgp-peers.poller: %v", path, err)
		}
		poll = uniquePeers(pp.Peers)
	}
	return disc, poll, true
}

func uniquePeers(ps []lnmsBGPPeer) []lnmsBGPPeer {
	var out []lnmsBGPPeer
	for _, p := range ps {
		if !slices.ContainsFunc(out, func(q lnmsBGPPeer) bool { return q.Addr == p.Addr }) {
			out = append(out, p)
		}
	}
	return out
}

// pollRecording serves one recording and polls it once.
func pollRecording(ctx context.Context, t *testing.T, sim *snmpsim.Simulator, dir, name string) *Snapshot {
	t.Helper()
	info, err := sim.AddRecording(ctx, filepath.Join(dir, "snmpsim", name+".snmprec"), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	target := fmt.Sprintf("%s:%d", info.Address, info.Port)
	cred := inventory.Credential{Name: "bgp", Version: "2c", Community: info.Community}
	snap := Poll(pctx, target, cred, PollOptions{Session: SessionOptions{Timeout: 2 * time.Second, Retries: 1}})
	if !snap.Reachable || len(snap.Errors) > 0 {
		t.Fatalf("poll %s: reachable %v errors %v", name, snap.Reachable, snap.Errors)
	}
	return snap
}

// snmprecScalar returns the value a recording holds for oid, or "".
func snmprecScalar(t *testing.T, path, oid string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), oid+"|")
		if !ok {
			continue
		}
		if _, v, ok := strings.Cut(rest, "|"); ok {
			return v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ""
}
