package snmpsim_test

import (
	"context"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/inventory"
)

// startDemoNetwork serves the demo network on loopback with a real clock:
// the collector stamps and rates with time.Now.
func startDemoNetwork(t *testing.T) (*snmpsim.Simulator, map[string]snmpsim.DeviceInfo) {
	t.Helper()
	sim := snmpsim.New(snmpsim.Options{})
	t.Cleanup(func() { sim.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	infos, err := sim.AddDemoNetwork(ctx, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]snmpsim.DeviceInfo{}
	for _, i := range infos {
		m[i.Name] = i
	}
	return sim, m
}

func poll(t *testing.T, info snmpsim.DeviceInfo) *collector.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	target := net.JoinHostPort(info.Address, strconv.Itoa(info.Port))
	snap := collector.Poll(ctx, target, inventory.Credential{Version: "2c", Community: snmpsim.DemoCommunity},
		collector.PollOptions{Session: collector.SessionOptions{Timeout: 2 * time.Second}})
	if !snap.Reachable || len(snap.Errors) > 0 {
		t.Fatalf("poll %s (%s): reachable %v, errors %v", info.Name, target, snap.Reachable, snap.Errors)
	}
	return snap
}

func names[T any](xs []T, name func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = name(x)
	}
	slices.Sort(out)
	return out
}

func sensors(snap *collector.Snapshot, class string) []collector.Sensor {
	var out []collector.Sensor
	for _, s := range snap.Sensors {
		if s.Class == class {
			out = append(out, s)
		}
	}
	return out
}

// TestDemoDevicesPolledByProfile polls every demo device with the
// collector and checks that its profile, whichever MIBs it reads, finds
// CPU, memory and temperature, and that cpu, memory and temperature faults
// show in what it reads.
func TestDemoDevicesPolledByProfile(t *testing.T) {
	fortiCores := []string{"System"}
	for i := 1; i <= 8; i++ {
		fortiCores = append(fortiCores, fmt.Sprintf("CPU Core %d", i))
	}
	slices.Sort(fortiCores) // names() sorts what the poll found
	cisco := struct{ cpu, mem, temps, fans, psus []string }{
		cpu:   []string{"cpu 2"},
		mem:   []string{"Processor", "reserve Processor"},
		temps: []string{"Switch 1 - Hotspot Temp Sensor", "Switch 1 - Inlet Temp Sensor", "Temp Inlet"},
		fans:  []string{"Switch 1 - FAN - T1 1", "Switch 1 - FAN - T1 2", "Switch 1 - FAN - T1 3"},
		// B is not fitted: ciscoEnvMonSupplyState notPresent is kept, state
		// unknown, as LibreNMS shows it.
		psus: []string{"Switch 1 - Power Supply A", "Switch 1 - Power Supply B"},
	}
	hr := struct{ cpu, mem, temps []string }{
		cpu:   []string{"cpu196608", "cpu196609"},
		mem:   []string{"Physical memory"},
		temps: []string{"Temp Inlet"},
	}
	type want struct {
		profile                     string
		cpu, mem, temps, fans, psus []string
		mainPool                    string // the pool a memory fault fills
	}
	wants := map[string]want{
		"C9500-24Y4C":    {"cisco-iosxe", cisco.cpu, cisco.mem, cisco.temps, cisco.fans, cisco.psus, "Processor"},
		"C9300-48P":      {"cisco-iosxe", cisco.cpu, cisco.mem, cisco.temps, cisco.fans, cisco.psus, "Processor"},
		"C9200-24T":      {"cisco-iosxe", cisco.cpu, cisco.mem, cisco.temps, cisco.fans, cisco.psus, "Processor"},
		"FortiGate-100F": {"fortinet-fortigate", fortiCores, []string{"Main Memory"}, hr.temps, nil, nil, "Main Memory"},
		"MX204": {"juniper-junos", []string{"FPC: MPC7E-BUILTIN @ 0/*/*", "Routing Engine"},
			[]string{"FPC: MPC7E-BUILTIN @ 0/*/*", "Routing Engine"},
			[]string{"FPC: MPC7E-BUILTIN @ 0/*/*", "Routing Engine", "Temp Inlet"},
			[]string{"Fan Tray 0 Fan 0", "Fan Tray 0 Fan 1", "Fan Tray 1 Fan 0", "Fan Tray 1 Fan 1", "Fan Tray 2 Fan 0", "Fan Tray 2 Fan 1"},
			[]string{"PEM 0", "PEM 1"}, "Routing Engine"},
		"PA-440": {"paloalto-panos", hr.cpu, hr.mem, hr.temps, nil, nil, "Physical memory"},
		"6100":   {"aruba-cx", hr.cpu, hr.mem, hr.temps, nil, nil, "Physical memory"},
	}
	cpuName := func(c collector.CPU) string { return c.Name }
	memName := func(m collector.Memory) string { return m.Name }
	sensorName := func(s collector.Sensor) string { return s.Name }

	sim, infos := startDemoNetwork(t)
	for _, d := range snmpsim.DemoNetwork() {
		t.Run(d.Name, func(t *testing.T) {
			w, ok := wants[d.Model]
			if !ok {
				t.Fatalf("no expectations for model %s", d.Model)
			}
			info := infos[d.Name]

			snap := poll(t, info)
			if snap.Profile != w.profile {
				t.Fatalf("profile %q, want %q", snap.Profile, w.profile)
			}
			if got := names(snap.CPU, cpuName); !slices.Equal(got, w.cpu) {
				t.Errorf("CPUs %q, want %q", got, w.cpu)
			}
			for _, c := range snap.CPU {
				if c.Percent < 1 || c.Percent > 40 {
					t.Errorf("CPU %q at %v%%, want an idle-ish 1..40", c.Name, c.Percent)
				}
			}
			if got := names(snap.Memory, memName); !slices.Equal(got, w.mem) {
				t.Errorf("memory pools %q, want %q", got, w.mem)
			}
			for _, m := range snap.Memory {
				if m.Percent <= 0 || m.Percent > 55 || (m.TotalBytes > 0 && m.UsedBytes > m.TotalBytes) {
					t.Errorf("memory %+v, want 0..55%% used", m)
				}
				if m.Name == w.mainPool && (m.TotalBytes < 1<<30 || m.Percent < 35) {
					t.Errorf("main pool %+v, want at least 1 GiB at 35..55%%", m)
				}
			}
			temps := sensors(snap, "temperature")
			if got := names(temps, sensorName); !slices.Equal(got, w.temps) {
				t.Errorf("temperature sensors %q, want %q", got, w.temps)
			}
			for _, s := range temps {
				if s.Value < 30 || s.Value > 70 || s.Status == "failed" || s.Status == "warning" {
					t.Errorf("temperature %+v, want 30..70 °C and not alarming", s)
				}
			}
			for class, want := range map[string][]string{"fan": w.fans, "psu": w.psus} {
				got := sensors(snap, class)
				if gotNames := names(got, sensorName); !slices.Equal(gotNames, want) && len(got)+len(want) > 0 {
					t.Errorf("%s sensors %q, want %q", class, gotNames, want)
				}
				for _, s := range got {
					want := "ok"
					if class == "psu" && s.Name == "Switch 1 - Power Supply B" {
						want = "unknown"
					}
					if s.Status != want {
						t.Errorf("%s %q status %q, want %s", class, s.Name, s.Status, want)
					}
				}
			}

			for _, f := range []snmpsim.Fault{
				{Kind: snmpsim.FaultCPU, Percent: 97},
				{Kind: snmpsim.FaultMemory, Percent: 95},
				{Kind: snmpsim.FaultTemperature, Celsius: 85},
			} {
				if err := sim.InjectFault(d.Name, f); err != nil {
					t.Fatal(err)
				}
			}
			snap = poll(t, info)
			if got := names(snap.CPU, cpuName); !slices.Equal(got, w.cpu) {
				t.Errorf("CPUs under fault %q, want %q", got, w.cpu)
			}
			for _, c := range snap.CPU {
				if c.Percent != 97 {
					t.Errorf("CPU %q at %v%% under a cpu 97 fault", c.Name, c.Percent)
				}
			}
			var main *collector.Memory
			for i := range snap.Memory {
				if snap.Memory[i].Name == w.mainPool {
					main = &snap.Memory[i]
				}
			}
			if main == nil || math.Abs(main.Percent-95) > 0.01 || main.Class != "system" {
				t.Errorf("main pool %q under a memory 95 fault: %+v (all: %+v)", w.mainPool, main, snap.Memory)
			}
			temps = sensors(snap, "temperature")
			if len(temps) != len(w.temps) {
				t.Errorf("temperature sensors under fault %+v, want %q", temps, w.temps)
			}
			for _, s := range temps {
				if s.Value != 85 {
					t.Errorf("temperature %q reads %v under a temperature 85 fault", s.Name, s.Value)
				}
			}

			if err := sim.ClearFaults(d.Name); err != nil {
				t.Fatal(err)
			}
			snap = poll(t, info)
			for _, c := range snap.CPU {
				if c.Percent > 40 {
					t.Errorf("CPU %q still at %v%% after clearing faults", c.Name, c.Percent)
				}
			}
			for _, s := range sensors(snap, "temperature") {
				if s.Value > 70 {
					t.Errorf("temperature %q still %v after clearing faults", s.Name, s.Value)
				}
			}
		})
	}
}
