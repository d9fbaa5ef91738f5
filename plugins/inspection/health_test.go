package inspection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/plugins"
)

var t0 = time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)

// healthySnapshot is a device with nothing to report.
func healthySnapshot() *collector.Snapshot {
	return &collector.Snapshot{
		Target: "192.0.2.10:161", Device: "sw1", Time: t0, Reachable: true,
		System: collector.System{Name: "sw1", UptimeSeconds: 40 * 86400},
		Vendor: "cisco", Model: "C9300-48P", Serial: "FCW2233ABCD", Firmware: "17.9.4a",
		Interfaces: []collector.Interface{
			{Index: 1, Name: "Gi1/0/1", SpeedBps: 1e9, InErrors: 10, OutErrors: 5,
				Rates: &collector.InterfaceRates{InErrorsPerSec: 0.1, UtilPercent: 40}},
			{Index: 2, Name: "Gi1/0/2", SpeedBps: 1e9},
		},
		CPU:    []collector.CPU{{Name: "cpu0", Percent: 12}},
		Memory: []collector.Memory{{Name: "Processor", Percent: 50, Class: "system"}, {Name: "swap", Percent: 99, Class: "swap"}},
		Sensors: []collector.Sensor{
			{Class: "temperature", Name: "Inlet", Value: 35, Unit: "celsius", Status: "ok"},
			{Class: "fan", Name: "Fan 1", Value: 6000, Unit: "rpm", Status: "ok"},
			{Class: "power", Name: "PSU 1", Value: 1, Status: "ok"},
		},
		Neighbors: []collector.Neighbor{{Protocol: "lldp", LocalPort: "Gi1/0/1", RemoteName: "core1", RemotePort: "Te1/1"}},
	}
}

// matchingHistory is what a previous inspection of healthySnapshot saw.
func matchingHistory() *History {
	h := Observe(healthySnapshot())
	h.PreviousAt = t0.Add(-30 * 24 * time.Hour)
	return &h
}

type want struct{ sev, cat, title string }

func TestHealthFindings(t *testing.T) {
	tests := []struct {
		name string
		snap func(s *collector.Snapshot)
		hist func(h *History) // nil hist func: no history at all
		want []want
	}{
		{name: "healthy without history", snap: func(*collector.Snapshot) {}},
		{name: "healthy with matching history", snap: func(*collector.Snapshot) {}, hist: func(*History) {}},
		{name: "unreachable stops the other checks",
			snap: func(s *collector.Snapshot) {
				s.Reachable = false
				s.Errors = []string{"timeout"}
				s.CPU[0].Percent = 99
			},
			want: []want{{plugins.SeverityCritical, CategoryAvailability, "Device did not answer the inspection poll"}}},
		{name: "cpu over threshold", snap: func(s *collector.Snapshot) { s.CPU[0].Percent = 95 },
			want: []want{{plugins.SeverityMajor, CategoryPerformance, "CPU load high"}}},
		{name: "cpu at threshold is fine", snap: func(s *collector.Snapshot) { s.CPU[0].Percent = 90 }},
		{name: "system memory high, swap ignored", snap: func(s *collector.Snapshot) { s.Memory[0].Percent = 93 },
			want: []want{{plugins.SeverityWarning, CategoryPerformance, "Memory use high: Processor"}}},
		{name: "temperature high", snap: func(s *collector.Snapshot) { s.Sensors[0].Value = 78 },
			want: []want{{plugins.SeverityMajor, CategoryHardware, "Temperature high"}}},
		{name: "fan failed", snap: func(s *collector.Snapshot) { s.Sensors[1].Status = "failed" },
			want: []want{{plugins.SeverityMajor, CategoryHardware, "Fan failed: Fan 1"}}},
		{name: "psu failed", snap: func(s *collector.Snapshot) { s.Sensors[2].Status = "failed" },
			want: []want{{plugins.SeverityCritical, CategoryHardware, "Power supply failed: PSU 1"}}},
		{name: "recent reboot", snap: func(s *collector.Snapshot) { s.System.UptimeSeconds = 3600 },
			want: []want{{plugins.SeverityWarning, CategoryHardware, "Device rebooted recently"}}},
		{name: "uptime over a year", snap: func(s *collector.Snapshot) { s.System.UptimeSeconds = 400 * 86400 },
			want: []want{{plugins.SeverityInfo, CategoryConfiguration, "Software not updated for a long time"}}},
		{name: "live error rate", snap: func(s *collector.Snapshot) { s.Interfaces[0].Rates.InErrorsPerSec = 5 },
			want: []want{{plugins.SeverityWarning, CategoryLink, "Interface errors growing: Gi1/0/1"}}},
		{name: "errors grew since last inspection", snap: func(s *collector.Snapshot) { s.Interfaces[1].InErrors = 5000 }, hist: func(*History) {},
			want: []want{{plugins.SeverityWarning, CategoryLink, "Interface errors growing: Gi1/0/2"}}},
		{name: "errors grew a little", snap: func(s *collector.Snapshot) { s.Interfaces[1].InErrors = 999 }, hist: func(*History) {}},
		{name: "counter reset is not growth", snap: func(s *collector.Snapshot) { s.Interfaces[0].InErrors = 0 },
			hist: func(h *History) { h.InterfaceErrors["Gi1/0/1"] = 90000 }},
		{name: "utilisation high", snap: func(s *collector.Snapshot) { s.Interfaces[0].Rates.UtilPercent = 97 },
			want: []want{{plugins.SeverityWarning, CategoryPerformance, "Interface utilisation high: Gi1/0/1"}}},
		{name: "firmware changed", snap: func(s *collector.Snapshot) { s.Firmware = "17.12.1" }, hist: func(*History) {},
			want: []want{{plugins.SeverityInfo, CategoryConfiguration, "Firmware changed"}}},
		{name: "firmware without history is not a change", snap: func(s *collector.Snapshot) { s.Firmware = "17.12.1" }},
		{name: "serial changed", snap: func(s *collector.Snapshot) { s.Serial = "FCW9999ZZZZ" }, hist: func(*History) {},
			want: []want{{plugins.SeverityWarning, CategoryConfiguration, "Device replaced: serial number changed"}}},
		{name: "serial case and blanks are the same serial", snap: func(s *collector.Snapshot) { s.Serial = " fcw2233abcd " }, hist: func(*History) {}},
		{name: "neighbour lost and new", hist: func(*History) {},
			snap: func(s *collector.Snapshot) { s.Neighbors[0].RemoteName = "core2" },
			want: []want{{plugins.SeverityWarning, CategoryLink, "LLDP/CDP neighbours changed since the last inspection"}}},
		{name: "first neighbour where there was none", hist: func(h *History) { h.Neighbors = []Neighbor{} }, snap: func(*collector.Snapshot) {},
			want: []want{{plugins.SeverityWarning, CategoryLink, "LLDP/CDP neighbours changed since the last inspection"}}},
		{name: "neighbours unknown last time", hist: func(h *History) { h.Neighbors = nil }, snap: func(*collector.Snapshot) {}},
		{name: "sustained cpu and memory", snap: func(*collector.Snapshot) {},
			hist: func(h *History) {
				h.CPU = &Stat{Min: 60, Avg: 75, Max: 99}
				h.Memory = &Stat{Min: 80, Avg: 85, Max: 88}
			},
			want: []want{{plugins.SeverityWarning, CategoryPerformance, "CPU load high over the period"},
				{plugins.SeverityWarning, CategoryPerformance, "Memory use high over the period"}}},
		{name: "several at once", snap: func(s *collector.Snapshot) {
			s.CPU[0].Percent = 99
			s.Sensors[2].Status = "failed"
			s.Interfaces[0].Rates.UtilPercent = 95
		}, want: []want{
			{plugins.SeverityMajor, CategoryPerformance, "CPU load high"},
			{plugins.SeverityCritical, CategoryHardware, "Power supply failed: PSU 1"},
			{plugins.SeverityWarning, CategoryPerformance, "Interface utilisation high: Gi1/0/1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := healthySnapshot()
			tt.snap(s)
			req := plugins.InspectRequest{Device: plugins.Device{Name: "sw1"}, Snapshot: mustJSON(t, s)}
			if tt.hist != nil {
				h := matchingHistory()
				tt.hist(h)
				req.History = mustJSON(t, h)
			}
			got, err := NewHealth().Inspect(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if err := plugins.CheckFindings(got); err != nil {
				t.Fatalf("findings break the contract: %v", err)
			}
			var gw []want
			for _, f := range got {
				gw = append(gw, want{f.Severity, f.Category, f.Title})
				if len(f.Evidence) == 0 || f.Recommendation == "" {
					t.Errorf("finding %q has no evidence or no recommendation: %+v", f.Title, f)
				}
			}
			if !slices.Equal(gw, tt.want) {
				t.Errorf("findings:\n got %v\nwant %v", gw, tt.want)
			}
		})
	}
}

func TestHealthEvidence(t *testing.T) {
	s := healthySnapshot()
	s.Neighbors = append(s.Neighbors, collector.Neighbor{LocalPort: "Gi1/0/2", RemoteName: "ap-7", RemotePort: "eth0"})
	s.Neighbors[0].RemoteName = "core2"
	s.Interfaces[1].OutErrors = 2500
	s.CPU = []collector.CPU{{Name: "core0", Percent: 95}, {Name: "core1", Percent: 20}, {Name: "core2", Percent: 99}}
	h := matchingHistory()
	fs, err := NewHealth().Inspect(context.Background(), plugins.InspectRequest{Snapshot: mustJSON(t, s), History: mustJSON(t, h)})
	if err != nil {
		t.Fatal(err)
	}
	all := ""
	var cpu []plugins.Finding
	for _, f := range fs {
		if f.Title == "CPU load high" {
			cpu = append(cpu, f)
		}
		all += strings.Join(f.Evidence, "\n") + "\n"
	}
	for _, want := range []string{
		"lost: Gi1/0/1 -> core1 Te1/1", "new: Gi1/0/1 -> core2 Te1/1", "new: Gi1/0/2 -> ap-7 eth0",
		"Gi1/0/2: 2500 errors since the previous inspection (0 -> 2500)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("evidence lacks %q:\n%s", want, all)
		}
	}
	// Cores share a cause: one finding, one evidence line per hot core.
	if len(cpu) != 1 || !slices.Equal(cpu[0].Evidence, []string{"CPU core0 at 95% (threshold 90%)", "CPU core2 at 99% (threshold 90%)"}) {
		t.Errorf("CPU findings %+v, want one with the two hot cores", cpu)
	}
}

func TestHealthConfigure(t *testing.T) {
	ctx := context.Background()
	h := NewHealth()
	if err := h.Configure(ctx, []byte(`{"cpu_percent": 50, "max_uptime_days": 30}`)); err != nil {
		t.Fatal(err)
	}
	s := healthySnapshot()
	s.CPU[0].Percent = 60
	fs, err := h.Inspect(ctx, plugins.InspectRequest{Snapshot: mustJSON(t, s)})
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, f := range fs {
		titles = append(titles, f.Title)
	}
	if want := []string{"CPU load high", "Software not updated for a long time"}; !slices.Equal(titles, want) {
		t.Errorf("with lowered thresholds got %v, want %v", titles, want)
	}
	for _, bad := range []string{`{"cpu": 50}`, `{"cpu_percent": -1}`, `[1]`} {
		if err := h.Configure(ctx, []byte(bad)); !errors.Is(err, plugins.ErrInvalid) {
			t.Errorf("Configure(%s) = %v, want ErrInvalid", bad, err)
		}
	}
	info, err := h.Info(ctx)
	if err != nil || plugins.CheckInfo(info) != nil || info.Name != HealthName || info.Kind != plugins.KindInspector {
		t.Errorf("Info = %+v, %v", info, err)
	}
}

func TestHealthBadRequest(t *testing.T) {
	for _, req := range []plugins.InspectRequest{
		{Device: plugins.Device{Name: "x"}},
		{Device: plugins.Device{Name: "x"}, Snapshot: json.RawMessage(`{"reachable": "yes"}`)},
		{Device: plugins.Device{Name: "x"}, Snapshot: mustJSON(t, healthySnapshot()), History: json.RawMessage(`{"serial": 5}`)},
	} {
		_, err := NewHealth().Inspect(context.Background(), req)
		if !errors.Is(err, plugins.ErrInvalid) || !strings.Contains(err.Error(), "device x") {
			t.Errorf("Inspect(%s / %s) = %v, want ErrInvalid naming the device", req.Snapshot, req.History, err)
		}
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(fmt.Errorf("marshal: %w", err))
	}
	return b
}
