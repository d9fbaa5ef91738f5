package topology

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nocagent/nocagent/collector/snmpsim"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func TestMatch(t *testing.T) {
	devs := []Device{
		{Name: "core-1", SysName: "CORE-1.example.net", ChassisIDs: []string{"00:1e:f7:aa:bb:00"}, Addresses: []string{"10.0.0.1:161"}},
		{Name: "dist-1", SysName: "dist-1", ChassisIDs: []string{"001e.f7aa.bb40"}, Addresses: []string{"10.0.0.2"}},
		{Name: "fw", SysName: "10.0.0.9", Addresses: []string{"[2001:db8::9]:1161"}},
		// Two devices announce the same sysName: a name alone cannot tell
		// them apart.
		{Name: "twin-a", SysName: "switch"},
		{Name: "twin-b", SysName: "switch"},
		{Name: "inv-only", SysName: ""},
	}
	tests := []struct {
		name string
		n    Neighbor
		want string
	}{
		{"chassis MAC, other notation", Neighbor{RemoteChassisID: "00-1E-F7-AA-BB-00"}, "core-1"},
		{"chassis MAC, dotted", Neighbor{RemoteChassisID: "001e.f7aa.bb00"}, "core-1"},
		{"chassis beats a wrong name", Neighbor{RemoteName: "core-1", RemoteChassisID: "00:1e:f7:aa:bb:40"}, "dist-1"},
		{"address", Neighbor{RemoteName: "unknown", RemoteAddress: "10.0.0.2"}, "dist-1"},
		{"address in chassis ID", Neighbor{RemoteChassisID: "10.0.0.1"}, "core-1"},
		{"v6 address, device polled on a port", Neighbor{RemoteAddress: "2001:db8:0::9"}, "fw"},
		{"sysName, case-insensitive", Neighbor{RemoteName: "core-1.EXAMPLE.net"}, "core-1"},
		{"sysName without domain", Neighbor{RemoteName: "core-1"}, "core-1"},
		{"neighbour adds a domain", Neighbor{RemoteName: "dist-1.example.net"}, "dist-1"},
		{"CDP device ID with serial", Neighbor{Protocol: "cdp", RemoteName: "dist-1.example.net(FOC1234X0AB)"}, "dist-1"},
		{"IP as sysName is not cut at the dot", Neighbor{RemoteName: "10.0.0.9"}, "fw"},
		{"IP prefix is no match", Neighbor{RemoteName: "10"}, ""},
		{"inventory name when sysName unknown", Neighbor{RemoteName: "INV-ONLY"}, "inv-only"},
		{"ambiguous sysName", Neighbor{RemoteName: "switch"}, ""},
		{"unknown everything", Neighbor{RemoteName: "phone-1234", RemoteChassisID: "00:11:22:33:44:55", RemoteAddress: "192.0.2.7"}, ""},
		{"zero MAC matches nothing", Neighbor{RemoteChassisID: "00:00:00:00:00:00"}, ""},
		{"empty", Neighbor{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(devs, tt.n); got != tt.want {
				t.Errorf("Match(%+v) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestSamePort(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"Gi1/0/1", "GigabitEthernet1/0/1", true},
		{"TwentyFiveGigE1/0/1", "Twe1/0/1", true},
		{"Te1/0/1", "TwentyFiveGigE1/0/1", false},
		{"Eth1/1", "Ethernet1/1", true},
		{"Gi1/0/1", "Gi1/0/2", false},
		{"1/1/1", "1/1/1", true},
		{"port1", "PORT1", true},
		{"", "", false},
		{"g1", "gi1", false}, // one letter says too little
	}
	for _, tt := range tests {
		if got := samePort(tt.a, tt.b); got != tt.want {
			t.Errorf("samePort(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// demoDevices turns the snmpsim demo network into matcher input, as the
// agent would from polls: each side sees the other over LLDP on every
// cabled port. keepUpstream decides which configured upstreams survive.
func demoDevices(t *testing.T, keepUpstream func(snmpsim.DemoDevice) bool) ([]Device, []snmpsim.DemoDevice) {
	t.Helper()
	demo := snmpsim.DemoNetwork()
	byName := map[string]snmpsim.DemoDevice{}
	for _, d := range demo {
		byName[d.Name] = d
	}
	var devs []Device
	for _, d := range demo {
		dev := Device{Name: d.Name, SysName: d.Name}
		if keepUpstream(d) {
			dev.Upstream = d.Upstream
		}
		for _, p := range d.Ports {
			if p.Peer == "" {
				continue
			}
			peer := byName[p.Peer]
			rp := peer.Ports[slices.IndexFunc(peer.Ports, func(q snmpsim.DemoPort) bool { return q.IfIndex == p.PeerIfIndex })]
			dev.Neighbors = append(dev.Neighbors, Neighbor{Protocol: "lldp", LocalPort: p.Name, RemoteName: peer.Name, RemotePort: rp.Name})
		}
		devs = append(devs, dev)
	}
	return devs, demo
}

func TestBuildDemo(t *testing.T) {
	roots := map[string]bool{"acme-core-1": true, "globex-edge-1": true}
	tests := []struct {
		name     string
		keep     func(snmpsim.DemoDevice) bool
		markRoot bool
		// wantUpstream says whether each device should end with its demo
		// upstream; otherwise with none.
		wantUpstream bool
	}{
		{"configured upstream", func(snmpsim.DemoDevice) bool { return true }, false, true},
		// Only the roots are known: LLDP alone must rebuild every upstream.
		{"learned only, roots marked", func(snmpsim.DemoDevice) bool { return false }, true, true},
		// Nothing configured, nothing marked: every device is a root and
		// LLDP cannot tell which way a link points.
		{"learned only, no roots", func(snmpsim.DemoDevice) bool { return false }, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			devs, demo := demoDevices(t, tt.keep)
			for i := range devs {
				devs[i].Root = tt.markRoot && roots[devs[i].Name]
			}
			g := Build(devs)
			for _, d := range demo {
				var want []string
				if tt.wantUpstream {
					want = d.Upstream
				}
				if got := g.Upstream(d.Name); !slices.Equal(got, want) {
					t.Errorf("Upstream(%s) = %v, want %v", d.Name, got, want)
				}
			}
			// Both ends report every link; the graph holds it once.
			cabled := 0
			for _, d := range demo {
				cabled += len(d.Upstream)
			}
			n := 0
			for _, d := range demo {
				n += len(g.Links(d.Name))
			}
			if n != 2*cabled {
				t.Errorf("links seen from both ends = %d, want %d", n, 2*cabled)
			}
		})
	}
}

func TestDemoViewGolden(t *testing.T) {
	devs, _ := demoDevices(t, func(d snmpsim.DemoDevice) bool { return d.Name != "acme-acc-3" })
	// An IP phone and a device of another customer are not in the
	// inventory: they stay listed, unmatched.
	for i := range devs {
		// Unmarked, acme-acc-3 would be a root like every device without
		// a configured upstream.
		devs[i].Root = devs[i].Name == "acme-core-1" || devs[i].Name == "globex-edge-1"
		if devs[i].Name == "acme-acc-1" {
			devs[i].Neighbors = append(devs[i].Neighbors,
				Neighbor{Protocol: "lldp", LocalPort: "Gi1/0/5", RemoteName: "SEP001122334455", RemotePort: "Port 1", RemoteChassisID: "00:11:22:33:44:55"},
				Neighbor{Protocol: "cdp", LocalPort: "Gi1/0/6", RemoteName: "lab-router(FTX123)", RemotePort: "GigabitEthernet0/0", RemoteAddress: "192.0.2.1"})
		}
	}
	b, err := json.MarshalIndent(Build(devs).View(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	golden := filepath.Join("testdata", "demo_view.golden")
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./topology -run Golden -update)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("topology view differs from %s (rerun with -update if intended):\n%s", golden, b)
	}
	// acme-acc-3 lost its configured upstream and got it back from LLDP.
	var v View
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(v.Devices, func(d DeviceView) bool { return d.Name == "acme-acc-3" })
	if i < 0 || !slices.Equal(v.Devices[i].Upstream, []string{"acme-dist-2"}) {
		t.Errorf("acme-acc-3 view = %+v, want upstream [acme-dist-2] from LLDP", v.Devices[i])
	}
}

func TestBuildCombinesUpstream(t *testing.T) {
	lldp := func(local, remote, rport string) Neighbor {
		return Neighbor{Protocol: "lldp", LocalPort: local, RemoteName: remote, RemotePort: rport}
	}
	tests := []struct {
		name string
		devs []Device
		want map[string][]string
	}{
		{
			name: "dual-homed: configured one, LLDP adds the second",
			devs: []Device{
				{Name: "core"},
				{Name: "d1", Upstream: []string{"core"}},
				{Name: "d2", Upstream: []string{"core"}},
				{Name: "acc", Upstream: []string{"d1"}, Neighbors: []Neighbor{lldp("Gi1", "d1", "Gi9"), lldp("Gi2", "d2", "Gi9")}},
			},
			want: map[string][]string{"core": nil, "d1": {"core"}, "d2": {"core"}, "acc": {"d1", "d2"}},
		},
		{
			name: "a link between peers at the same distance is no upstream",
			devs: []Device{
				{Name: "core"},
				{Name: "d1", Upstream: []string{"core"}, Neighbors: []Neighbor{lldp("Gi1", "d2", "Gi1")}},
				{Name: "d2", Upstream: []string{"core"}},
			},
			want: map[string][]string{"core": nil, "d1": {"core"}, "d2": {"core"}},
		},
		{
			name: "learned from the far side only",
			devs: []Device{
				{Name: "core", Root: true, Neighbors: []Neighbor{lldp("Te1", "dist", "Te9")}},
				{Name: "dist"},
				{Name: "island"}, // no link, no upstream, not a root
			},
			want: map[string][]string{"core": nil, "dist": {"core"}, "island": nil},
		},
		{
			name: "a marked root's configured upstream is kept and not reversed",
			devs: []Device{
				{Name: "a", Root: true, Upstream: []string{"b"}, Neighbors: []Neighbor{lldp("p1", "b", "p2")}},
				{Name: "b"},
			},
			want: map[string][]string{"a": {"b"}, "b": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := Build(tt.devs)
			for name, want := range tt.want {
				if got := g.Upstream(name); !slices.Equal(got, want) {
					t.Errorf("Upstream(%s) = %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestBuildDeduplicatesLinks(t *testing.T) {
	devs := []Device{
		{Name: "a", Neighbors: []Neighbor{
			{Protocol: "lldp", LocalPort: "Gi1/0/1", RemoteName: "b", RemotePort: "Te1/1"},
			{Protocol: "cdp", LocalPort: "Gi1/0/1", RemoteName: "b", RemotePort: "TenGigabitEthernet1/1"},
			{Protocol: "lldp", LocalPort: "Gi1/0/2", RemoteName: "b", RemotePort: "Te1/2"},
		}},
		{Name: "b", Upstream: []string{"a"}, Neighbors: []Neighbor{
			{Protocol: "lldp", LocalPort: "Te1/1", RemoteName: "a", RemotePort: "GigabitEthernet1/0/1"},
			{Protocol: "lldp", LocalPort: "Te1/2", RemoteName: "a", RemotePort: "GigabitEthernet1/0/2"},
			// A neighbour that is the device itself (a looped cable) is
			// listed but makes no link.
			{Protocol: "lldp", LocalPort: "Te1/3", RemoteName: "b", RemotePort: "Te1/4"},
		}},
	}
	g := Build(devs)
	got := g.Links("a")
	want := []Link{
		{A: "a", B: "b", APort: "Gi1/0/1", BPort: "Te1/1", Protocol: "lldp"},
		{A: "a", B: "b", APort: "Gi1/0/2", BPort: "Te1/2", Protocol: "lldp"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Links(a) = %+v\nwant %+v", got, want)
	}
	v := g.View()
	if n := len(v.Devices[1].Neighbors); n != 3 || v.Devices[1].Neighbors[2].Device != "b" {
		t.Errorf("b's neighbours = %+v, want all three listed", v.Devices[1].Neighbors)
	}
}

func TestViewOfNewGraph(t *testing.T) {
	v := testGraph().View()
	b, _ := json.Marshal(v.Devices[0])
	if string(b) != `{"name":"acc1","upstream":["dist1"],"neighbors":[{"protocol":"lldp","local_port":"Gi1/0/49","device":"dist1","remote_name":"dist1","remote_port":"Gi1/0/1"}]}` {
		t.Errorf("view of acc1 = %s", b)
	}
	b, _ = json.Marshal(v.Devices[len(v.Devices)-1])
	if string(b) != `{"name":"orphan","upstream":[],"neighbors":[]}` {
		t.Errorf("view of orphan = %s (lists must be empty, not null)", b)
	}
}
