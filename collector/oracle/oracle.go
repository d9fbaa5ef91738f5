// Package oracle scores a collector Snapshot against what LibreNMS derived
// from the same SNMP recording (its tests/data/NAME.json). It is used by
// the corpus test and by `nocagent profiles test`, so that a user adding a
// vendor profile sees the same verdicts as CI.
//
// Each check is one device and one field, pass or fail, by the rules of
// issue 11: serial exact; model equal after normalising case and
// punctuation (or an alias from Aliases); interfaces: ≥ 99 % of the
// device's ports with the same name and octet counters; CPU: at least one
// processor within 2 points and no processor LibreNMS does not have;
// memory: at least one system pool with total ±2 % and used ±5 % (or
// percent ±2 for pools LibreNMS reads as a percentage), and no extra
// system pools; neighbours: every LibreNMS link found by local port and
// remote name; temperature and fan: at least 90 % of LibreNMS's sensors
// matched by value (±2 °C, ±5 % rpm).
package oracle

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/nocagent/nocagent/collector"
)

// Fields are the checks, in the order reports show them.
var Fields = []string{"serial", "model", "interfaces", "cpu", "memory", "neighbors", "temperature", "fan", "psu"}

// Dump is the part of a LibreNMS test JSON the checks read.
type Dump struct {
	OS struct {
		Discovery struct {
			Devices []Device `json:"devices"`
		} `json:"discovery"`
	} `json:"os"`
	Ports struct {
		Discovery object[struct {
			Ports []Port `json:"ports"`
		}] `json:"discovery"`
		Poller json.RawMessage `json:"poller"` // an object, or "matches discovery"
	} `json:"ports"`
	Processors struct {
		Discovery object[struct {
			Processors []Processor `json:"processors"`
		}] `json:"discovery"`
	} `json:"processors"`
	Mempools struct {
		Discovery object[struct {
			Mempools []Mempool `json:"mempools"`
		}] `json:"discovery"`
	} `json:"mempools"`
	Sensors struct {
		Discovery object[struct {
			Sensors      []SensorRow  `json:"sensors"`
			StateIndexes []StateIndex `json:"state_indexes"`
		}] `json:"discovery"`
	} `json:"sensors"`
	Links struct {
		Discovery object[struct {
			Links []Link `json:"links"`
		}] `json:"discovery"`
	} `json:"discovery-protocols"`

	ports []Port // poller ports, else discovery ports
}

// object is a JSON object section that PHP writes as [] when it is empty.
type object[T any] struct{ V T }

func (o *object[T]) UnmarshalJSON(b []byte) error {
	if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "[") {
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// number is a JSON number that LibreNMS sometimes writes as a string.
type number float64

func (n *number) UnmarshalJSON(b []byte) error {
	t := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if t == "" || t == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return fmt.Errorf("number %q: %w", t, err)
	}
	*n = number(f)
	return nil
}

// Device is os.discovery.devices[0].
type Device struct {
	OS          string  `json:"os"`
	SysObjectID string  `json:"sysObjectID"`
	SysDescr    *string `json:"sysDescr"`
	Hardware    *string `json:"hardware"`
	Serial      *string `json:"serial"`
	Version     *string `json:"version"`
}

// Port is one row of LibreNMS's ports table.
type Port struct {
	IfIndex     int     `json:"ifIndex"`
	IfName      *string `json:"ifName"`
	IfDescr     *string `json:"ifDescr"`
	IfInOctets  *number `json:"ifInOctets"`
	IfOutOctets *number `json:"ifOutOctets"`
}

// Processor is one LibreNMS processor.
type Processor struct {
	Descr string  `json:"processor_descr"`
	Type  string  `json:"processor_type"`
	Usage float64 `json:"processor_usage"`
}

// Mempool is one LibreNMS memory pool.
type Mempool struct {
	Descr   string  `json:"mempool_descr"`
	Class   string  `json:"mempool_class"`
	Used    float64 `json:"mempool_used"`
	Total   float64 `json:"mempool_total"`
	Perc    float64 `json:"mempool_perc"`
	PercOID *string `json:"mempool_perc_oid"`
	UsedOID *string `json:"mempool_used_oid"`
	FreeOID *string `json:"mempool_free_oid"`
}

// SensorRow is one LibreNMS sensor.
type SensorRow struct {
	Class     string   `json:"sensor_class"`
	Descr     string   `json:"sensor_descr"`
	Group     *string  `json:"group"`
	Current   *float64 `json:"sensor_current"`
	StateName *string  `json:"state_name"`
}

// StateIndex maps a state sensor's raw value to its meaning; Generic is
// 0 ok, 1 warning, 2 critical, 3 unknown.
type StateIndex struct {
	Name    string  `json:"state_name"`
	Value   float64 `json:"state_value"`
	Generic int     `json:"state_generic_value"`
}

// Link is one LibreNMS discovery-protocols link.
type Link struct {
	Protocol       string  `json:"protocol"`
	IfName         *string `json:"ifName"`
	IfDescr        *string `json:"ifDescr"`
	RemoteHostname *string `json:"remote_hostname"`
	RemotePort     *string `json:"remote_port"`
}

// Load reads one LibreNMS JSON file.
func Load(path string) (*Dump, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("oracle: %w", err)
	}
	return Parse(path, raw)
}

// Parse decodes a LibreNMS JSON document; name prefixes errors.
func Parse(name string, raw []byte) (*Dump, error) {
	var d Dump
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("oracle %s: %w", name, err)
	}
	d.ports = d.Ports.Discovery.V.Ports
	if p := d.Ports.Poller; len(p) > 0 && p[0] == '{' {
		var pp struct {
			Ports []Port `json:"ports"`
		}
		if err := json.Unmarshal(p, &pp); err != nil {
			return nil, fmt.Errorf("oracle %s: ports.poller: %w", name, err)
		}
		d.ports = pp.Ports
	}
	return &d, nil
}

// Device returns the oracle's device row (zero when it has none).
func (d *Dump) Device() Device {
	if len(d.OS.Discovery.Devices) == 0 {
		return Device{}
	}
	return d.OS.Discovery.Devices[0]
}

// Check is one field's verdict. A check that is not Scored has nothing in
// the oracle to compare with and counts nowhere.
type Check struct {
	Field  string `json:"field"`
	Scored bool   `json:"scored"`
	Pass   bool   `json:"pass"`
	Want   string `json:"want,omitempty"`
	Got    string `json:"got,omitempty"`
}

// Compare scores snap against d, one Check per field of Fields; the model
// check also accepts the names in Aliases.
func Compare(snap *collector.Snapshot, d *Dump) []Check {
	dev := d.Device()
	out := make([]Check, 0, len(Fields))
	out = append(out, checkSerial(snap, dev), checkModel(snap, dev), checkInterfaces(snap, d.ports),
		checkCPU(snap, d.Processors.Discovery.V.Processors), checkMemory(snap, d.Mempools.Discovery.V.Mempools),
		checkNeighbors(snap, d.Links.Discovery.V.Links),
		checkSensors("temperature", snap, d.Sensors.Discovery.V.Sensors, "temperature", 2, 0),
		checkSensors("fan", snap, d.Sensors.Discovery.V.Sensors, "fanspeed", 0, 0.05),
		checkPSU(snap, d.Sensors.Discovery.V.Sensors, d.Sensors.Discovery.V.StateIndexes))
	return out
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

func checkSerial(snap *collector.Snapshot, dev Device) Check {
	c := Check{Field: "serial", Want: str(dev.Serial), Got: snap.Serial}
	c.Scored = c.Want != ""
	c.Pass = c.Scored && strings.TrimSpace(snap.Serial) == c.Want
	return c
}

func checkModel(snap *collector.Snapshot, dev Device) Check {
	c := Check{Field: "model", Want: str(dev.Hardware), Got: snap.Model}
	c.Scored = c.Want != ""
	if !c.Scored {
		return c
	}
	got, want := collector.Normalize(snap.Model), collector.Normalize(c.Want)
	c.Pass = got != "" && (got == want || Aliases[want] == got)
	return c
}

func checkInterfaces(snap *collector.Snapshot, ports []Port) Check {
	c := Check{Field: "interfaces", Scored: len(ports) > 0}
	if !c.Scored {
		return c
	}
	byIndex := make(map[int]collector.Interface, len(snap.Interfaces))
	for _, it := range snap.Interfaces {
		byIndex[it.Index] = it
	}
	ok := 0
	var firstMiss string
	for _, p := range ports {
		want := str(p.IfName)
		if want == "" {
			want = str(p.IfDescr)
		}
		it, found := byIndex[p.IfIndex]
		good := found && strings.TrimSpace(it.Name) == want &&
			(p.IfInOctets == nil || float64(it.InOctets) == float64(*p.IfInOctets)) &&
			(p.IfOutOctets == nil || float64(it.OutOctets) == float64(*p.IfOutOctets))
		if good {
			ok++
		} else if firstMiss == "" {
			firstMiss = fmt.Sprintf("ifIndex %d %q", p.IfIndex, want)
			if found {
				c.Got = fmt.Sprintf("%q in %d out %d", it.Name, it.InOctets, it.OutOctets)
			}
		}
	}
	c.Pass = float64(ok) >= 0.99*float64(len(ports))
	c.Want = fmt.Sprintf("%d ports", len(ports))
	if !c.Pass {
		c.Want += fmt.Sprintf(", %d match; first miss %s", ok, firstMiss)
	}
	return c
}

// matchAll pairs each want with a distinct got for which same holds, as
// many as can be paired (a maximum matching: taking the first fitting got
// for each want can leave a later want without one when a tolerance lets
// a got fit two wants), and returns how many wants were paired and how
// many gots were left over.
func matchAll(nWant, nGot int, same func(w, g int) bool) (paired, extra int) {
	owner := make([]int, nGot) // want paired with each got, or -1
	for g := range owner {
		owner[g] = -1
	}
	var try func(w int, seen []bool) bool
	try = func(w int, seen []bool) bool {
		for g := range nGot {
			if seen[g] || !same(w, g) {
				continue
			}
			seen[g] = true
			if owner[g] < 0 || try(owner[g], seen) {
				owner[g] = w
				return true
			}
		}
		return false
	}
	for w := range nWant {
		if try(w, make([]bool, nGot)) {
			paired++
		}
	}
	return paired, nGot - paired
}

func checkCPU(snap *collector.Snapshot, procs []Processor) Check {
	c := Check{Field: "cpu", Scored: len(procs) > 0}
	if !c.Scored {
		return c
	}
	ws := make([]string, len(procs))
	for i, p := range procs {
		ws[i] = fmt.Sprintf("%s=%g", p.Descr, p.Usage)
	}
	gs := make([]string, len(snap.CPU))
	for i, g := range snap.CPU {
		gs[i] = fmt.Sprintf("%s=%.1f", g.Name, g.Percent)
	}
	c.Want, c.Got = short(ws), short(gs)
	paired, extra := matchAll(len(procs), len(snap.CPU), func(w, g int) bool {
		return math.Abs(snap.CPU[g].Percent-procs[w].Usage) <= 2
	})
	c.Pass = paired > 0 && extra == 0
	return c
}

func short(s []string) string {
	if len(s) > 4 {
		return strings.Join(s[:4], ", ") + fmt.Sprintf(", … (%d)", len(s))
	}
	return strings.Join(s, ", ")
}

// systemPools are the pools that count as "memory utilisation".
func systemPools(snap *collector.Snapshot) []collector.Memory {
	var out []collector.Memory
	for _, m := range snap.Memory {
		if m.Class == "system" || m.Class == "" {
			out = append(out, m)
		}
	}
	return out
}

func checkMemory(snap *collector.Snapshot, pools []Mempool) Check {
	var want []Mempool
	for _, m := range pools {
		if m.Class == "system" || m.Class == "" {
			want = append(want, m)
		}
	}
	c := Check{Field: "memory", Scored: len(want) > 0}
	if !c.Scored {
		return c
	}
	ours := systemPools(snap)
	ws := make([]string, len(want))
	for i, m := range want {
		ws[i] = fmt.Sprintf("%s %.0f/%.0f %g%%", m.Descr, m.Used, m.Total, m.Perc)
	}
	gs := make([]string, len(ours))
	for i, m := range ours {
		gs[i] = fmt.Sprintf("%s %d/%d %.1f%%", m.Name, m.UsedBytes, m.TotalBytes, m.Percent)
	}
	c.Want, c.Got = short(ws), short(gs)
	paired, extra := matchAll(len(want), len(ours), func(w, g int) bool { return SameMemory(ours[g], want[w]) })
	c.Pass = paired > 0 && extra == 0
	return c
}

// SameMemory: total within 2 % and used within 5 % where both sides have
// bytes, else percent within 2 points. LibreNMS stores a percent-only
// pool as used=perc, total=100, which are not bytes.
func SameMemory(o collector.Memory, m Mempool) bool {
	percentOnly := m.PercOID != nil && m.UsedOID == nil && m.FreeOID == nil && m.Total == 100
	if math.Abs(o.Percent-m.Perc) <= 2 && (percentOnly || o.TotalBytes == 0) {
		return true
	}
	if percentOnly || o.TotalBytes == 0 || m.Total <= 0 {
		return false
	}
	totalOK := math.Abs(float64(o.TotalBytes)-m.Total) <= 0.02*m.Total
	usedOK := math.Abs(float64(o.UsedBytes)-m.Used) <= 0.05*m.Used || math.Abs(o.Percent-m.Perc) <= 2
	return totalOK && usedOK
}

// normHost compares host names without their domain, on which LibreNMS
// and the device disagree; IPv4 addresses keep all their parts.
func normHost(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexByte(s, '.'); i > 0 && !isIPv4(s) {
		s = s[:i]
	}
	return s
}

func isIPv4(s string) bool {
	return strings.Trim(s, "0123456789.") == ""
}

func checkNeighbors(snap *collector.Snapshot, links []Link) Check {
	c := Check{Field: "neighbors", Scored: len(links) > 0}
	if !c.Scored {
		return c
	}
	missing := 0
	var firstMiss string
	for _, l := range links {
		local := []string{str(l.IfName), str(l.IfDescr)}
		remote := normHost(str(l.RemoteHostname))
		found := false
		for _, n := range snap.Neighbors {
			if n.LocalPort == "" || (n.LocalPort != local[0] && n.LocalPort != local[1]) {
				continue
			}
			// A neighbour without a system name is known to LibreNMS by
			// its system description.
			if remote == "" || normHost(n.RemoteName) == remote || normHost(n.RemoteChassisID) == remote ||
				normHost(n.RemoteAddress) == remote || (n.RemoteName == "" && normHost(n.RemoteDescr) == remote) {
				found = true
				break
			}
		}
		if !found {
			missing++
			if firstMiss == "" {
				firstMiss = fmt.Sprintf("%s → %s", local[0], remote)
			}
		}
	}
	c.Want = fmt.Sprintf("%d links", len(links))
	c.Got = fmt.Sprintf("%d neighbours", len(snap.Neighbors))
	if missing > 0 {
		c.Want += fmt.Sprintf(", %d missing; first %s", missing, firstMiss)
	}
	c.Pass = missing == 0
	return c
}

// checkSensors: at least 90 % of LibreNMS's sensors of class lclass have a
// distinct sensor of ours of class ours within abs (or rel × value).
func checkSensors(ours string, snap *collector.Snapshot, rows []SensorRow, lclass string, abs, rel float64) Check {
	var want []float64
	for _, r := range rows {
		if r.Class == lclass && r.Current != nil {
			want = append(want, *r.Current)
		}
	}
	c := Check{Field: ours, Scored: len(want) > 0}
	if !c.Scored {
		return c
	}
	var got []float64
	for _, s := range snap.Sensors {
		if s.Class == ours {
			got = append(got, s.Value)
		}
	}
	paired, _ := matchAll(len(want), len(got), func(w, g int) bool {
		return math.Abs(got[g]-want[w]) <= math.Max(abs, rel*math.Abs(want[w]))
	})
	c.Want = fmt.Sprintf("%d sensors", len(want))
	c.Got = fmt.Sprintf("%d read, %d match", len(got), paired)
	c.Pass = float64(paired) >= 0.9*float64(len(want))
	return c
}

// psuName picks LibreNMS's power supply state sensors by name or group.
// "PWR" stands alone, not inside a model name (Huawei's S5720-56C-PWR-EI
// is a PoE switch, and its stack rows are no power supplies).
var psuName = regexp.MustCompile(`(?i)power[ -]?suppl|\bpsu|(^|[\s_(])pwr|power (module|unit)`)

// checkPSU: at least 90 % of LibreNMS's power supply states have a
// distinct power supply of ours in the same state (ok, warning, failed,
// unknown).
func checkPSU(snap *collector.Snapshot, rows []SensorRow, states []StateIndex) Check {
	generic := map[string]int{}
	for _, s := range states {
		generic[s.Name+"\x00"+strconv.FormatFloat(s.Value, 'g', -1, 64)] = s.Generic
	}
	statusOf := [...]string{"ok", "warning", "failed", "unknown"}
	var want []string
	for _, r := range rows {
		name := r.Descr + " " + str(r.Group)
		if r.Class != "state" || r.Current == nil || r.StateName == nil || !psuName.MatchString(name) ||
			strings.Contains(strings.ToLower(r.Descr), "fan") || strings.Contains(strings.ToLower(r.Descr), "temp") {
			continue
		}
		g, ok := generic[*r.StateName+"\x00"+strconv.FormatFloat(*r.Current, 'g', -1, 64)]
		if !ok || g < 0 || g > 3 {
			continue
		}
		want = append(want, statusOf[g])
	}
	c := Check{Field: "psu", Scored: len(want) > 0}
	if !c.Scored {
		return c
	}
	var got []string
	for _, s := range snap.Sensors {
		if s.Class == "psu" {
			got = append(got, s.Status)
		}
	}
	paired, _ := matchAll(len(want), len(got), func(w, g int) bool { return got[g] == want[w] })
	c.Want = fmt.Sprintf("%d power supplies %s", len(want), short(want))
	c.Got = fmt.Sprintf("%d read %s, %d match", len(got), short(got), paired)
	c.Pass = float64(paired) >= 0.9*float64(len(want))
	return c
}
