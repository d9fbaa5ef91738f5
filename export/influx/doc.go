// Package influx exports snapshots to an InfluxDB v2 write endpoint
// (/api/v2/write: InfluxDB 2.x, InfluxDB Cloud, VictoriaMetrics) with
// batching, gzip, retries with exponential backoff and an on-disk spool, so
// that neither an outage of the server nor a restart of the agent during one
// loses a point.
//
// # Schema
//
// Strings are tags and numbers are fields, because VictoriaMetrics stores
// string fields as 0. Timestamps are the poll's start, in milliseconds.
// Empty tag values are left out (line protocol has none). In
// VictoriaMetrics a field becomes the series <measurement>_<field>, e.g.
// interface_in_bps, and the tags become labels.
//
// Every measurement carries the tags device, customer, site and role (from
// the inventory).
//
//	measurement  extra tags                     fields
//	-----------  -----------------------------  ------------------------------------------------
//	device       vendor, model, serial          up (1/0), poll_seconds, poll_pdus (int),
//	                                            poll_errors (int), uptime_seconds
//	interface    interface, ifindex, alias      in_octets, out_octets, in_ucast_pkts,
//	                                            out_ucast_pkts, in_errors, out_errors,
//	                                            in_discards, out_discards (raw counters,
//	                                            unsigned), speed_bps (unsigned),
//	                                            admin_up, oper_up (1/0);
//	                                            when a rate is known (not on the first poll
//	                                            or after a counter reset): in_bps, out_bps,
//	                                            util_percent, in_errors_per_sec,
//	                                            out_errors_per_sec, in_discards_per_sec,
//	                                            out_discards_per_sec
//	cpu          cpu                            usage_percent
//	memory       pool                           used_bytes, total_bytes (unsigned), usage_percent
//	sensor       sensor, class, unit            value; ok (1/0, absent when the status is unknown)
//
// A device that did not answer gets only its device point, with up=0.
// Fields are floats unless marked int or unsigned; counters are the
// device's raw values (64-bit where the device has them), so
// non_negative_derivative works on them as well as on the computed rates.
//
// # Delivery
//
// Write encodes a snapshot and appends its lines to a bounded in-memory
// buffer; it never waits. Run seals the buffer into batches of at most
// BatchSize points every FlushInterval, appends each batch to the spool
// (append-only segment files of line protocol with a header per batch:
// sequence number, point count, size, CRC; fsync'd) and a single sender
// posts them in order, gzip-compressed. A failed post is retried with
// exponential backoff between RetryMin and RetryMax, honouring
// Retry-After; the batch stays in the spool meanwhile. A segment file is
// deleted once the server accepted every batch in it; an ack file records
// the last accepted sequence number, so a restart resends only what was not
// accepted. When the spool grows past SpoolMaxBytes the oldest segment is
// dropped, logged and counted.
//
// Errors by status: 401/403 (token), 404 (org or bucket), 429, 5xx and
// network errors keep the data and retry; 400, 413 and 422 mean the server
// refuses the batch itself, which is then dropped, logged and counted as
// rejected.
//
// # Metrics
//
// The Exporter is a prometheus.Collector:
//
//	nocagent_influx_backlog_points                   points not yet accepted
//	nocagent_influx_backlog_bytes                    their line-protocol bytes
//	nocagent_influx_spool_bytes                      size of the spool on disk
//	nocagent_influx_points_written_total             points accepted
//	nocagent_influx_dropped_points_total{reason}     memory_full, spool_full, spool_error, rejected
//	nocagent_influx_write_errors_total{kind}         network, timeout, auth, not_found, throttled,
//	                                                 server, rejected, spool
//	nocagent_influx_last_success_timestamp_seconds   last accepted write, 0 before the first
//	nocagent_influx_up                               0 while writes fail
package influx
