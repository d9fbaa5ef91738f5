package inspection

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/plugins"
)

// HealthName is the name of the built-in device-health inspector.
const (
	HealthName    = "device-health"
	healthVersion = "1.0.0"
)

// Finding categories: the ticket categories a finding opens a ticket in.
const (
	CategoryHardware      = "hardware"
	CategoryPerformance   = "performance"
	CategoryLink          = "link"
	CategoryConfiguration = "configuration"
	CategoryAvailability  = "availability"
)

// History summarises a device since its previous inspection: what that
// inspection observed (Serial, Firmware, Neighbors, InterfaceErrors) and,
// when the caller has a time series, CPU and memory over the period. It
// travels as InspectRequest.History (JSON). A device never inspected before
// has no history, and the checks that compare are skipped.
type History struct {
	// PreviousAt is when the previous inspection polled the device.
	PreviousAt time.Time `json:"previous_at,omitzero"`
	Serial     string    `json:"serial,omitempty"`
	Firmware   string    `json:"firmware,omitempty"`
	// Neighbors and InterfaceErrors are null when unknown (the device did
	// not answer), so "none" and "not seen" stay apart.
	Neighbors []Neighbor `json:"neighbors"`
	// InterfaceErrors is in+out errors per interface name, as counted then.
	InterfaceErrors map[string]uint64 `json:"interface_errors"`
	// CPU and Memory are percent statistics over the period, if known.
	CPU    *Stat `json:"cpu,omitempty"`
	Memory *Stat `json:"memory,omitempty"`
}

// Neighbor is one LLDP/CDP adjacency, as compared between inspections.
type Neighbor struct {
	LocalPort  string `json:"local_port"`
	RemoteName string `json:"remote_name"`
	RemotePort string `json:"remote_port"`
}

func (n Neighbor) String() string {
	return fmt.Sprintf("%s -> %s %s", n.LocalPort, n.RemoteName, n.RemotePort)
}

// Stat is the minimum, mean and maximum of a percentage over a period.
type Stat struct {
	Min float64 `json:"min"`
	Avg float64 `json:"avg"`
	Max float64 `json:"max"`
}

// Observe is the part of a snapshot the next inspection compares against:
// the History the next inspection of this device receives (without period
// statistics, which come from the time series).
func Observe(s *collector.Snapshot) History {
	h := History{PreviousAt: s.Time, Serial: strings.TrimSpace(s.Serial), Firmware: strings.TrimSpace(s.Firmware)}
	if !s.Reachable {
		return h
	}
	h.Neighbors = neighbors(s)
	h.InterfaceErrors = map[string]uint64{}
	for _, i := range s.Interfaces {
		h.InterfaceErrors[ifName(i)] = i.InErrors + i.OutErrors
	}
	return h
}

func neighbors(s *collector.Snapshot) []Neighbor {
	out := make([]Neighbor, 0, len(s.Neighbors))
	for _, n := range s.Neighbors {
		out = append(out, Neighbor{LocalPort: n.LocalPort, RemoteName: n.RemoteName, RemotePort: n.RemotePort})
	}
	slices.SortFunc(out, func(a, b Neighbor) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(out)
}

func ifName(i collector.Interface) string {
	return cmp.Or(i.Name, i.Descr, fmt.Sprintf("ifIndex %d", i.Index))
}

// HealthConfig is what the device-health inspector's Configure accepts
// (JSON). Zero fields take the defaults, which follow the default rule pack
// (rules/default.yaml) so an inspection and live monitoring agree.
type HealthConfig struct {
	CPUPercent         float64 `json:"cpu_percent"`         // per CPU, default 90 (cpu_high)
	MemoryPercent      float64 `json:"memory_percent"`      // system memory, default 90 (memory_high)
	TemperatureCelsius float64 `json:"temperature_celsius"` // default 70 (temperature_high)
	UtilPercent        float64 `json:"util_percent"`        // per interface, default 90
	// ErrorsPerSec is the live error rate of an interface that is a
	// finding, default 1 (interface_errors).
	ErrorsPerSec float64 `json:"errors_per_sec"`
	// ErrorGrowth is how many new errors on one interface since the
	// previous inspection make a finding, default 1000.
	ErrorGrowth uint64 `json:"error_growth"`
	// MinUptimeHours: a shorter uptime means an (unplanned?) reboot
	// recently, default 24.
	MinUptimeHours float64 `json:"min_uptime_hours"`
	// MaxUptimeDays: a longer uptime means no software update was applied
	// for that long, default 365.
	MaxUptimeDays float64 `json:"max_uptime_days"`
	// SustainedCPUPercent and SustainedMemoryPercent: a period average at
	// or above them is a finding, defaults 70 and 80.
	SustainedCPUPercent    float64 `json:"sustained_cpu_percent"`
	SustainedMemoryPercent float64 `json:"sustained_memory_percent"`
}

const healthSchema = `{"type":"object","additionalProperties":false,"properties":{
"cpu_percent":{"type":"number","minimum":0,"maximum":100},"memory_percent":{"type":"number","minimum":0,"maximum":100},
"temperature_celsius":{"type":"number"},"util_percent":{"type":"number","minimum":0,"maximum":100},
"errors_per_sec":{"type":"number","minimum":0},"error_growth":{"type":"integer","minimum":0},
"min_uptime_hours":{"type":"number","minimum":0},"max_uptime_days":{"type":"number","minimum":0},
"sustained_cpu_percent":{"type":"number","minimum":0,"maximum":100},"sustained_memory_percent":{"type":"number","minimum":0,"maximum":100}}}`

func (c HealthConfig) withDefaults() HealthConfig {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.CPUPercent, 90)
	def(&c.MemoryPercent, 90)
	def(&c.TemperatureCelsius, 70)
	def(&c.UtilPercent, 90)
	def(&c.ErrorsPerSec, 1)
	def(&c.MinUptimeHours, 24)
	def(&c.MaxUptimeDays, 365)
	def(&c.SustainedCPUPercent, 70)
	def(&c.SustainedMemoryPercent, 80)
	if c.ErrorGrowth == 0 {
		c.ErrorGrowth = 1000
	}
	return c
}

// Health is the built-in "device-health" inspector. It reads only the
// request (snapshot and history), never the network, so it needs no
// secrets and is safe to run in or out of process.
type Health struct {
	cfg HealthConfig
}

// NewHealth returns the inspector with the default configuration.
func NewHealth() *Health { return &Health{cfg: HealthConfig{}.withDefaults()} }

// Info implements plugins.Base.
func (h *Health) Info(context.Context) (plugins.Info, error) {
	return plugins.Info{Name: HealthName, Kind: plugins.KindInspector, Version: healthVersion,
		APIVersions: []int{plugins.APIVersion}, ConfigSchema: []byte(healthSchema)}, nil
}

// Configure implements plugins.Base; nil config means the defaults.
func (h *Health) Configure(_ context.Context, raw []byte) error {
	var c HealthConfig
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return fmt.Errorf("%w: %s config: %v", plugins.ErrInvalid, HealthName, err)
		}
	}
	for name, v := range map[string]float64{"cpu_percent": c.CPUPercent, "memory_percent": c.MemoryPercent, "util_percent": c.UtilPercent,
		"errors_per_sec": c.ErrorsPerSec, "min_uptime_hours": c.MinUptimeHours, "max_uptime_days": c.MaxUptimeDays,
		"sustained_cpu_percent": c.SustainedCPUPercent, "sustained_memory_percent": c.SustainedMemoryPercent} {
		if v < 0 || math.IsNaN(v) {
			return fmt.Errorf("%w: %s config: %s must not be negative", plugins.ErrInvalid, HealthName, name)
		}
	}
	h.cfg = c.withDefaults()
	return nil
}

// Inspect implements plugins.Inspector. The snapshot is required; the
// history is optional.
func (h *Health) Inspect(_ context.Context, req plugins.InspectRequest) ([]plugins.Finding, error) {
	if len(req.Snapshot) == 0 {
		return nil, fmt.Errorf("%w: device %s: no snapshot to inspect", plugins.ErrInvalid, req.Device.Name)
	}
	var snap collector.Snapshot
	if err := json.Unmarshal(req.Snapshot, &snap); err != nil {
		return nil, fmt.Errorf("%w: device %s: snapshot: %v", plugins.ErrInvalid, req.Device.Name, err)
	}
	var hist *History
	if len(bytes.TrimSpace(req.History)) > 0 && !bytes.Equal(bytes.TrimSpace(req.History), []byte("null")) {
		hist = new(History)
		if err := json.Unmarshal(req.History, hist); err != nil {
			return nil, fmt.Errorf("%w: device %s: history: %v", plugins.ErrInvalid, req.Device.Name, err)
		}
	}
	return h.check(&snap, hist), nil
}

// check is the pure part of Inspect.
func (h *Health) check(s *collector.Snapshot, hist *History) []plugins.Finding {
	c := h.cfg
	var out []plugins.Finding
	add := func(sev, cat, title, rec string, ev ...string) {
		out = append(out, plugins.Finding{Severity: sev, Category: cat, Title: title, Evidence: ev, Recommendation: rec})
	}
	if !s.Reachable {
		add(plugins.SeverityCritical, CategoryAvailability, "Device did not answer the inspection poll",
			"Check power, management reachability and the SNMP credential; the device could not be inspected.",
			append([]string{"target " + s.Target + " unreachable at " + s.Time.UTC().Format(time.RFC3339)}, s.Errors...)...)
		return out
	}
	// One finding per device for CPU and one for temperature, however
	// many cores or sensors: they share a cause and a remedy.
	var hot []string
	for _, cpu := range s.CPU {
		if cpu.Percent > c.CPUPercent {
			hot = append(hot, fmt.Sprintf("CPU %s at %.0f%% (threshold %.0f%%)", cpu.Name, cpu.Percent, c.CPUPercent))
		}
	}
	if len(hot) > 0 {
		add(plugins.SeverityMajor, CategoryPerformance, "CPU load high",
			"Find the process or traffic using the CPU (control-plane policing, routing churn, broadcast storms) and plan capacity.", hot...)
	}
	for _, m := range s.Memory {
		if (m.Class == "system" || m.Class == "") && m.Percent > c.MemoryPercent {
			add(plugins.SeverityWarning, CategoryPerformance, "Memory use high: "+m.Name,
				"Check for a memory leak (uptime, software defects) and the size of routing and MAC tables; plan a software upgrade or more memory.",
				fmt.Sprintf("memory %s at %.0f%% used (threshold %.0f%%)", m.Name, m.Percent, c.MemoryPercent))
		}
	}
	var warm []string
	for _, sn := range s.Sensors {
		if sn.Class == "temperature" && sn.Value > c.TemperatureCelsius {
			warm = append(warm, fmt.Sprintf("sensor %s at %.1f °C (threshold %.0f °C)", sn.Name, sn.Value, c.TemperatureCelsius))
		}
	}
	if len(warm) > 0 {
		add(plugins.SeverityMajor, CategoryHardware, "Temperature high",
			"Check the room's cooling, airflow and the fans; clean air filters.", warm...)
	}
	for _, sn := range s.Sensors {
		switch {
		case sn.Class == "fan" && sn.Status == "failed":
			add(plugins.SeverityMajor, CategoryHardware, "Fan failed: "+sn.Name,
				"Replace the fan tray under the hardware warranty before the device overheats.",
				fmt.Sprintf("fan %s status %s", sn.Name, sn.Status))
		case slices.Contains([]string{"power", "voltage", "current"}, sn.Class) && sn.Status == "failed":
			add(plugins.SeverityCritical, CategoryHardware, "Power supply failed: "+sn.Name,
				"Replace the power supply: the device runs without redundancy.",
				fmt.Sprintf("%s sensor %s status %s", sn.Class, sn.Name, sn.Status))
		}
	}
	up := time.Duration(s.System.UptimeSeconds * float64(time.Second))
	switch {
	case s.System.UptimeSeconds > 0 && up < time.Duration(c.MinUptimeHours*float64(time.Hour)):
		add(plugins.SeverityWarning, CategoryHardware, "Device rebooted recently",
			"Confirm the reboot was planned; otherwise read the crash log and check the power feed.",
			fmt.Sprintf("uptime %s (less than %.0f h)", roundDur(up), c.MinUptimeHours))
	case up > time.Duration(c.MaxUptimeDays*24*float64(time.Hour)):
		add(plugins.SeverityInfo, CategoryConfiguration, "Software not updated for a long time",
			"Uptime this long means no software update was applied: review the vendor's security advisories and plan an upgrade window.",
			fmt.Sprintf("uptime %.0f days (more than %.0f)", up.Hours()/24, c.MaxUptimeDays))
	}
	for _, i := range s.Interfaces {
		name := ifName(i)
		var ev []string
		if r := i.Rates; r != nil && r.InErrorsPerSec+r.OutErrorsPerSec > c.ErrorsPerSec {
			ev = append(ev, fmt.Sprintf("%s: %.1f errors/s now (threshold %.0f/s)", name, r.InErrorsPerSec+r.OutErrorsPerSec, c.ErrorsPerSec))
		}
		if hist != nil && hist.InterfaceErrors != nil {
			// A counter lower than last time was reset (reboot): no growth
			// can be told, so it is not a finding.
			if was, ok := hist.InterfaceErrors[name]; ok && i.InErrors+i.OutErrors >= was+c.ErrorGrowth {
				ev = append(ev, fmt.Sprintf("%s: %d errors since the previous inspection (%d -> %d)", name, i.InErrors+i.OutErrors-was, was, i.InErrors+i.OutErrors))
			}
		}
		if len(ev) > 0 {
			add(plugins.SeverityWarning, CategoryLink, "Interface errors growing: "+name,
				"Check the cable, optics and duplex settings of the port and of its link partner.", ev...)
		}
		if i.Rates != nil && i.Rates.UtilPercent > c.UtilPercent {
			add(plugins.SeverityWarning, CategoryPerformance, "Interface utilisation high: "+name,
				"Plan more capacity (a faster link or a bundle) or move traffic.",
				fmt.Sprintf("%s at %.0f%% of %s (threshold %.0f%%)", name, i.Rates.UtilPercent, speed(i.SpeedBps), c.UtilPercent))
		}
	}
	if hist == nil {
		return out
	}
	if st := hist.CPU; st != nil && st.Avg >= c.SustainedCPUPercent {
		add(plugins.SeverityWarning, CategoryPerformance, "CPU load high over the period",
			"Sustained load leaves no headroom for failover or attacks: plan capacity or offload.",
			fmt.Sprintf("CPU min %.0f%% / avg %.0f%% / max %.0f%% (average threshold %.0f%%)", st.Min, st.Avg, st.Max, c.SustainedCPUPercent))
	}
	if st := hist.Memory; st != nil && st.Avg >= c.SustainedMemoryPercent {
		add(plugins.SeverityWarning, CategoryPerformance, "Memory use high over the period",
			"Plan a software upgrade or more memory before the device runs out.",
			fmt.Sprintf("memory min %.0f%% / avg %.0f%% / max %.0f%% (average threshold %.0f%%)", st.Min, st.Avg, st.Max, c.SustainedMemoryPercent))
	}
	if r := collector.DetectReplacement(&collector.Snapshot{Serial: hist.Serial}, s); r != nil {
		add(plugins.SeverityWarning, CategoryConfiguration, "Device replaced: serial number changed",
			"Update the asset record and the contract's device list; check the configuration was restored.",
			fmt.Sprintf("serial %s is now %s", r.OldSerial, r.NewSerial))
	}
	if fw := strings.TrimSpace(s.Firmware); hist.Firmware != "" && fw != "" && fw != hist.Firmware {
		add(plugins.SeverityInfo, CategoryConfiguration, "Firmware changed",
			"Confirm the change was planned and recorded; check the new release's known issues.",
			fmt.Sprintf("firmware %s is now %s", hist.Firmware, fw))
	}
	if hist.Neighbors != nil {
		was, now := hist.Neighbors, neighbors(s)
		var ev []string
		for _, n := range was {
			if !slices.Contains(now, n) {
				ev = append(ev, "lost: "+n.String())
			}
		}
		for _, n := range now {
			if !slices.Contains(was, n) {
				ev = append(ev, "new: "+n.String())
			}
		}
		if len(ev) > 0 {
			add(plugins.SeverityWarning, CategoryLink, "LLDP/CDP neighbours changed since the last inspection",
				"Confirm the cabling change was planned; a lost neighbour may be a link that is down.", ev...)
		}
	}
	return out
}

func roundDur(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

func speed(bps uint64) string {
	switch {
	case bps >= 1e9:
		return fmt.Sprintf("%g Gbit/s", float64(bps)/1e9)
	case bps >= 1e6:
		return fmt.Sprintf("%g Mbit/s", float64(bps)/1e6)
	case bps == 0:
		return "unknown speed"
	}
	return fmt.Sprintf("%d bit/s", bps)
}

var _ plugins.Inspector = (*Health)(nil)
