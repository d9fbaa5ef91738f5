package export

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/nocagent/nocagent/collector"
)

type fakeSource []Device

func (f fakeSource) ExportDevices() []Device { return f }

func testSnapshot() *collector.Snapshot {
	return &collector.Snapshot{
		Target: "127.0.0.1:161", Device: "sw1", Reachable: true,
		Vendor: "cisco", OS: "ios", Model: "WS-C2960X-48FPS-L", Serial: "FCW1929B68S",
		System:       collector.System{UptimeSeconds: 1234},
		PollDuration: 25 * time.Millisecond, PDUs: 7,
		Interfaces: []collector.Interface{
			{Index: 1, Name: "Gi1/0/1", Alias: "uplink", AdminStatus: "up", OperStatus: "down", SpeedBps: 1e9, InOctets: 100, OutOctets: 200,
				Rates: &collector.InterfaceRates{UtilPercent: 12.5}},
			{Index: 1, Name: "dup"}, // repeated index from a broken agent
			{Index: 2, Descr: "Vlan1", AdminStatus: "up", OperStatus: "up"},
		},
		CPU:     []collector.CPU{{Name: "cpu1", Percent: 42}},
		Memory:  []collector.Memory{{Name: "RAM", UsedBytes: 512, TotalBytes: 1024, Percent: 50}},
		Sensors: []collector.Sensor{{Class: "temperature", Name: "Inlet", Value: 38, Unit: "celsius", Status: "ok"}, {Class: "fan", Name: "Fan 1", Status: "failed"}},
		Modules: []collector.ModuleStatus{{Module: "cpu", Status: collector.ModuleOK}, {Module: "memory", Status: collector.ModuleUnsupported, Reason: "no source"}},
	}
}

func TestCollectorMetrics(t *testing.T) {
	src := fakeSource{
		{Name: "sw1", Customer: "acme", Site: "hq", Role: "access", Snapshot: testSnapshot()},
		{Name: "down1", Customer: "acme", Site: "hq", Role: "core", Snapshot: &collector.Snapshot{Reachable: false, Errors: []string{"timeout"}}},
		{Name: "new1", Customer: "acme", Site: "hq", Role: "core"}, // not polled yet
	}
	c := NewCollector(src)
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
	want := `
# HELP nocagent_device_up 1 if the device answered its last poll, else 0.
# TYPE nocagent_device_up gauge
nocagent_device_up{customer="acme",device="down1",role="core",site="hq"} 0
nocagent_device_up{customer="acme",device="sw1",role="access",site="hq"} 1
# HELP nocagent_interface_oper_up 1 if the interface is operationally up.
# TYPE nocagent_interface_oper_up gauge
nocagent_interface_oper_up{alias="",customer="acme",device="sw1",ifindex="2",interface="Vlan1",role="access",site="hq"} 1
nocagent_interface_oper_up{alias="uplink",customer="acme",device="sw1",ifindex="1",interface="Gi1/0/1",role="access",site="hq"} 0
# HELP nocagent_interface_in_octets_total Octets received (ifHCInOctets, else ifInOctets).
# TYPE nocagent_interface_in_octets_total counter
nocagent_interface_in_octets_total{alias="",customer="acme",device="sw1",ifindex="2",interface="Vlan1",role="access",site="hq"} 0
nocagent_interface_in_octets_total{alias="uplink",customer="acme",device="sw1",ifindex="1",interface="Gi1/0/1",role="access",site="hq"} 100
# HELP nocagent_sensor_ok 1 if the sensor, fan or power supply reports a healthy status.
# TYPE nocagent_sensor_ok gauge
nocagent_sensor_ok{class="fan",customer="acme",device="sw1",role="access",sensor="Fan 1",site="hq"} 0
nocagent_sensor_ok{class="temperature",customer="acme",device="sw1",role="access",sensor="Inlet",site="hq"} 1
# HELP nocagent_device_info Inventory and identity of a device; always 1.
# TYPE nocagent_device_info gauge
nocagent_device_info{customer="acme",device="down1",model="",os="",role="core",serial="",site="hq",vendor=""} 1
nocagent_device_info{customer="acme",device="sw1",model="WS-C2960X-48FPS-L",os="ios",role="access",serial="FCW1929B68S",site="hq",vendor="cisco"} 1
# HELP nocagent_device_module_status 1 for each module's status in the device's last poll: ok, empty, unsupported (no source for it on this device: rules on it cannot fire) or error.
# TYPE nocagent_device_module_status gauge
nocagent_device_module_status{customer="acme",device="sw1",module="cpu",role="access",site="hq",status="ok"} 1
nocagent_device_module_status{customer="acme",device="sw1",module="memory",role="access",site="hq",status="unsupported"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"nocagent_device_up", "nocagent_interface_oper_up", "nocagent_interface_in_octets_total", "nocagent_sensor_ok", "nocagent_device_info",
		"nocagent_device_module_status"); err != nil {
		t.Fatal(err)
	}
	// An unreachable device exports no stale values.
	if n := testutil.CollectAndCount(c, "nocagent_cpu_usage_percent"); n != 1 {
		t.Errorf("cpu series = %d, want 1 (only the reachable device)", n)
	}
}

// A device that leaves the source leaves /metrics on the next scrape.
func TestRemovedDeviceDisappears(t *testing.T) {
	src := &mutableSource{devs: []Device{{Name: "sw1", Snapshot: testSnapshot()}}}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(src))
	if n, _ := testutil.GatherAndCount(reg, "nocagent_device_up"); n != 1 {
		t.Fatalf("before: %d series", n)
	}
	src.devs = nil
	if n, _ := testutil.GatherAndCount(reg, "nocagent_device_up"); n != 0 {
		t.Fatalf("after removal: %d series, want 0", n)
	}
}

type mutableSource struct{ devs []Device }

func (m *mutableSource) ExportDevices() []Device { return m.devs }
