// Package rules turns collector snapshots into alert transitions: rule files
// in YAML, conditions in expr (github.com/expr-lang/expr) compiled once at
// load, an alert state machine per (rule, device, instance), and the
// severity × impact priority matrix.
//
// # Rule files
//
//	groups:
//	  - name: performance
//	    rules:
//	      - name: cpu_high            # lower case, unique across all loaded files
//	        scope: cpu                # device | interface | cpu | memory | sensor
//	        condition: "cpu.percent > threshold"
//	        clear: "cpu.percent < threshold - 10"   # optional; default: condition false
//	        value: "cpu.percent"      # optional; see below
//	        threshold: 90
//	        for: 2m                   # how long condition must hold before firing
//	        severity: major           # critical | major | minor | warning
//	        category: performance     # availability | link | performance | hardware | configuration | security
//	        summary: "{{.Device}} CPU {{.Instance}} at {{.Value}}%"
//
// A rule is evaluated once per device for scope device and once per
// instance (interface, CPU, memory pool, sensor) for the other scopes.
//
// # Names in expressions
//
// Every scope sees threshold (the rule's threshold) and device:
//
//	device.reachable device.name device.sys_name device.vendor device.model
//	device.serial device.os device.uptime_seconds device.poll_errors
//	device.role device.customer device.site device.tier device.tags
//	device.downstream
//
// Scope interface adds iface: index name descr alias type mac admin_status
// oper_status speed_bps in_octets out_octets in_ucast_pkts out_ucast_pkts
// in_errors out_errors in_discards out_discards hc, and the rates has_rates
// in_bps out_bps in_errors_per_sec out_errors_per_sec in_discards_per_sec
// out_discards_per_sec util_percent (0 when has_rates is false; a rule that
// reads a rate is held, not decided, on an interface without rates).
//
// Scope cpu adds cpu: name percent. Scope memory adds memory: name
// used_bytes total_bytes percent. Scope sensor adds sensor: class name value
// unit status.
//
// # Value and summary
//
// An alert's Value is the rule's value expression when it has one, else
// cpu.percent, memory.percent or sensor.value for those scopes, else 1 while
// the condition holds and 0 after. The summary is a text/template over
// Device, Instance, Value, Threshold and Labels (interface: ifIndex ifName
// ifDescr ifAlias ifType; cpu: cpu; memory: memory; sensor: sensor class
// unit); a missing label renders empty.
package rules
