package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/internal/testenv"
	"github.com/nocagent/nocagent/inventory"
)

func TestDiscoverTargets(t *testing.T) {
	tests := []struct {
		ranges      []string
		first, last string
		n           int
		err         string
	}{
		{ranges: []string{"127.0.0.0/29"}, first: "127.0.0.1", last: "127.0.0.6", n: 6},
		{ranges: []string{"127.0.0.5"}, first: "127.0.0.5", last: "127.0.0.5", n: 1},
		{ranges: []string{"127.0.0.4/31"}, first: "127.0.0.4", last: "127.0.0.5", n: 2},
		{ranges: []string{"127.0.0.0/30", "127.0.0.2", "127.0.0.1/32"}, first: "127.0.0.1", last: "127.0.0.2", n: 2},
		{ranges: []string{"127.0.0.9/29"}, first: "127.0.0.9", last: "127.0.0.14", n: 6}, // host bits masked
		{ranges: []string{"::1"}, first: "::1", last: "::1", n: 1},
		{ranges: []string{"::1/128"}, first: "::1", last: "::1", n: 1},
		{ranges: []string{"::ffff:127.0.0.1"}, first: "127.0.0.1", last: "127.0.0.1", n: 1},
		{ranges: []string{"127.1.0.0/16"}, first: "127.1.0.1", last: "127.1.255.254", n: 65534},
		{ranges: []string{"10.0.0.0/24"}, err: "10.0.0.0/24 is not a loopback range"},
		{ranges: []string{"127.0.0.0/29", "192.0.2.1"}, err: "192.0.2.1 is not a loopback range"},
		{ranges: []string{"0.0.0.0/0"}, err: "not a loopback range"},
		{ranges: []string{"::1/127"}, err: "::1/127 is not a loopback range"},
		{ranges: []string{"127.0.0.0/8"}, err: "more than the limit of 65536"},
		{ranges: []string{"127.1.0.0/16", "127.2.0.0/30"}, err: "127.2.0.0/30 would make 65538 addresses"},
		{ranges: []string{"127.0.0.1/33"}, err: `"127.0.0.1/33": want a CIDR prefix`},
		{ranges: []string{"localhost"}, err: `"localhost": want a CIDR prefix`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.ranges, ","), func(t *testing.T) {
			got, err := DiscoverTargets(tt.ranges, false, 0)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrRange) {
					t.Fatalf("err = %v, want ErrRange with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.n || got[0].String() != tt.first || got[len(got)-1].String() != tt.last {
				t.Errorf("got %d addresses %v..%v, want %d %s..%s", len(got), got[0], got[len(got)-1], tt.n, tt.first, tt.last)
			}
		})
	}
}

func TestGuessRole(t *testing.T) {
	tests := []struct {
		vendor, os, descr string
		services          int
		want              string
	}{
		{"fortinet", "fortios", "FortiGate-100F v7.2.8", 0, "firewall"},
		{"cisco", "asa", "Cisco Adaptive Security Appliance Version 9.16", 0, "firewall"},
		{"juniper", "junos", "Juniper Networks, Inc. srx240h internet router", 0, "firewall"},
		{"juniper", "junos", "Juniper Networks, Inc. mx204 internet router, kernel JUNOS 21.4R3", 0, "edge"},
		{"juniper", "junos", "Juniper Networks, Inc. qfx5100-48s-6q Ethernet Switch", 0, "access"},
		{"cisco", "iosxr", "Cisco IOS XR Software (Cisco ASR9K Series)", 0, "edge"},
		{"cisco", "iosxe", "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE)", 6, "access"},
		{"aruba", "arubaos-cx", "Aruba JL679A 6100 12G CL4 2SFP+ Swch PL.10.13.1005", 0, "access"},
		{"mikrotik", "routeros", "RouterOS RB750Gr3", 0, "edge"},
		{"", "linux", "Linux gw 5.10", 4, "edge"},     // routes, does not bridge
		{"", "linux", "Linux box 5.10", 72, "access"}, // an application host: nothing better to say
		{"", "", "", 0, "access"},
	}
	for _, tt := range tests {
		if got := GuessRole(tt.vendor, tt.os, tt.descr, tt.services); got != tt.want {
			t.Errorf("GuessRole(%q, %q, %q, %d) = %q, want %q", tt.vendor, tt.os, tt.descr, tt.services, got, tt.want)
		}
	}
}

const mergeBase = `# Customer ACME
agent:
  listen: 127.0.0.1:9310
credentials:
  - name: lab
    version: 2c
    community: public
devices:
  # the core switch
  - name: core-1
    address: 127.0.0.2:16161
    credential: lab
    role: core
  - name: fw
    address: 127.0.0.9
    credential: lab
    role: firewall
`

func TestMergeInventory(t *testing.T) {
	found := []Discovered{
		{Address: "127.0.0.2:16161", SysName: "core-1", Role: "access"},                                                                      // same address: kept as is
		{Address: "127.0.0.3:16161", SysName: "FW.example.net", Vendor: "fortinet", Model: "FGT_60F", Serial: "FGT60FTK1", Role: "firewall"}, // name taken (case-insensitive)
		{Address: "127.0.0.5:16161", SysName: "<private>", Vendor: "cisco", Role: "edge"},
		{Address: "127.0.0.6:16161", SysName: "", Role: "access"},
		{Address: "127.0.0.9:161", SysName: "other", Role: "access"}, // 127.0.0.9 is 127.0.0.9:161
	}
	out, added, err := MergeInventory([]byte(mergeBase), found, "lab")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range added {
		names = append(names, d.Name)
	}
	if want := []string{"FW-127-0-0-3-16161", "private", "dev-127-0-0-6-16161"}; !slices.Equal(names, want) {
		t.Errorf("added %v, want %v", names, want)
	}
	for _, s := range []string{"# Customer ACME", "# the core switch", "# discovered: fortinet, FGT_60F, serial FGT60FTK1, role guessed: firewall"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("merged file lacks %q:\n%s", s, out)
		}
	}
	cfg, err := inventory.Parse("merged.yaml", out)
	if err != nil {
		t.Fatalf("merged file does not load: %v\n%s", err, out)
	}
	if len(cfg.Devices) != 5 || cfg.Devices[0].Role != "core" || cfg.Devices[2].Address != "127.0.0.3:16161" || cfg.Devices[2].Role != "firewall" {
		t.Errorf("devices = %+v", cfg.Devices)
	}
	// Merging the same scan again changes nothing.
	again, added, err := MergeInventory(out, found, "lab")
	if err != nil || len(added) != 0 || string(again) != string(out) {
		t.Errorf("second merge: added %v, err %v, changed %v", added, err, string(again) != string(out))
	}
	// No file yet: a devices-only fragment.
	frag, added, err := MergeInventory(nil, found[2:3], "lab")
	if err != nil || len(added) != 1 || !strings.HasPrefix(string(frag), "devices:\n  # discovered: cisco, role guessed: edge\n  - name: private\n") {
		t.Errorf("fragment (err %v):\n%s", err, frag)
	}
	for _, bad := range []string{"- a\n- b\n", "devices: 3\n", "devices: [\n"} {
		if _, _, err := MergeInventory([]byte(bad), found, "lab"); err == nil {
			t.Errorf("MergeInventory(%q) accepted it", bad)
		}
	}
}

// startSims serves recordings on several loopback addresses, all on one
// port, as real devices would be. The port is taken from the first
// device; a clash on another address retries with a fresh one.
func startSims(t *testing.T, recs map[string]string) uint16 {
	t.Helper()
	dir := filepath.Join(testenv.LibreNMS(t), "snmpsim")
	addrs := make([]string, 0, len(recs))
	for a := range recs {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	ctx := context.Background()
	for range 10 {
		sim := snmpsim.New(snmpsim.Options{})
		info, err := sim.AddRecording(ctx, filepath.Join(dir, recs[addrs[0]]+".snmprec"), addrs[0]+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := info.Port
		ok := true
		for _, a := range addrs[1:] {
			if _, err := sim.AddRecording(ctx, filepath.Join(dir, recs[a]+".snmprec"), fmt.Sprintf("%s:%d", a, port)); err != nil {
				ok = false
				break
			}
		}
		if ok {
			t.Cleanup(func() { sim.Close() })
			return uint16(port)
		}
		sim.Close()
	}
	t.Fatal("no port free on every loopback address after 10 tries")
	return 0
}

// oracleIdentity reads LibreNMS's serial and hardware for a recording.
func oracleIdentity(t *testing.T, name string) (serial, hardware string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.LibreNMS(t), "data", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		OS struct {
			Discovery struct {
				Devices []struct {
					Serial   *string `json:"serial"`
					Hardware string  `json:"hardware"`
				} `json:"devices"`
			} `json:"discovery"`
		} `json:"os"`
	}
	if err := json.Unmarshal(b, &o); err != nil || len(o.OS.Discovery.Devices) == 0 {
		t.Fatalf("%s.json: %v", name, err)
	}
	d := o.OS.Discovery.Devices[0]
	if d.Serial != nil {
		serial = *d.Serial
	}
	return serial, d.Hardware
}

func TestDiscoverLoopback(t *testing.T) {
	port := startSims(t, map[string]string{
		"127.0.0.2": "ios_2960x",
		"127.0.0.3": "fortigate_60fospfv3",
		"127.0.0.5": "iosxr_asr9001",
	})
	var (
		mu    sync.Mutex
		calls [][2]int
	)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	found, err := Discover(ctx, []string{"127.0.0.0/29"}, inventory.Credential{Name: "lab", Version: "2c", Community: "public"}, DiscoverOptions{
		Port: port, Workers: 3, Timeout: 500 * time.Millisecond,
		Progress: func(done, total int) {
			mu.Lock()
			calls = append(calls, [2]int{done, total})
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	iosSerial, iosModel := oracleIdentity(t, "ios_2960x")
	fgSerial, _ := oracleIdentity(t, "fortigate_60fospfv3")
	at := func(host string) string { return netip.AddrPortFrom(netip.MustParseAddr(host), port).String() }
	want := []Discovered{
		{Address: at("127.0.0.2"), Vendor: "cisco", OS: "ios", Model: iosModel, Serial: iosSerial, Role: "access"},
		{Address: at("127.0.0.3"), Vendor: "fortinet", OS: "fortios", Model: "FGT_60F", Serial: fgSerial, Role: "firewall"},
		// LibreNMS records no serial for this ASR 9001, but its chassis
		// row (entPhysicalClass 3, index 24555730) carries one.
		{Address: at("127.0.0.5"), Vendor: "cisco", OS: "iosxr", Model: "ASR-9001", Serial: "FOC1939NDNZ", Role: "edge"},
	}
	if len(found) != len(want) {
		t.Fatalf("found %d devices, want %d: %+v", len(found), len(want), found)
	}
	for i, w := range want {
		g := found[i]
		if g.Address != w.Address || g.Vendor != w.Vendor || g.OS != w.OS || g.Role != w.Role || g.Serial != w.Serial ||
			(w.Model != "" && g.Model != w.Model) || g.SysObjectID == "" || g.SysDescr == "" {
			t.Errorf("found[%d] = %+v\nwant %+v", i, g, w)
		}
	}
	if len(calls) != 6 || calls[5] != [2]int{6, 6} {
		t.Errorf("progress calls = %v, want 1/6 .. 6/6", calls)
	}
	for i, c := range calls {
		if c[0] != i+1 {
			t.Errorf("progress call %d = %v, want done=%d", i, c, i+1)
		}
	}
}

func TestDiscoverRefusesAndStops(t *testing.T) {
	cred := inventory.Credential{Name: "lab", Version: "2c", Community: "public"}
	if _, err := Discover(context.Background(), []string{"192.0.2.0/30"}, cred, DiscoverOptions{}); !errors.Is(err, ErrRange) {
		t.Errorf("non-loopback range: err = %v, want ErrRange", err)
	}
	if _, err := Discover(context.Background(), []string{"127.0.0.1"}, inventory.Credential{Name: "x", Version: "4"}, DiscoverOptions{}); err == nil || !strings.Contains(err.Error(), `credential "x"`) {
		t.Errorf("bad credential: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	found, err := Discover(ctx, []string{"127.0.0.0/24"}, cred, DiscoverOptions{Port: 9})
	if !errors.Is(err, context.Canceled) || len(found) != 0 {
		t.Errorf("cancelled: found %v, err %v", found, err)
	}
}
