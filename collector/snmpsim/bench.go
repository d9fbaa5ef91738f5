package snmpsim

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// benchModel is a 48-port gigabit access switch, the device the poll
// benchmark multiplies.
var benchModel = modelProfile{
	vendor: "Cisco", os: "IOS-XE", sysObjectID: "1.3.6.1.4.1.9.1.2496",
	sysDescr: ciscoDescr("CAT9K_IOSXE"),
	ports:    48, speedMbps: 1000,
	portName: func(n int) (string, string) {
		return fmt.Sprintf("GigabitEthernet1/0/%d", n), fmt.Sprintf("Gi1/0/%d", n)
	},
	serial: ciscoSerial, oui: [3]byte{0x00, 0x1e, 0xf7}, memKB: 8 << 20, switching: true,
}

// benchUsedPorts is how many of a bench switch's 48 ports carry traffic;
// the rest are admin down, as on a real access switch.
const benchUsedPorts = 40

// AddBenchSwitches starts n synthetic 48-port switches for benchmarks,
// named bench-sw-00000 onwards, community "public". Switch i listens on
// listen(i) (host:port; port 0 picks a free one). Their counters move with
// time like the demo network's; they have no LLDP neighbours. Faults of
// kind down and link-down apply to them.
func (s *Simulator) AddBenchSwitches(ctx context.Context, n int, listen func(i int) string) ([]DeviceInfo, error) {
	if n <= 0 {
		return nil, errors.New("add bench switches: n must be positive")
	}
	net := &synthNet{start: s.now()}
	infos := make([]DeviceInfo, 0, n)
	for i := range n {
		if err := ctx.Err(); err != nil {
			return infos, fmt.Errorf("add bench switches: %w", err)
		}
		sd := newBenchSwitch(net, fmt.Sprintf("bench-sw-%05d", i))
		t := sd.buildTable(nil)
		v := views{sd.spec.Name: t, DemoCommunity: t}
		d := &device{
			info: DeviceInfo{
				Name: sd.spec.Name, Community: DemoCommunity, Kind: KindSynthetic, Role: sd.spec.Role,
				Vendor: sd.spec.Vendor, Model: sd.spec.Model, Serial: sd.spec.Serial,
			},
			// Served like a recording (base, no synth) so that faults
			// override its table without a demo network behind it.
			base: v,
		}
		if err := s.start(ctx, d, listen(i), v, nil); err != nil {
			return infos, fmt.Errorf("add bench switches: %w", err)
		}
		infos = append(infos, s.mustInfo(sd.spec.Name))
	}
	return infos, nil
}

func newBenchSwitch(n *synthNet, name string) *synthDevice {
	m := benchModel
	spec := DemoDevice{
		Name: name, Customer: "bench", Site: "bench-lab", Role: "access",
		Vendor: m.vendor, Model: "C9300-48T", OS: m.os, SysObjectID: m.sysObjectID, SysDescr: m.sysDescr,
		Serial: m.serial(hashOf(name, "serial")),
	}
	d := &synthDevice{
		spec: spec, prof: m, net: n, mac: baseMAC(m.oui, name),
		boot: n.start.Add(-time.Duration(3*24*3600+hashOf(name, "boot")%(87*24*3600)) * time.Second),
	}
	for i := 1; i <= m.ports; i++ {
		descr, pname := m.portName(i)
		use, alias := UseUser, fmt.Sprintf("user: desk-%02d", i)
		if i > benchUsedPorts {
			use, alias = UseUnused, ""
		}
		p := &synthPort{
			DemoPort: DemoPort{IfIndex: i, Name: pname, Descr: descr, Alias: alias, SpeedMbps: m.speedMbps, Use: use},
			mac:      d.mac, connected: use != UseUnused, adminUp: use != UseUnused,
		}
		p.mac[5] += byte(i)
		key := name + "/" + pname
		p.out = newTraffic(key+">", m.speedMbps, 0.001, 0.05)
		p.in = newTraffic(">"+key, m.speedMbps, 0.001, 0.05)
		p.lastChange = uint32(3000 + hashOf(name, pname, "up")%6000)
		p.operUp = p.connected
		if !p.connected {
			p.downSince, p.lastChange = n.start, 0
		}
		d.ports = append(d.ports, p)
	}
	n.devs = append(n.devs, d)
	return d
}
