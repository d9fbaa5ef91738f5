package rules

import (
	"slices"

	"github.com/nocagent/nocagent/collector"
)

// The expression environments. Structs with expr tags, not maps: expr
// resolves field indexes at compile time, so a run is a few reflect field
// reads and no hashing. One environment type per scope, so that a device rule
// naming iface fails to compile instead of failing at run time.

type deviceVars struct {
	Reachable     bool     `expr:"reachable"`
	Name          string   `expr:"name"`
	SysName       string   `expr:"sys_name"`
	Vendor        string   `expr:"vendor"`
	Model         string   `expr:"model"`
	Serial        string   `expr:"serial"`
	OS            string   `expr:"os"`
	UptimeSeconds float64  `expr:"uptime_seconds"`
	PollErrors    int      `expr:"poll_errors"`
	Role          string   `expr:"role"`
	Customer      string   `expr:"customer"`
	Site          string   `expr:"site"`
	Tier          string   `expr:"tier"`
	Tags          []string `expr:"tags"`
	Downstream    int      `expr:"downstream"`
}

type ifaceVars struct {
	Index        int    `expr:"index"`
	Name         string `expr:"name"`
	Descr        string `expr:"descr"`
	Alias        string `expr:"alias"`
	Type         string `expr:"type"`
	MAC          string `expr:"mac"`
	AdminStatus  string `expr:"admin_status"`
	OperStatus   string `expr:"oper_status"`
	SpeedBps     uint64 `expr:"speed_bps"`
	InOctets     uint64 `expr:"in_octets"`
	OutOctets    uint64 `expr:"out_octets"`
	InUcastPkts  uint64 `expr:"in_ucast_pkts"`
	OutUcastPkts uint64 `expr:"out_ucast_pkts"`
	InErrors     uint64 `expr:"in_errors"`
	OutErrors    uint64 `expr:"out_errors"`
	InDiscards   uint64 `expr:"in_discards"`
	OutDiscards  uint64 `expr:"out_discards"`
	HC           bool   `expr:"hc"`
	// Uplink: see isUplink.
	Uplink bool `expr:"uplink"`

	HasRates          bool    `expr:"has_rates"`
	InBps             float64 `expr:"in_bps"`
	OutBps            float64 `expr:"out_bps"`
	InErrorsPerSec    float64 `expr:"in_errors_per_sec"`
	OutErrorsPerSec   float64 `expr:"out_errors_per_sec"`
	InDiscardsPerSec  float64 `expr:"in_discards_per_sec"`
	OutDiscardsPerSec float64 `expr:"out_discards_per_sec"`
	UtilPercent       float64 `expr:"util_percent"`
}

// rateFields are the iface names that only mean something when the
// collector could compute rates; see Rule.needsRates.
var rateFields = map[string]bool{
	"in_bps": true, "out_bps": true,
	"in_errors_per_sec": true, "out_errors_per_sec": true,
	"in_discards_per_sec": true, "out_discards_per_sec": true,
	"util_percent": true,
}

type cpuVars struct {
	Name    string  `expr:"name"`
	Percent float64 `expr:"percent"`
}

type memoryVars struct {
	Name       string  `expr:"name"`
	UsedBytes  uint64  `expr:"used_bytes"`
	TotalBytes uint64  `expr:"total_bytes"`
	Percent    float64 `expr:"percent"`
}

type sensorVars struct {
	Class  string  `expr:"class"`
	Name   string  `expr:"name"`
	Value  float64 `expr:"value"`
	Unit   string  `expr:"unit"`
	Status string  `expr:"status"`
}

type bgpVars struct {
	RemoteAddr         string `expr:"remote_addr"`
	RemoteAS           uint32 `expr:"remote_as"`
	LocalAS            uint32 `expr:"local_as"`
	State              string `expr:"state"`
	AdminStatus        string `expr:"admin_status"`
	EstablishedSeconds uint64 `expr:"established_seconds"`
}

type eventVars struct {
	Kind     string            `expr:"kind"`
	Instance string            `expr:"instance"`
	Attrs    map[string]string `expr:"attrs"`
}

type eventEnv struct {
	Device    deviceVars `expr:"device"`
	Event     eventVars  `expr:"event"`
	Threshold float64    `expr:"threshold"`
}

type deviceEnv struct {
	Device    deviceVars `expr:"device"`
	Threshold float64    `expr:"threshold"`
}

type ifaceEnv struct {
	Device    deviceVars `expr:"device"`
	Iface     ifaceVars  `expr:"iface"`
	Threshold float64    `expr:"threshold"`
}

type cpuEnv struct {
	Device    deviceVars `expr:"device"`
	CPU       cpuVars    `expr:"cpu"`
	Threshold float64    `expr:"threshold"`
}

type memoryEnv struct {
	Device    deviceVars `expr:"device"`
	Memory    memoryVars `expr:"memory"`
	Threshold float64    `expr:"threshold"`
}

type sensorEnv struct {
	Device    deviceVars `expr:"device"`
	Sensor    sensorVars `expr:"sensor"`
	Threshold float64    `expr:"threshold"`
}

type bgpEnv struct {
	Device    deviceVars `expr:"device"`
	BGP       bgpVars    `expr:"bgp"`
	Threshold float64    `expr:"threshold"`
}

// envs is one reusable environment per scope. The engine fills it in place
// and passes pointers to expr, so evaluating an instance copies a few words
// instead of allocating a fresh environment.
type envs struct {
	device deviceEnv
	iface  ifaceEnv
	cpu    cpuEnv
	memory memoryEnv
	sensor sensorEnv
	bgp    bgpEnv
	event  eventEnv
}

// compileEnv returns the zero environment expr type-checks a scope against.
// It is a struct value, not a pointer: with a value expr compiles
// "iface.admin_status" to one field load by index, while with a pointer it
// fetches (and copies) the whole iface struct by name first. The engine
// still passes pointers at run time, which the field loads dereference.
func compileEnv(scope string) any {
	switch scope {
	case ScopeDevice:
		return deviceEnv{}
	case ScopeInterface:
		return ifaceEnv{}
	case ScopeCPU:
		return cpuEnv{}
	case ScopeMemory:
		return memoryEnv{}
	case ScopeSensor:
		return sensorEnv{}
	case ScopeBGP:
		return bgpEnv{}
	case ScopeEvent:
		return eventEnv{}
	}
	return nil
}

// setDevice fills the device part of every environment.
func (e *envs) setDevice(name string, s *collector.Snapshot, t Target) {
	d := deviceVars{
		Reachable:     s.Reachable,
		Name:          name,
		SysName:       s.System.Name,
		Vendor:        s.Vendor,
		Model:         s.Model,
		Serial:        s.Serial,
		OS:            s.OS,
		UptimeSeconds: s.System.UptimeSeconds,
		PollErrors:    len(s.Errors),
		Role:          t.Role,
		Customer:      t.Customer,
		Site:          t.Site,
		Tier:          t.Tier,
		Tags:          t.Tags,
		Downstream:    t.Downstream,
	}
	e.device.Device = d
	e.iface.Device = d
	e.cpu.Device = d
	e.memory.Device = d
	e.sensor.Device = d
	e.bgp.Device = d
	e.event.Device = d
}

func (v *bgpVars) set(p *collector.BGPPeer) {
	*v = bgpVars{
		RemoteAddr:         p.RemoteAddr,
		RemoteAS:           p.RemoteAS,
		LocalAS:            p.LocalAS,
		State:              p.State,
		AdminStatus:        p.AdminStatus,
		EstablishedSeconds: p.EstablishedSeconds,
	}
}

func (v *ifaceVars) set(i *collector.Interface) {
	*v = ifaceVars{
		Index:        i.Index,
		Name:         i.Name,
		Descr:        i.Descr,
		Alias:        i.Alias,
		Type:         i.Type,
		MAC:          i.MAC,
		AdminStatus:  i.AdminStatus,
		OperStatus:   i.OperStatus,
		SpeedBps:     i.SpeedBps,
		InOctets:     i.InOctets,
		OutOctets:    i.OutOctets,
		InUcastPkts:  i.InUcastPkts,
		OutUcastPkts: i.OutUcastPkts,
		InErrors:     i.InErrors,
		OutErrors:    i.OutErrors,
		InDiscards:   i.InDiscards,
		OutDiscards:  i.OutDiscards,
		HC:           i.HC,
	}
	if r := i.Rates; r != nil {
		v.HasRates = true
		v.InBps = r.InBitsPerSec
		v.OutBps = r.OutBitsPerSec
		v.InErrorsPerSec = r.InErrorsPerSec
		v.OutErrorsPerSec = r.OutErrorsPerSec
		v.InDiscardsPerSec = r.InDiscardsPerSec
		v.OutDiscardsPerSec = r.OutDiscardsPerSec
		v.UtilPercent = r.UtilPercent
	}
}

// isUplink decides whether an interface faces the network rather than an end
// host, so that its loss is a major fault instead of a user unplugging a PC.
// An interface is an uplink when its ifAlias contains "uplink", "downlink"
// or "trunk" (any case) — the conventions NOCs follow in port descriptions —,
// when the target lists it in Uplinks (the agent knows the ports of learned
// topology links, which survive a restart), or when an
// LLDP/CDP neighbour on it is a network device according to netDev (the
// agent answers from the inventory), now or at any earlier poll: a link that
// goes down loses its neighbour entry exactly when the answer matters, so
// learned uplinks are remembered (per device, by ifName). Neighbour presence
// alone is not enough: IP phones and many PCs speak LLDP.
func isUplink(i *collector.Interface, nbrs []collector.Neighbor, netDev func(string) bool, learned map[string]bool, known []string) bool {
	if containsFold(i.Alias, "uplink") || containsFold(i.Alias, "downlink") || containsFold(i.Alias, "trunk") {
		return true
	}
	if len(known) > 0 && (slices.Contains(known, i.Name) || slices.Contains(known, i.Descr)) {
		return true
	}
	if netDev == nil {
		return false
	}
	for k := range nbrs {
		n := &nbrs[k]
		if n.RemoteName == "" || (n.LocalPort != i.Name && n.LocalPort != i.Descr) {
			continue
		}
		if netDev(n.RemoteName) {
			if !learned[i.Name] {
				learned[i.Name] = true
			}
			return true
		}
	}
	return learned[i.Name]
}

// containsFold is strings.Contains ignoring ASCII case, without the
// allocation of lower-casing s on every interface of every poll.
func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		ok := true
		for j := range n {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
