// Package collector polls network devices over SNMP and turns what they say
// into Snapshots.
//
// Fetching is kept apart from meaning, as in prometheus/snmp_exporter:
//
//   - session.go: Dial wires v1, v2c and v3 USM credentials into gosnmp and
//     rewrites its errors into hints that name the credential to check.
//   - walker.go: the walker interface (Get, Walk) and its implementation,
//     which walks all columns of a table in the same GETBULK requests
//     (GETNEXT on SNMPv1) and treats noSuchObject, noSuchInstance and
//     endOfMibView as absent, not as errors.
//   - decode.go, vendor.go: pure functions from varbinds to Snapshot parts
//     (system, IF-MIB, ENTITY-MIB, HOST-RESOURCES-MIB, ENTITY-SENSOR-MIB,
//     LLDP-MIB, CISCO-CDP-MIB; vendor and OS guesses).
//   - poll.go: Poll runs the modules in order and always returns a Snapshot.
//   - rates.go: RateTracker and FillRates derive per-second rates from two
//     Snapshots, handling first samples, wraps, resets, reboots and gaps.
//   - scheduler.go: a fixed worker pool that polls each device at its
//     interval, one poll in flight per device, each under a time budget.
package collector
