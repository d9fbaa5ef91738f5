// Package export turns snapshots into what metric stores read: a Prometheus
// collector over the latest snapshot of every device.
package export

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nocagent/nocagent/collector"
)

// Device is one polled device as the exporter sees it: inventory labels and
// its latest snapshot (nil before the first poll completes).
type Device struct {
	Name     string
	Customer string
	Site     string
	Role     string
	Snapshot *collector.Snapshot
}

// Source lists the devices to export. It is called on every scrape, so a
// device removed from the inventory disappears from /metrics at once instead
// of leaving frozen series behind.
type Source interface {
	ExportDevices() []Device
}

var (
	devLabels = []string{"device", "customer", "site", "role"}
	ifLabels  = append(devLabels[:len(devLabels):len(devLabels)], "interface", "ifindex", "alias")
)

func desc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append(devLabels[:len(devLabels):len(devLabels)], extra...), nil)
}

// Collector is a prometheus.Collector over a Source. It builds const metrics
// from the snapshots at scrape time; nothing is registered per sample.
type Collector struct {
	src Source

	up, info, pollDuration, pollPDUs, uptime, pollErrors, module *prometheus.Desc

	ifIn, ifOut, ifInUcast, ifOutUcast, ifInErr, ifOutErr, ifInDisc, ifOutDisc *prometheus.Desc
	ifAdmin, ifOper, ifSpeed, ifUtil                                           *prometheus.Desc

	cpu, memUsed, memTotal, memPercent *prometheus.Desc
	temp, sensorOK                     *prometheus.Desc
	neighbors                          *prometheus.Desc
}

// NewCollector returns a collector reading from src.
func NewCollector(src Source) *Collector {
	ifd := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, ifLabels, nil) }
	return &Collector{
		src:          src,
		up:           desc("nocagent_device_up", "1 if the device answered its last poll, else 0."),
		info:         desc("nocagent_device_info", "Inventory and identity of a device; always 1.", "vendor", "model", "serial", "os"),
		pollDuration: desc("nocagent_device_poll_duration_seconds", "Wall time of the device's last poll."),
		pollPDUs:     desc("nocagent_device_poll_pdus", "SNMP requests sent by the device's last poll."),
		pollErrors:   desc("nocagent_device_poll_errors", "Errors reported by the device's last poll."),
		uptime:       desc("nocagent_device_uptime_seconds", "sysUpTime of the device."),
		module: desc("nocagent_device_module_status", "1 for each module's status in the device's last poll: ok, empty, "+
			"unsupported (no source for it on this device: rules on it cannot fire) or error.", "module", "status"),

		ifIn:       ifd("nocagent_interface_in_octets_total", "Octets received (ifHCInOctets, else ifInOctets)."),
		ifOut:      ifd("nocagent_interface_out_octets_total", "Octets sent (ifHCOutOctets, else ifOutOctets)."),
		ifInUcast:  ifd("nocagent_interface_in_unicast_packets_total", "Unicast packets received."),
		ifOutUcast: ifd("nocagent_interface_out_unicast_packets_total", "Unicast packets sent."),
		ifInErr:    ifd("nocagent_interface_in_errors_total", "Inbound packets with errors."),
		ifOutErr:   ifd("nocagent_interface_out_errors_total", "Outbound packets with errors."),
		ifInDisc:   ifd("nocagent_interface_in_discards_total", "Inbound packets discarded."),
		ifOutDisc:  ifd("nocagent_interface_out_discards_total", "Outbound packets discarded."),
		ifAdmin:    ifd("nocagent_interface_admin_up", "1 if the interface is administratively up."),
		ifOper:     ifd("nocagent_interface_oper_up", "1 if the interface is operationally up."),
		ifSpeed:    ifd("nocagent_interface_speed_bytes_per_second", "Interface speed in bytes per second (ifHighSpeed, else ifSpeed, divided by 8)."),
		ifUtil:     ifd("nocagent_interface_utilization_percent", "Larger of in and out traffic as a percentage of speed, over the last poll interval."),

		cpu:        desc("nocagent_cpu_usage_percent", "Processor load.", "cpu"),
		memUsed:    desc("nocagent_memory_used_bytes", "Memory in use.", "pool"),
		memTotal:   desc("nocagent_memory_total_bytes", "Memory size.", "pool"),
		memPercent: desc("nocagent_memory_usage_percent", "Memory in use as a percentage of its size.", "pool"),
		temp:       desc("nocagent_sensor_temperature_celsius", "Temperature sensor reading.", "sensor"),
		sensorOK:   desc("nocagent_sensor_ok", "1 if the sensor, fan or power supply reports a healthy status.", "class", "sensor"),
		neighbors:  desc("nocagent_device_neighbors", "Link partners learned from LLDP and CDP."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.info, c.pollDuration, c.pollPDUs, c.pollErrors, c.uptime, c.module,
		c.ifIn, c.ifOut, c.ifInUcast, c.ifOutUcast, c.ifInErr, c.ifOutErr, c.ifInDisc, c.ifOutDisc,
		c.ifAdmin, c.ifOper, c.ifSpeed, c.ifUtil, c.cpu, c.memUsed, c.memTotal, c.memPercent,
		c.temp, c.sensorOK, c.neighbors} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, d := range c.src.ExportDevices() {
		c.collectDevice(ch, d)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c *Collector) collectDevice(ch chan<- prometheus.Metric, d Device) {
	lv := []string{d.Name, d.Customer, d.Site, d.Role}
	gauge := func(desc *prometheus.Desc, v float64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, append(lv[:4:4], extra...)...)
	}
	s := d.Snapshot
	if s == nil {
		return
	}
	gauge(c.up, b2f(s.Reachable))
	gauge(c.info, 1, s.Vendor, s.Model, s.Serial, s.OS)
	gauge(c.pollDuration, s.PollDuration.Seconds())
	gauge(c.pollPDUs, float64(s.PDUs))
	gauge(c.pollErrors, float64(len(s.Errors)))
	for _, m := range s.Modules {
		gauge(c.module, 1, m.Module, m.Status)
	}
	if !s.Reachable {
		// Values of a device that does not answer would be stale; only its
		// up, info and poll health are known.
		return
	}
	gauge(c.uptime, s.System.UptimeSeconds)
	gauge(c.neighbors, float64(len(s.Neighbors)))

	seen := make(map[string]bool, len(s.Interfaces))
	for i := range s.Interfaces {
		ifc := &s.Interfaces[i]
		name := ifc.Name
		if name == "" {
			name = ifc.Descr
		}
		idx := strconv.Itoa(ifc.Index)
		if seen[idx] {
			continue // a broken agent repeating an index must not fail the scrape
		}
		seen[idx] = true
		il := append(lv[:4:4], name, idx, ifc.Alias)
		counter := func(desc *prometheus.Desc, v uint64) {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), il...)
		}
		ig := func(desc *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, il...)
		}
		counter(c.ifIn, ifc.InOctets)
		counter(c.ifOut, ifc.OutOctets)
		counter(c.ifInUcast, ifc.InUcastPkts)
		counter(c.ifOutUcast, ifc.OutUcastPkts)
		counter(c.ifInErr, ifc.InErrors)
		counter(c.ifOutErr, ifc.OutErrors)
		counter(c.ifInDisc, ifc.InDiscards)
		counter(c.ifOutDisc, ifc.OutDiscards)
		ig(c.ifAdmin, b2f(ifc.AdminStatus == "up"))
		ig(c.ifOper, b2f(ifc.OperStatus == "up"))
		ig(c.ifSpeed, float64(ifc.SpeedBps)/8)
		if ifc.Rates != nil {
			ig(c.ifUtil, ifc.Rates.UtilPercent)
		}
	}
	dedup := map[string]bool{}
	once := func(kind, name string) bool {
		k := kind + "\x00" + name
		if dedup[k] {
			return false
		}
		dedup[k] = true
		return true
	}
	for _, cpu := range s.CPU {
		if once("cpu", cpu.Name) {
			gauge(c.cpu, cpu.Percent, cpu.Name)
		}
	}
	for _, m := range s.Memory {
		if once("mem", m.Name) {
			gauge(c.memUsed, float64(m.UsedBytes), m.Name)
			gauge(c.memTotal, float64(m.TotalBytes), m.Name)
			gauge(c.memPercent, m.Percent, m.Name)
		}
	}
	for _, sn := range s.Sensors {
		if !once(sn.Class, sn.Name) {
			continue
		}
		if sn.Class == "temperature" {
			gauge(c.temp, sn.Value, sn.Name)
		}
		if sn.Status != "" && sn.Status != "unknown" {
			gauge(c.sensorOK, b2f(sn.Status == "ok"), sn.Class, sn.Name)
		}
	}
}

var _ prometheus.Collector = (*Collector)(nil)
