// Package rules turns collector snapshots and events into alert
// transitions: rule files in YAML, conditions in expr
// (github.com/expr-lang/expr) compiled once at load, an alert state machine
// per (rule, device, instance) with hysteresis, keep_firing_for, missing-data
// policies and flap detection, maintenance windows, the severity × impact
// priority matrix, topology-aware correlation of outages into root-cause
// incidents (Correlator), and promtool-style rule unit tests (RunTestFile).
//
// # Rule files
//
//	groups:
//	  - name: performance
//	    rules:
//	      - name: cpu_high            # lower case, unique across all loaded files
//	        scope: cpu                # device | interface | cpu | memory | sensor | bgp
//	        condition: "cpu.percent > threshold"
//	        clear: "cpu.percent < threshold - 10"   # optional; default: condition false
//	        value: "cpu.percent"      # optional; see below
//	        threshold: 90
//	        for: 2m                   # how long condition must hold before firing
//	        severity: major           # critical | major | minor | warning
//	        category: performance     # availability | link | performance | hardware | configuration | security
//	        summary: "{{.Device}} CPU {{.Instance}} at {{.Value}}%"
//	        keep_firing_for: 5m       # optional: stay firing this long after clear holds
//	        missing_data: hold        # hold (default) | resolve | fire | "fire after 10m"
//	        flapping: {changes: 4, window: 15m, quiet: 15m}   # or: off; default DefaultFlapping
//	        overrides:                # see Override: most specific match wins, field by field
//	          - match: {role: core}   # role, customer, site, device, tag (all given must match)
//	            threshold: 80
//	          - match: {device: noisy-fw1}
//	            threshold: 98
//	            for: 10m
//	          - match: {tag: lab}
//	            disabled: true
//	          - match: {customer: acme}
//	            severity: critical
//	  - name: traps
//	    rules:
//	      - name: link_down_trap
//	        scope: event              # evaluated by Engine.Event, not on snapshots
//	        condition: "event.kind == 'link_down'"
//	        clear: "event.kind == 'link_up'"   # a later event of the same instance
//	        hold: 10m                 # auto-resolve 10m after the last match; 0: only clear
//	        severity: minor
//	        category: link
//	maintenance:                      # optional; a file may hold only maintenance
//	  - id: core-upgrade
//	    reason: "CHG-1234 IOS upgrade"
//	    start: 2025-03-01T22:00:00Z   # one-off: start and end
//	    end: 2025-03-02T02:00:00Z
//	    devices: [core1]
//	  - id: weekly-acme
//	    schedule: "0 2 * * SUN"       # recurring: robfig/cron/v3 five fields (CRON_TZ= allowed)
//	    duration: 2h
//	    customers: [acme]             # devices, sites, customers, tags (any matches), or everything: true
//
// Missing data (device unreachable for instance rules, an empty instance
// list, an interface without rates for a rule reading rates): hold keeps the
// state; resolve resolves a firing alert; fire raises a "(no data)" alert once
// data has been missing for the given time, resolved when data returns. See
// Engine for flapping and maintenance semantics.
//
// # Load-time checks
//
// Parse (and nocagent rules check) rejects, with file:line, unknown fields,
// bad values, expressions that do not compile or name an unknown field (expr
// type-checks against the scope's environment), bad overrides and windows,
// and clear conditions that cannot work: see lintClear for exactly what is
// detected.
//
// A rule is evaluated once per device for scope device and once per
// instance (interface, CPU, memory pool, sensor, BGP peer) for the other
// scopes.
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
// Scope event sees event: kind instance attrs (a map of strings). Event kinds
// the engine knows are the Event* constants; device_rebooted (sysUpTime went
// back) and serial_changed (attrs old_serial, new_serial) are detected by
// Evaluate from consecutive snapshots.
//
// Scope interface adds iface: index name descr alias type mac admin_status
// oper_status speed_bps in_octets out_octets in_ucast_pkts out_ucast_pkts
// in_errors out_errors in_discards out_discards hc, and the rates has_rates
// in_bps out_bps in_errors_per_sec out_errors_per_sec in_discards_per_sec
// out_discards_per_sec util_percent (0 when has_rates is false; a rule that
// reads a rate has no data on an interface without rates), and uplink: true
// when ifAlias contains "uplink" (any case) or an LLDP/CDP neighbour on the
// port is a network device per Options.NetworkDevice. The default pack calls
// an uplink down major at once and an access port down a warning after 5m.
//
// Scope cpu adds cpu: name percent. Scope memory adds memory: name
// used_bytes total_bytes percent. Scope sensor adds sensor: class name value
// unit status.
//
// Scope bgp adds bgp, one peer of BGP4-MIB's bgpPeerTable: remote_addr
// remote_as local_as state (idle connect active opensent openconfirm
// established, or unknown) admin_status (start stop unknown)
// established_seconds (time in, or since leaving, established). The
// instance is the peer's address. Only BGP4-MIB is read: devices that keep
// their peers in a vendor MIB (Cisco cbgpPeer2Table, Juniper, Arista, Nokia)
// have no or partial bgp instances, and their peers are watched through the
// bgp_peer_down / bgp_peer_up trap events. The default pack has both:
// bgp_peer_down (scope bgp: admin start and not established for 2m, major)
// and bgp_peer_down_trap (scope event, until the peer's bgp_peer_up).
//
// # Value and summary
//
// An alert's Value is the rule's value expression when it has one, else
// cpu.percent, memory.percent or sensor.value for those scopes, else 1 while
// the condition holds and 0 after. The summary is a text/template over
// Device, Instance, Value, Threshold and Labels (interface: ifIndex ifName
// ifDescr ifAlias ifType; cpu: cpu; memory: memory; sensor: sensor class
// unit; bgp: peer remote_as state admin_status, as at firing); a missing
// label renders empty.
package rules
