package collector

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// PortSpec reads a vendor table of ports that IF-MIB's ifTable leaves out:
// the interfaces of a router's other routing instances (Nokia TiMOS), PON
// and serial ports, a fabric's front ports. A row whose ifIndex or name is
// already an interface is left to IF-MIB. Every column is a table column.
type PortSpec struct {
	// Name is a template ("Serial{index}", "{index.0}/{index.1}"), used
	// when NameColumn has no value for the row.
	Name       string `yaml:"name"`
	NameColumn OID    `yaml:"name_column"`
	InOctets   OID    `yaml:"in_octets"`
	OutOctets  OID    `yaml:"out_octets"`
	// OperStatus is a column with IF-MIB's ifOperStatus values.
	OperStatus OID `yaml:"oper_status"`
	// IfIndexArc is the index arc (from 0) that numbers the port; unset
	// means the last arc. IfIndexOffset is added to it, for agents that
	// number these ports apart from ifTable (1000 + n).
	IfIndexArc    *int `yaml:"if_index_arc"`
	IfIndexOffset int  `yaml:"if_index_offset"`
	// Numbered: the rows are numbered 1, 2, … in index order instead,
	// for tables indexed by board.port.
	Numbered bool `yaml:"numbered"`
	// Replace: the table is the device's port list, and its row replaces
	// an ifTable interface of the same name (an OLT's PON and uplink
	// ports over the Linux interfaces beneath them).
	Replace bool `yaml:"replace"`
	Rows    `yaml:",inline"`
}

// InterfaceName renames interfaces whose name matches: to the name of the
// entity whose entPhysicalIndex is the ifIndex, or by a template on the
// ifIndex's layout, for agents whose ifName is an internal name ("swp00")
// while the faceplate and the CLI say "1/01".
type InterfaceName struct {
	Match *Regexp `yaml:"match"`
	// Entity: entPhysicalName of the entity with the interface's ifIndex.
	Entity bool `yaml:"entity"`
	// Template takes {unit} and {port}: ifIndex = unit × UnitDivisor +
	// port, unit at least 1. PortDigits pads the port with zeros.
	Template    string `yaml:"template"`
	UnitDivisor int    `yaml:"unit_divisor"`
	PortDigits  int    `yaml:"port_digits"`
}

// NeighborSpec reads a vendor table of LLDP neighbours laid out like
// LLDP-MIB's lldpRemTable but elsewhere or with another index (Nokia
// TIMETRA-LLDP-MIB, TP-Link's private LLDP MIB). The local port is an
// ifIndex in the row index.
type NeighborSpec struct {
	// LocalPortArc is the index arc (from 0) holding the local ifIndex.
	LocalPortArc         int `yaml:"local_port_arc"`
	RemoteName           OID `yaml:"remote_name"`
	RemoteDescr          OID `yaml:"remote_descr"`
	RemotePort           OID `yaml:"remote_port"`
	RemotePortSubtype    OID `yaml:"remote_port_subtype"`
	RemoteChassis        OID `yaml:"remote_chassis"`
	RemoteChassisSubtype OID `yaml:"remote_chassis_subtype"`
}

func (p *Profile) validatePorts() error {
	for i, s := range p.Ports {
		if s.NameColumn == "" && s.Name == "" {
			return fmt.Errorf("ports[%d]: needs name_column or name", i)
		}
		if s.NameColumn == "" && s.InOctets == "" && s.OutOctets == "" && s.OperStatus == "" {
			return fmt.Errorf("ports[%d]: needs a column (name_column, in_octets, out_octets or oper_status)", i)
		}
		if err := tableOnly(true, s.Rows); err != nil {
			return fmt.Errorf("ports[%d]: %w", i, err)
		}
	}
	for i, n := range p.InterfaceNames {
		if n.Match == nil {
			return fmt.Errorf("interface_names[%d]: match is required", i)
		}
		if n.Entity == (n.Template != "") {
			return fmt.Errorf("interface_names[%d]: set exactly one of entity and template", i)
		}
		if n.Template != "" && n.UnitDivisor <= 0 {
			return fmt.Errorf("interface_names[%d]: template needs unit_divisor > 0", i)
		}
	}
	for i, n := range p.Neighbors {
		if n.RemoteName == "" && n.RemoteChassis == "" && n.RemotePort == "" {
			return fmt.Errorf("neighbors[%d]: needs remote_name, remote_chassis or remote_port", i)
		}
		if n.LocalPortArc < 0 {
			return errors.New("neighbors: local_port_arc counts from 0")
		}
	}
	return nil
}

// expandIndex fills a template's {index}, {index.N} (arc N) and
// {index.N.text} (a length-prefixed string index from arc N).
func expandIndex(tmpl, idx string) string {
	if !strings.Contains(tmpl, "{index") {
		return tmpl
	}
	arcs, _ := indexArcs(idx, nil)
	var b strings.Builder
	for {
		i := strings.Index(tmpl, "{index")
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		b.WriteString(indexPart(tmpl[i+len("{index"):i+j], idx, arcs))
		tmpl = tmpl[i+j+1:]
	}
}

func indexPart(spec, idx string, arcs []int) string {
	if spec == "" {
		return idx
	}
	n, text := strings.CutSuffix(spec[1:], ".text")
	k, err := strconv.Atoi(n)
	if spec[0] != '.' || err != nil || k < 0 || k >= len(arcs) {
		return ""
	}
	if !text {
		return strconv.Itoa(arcs[k])
	}
	l := arcs[k]
	if l <= 0 || k+1+l > len(arcs) {
		return ""
	}
	b := make([]byte, l)
	for i := range b {
		b[i] = byte(arcs[k+1+i])
	}
	return string(b)
}

// decodeProfilePorts adds the profile's vendor ports that ifTable lacks.
func decodeProfilePorts(p *Profile, d profileData, ifaces []Interface) []Interface {
	if len(p.Ports) == 0 {
		return ifaces
	}
	have := make(map[int]bool, len(ifaces))
	names := make(map[string]int, len(ifaces)) // name → position in ifaces
	for i, it := range ifaces {
		have[it.Index] = true
		names[it.Name] = i
	}
	var arcs []int
	for _, s := range p.Ports {
		for row, idx := range d.rows(true, s.Rows, "", s.NameColumn, s.InOctets, s.OutOctets, s.OperStatus) {
			var ok bool
			if arcs, ok = indexArcs(idx, arcs); !ok || len(arcs) == 0 {
				continue
			}
			arc := len(arcs) - 1
			if s.IfIndexArc != nil {
				arc = *s.IfIndexArc
			}
			if arc < 0 || arc >= len(arcs) {
				continue
			}
			ifIndex := arcs[arc] + s.IfIndexOffset
			if s.Numbered {
				ifIndex = row + 1 + s.IfIndexOffset
			}
			name := d.rowName(true, s.Rows, s.NameColumn, "", "", idx, nil, "")
			if name == "" {
				name = expandIndex(s.Name, idx)
			}
			at, dup := names[name]
			dup = dup && s.Replace
			if name == "" || have[ifIndex] {
				continue
			}
			it := Interface{Index: ifIndex, Name: name, Descr: name, fromProfile: true}
			in, okIn := d.value(true, s.InOctets, idx)
			out, okOut := d.value(true, s.OutOctets, idx)
			it.InOctets, _ = pduUint(in)
			it.OutOctets, _ = pduUint(out)
			it.HC = okIn && okOut && in.Type == out.Type && in.Type == gosnmp.Counter64
			if st, ok := d.value(true, s.OperStatus, idx); ok {
				if n, ok := pduInt(st); ok {
					it.OperStatus = ifStatusName(int(n))
				}
			}
			have[ifIndex] = true
			if dup {
				ifaces[at] = it
				continue
			}
			names[name] = len(ifaces)
			ifaces = append(ifaces, it)
		}
	}
	return ifaces
}

// renameInterfaces applies the profile's interface_names.
func renameInterfaces(p *Profile, ifaces []Interface, ents []Entity) {
	if len(p.InterfaceNames) == 0 {
		return
	}
	var entName map[int]string
	for i := range ifaces {
		it := &ifaces[i]
		for _, r := range p.InterfaceNames {
			if !r.Match.MatchString(it.Name) {
				continue
			}
			if r.Entity {
				if entName == nil {
					entName = make(map[int]string, len(ents))
					for _, e := range ents {
						entName[e.Index] = e.Name
					}
				}
				if n := strings.TrimSpace(entName[it.Index]); n != "" {
					it.Name = n
					break
				}
				continue
			}
			unit, port := it.Index/r.UnitDivisor, it.Index%r.UnitDivisor
			if unit == 0 {
				unit = 1
			}
			ps := strconv.Itoa(port)
			for len(ps) < r.PortDigits {
				ps = "0" + ps
			}
			it.Name = strings.NewReplacer("{unit}", strconv.Itoa(unit), "{port}", ps).Replace(r.Template)
			break
		}
	}
}

// decodeProfileNeighbors reads the profile's vendor LLDP tables.
func decodeProfileNeighbors(p *Profile, d profileData, ifaces []Interface) []Neighbor {
	if len(p.Neighbors) == 0 {
		return nil
	}
	ports := newPortNames(ifaces)
	var out []Neighbor
	var arcs []int
	for _, s := range p.Neighbors {
		for _, idx := range d.rows(true, Rows{}, "", s.RemoteName, s.RemoteChassis, s.RemotePort) {
			var ok bool
			if arcs, ok = indexArcs(idx, arcs); !ok || s.LocalPortArc >= len(arcs) {
				continue
			}
			num := arcs[s.LocalPortArc]
			local, ok := ports.byIndex[num]
			if !ok {
				local = "port" + strconv.Itoa(num)
			}
			text := func(o OID) string {
				v, _ := d.value(true, o, idx)
				return strings.TrimSpace(pduString(v))
			}
			id := func(o, sub OID, mac, addr int) string {
				v, ok := d.value(true, o, idx)
				if !ok {
					return ""
				}
				st, _ := d.value(true, sub, idx)
				n, _ := pduInt(st)
				return lldpID(int(n), pduBytes(v), mac, addr)
			}
			out = append(out, Neighbor{
				Protocol:        "lldp",
				LocalPort:       local,
				RemoteName:      text(s.RemoteName),
				RemoteDescr:     text(s.RemoteDescr),
				RemotePort:      id(s.RemotePort, s.RemotePortSubtype, 3, 4),
				RemoteChassisID: id(s.RemoteChassis, s.RemoteChassisSubtype, 4, 5),
			})
		}
	}
	return out
}
