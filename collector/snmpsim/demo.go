package snmpsim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"slices"
	"time"

	"github.com/gosnmp/gosnmp"
)

// DemoDevice describes one device of the built-in demo network, so that an
// inventory can be built from the same table the simulator serves.
type DemoDevice struct {
	Name          string     `json:"name"`
	Customer      string     `json:"customer"`
	Site          string     `json:"site"`
	Role          string     `json:"role"` // core, distribution, access, firewall, edge
	Vendor        string     `json:"vendor"`
	Model         string     `json:"model"`
	OS            string     `json:"os"`
	SysObjectID   string     `json:"sys_object_id"`
	SysDescr      string     `json:"sys_descr"`
	Serial        string     `json:"serial"`
	Upstream      []string   `json:"upstream,omitempty"`
	UplinkIfIndex int        `json:"uplink_if_index,omitempty"` // 0 when there is no upstream
	Ports         []DemoPort `json:"ports"`
}

// DemoPort is one interface of a demo device.
type DemoPort struct {
	IfIndex     int    `json:"if_index"`
	Name        string `json:"name"`  // ifName
	Descr       string `json:"descr"` // ifDescr
	Alias       string `json:"alias"` // ifAlias
	SpeedMbps   uint64 `json:"speed_mbps"`
	Use         string `json:"use"`                     // uplink, downlink, wan, user, unused
	Peer        string `json:"peer,omitempty"`          // device at the far end of the link
	PeerIfIndex int    `json:"peer_if_index,omitempty"` // its interface
}

// Port uses. Unused ports are admin down so they never look like faults.
const (
	UseUplink   = "uplink"
	UseDownlink = "downlink"
	UseWAN      = "wan"
	UseUser     = "user"
	UseUnused   = "unused"
)

// DemoCommunity is the community of every synthetic device.
const DemoCommunity = "public"

// modelProfile is what a device model looks like over SNMP.
type modelProfile struct {
	vendor, os, sysObjectID, sysDescr string
	ports                             int
	speedMbps                         uint64
	portName                          func(n int) (descr, name string)
	serial                            func(h uint64) string
	oui                               [3]byte
	memKB                             int64
	switching                         bool // LLDP capability bridge as well as router
	// vendorMIB serves the vendor objects the collector's profile for
	// the model reads; nil for models whose profile reads the standard
	// MIBs only.
	vendorMIB func(b *mibBuilder, d *synthDevice, v vitals)
}

// sysObjectIDs sit under each vendor's real enterprise number; the product
// arcs are illustrative.
var models = map[string]modelProfile{
	"C9500-24Y4C": {
		vendor: "Cisco", os: "IOS-XE", sysObjectID: "1.3.6.1.4.1.9.1.2494",
		sysDescr: ciscoDescr("CAT9K_IOSXE"),
		ports:    12, speedMbps: 25000,
		portName: func(n int) (string, string) {
			return fmt.Sprintf("TwentyFiveGigE1/0/%d", n), fmt.Sprintf("Twe1/0/%d", n)
		},
		serial: ciscoSerial, oui: [3]byte{0x00, 0x1e, 0xf7}, memKB: 16 << 20, switching: true, vendorMIB: ciscoMIB,
	},
	"C9300-48P": {
		vendor: "Cisco", os: "IOS-XE", sysObjectID: "1.3.6.1.4.1.9.1.2495",
		sysDescr: ciscoDescr("CAT9K_IOSXE"),
		ports:    24, speedMbps: 10000,
		portName: func(n int) (string, string) {
			return fmt.Sprintf("TenGigabitEthernet1/0/%d", n), fmt.Sprintf("Te1/0/%d", n)
		},
		serial: ciscoSerial, oui: [3]byte{0x00, 0x1e, 0xf7}, memKB: 8 << 20, switching: true, vendorMIB: ciscoMIB,
	},
	"C9200-24T": {
		vendor: "Cisco", os: "IOS-XE", sysObjectID: "1.3.6.1.4.1.9.1.2694",
		sysDescr: ciscoDescr("CAT9K_LITE_IOSXE"),
		ports:    24, speedMbps: 1000,
		portName: func(n int) (string, string) {
			return fmt.Sprintf("GigabitEthernet1/0/%d", n), fmt.Sprintf("Gi1/0/%d", n)
		},
		serial: ciscoSerial, oui: [3]byte{0x00, 0x1e, 0xf7}, memKB: 4 << 20, switching: true, vendorMIB: ciscoMIB,
	},
	"FortiGate-100F": {
		vendor: "Fortinet", os: "FortiOS", sysObjectID: "1.3.6.1.4.1.12356.101.1.1041",
		sysDescr: "FortiGate-100F v7.2.8,build1639,240313 (GA.M)",
		ports:    10, speedMbps: 1000,
		portName: func(n int) (string, string) { return fmt.Sprintf("port%d", n), fmt.Sprintf("port%d", n) },
		serial:   func(h uint64) string { return fmt.Sprintf("FG100FTK%08d", h%100000000) },
		oui:      [3]byte{0x00, 0x09, 0x0f}, memKB: 8 << 20, vendorMIB: fortiGateMIB,
	},
	"MX204": {
		vendor: "Juniper", os: "Junos", sysObjectID: "1.3.6.1.4.1.2636.1.1.1.2.164",
		sysDescr: "Juniper Networks, Inc. mx204 internet router, kernel JUNOS 21.4R3-S5.4, Build date: 2023-09-14 13:54:26 UTC Copyright (c) 1996-2023 Juniper Networks, Inc.",
		ports:    8, speedMbps: 10000,
		portName: func(n int) (string, string) { return fmt.Sprintf("xe-0/1/%d", n-1), fmt.Sprintf("xe-0/1/%d", n-1) },
		serial:   func(h uint64) string { return fmt.Sprintf("JN%010X", h&0xffffffffff) },
		oui:      [3]byte{0x00, 0x05, 0x85}, memKB: 32 << 20, vendorMIB: junosMIB,
	},
	"PA-440": {
		vendor: "Palo Alto Networks", os: "PAN-OS", sysObjectID: "1.3.6.1.4.1.25461.2.3.66",
		sysDescr: "Palo Alto Networks PA-400 series firewall",
		ports:    8, speedMbps: 1000,
		portName: func(n int) (string, string) { return fmt.Sprintf("ethernet1/%d", n), fmt.Sprintf("ethernet1/%d", n) },
		serial:   func(h uint64) string { return fmt.Sprintf("0241%08d", h%100000000) },
		oui:      [3]byte{0x00, 0x1b, 0x17}, memKB: 4 << 20,
	},
	"6100": {
		vendor: "Aruba", os: "ArubaOS-CX", sysObjectID: "1.3.6.1.4.1.47196.4.1.1.1.254",
		sysDescr: "Aruba JL679A 6100 12G CL4 2SFP+ Swch PL.10.13.1005",
		ports:    12, speedMbps: 1000,
		portName: func(n int) (string, string) { return fmt.Sprintf("1/1/%d", n), fmt.Sprintf("1/1/%d", n) },
		serial:   func(h uint64) string { return "SG" + base36(h, 8) },
		oui:      [3]byte{0x00, 0x0b, 0x86}, memKB: 4 << 20, switching: true,
	},
}

func ciscoDescr(image string) string {
	return "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (" + image + "), Version 17.9.4, RELEASE SOFTWARE (fc5)\r\n" +
		"Technical Support: http://www.cisco.com/techsupport\r\n" +
		"Copyright (c) 1986-2023 by Cisco Systems, Inc.\r\n" +
		"Compiled Wed 26-Jul-23 10:23 by mcpre"
}

// ciscoSerial follows Cisco's LLLYYWWSSSS layout (factory, year, week, unit).
func ciscoSerial(h uint64) string { return "FCW2233" + base36(h, 4) }

func base36(h uint64, n int) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[h%36]
		h /= 36
	}
	return string(b)
}

type demoSpec struct {
	name, customer, site, role, model string
	upstream                          []string
}

var demoSpecs = []demoSpec{
	{"acme-core-1", "acme", "acme-hq", "core", "C9500-24Y4C", nil},
	{"acme-dist-1", "acme", "acme-hq", "distribution", "C9300-48P", []string{"acme-core-1"}},
	{"acme-dist-2", "acme", "acme-hq", "distribution", "C9300-48P", []string{"acme-core-1"}},
	{"acme-acc-1", "acme", "acme-hq", "access", "C9200-24T", []string{"acme-dist-1"}},
	{"acme-acc-2", "acme", "acme-hq", "access", "C9200-24T", []string{"acme-dist-1"}},
	{"acme-acc-3", "acme", "acme-hq", "access", "C9200-24T", []string{"acme-dist-2"}},
	{"acme-fw-1", "acme", "acme-hq", "firewall", "FortiGate-100F", []string{"acme-core-1"}},
	{"globex-edge-1", "globex", "globex-branch", "edge", "MX204", nil},
	{"globex-fw-1", "globex", "globex-branch", "firewall", "PA-440", []string{"globex-edge-1"}},
	{"globex-sw-1", "globex", "globex-branch", "access", "6100", []string{"globex-fw-1"}},
}

// userPorts is how many ports of an access switch have a host plugged in.
const userPorts = 8

// DemoNetwork returns the synthetic demo network: devices, their ports and
// how they are cabled. ifIndex 1 is the uplink to the first upstream (or the
// WAN port of a device without one), then downlinks to each child, then
// user ports on access switches, then unused ports (admin down).
func DemoNetwork() []DemoDevice {
	devs := make([]DemoDevice, len(demoSpecs))
	for i, sp := range demoSpecs {
		m := models[sp.model]
		devs[i] = DemoDevice{
			Name: sp.name, Customer: sp.customer, Site: sp.site, Role: sp.role,
			Vendor: m.vendor, Model: sp.model, OS: m.os, SysObjectID: m.sysObjectID, SysDescr: m.sysDescr,
			Serial: m.serial(hashOf(sp.name, "serial")), Upstream: slices.Clone(sp.upstream),
		}
		d := &devs[i]
		add := func(use, alias, peer string, speed uint64) {
			n := len(d.Ports) + 1
			descr, name := m.portName(n)
			d.Ports = append(d.Ports, DemoPort{IfIndex: n, Name: name, Descr: descr, Alias: alias, SpeedMbps: speed, Use: use, Peer: peer})
		}
		if len(sp.upstream) == 0 {
			add(UseWAN, "WAN: ISP transit", "", m.speedMbps)
		}
		for _, u := range sp.upstream {
			add(UseUplink, "uplink to "+u, u, min(m.speedMbps, models[specOf(u).model].speedMbps))
		}
		for _, c := range demoSpecs {
			if slices.Contains(c.upstream, sp.name) {
				add(UseDownlink, "downlink to "+c.name, c.name, min(m.speedMbps, models[c.model].speedMbps))
			}
		}
		if sp.role == "access" {
			for range userPorts {
				add(UseUser, fmt.Sprintf("user: desk-%02d", len(d.Ports)), "", m.speedMbps)
			}
		}
		if len(d.Ports) > m.ports {
			panic(fmt.Sprintf("snmpsim: demo device %s needs %d ports, model %s has %d", sp.name, len(d.Ports), sp.model, m.ports))
		}
		for len(d.Ports) < m.ports {
			add(UseUnused, "", "", m.speedMbps)
		}
		if len(sp.upstream) > 0 {
			d.UplinkIfIndex = 1
		}
	}
	// Cable the links: each end names the other's interface.
	for i := range devs {
		for j, p := range devs[i].Ports {
			if p.Peer == "" {
				continue
			}
			for _, q := range devs[indexOfDemo(devs, p.Peer)].Ports {
				if q.Peer == devs[i].Name {
					devs[i].Ports[j].PeerIfIndex = q.IfIndex
				}
			}
		}
	}
	return devs
}

func specOf(name string) demoSpec {
	for _, s := range demoSpecs {
		if s.name == name {
			return s
		}
	}
	panic("snmpsim: unknown demo device " + name)
}

func indexOfDemo(devs []DemoDevice, name string) int {
	return slices.IndexFunc(devs, func(d DemoDevice) bool { return d.Name == name })
}

// hashOf derives a stable pseudo-random number from its parts.
func hashOf(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	// splitmix64 finaliser: FNV alone leaves low bits poorly mixed.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// unit maps a hash to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// AddDemoNetwork starts the synthetic demo devices, each on its own free
// UDP port on host, community "public".
func (s *Simulator) AddDemoNetwork(ctx context.Context, host string) ([]DeviceInfo, error) {
	s.mu.Lock()
	if s.demo != nil {
		s.mu.Unlock()
		return nil, errors.New("add demo network: already started")
	}
	n := newSynthNet(s.now(), DemoNetwork())
	s.demo = n
	s.mu.Unlock()

	var infos []DeviceInfo
	for _, sd := range n.devs {
		sp := sd.spec
		d := &device{
			info: DeviceInfo{
				Name: sp.Name, Community: DemoCommunity, Kind: KindSynthetic, Role: sp.Role, Vendor: sp.Vendor,
				Model: sp.Model, Serial: sp.Serial, Upstream: sp.Upstream, UplinkIfIndex: sp.UplinkIfIndex,
			},
			synth: sd,
		}
		v := views{DemoCommunity: sd.buildTable(nil)}
		if err := s.start(ctx, d, net.JoinHostPort(host, "0"), v, s.demoSetter(sd)); err != nil {
			s.removeDemo(n)
			return nil, fmt.Errorf("add demo network: %w", err)
		}
		s.mu.Lock()
		sd.agent = d.agent
		// A fault injected while this device was starting changed the
		// network without publishing to it: publish now.
		s.demo.update(s.now(), s.faultsByDeviceLocked())
		s.mu.Unlock()
		infos = append(infos, s.mustInfo(sp.Name))
	}
	return infos, nil
}

// removeDemo undoes a demo network that failed to start.
func (s *Simulator) removeDemo(n *synthNet) {
	s.mu.Lock()
	var agents []*agent
	for _, sd := range n.devs {
		if d, ok := s.devices[sd.spec.Name]; ok && d.synth == sd {
			agents = append(agents, d.agent)
			delete(s.devices, sd.spec.Name)
		}
	}
	if s.demo == n {
		s.demo = nil
	}
	s.mu.Unlock()
	for _, a := range agents {
		a.conn.Close()
		<-a.done
	}
}

// demoSetter makes ifAdminStatus of a synthetic device writable. Setting a
// port down also clears a port-stuck fault on it.
func (s *Simulator) demoSetter(sd *synthDevice) setFunc {
	return func(now time.Time, v1 bool, vbs []reqVarbind, tbl *table) (int, int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		type change struct {
			p  *synthPort
			up bool
		}
		changes := make([]change, 0, len(vbs))
		for i, vb := range vbs {
			var p *synthPort
			if len(vb.oid) == len(ifAdminStatus)+1 && vb.oid.HasPrefix(ifAdminStatus) {
				p = sd.port(int(vb.oid[len(ifAdminStatus)]))
			}
			switch {
			case p == nil:
				return readOnlyStatus(v1, tbl.get(vb.oid, v1) >= 0), i + 1
			case vb.val.Type != gosnmp.Integer:
				return pick(v1, errBadValue, errWrongType), i + 1
			case vb.val.Int != 1 && vb.val.Int != 2:
				return pick(v1, errBadValue, errWrongValue), i + 1
			}
			changes = append(changes, change{p, vb.val.Int == 1})
		}
		if len(changes) == 0 {
			return errNoError, 0
		}
		dev := s.devices[sd.spec.Name]
		for _, c := range changes {
			c.p.adminUp = c.up
			// Shutting a port powers its PHY down, which un-hangs it: the
			// no-shut that follows brings the link back. A cut cable
			// (link-down) stays cut whatever is set.
			if !c.up && dev != nil {
				n := len(dev.faults)
				dev.faults = slices.DeleteFunc(slices.Clone(dev.faults), func(f Fault) bool {
					return f.Kind == FaultPortStuck && f.IfIndex == c.p.IfIndex
				})
				if len(dev.faults) < n {
					s.log.Info("snmpsim: port-stuck cleared by shutting the port", "device", sd.spec.Name, "ifIndex", c.p.IfIndex)
				}
			}
		}
		s.demo.update(now, s.faultsByDeviceLocked())
		s.log.Info("snmpsim: ifAdminStatus set", "device", sd.spec.Name, "changes", len(changes))
		return errNoError, 0
	}
}

func pick(v1 bool, ifV1, ifV2 int) int {
	if v1 {
		return ifV1
	}
	return ifV2
}

// baseMAC derives a device MAC under its vendor's OUI.
func baseMAC(oui [3]byte, name string) [6]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], hashOf(name, "mac"))
	// Leave room for one address per port above the base.
	return [6]byte{oui[0], oui[1], oui[2], b[5], b[6], b[7] &^ 0x3f}
}
