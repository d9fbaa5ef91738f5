// Package ticketing owns the ticket domain: the lifecycle of a ticket from an
// alert or a phone call to its closure, its timeline, and the notices it sends.
package ticketing

import "time"

// Signal is a monitoring observation that opens, updates or resolves an auto
// ticket. The agent builds it from a rules.Alert and inventory context; the
// ticketing package does not import rules or collector.
type Signal struct {
	Fingerprint string
	Rule        string
	Instance    string
	Firing      bool // false: the condition cleared
	Severity    string
	Category    string
	Priority    string // P1..P4
	Value       float64
	Threshold   float64
	Summary     string
	// Description is the rule's longer explanation, recorded on the
	// opening event.
	Description string
	At          time.Time
	Device      DeviceContext
	// Impacted are devices cut off behind Device (topology correlation):
	// they join the ticket instead of opening their own. The list is merged
	// into the ticket's, so sending the incident's whole list or only the
	// devices just added are both right; a firing signal that adds devices
	// is an update, not a duplicate. Ignored when Firing is false.
	Impacted []ImpactedDevice
	// Recovered are impacted devices that answer again: they stay listed on
	// the ticket, marked recovered. Read whether Firing or not: a device may
	// recover after its root did.
	Recovered []ImpactedDevice
	// Note, on a clearing signal, is recorded on the event that resolves or
	// clears ("root recovered", "merged into NOC-000012").
	Note string
}

// DeviceContext is what a ticket carries about the device it is about, so an
// engineer never has to look it up.
type DeviceContext struct {
	Name         string   `json:"name"`
	Address      string   `json:"address"`
	Serial       string   `json:"serial"`
	Model        string   `json:"model"`
	Vendor       string   `json:"vendor"`
	OS           string   `json:"os"`
	Role         string   `json:"role"`
	Site         string   `json:"site"`
	SiteName     string   `json:"site_name"`
	Customer     string   `json:"customer"`
	CustomerName string   `json:"customer_name"`
	Contract     string   `json:"contract"`
	Upstream     []string `json:"upstream"`
	Downstream   []string `json:"downstream"`
	Neighbors    []string `json:"neighbors"` // "local_port -> remote_name remote_port (lldp)"
}
