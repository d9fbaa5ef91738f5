package dashboards

// The dashboards. Every query filters with =~ on its variables: multi-value
// variables expand to regexes, and "All" is ".*".
//
// Only metrics the agent exports today are used; the tests fail on any
// other name.

// Stable dashboard uids: links and bookmarks depend on them.
const (
	uidOverview   = "nocagent-noc-overview"
	uidDevice     = "nocagent-device"
	uidInterfaces = "nocagent-interfaces"
	uidAgent      = "nocagent-agent-health"
	uidTickets    = "nocagent-tickets"
)

// All returns the dashboards in a fixed order.
func All() []Dashboard {
	return []Dashboard{overview(), device(), interfaces(), agentHealth(), tickets()}
}

// Label selectors built from the variables.
const (
	selFleet     = `customer=~"$customer",site=~"$site"`
	selDevice    = `device=~"$device"`
	selInterface = selFleet + `,device=~"$device",interface=~"$interface"`
	selInstance  = `instance=~"$instance"`
	rateWindow   = `[$__rate_interval]`
)

// Ticket figures come from the ticket store, so agents that share one store
// all export the same series: every query first takes the max over agents
// of each series (by all its own labels), then sums, or summing over
// instances would multiply the counts.
const selCustomer = `customer=~"$customer"`

// openTickets is one series per priority, state and customer.
const openTickets = `max by (priority, state, customer) (nocagent_tickets_open{` + selCustomer + `})`

// slaTickets counts open tickets by SLA clock whose status matches the
// regex status (breached, at_risk, ok).
func slaTickets(status string) string {
	return `max by (clock, status, priority, customer) (nocagent_tickets_sla{` + selCustomer + `,status=~"` + status + `"})`
}

// kpi is one service KPI of the last 30 days per customer (and contract),
// extra naming the labels the metric adds (category, rating).
func kpi(metric, extra string) string {
	by := "customer, contract"
	if extra != "" {
		by += ", " + extra
	}
	return `max by (` + by + `) (` + metric + `{` + selCustomer + `})`
}

func ts(title, desc, unit string, w, h int, qs []query, o ...opt) Panel {
	return panel("timeseries", title, desc, unit, w, h, qs, o)
}

func stat(title, desc, unit string, w, h int, qs []query, o ...opt) Panel {
	return panel("stat", title, desc, unit, w, h, qs, o)
}

func bar(title, desc, unit string, w, h int, qs []query, o ...opt) Panel {
	return panel("bargauge", title, desc, unit, w, h, qs, o)
}

func table(title, desc, unit string, w, h int, qs []query, o ...opt) Panel {
	return panel("table", title, desc, unit, w, h, qs, o)
}

func timeline(title, desc, unit string, w, h int, qs []query, o ...opt) Panel {
	return panel("state-timeline", title, desc, unit, w, h, qs, o)
}

func qs(q ...query) []query { return q }

func customerVar() Variable {
	return labelVariable("customer", "Customer", "nocagent_device_info", true)
}

func siteVar() Variable {
	return labelVariable("site", "Site", `nocagent_device_info{customer=~"$customer"}`, true)
}

func overview() Dashboard {
	up := `nocagent_device_up{` + selFleet + `}`
	cpuWarn := thresholds("green", 80, "yellow", 90, "red")
	panels := []Panel{
		stat("Devices monitored", "Devices in the inventory that have been polled at least once.", unitShort, 4, 4,
			qs(now(`count(`+up+`)`, "")), thresholds("blue")),
		stat("Devices up", "Devices that answered their last poll.", unitShort, 4, 4,
			qs(now(`sum(`+up+`)`, "")), thresholds("green")),
		stat("Devices down now", "Devices that did not answer their last poll.", unitShort, 4, 4,
			qs(now(`sum(1 - `+up+`)`, "")), thresholds("green", 1, "red")),
		stat("Fleet availability", "Share of polls answered over the selected time range.", unitPercentUnit, 4, 4,
			qs(now(`avg(avg_over_time(`+up+`[$__range]))`, "")), thresholds("red", 0.95, "orange", 0.99, "green"), bounds(0, 1)),
		stat("Alerts firing", "Alerts firing now, all customers.", unitShort, 4, 4,
			qs(now(`sum(nocagent_alerts_firing)`, "")), noValue("0"), thresholds("green", 1, "orange")),
		stat("Open tickets", "Tickets not yet closed of the selected customers.", unitShort, 4, 4,
			qs(now(`sum(`+openTickets+`)`, "")), noValue("0"), thresholds("green", 1, "orange")),

		bar("Fleet by customer and site", "Devices up and down per customer and site.", unitShort, 8, 8,
			qs(now(`sum by (customer, site) (`+up+`)`, "{{customer}} / {{site}} up"),
				now(`sum by (customer, site) (1 - `+up+`)`, "{{customer}} / {{site}} down")),
			thresholds("green"), minZero, func(p *Panel) {
				p.FieldConfig.Overrides = append(p.FieldConfig.Overrides, Override{
					Matcher:    Matcher{ID: "byRegexp", Options: ".* down$"},
					Properties: []Property{{ID: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "red"}}},
				})
			}),
		table("Down devices", "Devices that did not answer their last poll, with what the inventory knows of them.", unitShort, 16, 8,
			qs(rows(`nocagent_device_info{`+selFleet+`} and on (device) (`+up+` == 0)`)),
			hideColumns("Time", "Value", "__name__"), deviceRowLink),

		bar("Top interfaces by utilisation", "Larger of in and out traffic as a share of interface speed, over the last poll interval.", unitPercent, 12, 9,
			qs(now(`topk(10, nocagent_interface_utilization_percent{`+selFleet+`})`, "{{device}} {{interface}}")),
			bounds(0, 100), thresholds("green", 70, "yellow", 90, "red"), interfaceLink),
		bar("Top interfaces by errors", "Inbound plus outbound error packets per second.", unitPacketsPerSec, 12, 9,
			qs(now(`topk(10, sum by (device, interface) (rate(nocagent_interface_in_errors_total{`+selFleet+`}`+rateWindow+`)`+
				` + rate(nocagent_interface_out_errors_total{`+selFleet+`}`+rateWindow+`)))`, "{{device}} {{interface}}")),
			minZero, thresholds("green", 0.1, "yellow", 1, "red"), interfaceLink),

		bar("Top CPU", "Busiest processor of each device.", unitPercent, 12, 9,
			qs(now(`topk(10, max by (device) (nocagent_cpu_usage_percent{`+selFleet+`}))`, "{{device}}")),
			bounds(0, 100), cpuWarn, deviceLink),
		bar("Top memory", "Fullest memory pool of each device.", unitPercent, 12, 9,
			qs(now(`topk(10, max by (device) (nocagent_memory_usage_percent{`+selFleet+`}))`, "{{device}}")),
			bounds(0, 100), cpuWarn, deviceLink),

		ts("Open tickets by priority", "Tickets not yet closed of the selected customers, per priority.", unitShort, 8, 8,
			qs(series(`sum by (priority) (`+openTickets+`)`, "{{priority}}")), stacked, minZero),
		slaNow("SLA at risk and breached", "Open tickets of the selected customers whose response or resolution clock "+
			"has under 20 % of its target left (at risk) or is past it (breached).", 8, 8, "customer", "{{customer}} {{clock}}"),
		ts("Alerts firing by severity", "Alerts firing, all customers.", unitShort, 8, 8,
			qs(series(`sum by (severity) (nocagent_alerts_firing)`, "{{severity}}")), stacked, minZero),
	}
	return newDashboard(uidOverview, "nocagent / NOC overview",
		"Fleet health at a glance: devices down, busiest interfaces, CPU and memory, alerts, open tickets and SLA at risk.",
		[]Variable{customerVar(), siteVar()}, panels)
}

func device() Dashboard {
	d := `{` + selDevice + `}`
	panels := []Panel{
		stat("Status", "Whether the device answered its last poll.", unitShort, 3, 4,
			qs(now(`nocagent_device_up`+d, "{{device}}")), upDown, thresholds("red", 1, "green")),
		stat("Availability", "Share of polls answered over the selected time range.", unitPercentUnit, 3, 4,
			qs(now(`avg_over_time(nocagent_device_up`+d+`[$__range])`, "{{device}}")),
			thresholds("red", 0.95, "orange", 0.99, "green"), bounds(0, 1)),
		stat("Uptime", "sysUpTime: a small value means a recent reboot.", unitSeconds, 3, 4,
			qs(now(`nocagent_device_uptime_seconds`+d, "{{device}}")), thresholds("orange", 3600, "green")),
		stat("Unhealthy sensors", "Sensors, fans and power supplies not reporting ok.", unitShort, 3, 4,
			qs(now(`sum(1 - nocagent_sensor_ok`+d+`)`, "")), noValue("0"), thresholds("green", 1, "red")),
		stat("Neighbours", "Link partners learned from LLDP and CDP.", unitShort, 3, 4,
			qs(now(`nocagent_device_neighbors`+d, "{{device}}")), thresholds("blue")),
		stat("Open tickets", "The device's open tickets by priority (agents sharing a store export the same counts: max per series).", unitShort, 3, 4,
			qs(now(`sum by (priority) (max by (device, customer, priority) (nocagent_device_tickets_open`+d+`))`, "{{priority}}")), noValue("0"), thresholds("green", 1, "orange")),
		table("Identity", "What the device reports about itself, and where it sits in the inventory.", unitShort, 9, 4,
			qs(rows(`nocagent_device_info`+d)), hideColumns("Time", "Value", "__name__")),

		ts("CPU", "Processor load.", unitPercent, 12, 8,
			qs(series(`nocagent_cpu_usage_percent`+d, "{{device}} {{cpu}}")),
			bounds(0, 100), thresholds("green", 80, "yellow", 90, "red"), drawThresholds),
		ts("Memory", "Memory in use and memory size, per pool.", unitBytes, 12, 8,
			qs(series(`nocagent_memory_used_bytes`+d, "{{device}} {{pool}} used"),
				series(`nocagent_memory_total_bytes`+d, "{{device}} {{pool}} size")), minZero),

		ts("Memory used", "Memory in use as a share of its size.", unitPercent, 8, 8,
			qs(series(`nocagent_memory_usage_percent`+d, "{{device}} {{pool}}")),
			bounds(0, 100), thresholds("green", 80, "yellow", 90, "red"), drawThresholds),
		ts("Temperatures", "Temperature sensors.", unitCelsius, 8, 8,
			qs(series(`nocagent_sensor_temperature_celsius`+d, "{{device}} {{sensor}}")),
			thresholds("green", 60, "yellow", 75, "red"), drawThresholds),
		ts("Poll duration", "Wall time of each poll of this device.", unitSeconds, 8, 8,
			qs(series(`nocagent_device_poll_duration_seconds`+d, "{{device}}")), minZero),

		ts("Interface traffic", "Bits per second; outbound is drawn below the axis.", unitBitsPerSecond, 24, 10,
			qs(series(`rate(nocagent_interface_in_octets_total`+d+rateWindow+`) * 8`, "{{device}} {{interface}} in"),
				series(`rate(nocagent_interface_out_octets_total`+d+rateWindow+`) * 8`, "{{device}} {{interface}} out")),
			legendRight, func(p *Panel) {
				p.FieldConfig.Overrides = append(p.FieldConfig.Overrides, Override{
					Matcher:    Matcher{ID: "byRegexp", Options: ".* out$"},
					Properties: []Property{{ID: "custom.transform", Value: "negative-Y"}},
				})
			}),
		interfaceTable(d),
	}
	return newDashboard(uidDevice, "nocagent / Device",
		"One device: status, availability, CPU, memory, temperatures and its interfaces.",
		[]Variable{customerVar(), siteVar(),
			labelVariable("device", "Device", `nocagent_device_info{`+selFleet+`}`, false)}, panels)
}

// interfaceTable lists the device's interfaces with admin and oper status,
// speed and utilisation in one row each. The queries aggregate to the same
// labels so Grafana's merge joins them row by row.
func interfaceTable(d string) Panel {
	by := `max by (device, interface, ifindex, alias) `
	upDownCol := func(name string) Override {
		return Override{Matcher: Matcher{ID: "byName", Options: name}, Properties: []Property{
			{ID: "mappings", Value: []Mapping{{Type: "value", Options: map[string]MappingValue{
				"0": {Color: "red", Index: 0, Text: "DOWN"},
				"1": {Color: "green", Index: 1, Text: "UP"},
			}}}},
			{ID: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
		}}
	}
	unitCol := func(name, unit string) Override {
		return Override{Matcher: Matcher{ID: "byName", Options: name}, Properties: []Property{{ID: "unit", Value: unit}}}
	}
	return table("Interfaces", "Every interface of the device: status, speed and utilisation now.", unitShort, 24, 10,
		qs(rows(by+`(nocagent_interface_admin_up`+d+`)`),
			rows(by+`(nocagent_interface_oper_up`+d+`)`),
			rows(by+`(nocagent_interface_speed_bytes_per_second`+d+`) * 8`),
			rows(by+`(nocagent_interface_utilization_percent`+d+`)`)),
		func(p *Panel) {
			p.Transformations = append(p.Transformations,
				Transformation{ID: "merge", Options: map[string]any{}},
				Transformation{ID: "organize", Options: map[string]any{
					"excludeByName": map[string]bool{"Time": true},
					"renameByName": map[string]string{"Value #A": "Admin", "Value #B": "Oper", "Value #C": "Speed",
						"Value #D": "Utilisation", "ifindex": "ifIndex"},
				}})
			p.FieldConfig.Overrides = append(p.FieldConfig.Overrides,
				upDownCol("Admin"), upDownCol("Oper"), unitCol("Speed", unitBitsPerSecond), unitCol("Utilisation", unitPercent))
		}, interfaceRowLink)
}

func interfaces() Dashboard {
	s := `{` + selInterface + `}`
	leg := "{{device}} {{interface}}"
	pair := func(metric, mult string) []query {
		return qs(series(`rate(nocagent_interface_in_`+metric+s+rateWindow+`)`+mult, leg+" in"),
			series(`rate(nocagent_interface_out_`+metric+s+rateWindow+`)`+mult, leg+" out"))
	}
	panels := []Panel{
		ts("Traffic in", "Bits received per second.", unitBitsPerSecond, 12, 9,
			qs(series(`rate(nocagent_interface_in_octets_total`+s+rateWindow+`) * 8`, leg)), minZero, legendRight),
		ts("Traffic out", "Bits sent per second.", unitBitsPerSecond, 12, 9,
			qs(series(`rate(nocagent_interface_out_octets_total`+s+rateWindow+`) * 8`, leg)), minZero, legendRight),

		ts("Utilisation", "Larger of in and out traffic as a share of interface speed.", unitPercent, 12, 8,
			qs(series(`nocagent_interface_utilization_percent`+s, leg)),
			bounds(0, 100), thresholds("green", 70, "yellow", 90, "red"), drawThresholds, legendRight),
		ts("Unicast packets", "Unicast packets per second.", unitPacketsPerSec, 12, 8,
			pair("unicast_packets_total", ""), minZero, legendRight),

		ts("Errors", "Packets with errors per second.", unitPacketsPerSec, 12, 8,
			pair("errors_total", ""), minZero, thresholds("green", 0.1, "yellow", 1, "red"), legendRight),
		ts("Discards", "Packets discarded per second (often congestion).", unitPacketsPerSec, 12, 8,
			pair("discards_total", ""), minZero, thresholds("green", 1, "yellow", 10, "red"), legendRight),

		timeline("Operational status", "Oper status over time; red while down.", unitShort, 12, 10,
			qs(series(`nocagent_interface_oper_up`+s, leg)), upDown, thresholds("red", 1, "green")),
		bar("Status changes", "How often oper status changed over the selected time range: flapping links first.", unitShort, 12, 10,
			qs(now(`topk(20, changes(nocagent_interface_oper_up`+s+`[$__range]))`, leg)),
			minZero, thresholds("green", 1, "yellow", 5, "red"), interfaceLink),
	}
	return newDashboard(uidInterfaces, "nocagent / Interfaces",
		"Interface traffic, utilisation, errors, discards and status changes.",
		[]Variable{customerVar(), siteVar(),
			labelVariable("device", "Device", `nocagent_device_info{`+selFleet+`}`, true),
			labelVariable("interface", "Interface", `nocagent_interface_oper_up{`+selFleet+`,device=~"$device"}`, true)},
		panels)
}

func agentHealth() Dashboard {
	i := `{` + selInstance + `}`
	pollRate := `sum(rate(nocagent_polls_total` + i + rateWindow + `))`
	quantile := func(q, metric string) query {
		return series(`histogram_quantile(`+q+`, sum by (le) (rate(`+metric+`_bucket`+i+rateWindow+`)))`, "p"+q[2:])
	}
	panels := []Panel{
		stat("Polls per second", "Device polls completed per second.", unitOpsPerSec, 6, 4,
			qs(now(pollRate, "")), thresholds("blue")),
		stat("Failed polls", "Share of polls that were not fully successful (partial or unreachable).", unitPercentUnit, 6, 4,
			qs(now(`1 - sum(rate(nocagent_polls_total{`+selInstance+`,result="ok"}`+rateWindow+`)) / `+pollRate, "")),
			bounds(0, 1), thresholds("green", 0.05, "yellow", 0.2, "red")),
		stat("Poll duration p95", "95th percentile of device poll wall time.", unitSeconds, 6, 4,
			qs(now(`histogram_quantile(0.95, sum by (le) (rate(nocagent_poll_duration_seconds_bucket`+i+rateWindow+`)))`, "")),
			thresholds("green", 2, "yellow", 5, "red")),
		stat("Notification backlog", "Ticket notices waiting for delivery.", unitShort, 6, 4,
			qs(now(`sum(nocagent_notification_backlog`+i+`)`, "")), thresholds("green", 10, "yellow", 100, "red")),

		ts("Polls by result", "Device polls per second: ok, partial (some errors), unreachable.", unitOpsPerSec, 12, 8,
			qs(series(`sum by (result) (rate(nocagent_polls_total`+i+rateWindow+`))`, "{{result}}")), stacked, minZero),
		ts("Poll duration", "Quantiles of device poll wall time.", unitSeconds, 12, 8,
			qs(quantile("0.50", "nocagent_poll_duration_seconds"), quantile("0.90", "nocagent_poll_duration_seconds"),
				quantile("0.99", "nocagent_poll_duration_seconds")), minZero),

		ts("Rule evaluation time", "Time to evaluate all rules on one snapshot.", unitSeconds, 12, 8,
			qs(quantile("0.50", "nocagent_rule_evaluation_seconds"), quantile("0.99", "nocagent_rule_evaluation_seconds"),
				series(`sum(rate(nocagent_rule_evaluation_seconds_sum`+i+rateWindow+`)) / sum(rate(nocagent_rule_evaluation_seconds_count`+i+rateWindow+`))`, "mean")),
			minZero),
		ts("Notification backlog", "Ticket notices waiting for delivery; a growing line means a notifier is down.", unitShort, 12, 8,
			qs(series(`nocagent_notification_backlog`+i, "{{instance}}")), minZero, thresholds("green", 10, "yellow", 100, "red"), drawThresholds),

		bar("Slowest devices", "Wall time of each device's last poll.", unitSeconds, 12, 8,
			qs(now(`topk(10, nocagent_device_poll_duration_seconds`+i+`)`, "{{device}}")),
			minZero, thresholds("green", 2, "yellow", 5, "red"), deviceLink),
		ts("SNMP requests per poll round", "SNMP requests sent by the last poll of every device, summed.", unitShort, 6, 8,
			qs(series(`sum(nocagent_device_poll_pdus`+i+`)`, "requests")), minZero),
		ts("Poll errors", "Errors reported by the last poll of every device, summed.", unitShort, 6, 8,
			qs(series(`sum(nocagent_device_poll_errors`+i+`)`, "errors")), minZero, thresholds("green", 1, "red")),
		bar("Blind devices by module", "Devices whose last poll had no source for a module (unsupported: no CPU or memory MIB "+
			"the agent can read) or failed it (error): rules on that module cannot fire for them.", unitShort, 24, 8,
			qs(now(`count by (module, status) (nocagent_device_module_status{`+selInstance+`,status=~"unsupported|error"})`, "{{module}} {{status}}")),
			minZero, noValue("0"), thresholds("green", 1, "yellow")),

		ts("Goroutines", "Go runtime: goroutines of the agent.", unitShort, 6, 8,
			qs(series(`go_goroutines`+i, "{{instance}}")), minZero),
		ts("Memory", "Go heap in use and process resident memory.", unitBytes, 6, 8,
			qs(series(`go_memstats_heap_inuse_bytes`+i, "{{instance}} heap"),
				series(`process_resident_memory_bytes`+i, "{{instance}} resident")), minZero),
		ts("CPU", "CPU time used by the agent; 100 % is one core.", unitPercentUnit, 6, 8,
			qs(series(`rate(process_cpu_seconds_total`+i+rateWindow+`)`, "{{instance}}")), minZero),
		ts("GC pauses", "Go garbage collection pause quantiles.", unitSeconds, 6, 8,
			qs(series(`go_gc_duration_seconds{`+selInstance+`,quantile=~"0.5|1"}`, "{{instance}} q{{quantile}}")), minZero),
	}
	return newDashboard(uidAgent, "nocagent / Agent health",
		"The agent itself: polls by result, poll and rule evaluation times, notification backlog and the Go runtime.",
		[]Variable{labelVariable("instance", "Agent", "nocagent_polls_total", true)}, panels)
}

// slaNow is a bar gauge of the open tickets whose SLA clocks are at risk or
// breached now, grouped by the label by and the clock.
func slaNow(title, desc string, w, h int, by, legend string) Panel {
	q := func(status string) string {
		return `sum by (` + by + `, clock) (` + slaTickets(status) + `)`
	}
	colour := func(suffix, c string) Override {
		return Override{Matcher: Matcher{ID: "byRegexp", Options: ".* " + suffix + "$"},
			Properties: []Property{{ID: "color", Value: map[string]any{"mode": "fixed", "fixedColor": c}}}}
	}
	return bar(title, desc, unitShort, w, h,
		qs(now(q("at_risk"), legend+" at risk"), now(q("breached"), legend+" breached")),
		minZero, thresholds("orange"), func(p *Panel) {
			p.FieldConfig.Overrides = append(p.FieldConfig.Overrides, colour("at risk", "orange"), colour("breached", "red"))
		})
}

func tickets() Dashboard {
	byPrio := `sum by (priority) (` + openTickets + `)`
	perCustomer := "{{customer}}"
	compliance := thresholds("red", 0.9, "yellow", 0.95, "green")
	renameRows := func(names map[string]string) opt {
		return func(p *Panel) {
			p.Transformations = append(p.Transformations, Transformation{ID: "organize", Options: map[string]any{
				"excludeByName": map[string]bool{"Time": true},
				"renameByName":  names,
			}})
		}
	}
	panels := []Panel{
		stat("MTTA", "Mean time from opening to the first response (acknowledged, or resolved before anyone acknowledged), "+
			"tickets opened in the last 30 days. 0 until a ticket has been responded to.", unitSeconds, 4, 4,
			qs(now(kpi("nocagent_service_mtta_seconds", ""), perCustomer)), thresholds("green", 900, "yellow", 1800, "red")),
		stat("MTTR", "Mean time from opening to resolution of the tickets opened in the last 30 days and resolved. "+
			"0 until a ticket has been resolved.", unitSeconds, 4, 4,
			qs(now(kpi("nocagent_service_mttr_seconds", ""), perCustomer)), thresholds("green", 14400, "yellow", 28800, "red")),
		stat("Response compliance", "Responses within the SLA target / responses measured (responded or breached), last 30 days.",
			unitPercentUnit, 4, 4, qs(now(kpi("nocagent_service_response_compliance_ratio", ""), perCustomer)), compliance, bounds(0, 1)),
		stat("Resolution compliance", "Resolutions within the SLA target / resolutions measured (resolved or breached), last 30 days.",
			unitPercentUnit, 4, 4, qs(now(kpi("nocagent_service_resolution_compliance_ratio", ""), perCustomer)), compliance, bounds(0, 1)),
		stat("Repair timeliness", "Tickets repaired within the resolution target / all tickets opened in the last 30 days "+
			"(open tickets count as not yet repaired).",
			unitPercentUnit, 4, 4, qs(now(kpi("nocagent_service_repair_timeliness_ratio", ""), perCustomer)), compliance, bounds(0, 1)),
		stat("Satisfaction", "Surveys answered satisfied or very satisfied / surveys answered, last 30 days.",
			unitPercentUnit, 4, 4, qs(now(kpi("nocagent_service_satisfaction_ratio", ""), perCustomer)),
			thresholds("red", 0.8, "yellow", 0.9, "green"), bounds(0, 1)),

		stat("Tickets (30 days)", "Fault tickets opened in the last 30 days (cancelled excluded).", unitShort, 4, 4,
			qs(now(`sum(`+kpi("nocagent_service_tickets", "")+`)`, "")), thresholds("blue")),
		stat("Major faults (30 days)", "P1 tickets opened in the last 30 days.", unitShort, 4, 4,
			qs(now(`sum(`+kpi("nocagent_service_major_faults", "")+`)`, "")), thresholds("green", 1, "red")),
		stat("Open tickets", "Tickets not yet closed.", unitShort, 4, 4,
			qs(now(`sum(`+openTickets+`)`, "")), noValue("0"), thresholds("green", 1, "orange")),
		stat("SLA at risk now", "Open tickets whose clock has under 20 % of its target left, per clock.", unitShort, 6, 4,
			qs(now(`sum by (clock) (`+slaTickets("at_risk")+`)`, "{{clock}}")), noValue("0"), thresholds("green", 1, "orange")),
		stat("SLA breached now", "Open tickets past their target, per clock.", unitShort, 6, 4,
			qs(now(`sum by (clock) (`+slaTickets("breached")+`)`, "{{clock}}")), noValue("0"), thresholds("green", 1, "red")),

		bar("Faults by category", "Fault tickets opened in the last 30 days, per category.", unitShort, 12, 8,
			qs(now(`sum by (category) (`+kpi("nocagent_service_faults", "category")+`)`, "{{category}}")), minZero, thresholds("blue")),
		bar("Fault duration by category", "Total time from opening to resolution (or to now while open) of the fault "+
			"tickets opened in the last 30 days, per category.", unitSeconds, 12, 8,
			qs(now(`sum by (category) (`+kpi("nocagent_service_fault_duration_seconds", "category")+`)`, "{{category}}")),
			minZero, thresholds("blue")),

		ts("Compliance", "Rolling 30-day response and resolution compliance and repair timeliness, per customer.", unitPercentUnit, 12, 8,
			qs(series(kpi("nocagent_service_response_compliance_ratio", ""), "{{customer}} response"),
				series(kpi("nocagent_service_resolution_compliance_ratio", ""), "{{customer}} resolution"),
				series(kpi("nocagent_service_repair_timeliness_ratio", ""), "{{customer}} repair timeliness")),
			bounds(0, 1), compliance, drawThresholds),
		ts("MTTA and MTTR", "Rolling 30-day mean time to acknowledge and to resolve, per customer.", unitSeconds, 12, 8,
			qs(series(kpi("nocagent_service_mtta_seconds", ""), "{{customer}} MTTA"),
				series(kpi("nocagent_service_mttr_seconds", ""), "{{customer}} MTTR")), minZero),

		ts("Open tickets by priority", "Tickets not yet closed, per priority.", unitShort, 12, 8,
			qs(series(byPrio, "{{priority}}")), stacked, minZero),
		ts("Open tickets by state", "Tickets not yet closed, per state of the service process.", unitShort, 12, 8,
			qs(series(`sum by (state) (`+openTickets+`)`, "{{state}}")), stacked, minZero),

		table("SLA at risk and breached", "Open tickets whose response or resolution clock is at risk "+
			"(under 20 % of the target left) or breached, per customer and priority.", unitShort, 12, 8,
			qs(rows(`sum by (customer, priority, clock, status) (`+slaTickets("at_risk|breached")+`)`)),
			renameRows(map[string]string{"customer": "Customer", "priority": "Priority", "clock": "Clock", "status": "Status", "Value": "Tickets"})),
		table("Open tickets by customer, priority and state", "Tickets not yet closed.", unitShort, 12, 8,
			qs(rows(openTickets)),
			renameRows(map[string]string{"customer": "Customer", "priority": "Priority", "state": "State", "Value": "Tickets"})),

		bar("Survey responses", "Customer survey answers of the last 30 days, per rating.", unitShort, 12, 8,
			qs(now(`sum by (rating) (`+kpi("nocagent_service_survey_responses", "rating")+`)`, "{{rating}}")), minZero, thresholds("blue")),
		ts("Notification backlog", "Ticket notices waiting for delivery.", unitShort, 12, 8,
			qs(series(`max(nocagent_notification_backlog)`, "backlog")), minZero, thresholds("green", 10, "yellow", 100, "red"), drawThresholds),
	}
	return newDashboard(uidTickets, "nocagent / Tickets & SLA",
		"Service performance per customer: MTTA, MTTR, SLA compliance and repair timeliness over the last 30 days, "+
			"faults by category, satisfaction, open tickets and SLA clocks at risk or breached now.",
		[]Variable{customerVar()}, panels)
}
