package rules

import (
	"errors"
	"flag"
	"github.com/nocagent/nocagent/collector"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestParseBad checks the exact error text for every broken rule file in
// testdata/bad against its .golden file.
func TestParseBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/bad/*.yaml files")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			rs, err := LoadFile(path)
			if err == nil {
				t.Fatalf("LoadFile(%s) = %d groups, want an error", path, len(rs.Groups))
			}
			golden := strings.TrimSuffix(path, ".yaml") + ".golden"
			got := err.Error() + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("error text differs from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func TestParseErrorIsLocated(t *testing.T) {
	_, err := LoadFile("testdata/bad/bad_expr.yaml")
	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %v is not a *rules.Error", err)
	}
	if perr.File != "testdata/bad/bad_expr.yaml" || perr.Line != 6 {
		t.Errorf("error at %s:%d, want testdata/bad/bad_expr.yaml:6", perr.File, perr.Line)
	}
	if perr.Err == nil {
		t.Error("expr's error is not wrapped")
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile("testdata/no-such-file.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadFile of a missing file: %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestParseGood(t *testing.T) {
	src := `groups:
  - name: perf
    rules:
      - name: cpu_high
        scope: cpu
        condition: "cpu.percent > threshold"
        clear: "cpu.percent < threshold - 10"
        value: "cpu.percent * 1"
        threshold: 90
        for: 2m
        severity: major
        category: performance
        summary: "{{.Device}} busy"
  - name: link
    rules:
      - name: errors_high
        scope: interface
        condition: "iface.in_errors_per_sec > threshold"
        threshold: 1.5
        severity: minor
        category: link
      - name: nothing
        scope: interface
        condition: "iface.oper_status == 'down'"
        clear: ~
        severity: warning
        category: link
`
	rs, err := Parse("good.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	rules := rs.Rules()
	if len(rs.Groups) != 2 || len(rules) != 3 {
		t.Fatalf("got %d groups, %d rules, want 2 and 3", len(rs.Groups), len(rules))
	}
	cpu := rules[0]
	if cpu.Name != "cpu_high" || cpu.Scope != ScopeCPU || cpu.For != 2*time.Minute || cpu.Threshold != 90 ||
		cpu.Severity != SeverityMajor || cpu.Category != CategoryPerformance || cpu.Source != "good.yaml:4" ||
		cpu.Clear == "" || cpu.clear == nil || cpu.value == nil || cpu.Summary != "{{.Device}} busy" {
		t.Errorf("cpu_high decoded as %+v", *cpu)
	}
	if rs.Groups[1].Source != "good.yaml:14" {
		t.Errorf("group link at %s, want good.yaml:14", rs.Groups[1].Source)
	}
	if rules[1].Threshold != 1.5 || !rules[1].needsRates {
		t.Errorf("errors_high: threshold %v needsRates %v, want 1.5 and true", rules[1].Threshold, rules[1].needsRates)
	}
	if rules[2].needsRates || rules[2].clear != nil || rules[2].For != 0 {
		t.Errorf("nothing: needsRates %v clear %v for %v, want false, nil, 0", rules[2].needsRates, rules[2].clear, rules[2].For)
	}
}

func TestDefaultPack(t *testing.T) {
	rs := Default()
	type want struct {
		scope, severity, category string
		threshold                 float64
		forDur                    time.Duration
		clear                     bool
	}
	wants := map[string]want{
		"device_unreachable":         {ScopeDevice, SeverityCritical, CategoryAvailability, 0, 0, false},
		"uplink_down":                {ScopeInterface, SeverityMajor, CategoryLink, 0, 0, false},
		"interface_down":             {ScopeInterface, SeverityWarning, CategoryLink, 0, 5 * time.Minute, false},
		"interface_errors":           {ScopeInterface, SeverityMinor, CategoryLink, 1, 5 * time.Minute, true},
		"interface_discards":         {ScopeInterface, SeverityWarning, CategoryPerformance, 50, 10 * time.Minute, true},
		"interface_utilisation_high": {ScopeInterface, SeverityMinor, CategoryPerformance, 90, 15 * time.Minute, true},
		"fan_failed":                 {ScopeSensor, SeverityMajor, CategoryHardware, 0, time.Minute, false},
		"psu_failed":                 {ScopeSensor, SeverityCritical, CategoryHardware, 0, time.Minute, false},
		"device_rebooted":            {ScopeEvent, SeverityWarning, CategoryAvailability, 0, 0, false},
		"device_replaced":            {ScopeEvent, SeverityMinor, CategoryConfiguration, 0, 0, false},
		"link_down_trap":             {ScopeEvent, SeverityMinor, CategoryLink, 0, 0, true},
		"bgp_peer_down_trap":         {ScopeEvent, SeverityMajor, CategoryLink, 0, 0, true},
		"bgp_peer_down":              {ScopeBGP, SeverityMajor, CategoryLink, 0, 2 * time.Minute, false},
		"cpu_high":                   {ScopeCPU, SeverityMajor, CategoryPerformance, 90, 2 * time.Minute, true},
		"memory_high":                {ScopeMemory, SeverityMinor, CategoryPerformance, 90, 5 * time.Minute, true},
		"temperature_high":           {ScopeSensor, SeverityMajor, CategoryHardware, 70, time.Minute, true},
	}
	got := map[string]*Rule{}
	for _, r := range rs.Rules() {
		got[r.Name] = r
		if r.cond == nil || r.summary == nil {
			t.Errorf("%s: not compiled", r.Name)
		}
	}
	for name, w := range wants {
		r, ok := got[name]
		if !ok {
			t.Errorf("default pack lacks %s", name)
			continue
		}
		g := want{r.Scope, r.Severity, r.Category, r.Threshold, r.For, r.clear != nil}
		if g != w {
			t.Errorf("%s = %+v, want %+v", name, g, w)
		}
	}
	if Default() != rs {
		t.Error("Default() compiles the pack again on every call")
	}
}

func TestMerge(t *testing.T) {
	extra := `groups:
  - name: mine
    rules:
      - name: uptime_low
        scope: device
        condition: "device.reachable && device.uptime_seconds < 300"
        severity: warning
        category: availability
`
	dup := strings.ReplaceAll(extra, "uptime_low", "cpu_high")
	var cpuSource string
	for _, r := range Default().Rules() {
		if r.Name == "cpu_high" {
			cpuSource = r.Source
		}
	}
	tests := []struct {
		name    string
		src     string
		rules   int
		wantErr string
	}{
		{"adds", extra, len(Default().Rules()) + 1, ""},
		{"duplicate name", dup, 0, `mine.yaml:4: rule "cpu_high": already defined at ` + cpuSource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := Parse("mine.yaml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Merge(Default(), rs)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Merge error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(m.Rules()); n != tt.rules {
				t.Errorf("merged set has %d rules, want %d", n, tt.rules)
			}
		})
	}
}

func TestWithMaxForLeavesOriginal(t *testing.T) {
	rs := Default()
	short := rs.WithMaxFor(20 * time.Second)
	for i, r := range short.Rules() {
		orig := rs.Rules()[i]
		if r.For > 20*time.Second {
			t.Errorf("%s: For = %s after WithMaxFor(20s)", r.Name, r.For)
		}
		if orig.Name == "cpu_high" && orig.For != 2*time.Minute {
			t.Errorf("default pack changed: cpu_high For = %s", orig.For)
		}
	}
}

func TestDescriptionTemplate(t *testing.T) {
	rs, err := Parse("d.yaml", []byte(`groups:
  - name: g
    rules:
      - name: cpu_high
        scope: cpu
        condition: "cpu.percent > threshold"
        threshold: 90
        severity: major
        category: performance
        description: "{{.Device}} {{.Instance}} above {{.Threshold}}"
`))
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(rs, Options{})
	got := e.Evaluate(time.Unix(0, 0), &collector.Snapshot{Device: "r1", Reachable: true, CPU: []collector.CPU{{Name: "cpu0", Percent: 95}}}, Target{Name: "r1"})
	if len(got) != 1 || got[0].Description != "r1 cpu0 above 90" {
		t.Fatalf("alerts = %+v", got)
	}
	_, err = Parse("bad.yaml", []byte(`groups:
  - name: g
    rules:
      - name: x
        scope: device
        condition: "true"
        severity: major
        category: availability
        description: "{{.Devcie}}"
`))
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:9") || !strings.Contains(err.Error(), "description") {
		t.Errorf("misspelt field in description: %v", err)
	}
}
