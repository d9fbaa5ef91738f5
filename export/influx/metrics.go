package influx

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	mBacklogPoints = prometheus.NewDesc("nocagent_influx_backlog_points",
		"Points written to the InfluxDB exporter and not yet accepted by the server.", nil, nil)
	mBacklogBytes = prometheus.NewDesc("nocagent_influx_backlog_bytes",
		"Line-protocol bytes not yet accepted by the server.", nil, nil)
	mSpoolBytes = prometheus.NewDesc("nocagent_influx_spool_bytes",
		"Size of the on-disk spool.", nil, nil)
	mWritten = prometheus.NewDesc("nocagent_influx_points_written_total",
		"Points the server accepted.", nil, nil)
	mDropped = prometheus.NewDesc("nocagent_influx_dropped_points_total",
		"Points dropped without delivery, by reason (memory_full, spool_full, spool_error, rejected).", []string{"reason"}, nil)
	mErrors = prometheus.NewDesc("nocagent_influx_write_errors_total",
		"Failed write attempts, by kind (network, timeout, auth, not_found, throttled, server, rejected, spool).", []string{"kind"}, nil)
	mLastSuccess = prometheus.NewDesc("nocagent_influx_last_success_timestamp_seconds",
		"Unix time of the last write the server accepted; 0 before the first.", nil, nil)
	mUp = prometheus.NewDesc("nocagent_influx_up",
		"1 if the last write attempt succeeded (or none failed yet), 0 while writes fail.", nil, nil)
)

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mBacklogPoints, mBacklogBytes, mSpoolBytes, mWritten, mDropped, mErrors, mLastSuccess, mUp} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	points, bytes := e.Backlog()
	var spool int64
	e.qmu.Lock()
	if e.sp != nil {
		spool = e.sp.bytes
	}
	e.qmu.Unlock()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	gauge(mBacklogPoints, float64(points))
	gauge(mBacklogBytes, float64(bytes))
	gauge(mSpoolBytes, float64(spool))

	e.smu.Lock()
	defer e.smu.Unlock()
	ch <- prometheus.MustNewConstMetric(mWritten, prometheus.CounterValue, e.written)
	for _, r := range dropReasons {
		ch <- prometheus.MustNewConstMetric(mDropped, prometheus.CounterValue, e.dropped[r], r)
	}
	for _, k := range errKinds {
		ch <- prometheus.MustNewConstMetric(mErrors, prometheus.CounterValue, e.errs[k], k)
	}
	last := 0.0
	if !e.lastSuccess.IsZero() {
		last = float64(e.lastSuccess.UnixNano()) / 1e9
	}
	gauge(mLastSuccess, last)
	gauge(mUp, b2f(e.healthy))
}

var _ prometheus.Collector = (*Exporter)(nil)
