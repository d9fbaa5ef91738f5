package notice

import "github.com/nocagent/nocagent/ticketing"

// English sentences. Customer notices are plain language: what is affected,
// since when, what is being done, when the next update comes; no rule names,
// no internal notes. Staff notices are terse and technical.

const (
	enAffected = `{{if .Upstream}}{{if eq .Count 1}}One of your devices is{{else}}{{.Count}} of your devices are{{end}} unreachable because of a fault in the network upstream of {{plural .Count "it" "them"}}{{else}}{{.Device}}{{if .Site}} at {{.Site}}{{end}}{{if .Impacted}}, and {{.Impacted}} {{plural .Impacted "device" "devices"}} behind it{{end}}{{end}}`
	// enAffectedAll is the whole extent, recovered devices included: by the
	// resolution most have come back.
	enAffectedAll = `{{if .Upstream}}{{if eq .Total 1}}One of your devices{{else}}{{.Total}} of your devices{{end}}, cut off by a fault in the network upstream{{else}}{{.Device}}{{if .Site}} at {{.Site}}{{end}}{{if gt .Total 1}}, and {{sub .Total 1}} {{plural (sub .Total 1) "device" "devices"}} behind it{{end}}{{end}}`
	enProblem     = `{{if not .Upstream}}{{.Title}}{{end}}`
	enCount       = `{{if gt .Count 1}}{{.Count}} (listed below){{end}}`
	enDoing       = `{{if .Assignee}}Engineer {{.Assignee}} is investigating{{else}}Our engineers have been alerted and are investigating{{end}} (priority {{.Priority}}).`
	enNext        = `{{if .NextUpdate}}By {{.NextUpdate}}, or sooner if the situation changes.{{end}}`
	enAsk         = `If you have questions, reply to this message quoting {{.ID}}.`
	enStaffSub    = `[{{.Priority}}] {{.ID}} `
)

var enUpdateFacts = [][2]string{
	{"What is affected", enAffected},
	{"Devices affected", enCount},
	{"Since", `{{.Since}}`},
	{"What we are doing", enDoing},
	{"Next update", enNext},
}

var catalogEN = compile("en", map[string]src{
	"customer/opened": {
		Subject: `{{if .Upstream}}Service disruption affecting {{if eq .Count 1}}one of your devices{{else}}{{.Count}} of your devices{{end}}{{else}}Service disruption{{if .Site}} at {{.Site}}{{end}}: {{.Device}}{{end}} [{{.ID}}]`,
		Heading: `We are working on a fault affecting your network`,
		Body:    []string{`Our monitoring detected a fault in your network at {{.Since}}. Our engineers are already working on it. Here is what we know so far.`},
		Facts: [][2]string{
			{"What is affected", enAffected},
			{"Problem", enProblem},
			{"Devices affected", enCount},
			{"Since", `{{.Since}}`},
			{"What we are doing", enDoing},
			{"Next update", enNext},
		},
		Outro: []string{`You do not need to do anything. ` + enAsk},
	},
	"customer/impact_added": {
		Subject: `Update: more of your devices are affected [{{.ID}}]`,
		Heading: `Update on the fault affecting your network`,
		Body:    []string{`The fault we told you about now affects more of your devices. Our engineers are still working on it.`},
		Facts:   enUpdateFacts,
		Outro:   []string{enAsk},
	},
	"customer/priority_raised": {
		Subject: `Update: fault{{if .Site}} at {{.Site}}{{end}} raised to priority {{.Priority}} [{{.ID}}]`,
		Heading: `Update on the fault affecting your network`,
		Body:    []string{`The fault turned out to be more serious than first seen, so we have raised its priority to {{.Priority}} and put more engineers on it.`},
		Facts:   enUpdateFacts,
		Outro:   []string{enAsk},
	},
	"customer/reopened": {
		Subject: `The fault{{if .Site}} at {{.Site}}{{end}} has returned [{{.ID}}]`,
		Heading: `The fault has returned`,
		Body:    []string{`The fault we reported as resolved has come back. We have reopened the case and our engineers are working on it again.`},
		Facts:   enUpdateFacts,
		Outro:   []string{enAsk},
	},
	"customer/resolved": {
		Subject: `Resolved: {{if .Upstream}}your devices are reachable again{{else}}{{.Device}}{{if .Site}} at {{.Site}}{{end}} is back to normal{{end}} [{{.ID}}]`,
		Heading: `The fault has been resolved`,
		Body:    []string{`The fault that began at {{.Since}} was resolved at {{.ResolvedAt}}. Your service should be back to normal.`},
		Facts: [][2]string{
			{"What was affected", enAffectedAll},
			{"Duration", `{{.Duration}}`},
			{"Cause", `{{if .Cause}}{{.Cause}}{{else}}The fault cleared without intervention. We are reviewing what caused it and will tell you if anything is needed from you.{{end}}`},
			{"Solution", `{{.Solution}}`},
		},
		Link:  `Please confirm the fix here:`,
		Outro: []string{`We keep watching your network to make sure the fault does not return. If you still have a problem, reply to this message quoting {{.ID}}; otherwise please confirm the resolution {{if .ConfirmLink}}with the link above{{else}}when we ask you to{{end}}.`},
	},
	"customer/service_mode": {
		Subject: `{{if eq .Mode "on_site"}}An engineer will visit {{if .Upstream}}to repair the fault affecting your devices{{else}}{{or .Site "you"}}{{end}}{{if .Appointment}} on {{.Appointment}}{{end}}{{else}}Update: how we are repairing the fault{{if and .Site (not .Upstream)}} at {{.Site}}{{end}}{{end}} [{{.ID}}]`,
		Heading: `{{if eq .Mode "on_site"}}An engineer will visit on site{{else}}How we are repairing the fault{{end}}`,
		Body: []string{`{{if .Upstream}}{{if eq .Mode "on_site"}}The fault in the network upstream of your devices needs an engineer on site{{if .Appointment}}; the visit is booked for {{.Appointment}}{{end}}.{{else}}Our engineers are repairing the fault in the network upstream of your devices remotely.{{end}}` +
			`{{else if eq .Mode "on_site"}}To repair the fault, an engineer will visit {{or .Site "your site"}}{{if .Appointment}} on {{.Appointment}}{{end}}. Please make sure someone can let the engineer in and give access to {{.Device}}.` +
			`{{else if eq .Mode "remote_guidance"}}An engineer will contact your staff and guide them step by step through the repair of {{.Device}}. Please keep someone who can reach the device available.` +
			`{{else if eq .Mode "remote_login"}}An engineer will log in to {{.Device}} remotely to repair it. You do not need to do anything.` +
			`{{else}}Our engineers have changed how they are working on the fault.{{end}}`},
		Facts: [][2]string{
			{"What is affected", enAffected},
			{"Visit", `{{if eq .Mode "on_site"}}{{.Appointment}}{{end}}`},
			{"Engineer", `{{.Assignee}}`},
		},
		Outro: []string{`{{if and (eq .Mode "on_site") (not .Upstream)}}If this time does not suit you, reply to this message quoting {{.ID}} and we will arrange another.{{else}}` + enAsk + `{{end}}`},
	},
	"customer/arrived": {
		Subject: `Our engineer is on site{{if and .Site (not .Upstream)}} at {{.Site}}{{end}} [{{.ID}}]`,
		Heading: `Our engineer has arrived on site`,
		Body:    []string{`{{if .Upstream}}Our engineer arrived on site at {{.ArrivedAt}} to repair the fault in the network upstream of your devices.{{else}}Our engineer{{if .ArrivedBy}} {{.ArrivedBy}}{{end}} arrived{{if .Site}} at {{.Site}}{{end}} at {{.ArrivedAt}} and is working on {{.Device}}.{{end}}`},
		Facts:   [][2]string{{"What is affected", enAffected}},
		Outro:   []string{`We will tell you when the work is finished. ` + enAsk},
	},
	"customer/service_report": {
		Subject: `{{if .Upstream}}On-site work on the fault affecting your devices is finished{{else}}Service report: on-site work{{if .Site}} at {{.Site}}{{end}} is finished{{end}} [{{.ID}}]`,
		Heading: `The on-site work is finished`,
		Body:    []string{`{{if .Upstream}}Our engineer has finished the on-site work on the network upstream of your devices.{{else}}Our engineer{{if .ReportBy}} {{.ReportBy}}{{end}} has finished the on-site work on {{.Device}}. Here is the service report{{if .SignedBy}} signed by {{.SignedBy}}{{end}}.{{end}}`},
		Facts: [][2]string{
			{"Work done", `{{.Work}}`},
			{"Parts replaced", `{{.Parts}}`},
			{"Signed by", `{{.SignedBy}}`},
		},
		Outro: []string{`We will tell you when the fault is resolved. {{if not .Upstream}}If anything in the report is wrong, reply to this message quoting {{.ID}}.{{else}}` + enAsk + `{{end}}`},
	},

	"staff/opened": {
		Subject: enStaffSub + `opened: {{.Title}}`,
		Heading: `New ticket {{.ID}}: {{.Title}}`,
		Body:    []string{`{{.Note}}`},
	},
	"staff/impact_added": {
		Subject: enStaffSub + `impact grew: {{.Impacted}} {{plural .Impacted "device" "devices"}} cut off behind {{.Device}}`,
		Heading: `{{.ID}}: more devices cut off behind {{.Device}}`,
		Body:    []string{`{{.Note}}`},
	},
	"staff/priority_raised": {
		Subject: enStaffSub + `priority raised to {{.Priority}}: {{.Title}}`,
		Heading: `{{.ID}} is now {{.Priority}}`,
		Body:    []string{`{{.Note}}`},
	},
	"staff/reopened": {
		Subject: enStaffSub + `reopened: {{.Title}}`,
		Heading: `{{.ID}} reopened`,
		Body:    []string{`Reopened by {{.Actor}}{{if .Note}}: {{.Note}}{{end}}.`},
	},
	"staff/resolved": {
		Subject: enStaffSub + `resolved: {{.Title}}`,
		Heading: `{{.ID}} resolved`,
		Body:    []string{`Resolved by {{.Actor}}{{if .Note}}: {{.Note}}{{end}}.`},
		Facts:   [][2]string{{"Cause", `{{.Cause}}`}, {"Solution", `{{.Solution}}`}, {"Duration", `{{.Duration}}`}},
	},
	"staff/escalated": {
		Subject: enStaffSub + `escalated to {{.Tier}}: {{.Title}}`,
		Heading: `{{.ID}} escalated to {{.Tier}}`,
		Body: []string{
			`Escalated to {{.Tier}} by {{.Actor}}{{if .Note}}: {{.Note}}{{end}}.`,
			`{{if and .IsManager (eq .Tier "L3")}}The ticket is now at the manager tier: take it over or reassign it.{{end}}`,
		},
	},
	"staff/reminder": {
		Subject: enStaffSub + `reminder: no progress note on {{.Title}}`,
		Heading: `Reminder: {{.ID}} needs a progress note`,
		Body: []string{
			`{{.Note}}`,
			`{{if .IsManager}}The assignee has recorded no progress; check with {{or .Assignee "the team"}}.{{else}}Add a progress note or escalate the ticket.{{end}}`,
		},
	},
	"staff/assigned": {
		Subject: enStaffSub + `assigned to {{.Assignee}}: {{.Title}}`,
		Heading: `{{.ID}} assigned to {{.Assignee}}`,
		Body: []string{
			`Assigned to {{.Assignee}} by {{.Actor}}{{if .Note}} ({{.Note}}){{end}}.`,
			`{{if not .IsManager}}Acknowledge it within the response target.{{end}}`,
		},
	},
	"staff/closed": {
		Subject: enStaffSub + `closed: {{.Title}}`,
		Heading: `{{.ID}} closed`,
		Body:    []string{`Closed by {{.Actor}}{{if .Note}}: {{.Note}}{{end}}.`},
		Facts:   [][2]string{{"Cause", `{{.Cause}}`}, {"Solution", `{{.Solution}}`}},
	},
	"staff/cancelled": {
		Subject: enStaffSub + `cancelled: {{.Title}}`,
		Heading: `{{.ID}} cancelled`,
		Body:    []string{`Cancelled by {{.Actor}}{{if .Note}}: {{.Note}}{{end}}.`},
	},
	"staff/service_mode": {
		Subject: enStaffSub + `{{or .ModeName "service mode changed"}}{{if .Appointment}} on {{.Appointment}}{{end}}: {{.Title}}`,
		Heading: `{{.ID}}: {{if eq .Mode "on_site"}}on-site visit booked{{else}}worked by {{or .ModeName "an unknown mode"}}{{end}}`,
		Body:    []string{`Service mode set to {{or .ModeName "an unknown mode"}} by {{.Actor}}{{if .Note}}: {{.Note}}{{end}}.`},
		Facts:   [][2]string{{"Service mode", `{{.ModeName}}`}, {"Appointment", `{{.Appointment}}`}},
	},
	"staff/arrived": {
		Subject: enStaffSub + `engineer on site: {{.Title}}`,
		Heading: `{{.ID}}: {{or .ArrivedBy "engineer"}} on site`,
		Body:    []string{`{{or .ArrivedBy .Actor}} arrived on site at {{.ArrivedAt}}{{if .Late}}, {{.Late}} after the appointment{{end}}{{if .Note}}: {{.Note}}{{end}}.`},
		Facts:   [][2]string{{"Appointment", `{{.Appointment}}`}, {"Arrived", `{{.ArrivedAt}}`}},
	},
	"staff/service_report": {
		Subject: enStaffSub + `service report filed: {{.Title}}`,
		Heading: `{{.ID}}: service report by {{.ReportBy}}`,
		Body:    []string{`{{.ReportBy}} filed the on-site service report at {{.At}}.`},
		Facts: [][2]string{
			{"Work done", `{{.Work}}`},
			{"Parts replaced", `{{.Parts}}`},
			{"Signed by", `{{.SignedBy}}{{if .SignedBy}} (customer){{end}}`},
			{"Arrived", `{{.ArrivedAt}}{{if .ArrivedBy}} by {{.ArrivedBy}}{{end}}`},
		},
	},
}, [][2]string{
	{"Device", `{{.Device}}{{if .Address}} ({{.Address}}){{end}}{{if .DeviceDesc}}, {{.DeviceDesc}}{{end}}`},
	{"Site", `{{.Site}}`},
	{"Customer", `{{or .Customer .CustomerID}}{{if and .Customer .CustomerID}} ({{.CustomerID}}){{end}}{{if .Contract}}, contract {{.Contract}}{{end}}`},
	{"Ticket", `{{.Priority}} · {{.Category}} · {{.State}}{{if .Source}} · {{.Source}}{{end}}`},
	{"Assignee", `{{or .Assignee "unassigned"}}{{if .Tier}} · tier {{.Tier}}{{end}}`},
	{"Since", `{{.Since}}`},
	{"Response SLA", `{{.SLAResponse}}`},
	{"Resolution SLA", `{{.SLARepair}}`},
	{"Impacted devices", `{{if .Devices}}{{.Impacted}} down, {{.Recovered}} recovered (listed below){{end}}`},
	{"For", `{{.Recipients}}`},
},
	`Reference: {{.ID}}`,
	`Dear {{or .Customer "customer"}},`,
	`{{if and .IsCustomer .Upstream}}Your affected devices{{else}}Devices cut off behind {{.Device}}{{end}}`,
	`Monitoring evidence`,
)

var vocabEN = vocab{
	serial: " (serial %s)", recovered: ", recovered%s", firing: "firing",
	days: "%d d", hours: "%d h", minutes: "%d min", durSep: " ", lessThanMinute: "less than a minute",
	clockDue:             "target %s, due %s (%s left)",
	clockPaused:          "target %s, paused (%s left)",
	clockMet:             "target %s, met at %s",
	clockBreached:        "target %s, BREACHED by %s",
	clockBreachedStopped: "target %s, missed (stopped at %s)",
	modes: map[ticketing.ServiceMode]string{
		ticketing.ModeOnSite: "on-site visit", ticketing.ModeRemoteGuidance: "remote guidance", ticketing.ModeRemoteLogin: "remote login",
	},
}
