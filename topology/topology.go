// Package topology is the device graph: which device sits behind which, from
// configured upstreams and learned LLDP/CDP links. It is pure: it answers
// questions about a graph it is given and does no I/O.
package topology

import (
	"slices"
	"sort"
)

// Node is one device and the devices it reaches the agent through.
type Node struct {
	Name     string
	Upstream []string
}

// Link is a physical adjacency learned from LLDP or CDP.
type Link struct {
	A, B     string // device names
	APort    string
	BPort    string
	Protocol string
}

// Graph is an immutable view of the network. Build a new one when the
// inventory or the learned links change.
type Graph struct {
	up    map[string][]string
	down  map[string][]string // reverse of up
	links map[string][]Link
	order []string // every node, sorted
	// neighbors holds every learned neighbour, matched or not, when the
	// graph was made by Build.
	neighbors map[string][]NeighborView
}

// New builds a graph. Upstreams naming unknown devices are ignored: the
// inventory validates references, and learned links may name devices we do
// not poll.
func New(nodes []Node, links []Link) *Graph {
	g := &Graph{up: map[string][]string{}, down: map[string][]string{}, links: map[string][]Link{}}
	known := map[string]bool{}
	for _, n := range nodes {
		known[n.Name] = true
		g.order = append(g.order, n.Name)
	}
	sort.Strings(g.order)
	for _, n := range nodes {
		for _, u := range n.Upstream {
			if !known[u] || u == n.Name {
				continue
			}
			g.up[n.Name] = append(g.up[n.Name], u)
			g.down[u] = append(g.down[u], n.Name)
		}
	}
	for _, l := range links {
		g.links[l.A] = append(g.links[l.A], l)
		g.links[l.B] = append(g.links[l.B], Link{A: l.B, B: l.A, APort: l.BPort, BPort: l.APort, Protocol: l.Protocol})
	}
	return g
}

// Upstream returns the upstream devices of name: configured ones first,
// then, for a graph made by Build, those learned from LLDP/CDP.
func (g *Graph) Upstream(name string) []string { return slices.Clone(g.up[name]) }

// Links returns the learned links of name, with name always on side A.
func (g *Graph) Links(name string) []Link { return slices.Clone(g.links[name]) }

// CutOff returns the devices that lose every path toward the agent when all
// of the given devices are down, sorted, excluding the given devices. A
// device with several upstreams is cut off only when all of them are.
func (g *Graph) CutOff(down ...string) []string {
	lost := map[string]bool{}
	for _, d := range down {
		lost[d] = true
	}
	// Fixpoint over a DAG (the inventory rejects cycles); bounded by the node
	// count so a cycle in learned data cannot loop forever.
	for range len(g.order) + 1 {
		changed := false
		for _, n := range g.order {
			ups := g.up[n]
			if lost[n] || len(ups) == 0 {
				continue
			}
			all := true
			for _, u := range ups {
				if !lost[u] {
					all = false
					break
				}
			}
			if all {
				lost[n] = true
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	var out []string
	for _, n := range g.order {
		if lost[n] && !slices.Contains(down, n) {
			out = append(out, n)
		}
	}
	return out
}

// Downstream returns the devices cut off when name alone is down.
func (g *Graph) Downstream(name string) []string { return g.CutOff(name) }

// Unreachable reports whether every upstream path of name runs through a
// device in down: its silence is explained by a fault elsewhere.
func (g *Graph) Unreachable(name string, down []string) bool {
	return slices.Contains(g.CutOff(down...), name)
}
