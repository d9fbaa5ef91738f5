package collector

import (
	"strings"
	"time"
)

// Snapshot is what one poll of one device saw. The collector emits it and
// never touches it again; export and rules only read it.
//
// Its JSON form is the output of `nocagent poll --json`; fields are only ever
// added, never renamed. Lists are empty, never null, when there is no data.
type Snapshot struct {
	Target    string    `json:"target"`           // host:port polled
	Device    string    `json:"device,omitempty"` // inventory name, empty for ad-hoc polls
	Time      time.Time `json:"time"`             // when the poll started
	Reachable bool      `json:"reachable"`

	System System `json:"system"`
	Vendor string `json:"vendor"`
	OS     string `json:"os"`
	Model  string `json:"model"` // the chassis's model, as on its label
	// PartNumber is the orderable part the device reports beside a model
	// name that differs from it ("FG-500D" for "FortiGate 500D"); empty
	// when the model is the part number.
	PartNumber string `json:"part_number,omitempty"`
	Serial     string `json:"serial"`   // the chassis's serial, as on its label
	Firmware   string `json:"firmware"` // the software version the device runs
	Profile    string `json:"profile"`  // the vendor profile that read it
	// Sources says where model, serial, firmware, cpu and memory were
	// read: "ENTITY-MIB entPhysicalModelName.1", "profile huawei-vrp
	// 1.3.6.1.4.1.2011.5.25.31.6.5.0", "sysDescr", "HOST-RESOURCES-MIB", ...
	Sources map[string]string `json:"sources"`
	// Modules is each module's outcome: ok, empty, unsupported or error.
	Modules    []ModuleStatus `json:"modules"`
	Entities   []Entity       `json:"entities"`
	Interfaces []Interface    `json:"interfaces"`
	CPU        []CPU          `json:"cpu"`
	Memory     []Memory       `json:"memory"`
	Sensors    []Sensor       `json:"sensors"`
	Neighbors  []Neighbor     `json:"neighbors"`
	// BGPPeers is BGP4-MIB's bgpPeerTable; empty on a device that does
	// not offer it (including those that only offer a vendor BGP MIB).
	BGPPeers []BGPPeer `json:"bgp_peers"`
	Errors   []string  `json:"errors"`

	// PollDuration is the wall time the poll took.
	PollDuration time.Duration `json:"poll_duration_ns"`
	// PDUs is how many SNMP requests the poll sent.
	PDUs int `json:"pdus"`

	// cpuTicks are UCD-SNMP-MIB's raw CPU counters, for the load between
	// this poll and the next (see fillCPUTicks).
	cpuTicks *cpuTicks
	// entLastChange is ENTITY-MIB's entLastChangeTime (hasEntLastChange
	// when the device gave it) and entityWalked when the entity table
	// behind Entities was last walked: the next poll reuses it while the
	// device says it has not changed (see entitiesSince).
	entLastChange    uint64
	hasEntLastChange bool
	entityWalked     time.Time
}

// ModuleStatus is how one module of a poll went, as snmp_exporter reports
// it: ok (data read), empty (the device answered but has no rows),
// unsupported (nothing here can read this for the device: no CPU source,
// say) or error (a request failed; Reason says why).
type ModuleStatus struct {
	Module string `json:"module"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// Module statuses.
const (
	ModuleOK          = "ok"
	ModuleEmpty       = "empty"
	ModuleUnsupported = "unsupported"
	ModuleError       = "error"
)

// System is the SNMPv2-MIB system group.
type System struct {
	Name          string  `json:"name"`
	Descr         string  `json:"descr"`
	ObjectID      string  `json:"object_id"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	Location      string  `json:"location"`
	Contact       string  `json:"contact"`
}

// Entity is one ENTITY-MIB entPhysicalTable row.
type Entity struct {
	Index  int    `json:"index"`
	Class  string `json:"class"` // chassis, module, port, powerSupply, fan, sensor, ...
	Name   string `json:"name"`
	Descr  string `json:"descr"`
	Model  string `json:"model"`
	Serial string `json:"serial"`
	// Firmware is entPhysicalSoftwareRev.
	Firmware string `json:"firmware,omitempty"`
	// ContainedIn is entPhysicalContainedIn: the index of the entity
	// holding this one, 0 at the top of the tree.
	ContainedIn int `json:"contained_in"`
}

// Interface is one IF-MIB ifTable/ifXTable row. Counters are the 64-bit HC
// values where the device offers them, else the 32-bit ones (see HC).
type Interface struct {
	Index        int    `json:"index"`
	Name         string `json:"name"`
	Descr        string `json:"descr"`
	Alias        string `json:"alias"`
	Type         string `json:"type"` // ifType name, e.g. ethernetCsmacd
	MAC          string `json:"mac"`  // lower-case hex, colon separated
	AdminStatus  string `json:"admin_status"`
	OperStatus   string `json:"oper_status"`
	SpeedBps     uint64 `json:"speed_bps"`
	InOctets     uint64 `json:"in_octets"`
	OutOctets    uint64 `json:"out_octets"`
	InUcastPkts  uint64 `json:"in_ucast_pkts"`
	OutUcastPkts uint64 `json:"out_ucast_pkts"`
	InErrors     uint64 `json:"in_errors"`
	OutErrors    uint64 `json:"out_errors"`
	InDiscards   uint64 `json:"in_discards"`
	OutDiscards  uint64 `json:"out_discards"`
	// HC is true when the octet and packet counters are 64-bit.
	HC bool `json:"hc"`
	// hcPkts: both 64-bit unicast packet counters came back.
	hcPkts bool
	// fromProfile: read from a profile's vendor port table, not ifTable.
	fromProfile bool
	// Rates is nil on the first poll of an interface and after a counter
	// discontinuity (reboot, wrap that cannot be told apart from a reset).
	Rates *InterfaceRates `json:"rates,omitempty"`
}

// InterfaceRates are per-second rates derived from two consecutive polls.
type InterfaceRates struct {
	InBitsPerSec      float64 `json:"in_bps"`
	OutBitsPerSec     float64 `json:"out_bps"`
	InErrorsPerSec    float64 `json:"in_errors_per_sec"`
	OutErrorsPerSec   float64 `json:"out_errors_per_sec"`
	InDiscardsPerSec  float64 `json:"in_discards_per_sec"`
	OutDiscardsPerSec float64 `json:"out_discards_per_sec"`
	// Utilisation in percent of SpeedBps, the larger of in and out; 0 when
	// the speed is unknown.
	UtilPercent float64 `json:"util_percent"`
}

// CPU is one processor load reading.
type CPU struct {
	Name    string  `json:"name"`
	Percent float64 `json:"percent"`
}

// Memory is one memory pool or storage area.
type Memory struct {
	Name       string  `json:"name"`
	UsedBytes  uint64  `json:"used_bytes"`
	TotalBytes uint64  `json:"total_bytes"`
	Percent    float64 `json:"percent"`
	// Class is system (what "memory utilisation" means), or virtual,
	// buffers, cached, shared or swap. Pools read as a percentage alone
	// have Percent and zero byte counts.
	Class string `json:"class"`
}

// Sensor is an environmental reading: temperature, fan, power supply.
type Sensor struct {
	Class  string  `json:"class"` // temperature, fan, power, voltage, ...
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`   // celsius, rpm, volts, ...
	Status string  `json:"status"` // ok, warning, failed, unknown
}

// Neighbor is a link partner learned from LLDP or CDP.
type Neighbor struct {
	Protocol   string `json:"protocol"` // lldp | cdp
	LocalPort  string `json:"local_port"`
	RemoteName string `json:"remote_name"`
	// RemoteDescr is the neighbour's system description (lldpRemSysDesc),
	// what identifies a neighbour that sends no system name.
	RemoteDescr     string `json:"remote_descr,omitempty"`
	RemotePort      string `json:"remote_port"`
	RemoteChassisID string `json:"remote_chassis_id"`
	RemoteAddress   string `json:"remote_address"`
}

// BGPPeer is one BGP4-MIB bgpPeerTable row.
type BGPPeer struct {
	RemoteAddr string `json:"remote_addr"` // the table's index: the peer's IPv4 address
	RemoteAS   uint32 `json:"remote_as"`
	// LocalAS is the router's bgpLocalAs, the same for every peer; 0 when
	// the device does not report it.
	LocalAS uint32 `json:"local_as"`
	// State is the session's FSM state: idle, connect, active, opensent,
	// openconfirm, established, or unknown.
	State string `json:"state"`
	// AdminStatus is start (the peer is configured to come up), stop, or
	// unknown.
	AdminStatus string `json:"admin_status"`
	// EstablishedSeconds is bgpPeerFsmEstablishedTime: how long the session
	// has been established, or, once down, how long ago it left
	// established.
	EstablishedSeconds uint64 `json:"established_seconds"`
}

// Complete reports whether the poll answered and no module failed: the
// snapshot says all the device has, not part of it.
func (s *Snapshot) Complete() bool {
	if !s.Reachable {
		return false
	}
	for _, m := range s.Modules {
		if m.Status == ModuleError {
			return false
		}
	}
	return true
}

// Supersedes reports whether cur should replace prev as the device's
// standing picture (identity, neighbours, tables for ticket context and
// topology): a poll cut short (the device died mid-poll, a table timed
// out) must not erase what the last complete poll said, unless that poll
// is older than maxAge.
func Supersedes(prev, cur *Snapshot, maxAge time.Duration) bool {
	if !cur.Reachable {
		return false
	}
	return prev == nil || cur.Complete() || cur.Time.Sub(prev.Time) > maxAge
}

// Replacement says a device answers with another chassis serial than it did
// before: the box behind the address was swapped (RMA, upgrade) or the
// address now points at another device.
type Replacement struct {
	OldSerial string `json:"old_serial"`
	NewSerial string `json:"new_serial"`
	OldModel  string `json:"old_model"`
	NewModel  string `json:"new_model"`
}

// DetectReplacement compares two polls of the same device and returns the
// replacement, or nil when either poll has no serial (unreachable, or an
// agent that does not report one) or the serials are the same. Serials
// compare without surrounding blanks and case, which some agents change
// between releases.
func DetectReplacement(prev, cur *Snapshot) *Replacement {
	if prev == nil || cur == nil {
		return nil
	}
	o, n := strings.TrimSpace(prev.Serial), strings.TrimSpace(cur.Serial)
	if placeholder(o) || placeholder(n) || strings.EqualFold(o, n) {
		return nil
	}
	return &Replacement{OldSerial: o, NewSerial: n, OldModel: prev.Model, NewModel: cur.Model}
}
