package influx

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	lp "github.com/influxdata/line-protocol"

	"github.com/nocagent/nocagent/collector"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testSnap is a reachable router with two interfaces (one with rates), a
// CPU, a memory pool and sensors; values move with i so that consecutive
// polls differ.
func testSnap(dev string, ts time.Time, i int) *collector.Snapshot {
	u := uint64(i)
	return &collector.Snapshot{
		Target: "127.0.0.1:161", Device: dev, Time: ts, Reachable: true,
		System: collector.System{Name: dev, UptimeSeconds: 1000 + float64(i)*60},
		Vendor: "cisco", Model: "ISR4451-X/K9", Serial: "FOC1234X0AB", OS: "IOS-XE",
		PollDuration: 250 * time.Millisecond, PDUs: 7,
		Interfaces: []collector.Interface{
			{Index: 1, Name: "Gi0/0/0", Alias: "uplink to isp, circuit=42", AdminStatus: "up", OperStatus: "up",
				SpeedBps: 1e9, InOctets: 1000 + u*125000, OutOctets: 2000 + u*250000, InUcastPkts: 10 + u, OutUcastPkts: 20 + u,
				InErrors: u, OutErrors: 0, InDiscards: 2 * u, OutDiscards: 0, HC: true,
				Rates: &collector.InterfaceRates{InBitsPerSec: 16666.5, OutBitsPerSec: 33333, InErrorsPerSec: 0.25, UtilPercent: 0.0033333}},
			{Index: 2, Name: "Gi0/0/1", AdminStatus: "up", OperStatus: "down", SpeedBps: 1e8},
		},
		CPU:    []collector.CPU{{Name: "0", Percent: 12.5 + float64(i)}},
		Memory: []collector.Memory{{Name: "Processor", UsedBytes: 512 << 20, TotalBytes: 2 << 30, Percent: 25}},
		Sensors: []collector.Sensor{
			{Class: "temperature", Name: "Inlet 1", Value: 31, Unit: "celsius", Status: "ok"},
			{Class: "fan", Name: "Fan 1", Value: 0, Unit: "rpm", Status: "failed"},
			{Class: "power", Name: "PSU 2", Value: 1, Status: "unknown"},
		},
	}
}

var testLabels = Labels{Customer: "acme", Site: "hq", Role: "edge"}

func TestEncodeGolden(t *testing.T) {
	ts := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	down := &collector.Snapshot{Target: "10.0.0.9:161", Time: ts, PollDuration: 2 * time.Second,
		Errors: []string{"timeout"}, Interfaces: []collector.Interface{{Index: 1, Name: "stale"}}}
	tests := []struct {
		name string
		snap *collector.Snapshot
		l    Labels
	}{
		{"reachable", testSnap("r1", ts, 1), testLabels},
		// No inventory name: the target names the device; empty labels are left out.
		{"unreachable", down, Labels{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(Encode(tc.snap, tc.l), "")
			golden := filepath.Join("testdata", tc.name+".lp")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("line protocol differs from %s (run with -update after checking):\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// parse reads line protocol back with the library's parser.
func parse(t *testing.T, lines []string) []lp.Metric {
	t.Helper()
	h := lp.NewMetricHandler()
	h.SetTimePrecision(precision)
	ms, err := lp.NewParser(h).Parse([]byte(strings.Join(lines, "")))
	if err != nil {
		t.Fatalf("parse %q: %v", lines, err)
	}
	return ms
}

func tagsOf(m lp.Metric) map[string]string {
	out := map[string]string{}
	for _, tg := range m.TagList() {
		out[tg.Key] = tg.Value
	}
	return out
}

func fieldsOf(m lp.Metric) map[string]any {
	out := map[string]any{}
	for _, f := range m.FieldList() {
		out[f.Key] = f.Value
	}
	return out
}

func TestEncodeRoundTrip(t *testing.T) {
	ts := time.Date(2024, 3, 1, 12, 0, 0, 123e6, time.UTC)
	s := testSnap("r1", ts, 3)
	// Hostile strings from a device: every one must stay inside its tag.
	s.Interfaces[1].Alias = "line\nbreak, tab\t= \"quoted\" trailing\\"
	s.Sensors[0].Name = `back\slash`
	lines := Encode(s, Labels{Device: "core 1", Customer: "a,b=c", Site: "hq", Role: "core"})
	ms := parse(t, lines)
	if len(ms) != len(lines) {
		t.Fatalf("%d lines parsed as %d points", len(lines), len(ms))
	}
	count := map[string]int{}
	for _, m := range ms {
		count[m.Name()]++
		tg := tagsOf(m)
		if tg["device"] != "core 1" || tg["customer"] != "a,b=c" || tg["site"] != "hq" || tg["role"] != "core" {
			t.Errorf("%s: inventory tags %v", m.Name(), tg)
		}
		if !m.Time().Equal(ts) {
			t.Errorf("%s: time %v, want %v", m.Name(), m.Time(), ts)
		}
		for k, v := range fieldsOf(m) {
			if _, isString := v.(string); isString {
				t.Errorf("%s: string field %s=%v: strings must be tags", m.Name(), k, v)
			}
		}
	}
	want := map[string]int{"device": 1, "interface": 2, "cpu": 1, "memory": 1, "sensor": 3}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%d %s points, want %d (all: %v)", count[k], k, n, count)
		}
	}
	ifs := slices.DeleteFunc(slices.Clone(ms), func(m lp.Metric) bool { return m.Name() != "interface" })
	if a := tagsOf(ifs[1])["alias"]; a != `line break, tab = "quoted" trailing` {
		t.Errorf("alias tag %q", a)
	}
	f0, f1 := fieldsOf(ifs[0]), fieldsOf(ifs[1])
	if f0["in_octets"] != uint64(1000+3*125000) || f0["in_bps"] != 16666.5 || f0["admin_up"] != 1.0 || f0["oper_up"] != 1.0 {
		t.Errorf("interface 1 fields %v", f0)
	}
	if _, ok := f1["in_bps"]; ok {
		t.Errorf("interface without rates has in_bps: %v", f1)
	}
	if f1["oper_up"] != 0.0 {
		t.Errorf("down interface oper_up = %v", f1["oper_up"])
	}
}

func TestEncodeSkipsBadFloats(t *testing.T) {
	s := testSnap("r1", time.Unix(1700000000, 0), 1)
	s.CPU = []collector.CPU{{Name: "nan"}}
	s.CPU[0].Percent = zero() / zero()
	s.Memory[0].Percent = 1 / zero()
	var cpu, mem int
	for _, m := range parse(t, Encode(s, testLabels)) {
		switch m.Name() {
		case "cpu":
			cpu++
		case "memory":
			mem++
			if _, ok := fieldsOf(m)["usage_percent"]; ok {
				t.Errorf("infinite usage_percent encoded: %v", fieldsOf(m))
			}
		}
	}
	if cpu != 0 || mem != 1 {
		t.Errorf("cpu points %d (want 0: its only field is NaN), memory points %d (want 1)", cpu, mem)
	}
}

func zero() float64 { return 0 }
