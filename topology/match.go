package topology

import (
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
)

// Device is one inventory device as the matcher sees it: how its
// neighbours may name it, what is configured about it and what it learned.
// The agent fills it from the inventory and the device's latest snapshot.
type Device struct {
	Name string // inventory name
	// SysName is the device's sysName; neighbours usually announce it.
	SysName string
	// ChassisIDs are the LLDP local chassis ID and interface MACs: what a
	// neighbour's lldpRemChassisId may hold. Any notation (aa:bb:..,
	// aabb.cc.., AA-BB-..) is accepted.
	ChassisIDs []string
	// Addresses are management addresses: the polled address (host or
	// host:port) and any other address neighbours may announce.
	Addresses []string
	// Upstream is the configured upstream.
	Upstream []string
	// Root marks a device known to be closest to the agent. When no device
	// is marked, the devices without a configured upstream are the roots.
	Root bool
	// Neighbors are what LLDP and CDP on this device learned.
	Neighbors []Neighbor
}

// Neighbor is one link partner a device learned from LLDP or CDP.
type Neighbor struct {
	Protocol        string // lldp | cdp
	LocalPort       string
	RemoteName      string // sysName (LLDP) or device ID (CDP)
	RemotePort      string
	RemoteChassisID string
	RemoteAddress   string
}

// View is the body of GET /api/v1/topology.
type View struct {
	Devices []DeviceView `json:"devices"`
}

// DeviceView is one device of View. Lists are empty, never null.
type DeviceView struct {
	Name      string         `json:"name"`
	Upstream  []string       `json:"upstream"`
	Neighbors []NeighborView `json:"neighbors"`
}

// NeighborView is one learned neighbour; Device is the inventory device it
// was matched to, "" when none.
type NeighborView struct {
	Protocol   string `json:"protocol"`
	LocalPort  string `json:"local_port"`
	Device     string `json:"device"`
	RemoteName string `json:"remote_name"`
	RemotePort string `json:"remote_port"`
}

// Build matches every device's neighbours to inventory devices and returns
// the graph: links between matched devices, and for each device its
// configured upstream plus the linked devices one hop nearer to a root.
func Build(devs []Device) *Graph {
	idx := newIdentityIndex(devs)
	views := make(map[string][]NeighborView, len(devs))
	var links []Link
	for _, d := range devs {
		nv := make([]NeighborView, 0, len(d.Neighbors))
		for _, n := range d.Neighbors {
			m := idx.match(n)
			nv = append(nv, NeighborView{Protocol: n.Protocol, LocalPort: n.LocalPort, Device: m, RemoteName: n.RemoteName, RemotePort: n.RemotePort})
			if m != "" && m != d.Name {
				links = addLink(links, Link{A: d.Name, B: m, APort: n.LocalPort, BPort: n.RemotePort, Protocol: n.Protocol})
			}
		}
		views[d.Name] = nv
	}
	nodes := make([]Node, len(devs))
	for i, d := range devs {
		nodes[i] = Node{Name: d.Name, Upstream: d.Upstream}
	}
	for i, ups := range learnedUpstream(devs, links) {
		nodes[i].Upstream = mergeUpstream(nodes, i, ups)
	}
	g := New(nodes, links)
	g.neighbors = views
	return g
}

// Match returns the inventory device a neighbour entry names, "" when none
// or when the entry fits several devices equally.
func Match(devs []Device, n Neighbor) string { return newIdentityIndex(devs).match(n) }

// identityIndex maps each way a neighbour may name a device to the device.
// A key shared by two devices is ambiguous and maps to "".
type identityIndex struct {
	chassis, addr, sysName, shortName, invName map[string]string
}

func newIdentityIndex(devs []Device) identityIndex {
	ix := identityIndex{map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}}
	put := func(m map[string]string, k, name string) {
		if k == "" {
			return
		}
		if prev, ok := m[k]; ok && prev != name {
			m[k] = ""
			return
		}
		m[k] = name
	}
	for _, d := range devs {
		for _, c := range d.ChassisIDs {
			put(ix.chassis, chassisKey(c), d.Name)
		}
		for _, a := range d.Addresses {
			put(ix.addr, addrKey(a), d.Name)
		}
		put(ix.sysName, nameKey(d.SysName), d.Name)
		put(ix.shortName, shortKey(d.SysName), d.Name)
		put(ix.invName, nameKey(d.Name), d.Name)
		put(ix.invName, shortKey(d.Name), d.Name)
	}
	return ix
}

// match tries the most specific identity first: a chassis MAC is unique
// per box, an address nearly so, names are typed by people.
func (ix identityIndex) match(n Neighbor) string {
	name := cleanRemoteName(n.RemoteName)
	for _, try := range []struct {
		m map[string]string
		k string
	}{
		{ix.chassis, chassisKey(n.RemoteChassisID)},
		{ix.addr, addrKey(n.RemoteAddress)},
		// LLDP agents often put the management address in the chassis ID.
		{ix.addr, addrKey(n.RemoteChassisID)},
		{ix.sysName, nameKey(name)},
		{ix.shortName, shortKey(name)},
		{ix.invName, nameKey(name)},
		{ix.invName, shortKey(name)},
	} {
		if try.k == "" {
			continue
		}
		if d, ok := try.m[try.k]; ok {
			return d // "" when ambiguous: a weaker key would only guess
		}
	}
	return ""
}

// cleanRemoteName drops what CDP appends to a device ID: NX-OS and some
// IOS versions announce "name(SERIAL)".
func cleanRemoteName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func nameKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// shortKey is the name without its domain; IP addresses are left whole.
func shortKey(s string) string {
	s = nameKey(s)
	if s == "" {
		return ""
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return s
	}
	if i := strings.IndexByte(s, '.'); i > 0 {
		return s[:i]
	}
	return s
}

// chassisKey normalises a MAC in any common notation to 12 lower-case hex
// digits; other chassis IDs (local names, addresses) are compared as
// lower-case text.
func chassisKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	hex := strings.Map(func(r rune) rune {
		switch r {
		case ':', '.', '-', ' ':
			return -1
		}
		return r
	}, s)
	if len(hex) == 12 && strings.Trim(hex, "0123456789abcdef") == "" {
		if hex == "000000000000" {
			return ""
		}
		return hex
	}
	return s
}

// addrKey returns the canonical IP of host, host:port or [v6]:port, "" when
// it is not an IP address.
func addrKey(s string) string {
	s = strings.TrimSpace(s)
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil || a.IsUnspecified() {
		return ""
	}
	return a.Unmap().WithZone("").String()
}

// addLink adds l unless the far end already reported the same link: each
// side names its own port reliably and the other's in whatever form LLDP
// or CDP carried, so ports are compared loosely.
func addLink(links []Link, l Link) []Link {
	for i, e := range links {
		switch {
		case e.A == l.A && e.B == l.B && samePort(e.APort, l.APort) && samePort(e.BPort, l.BPort):
			return links
		case e.A == l.B && e.B == l.A && (samePort(e.APort, l.BPort) || samePort(e.BPort, l.APort)):
			// The reverse report: keep each side's own name for its port.
			links[i].BPort = l.APort
			return links
		}
	}
	return append(links, l)
}

// samePort compares interface names, allowing the usual abbreviations
// ("Gi1/0/1" and "GigabitEthernet1/0/1").
func samePort(a, b string) bool {
	a, b = strings.ToLower(strings.ReplaceAll(a, " ", "")), strings.ToLower(strings.ReplaceAll(b, " ", ""))
	if a == b {
		return a != ""
	}
	pa, ra := splitPortName(a)
	pb, rb := splitPortName(b)
	if ra == "" || ra != rb || len(pa) < 2 || len(pb) < 2 {
		return false
	}
	return strings.HasPrefix(pa, pb) || strings.HasPrefix(pb, pa)
}

// splitPortName splits "gigabitethernet1/0/1" into "gigabitethernet" and
// "1/0/1".
func splitPortName(s string) (prefix, rest string) {
	i := strings.IndexAny(s, "0123456789")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// learnedUpstream returns, per device (same order as devs), the devices one
// hop nearer to a root over links and configured upstreams, found by a
// breadth-first search from the roots.
func learnedUpstream(devs []Device, links []Link) [][]string {
	pos := make(map[string]int, len(devs))
	for i, d := range devs {
		if _, dup := pos[d.Name]; !dup {
			pos[d.Name] = i
		}
	}
	adj := make([][]int, len(devs))
	connect := func(a, b int) {
		if a != b && !slices.Contains(adj[a], b) {
			adj[a] = append(adj[a], b)
			adj[b] = append(adj[b], a)
		}
	}
	for _, l := range links {
		connect(pos[l.A], pos[l.B])
	}
	for i, d := range devs {
		for _, u := range d.Upstream {
			if j, ok := pos[u]; ok {
				connect(i, j)
			}
		}
	}
	marked := slices.ContainsFunc(devs, func(d Device) bool { return d.Root })
	dist := make([]int, len(devs))
	var queue []int
	for i, d := range devs {
		dist[i] = -1
		if (marked && d.Root) || (!marked && len(d.Upstream) == 0) {
			dist[i] = 0
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, j := range adj[i] {
			if dist[j] < 0 {
				dist[j] = dist[i] + 1
				queue = append(queue, j)
			}
		}
	}
	out := make([][]string, len(devs))
	for _, l := range links {
		a, b := pos[l.A], pos[l.B]
		switch {
		case dist[a] > 0 && dist[b] == dist[a]-1:
			out[a] = appendUnique(out[a], l.B)
		case dist[b] > 0 && dist[a] == dist[b]-1:
			out[b] = appendUnique(out[b], l.A)
		}
	}
	for i := range out {
		sort.Strings(out[i])
	}
	return out
}

// mergeUpstream adds learned upstreams of nodes[i] after its configured
// ones, skipping any that would close a loop with the configured graph (a
// root marked by hand may have a configured upstream).
func mergeUpstream(nodes []Node, i int, learned []string) []string {
	ups := slices.Clone(nodes[i].Upstream)
	for _, u := range learned {
		if slices.Contains(ups, u) || reaches(nodes, u, nodes[i].Name) {
			continue
		}
		ups = append(ups, u)
	}
	return ups
}

// reaches reports whether to is on an upstream path from from.
func reaches(nodes []Node, from, to string) bool {
	up := make(map[string][]string, len(nodes))
	for _, n := range nodes {
		up[n.Name] = n.Upstream
	}
	seen := map[string]bool{}
	stack := []string{from}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == to {
			return true
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		stack = append(stack, up[n]...)
	}
	return false
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// View returns the graph as GET /api/v1/topology serves it, devices sorted
// by name. A graph made by New, without neighbour tables, shows its links
// as neighbours.
func (g *Graph) View() View {
	v := View{Devices: make([]DeviceView, 0, len(g.order))}
	for _, name := range g.order {
		dv := DeviceView{Name: name, Upstream: g.Upstream(name), Neighbors: slices.Clone(g.neighbors[name])}
		if dv.Upstream == nil {
			dv.Upstream = []string{}
		}
		if dv.Neighbors == nil {
			dv.Neighbors = []NeighborView{}
			for _, l := range g.links[name] {
				dv.Neighbors = append(dv.Neighbors, NeighborView{Protocol: l.Protocol, LocalPort: l.APort, Device: l.B, RemoteName: l.B, RemotePort: l.BPort})
			}
		}
		v.Devices = append(v.Devices, dv)
	}
	return v
}
