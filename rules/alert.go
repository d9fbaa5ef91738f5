package rules

import "time"

// Alert states carried by an Alert transition.
const (
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// Alert is one state change of one (rule, device, instance): it starts firing
// or it resolves. The engine emits transitions only, never plain repeats; a
// firing Alert for a fingerprint that is already firing is an update (it
// started or stopped flapping, or a maintenance window that suppressed it
// ended) and carries the current flags.
type Alert struct {
	Fingerprint string            `json:"fingerprint"` // stable hash of rule, device, instance
	Rule        string            `json:"rule"`
	Device      string            `json:"device"`
	Instance    string            `json:"instance,omitempty"` // interface, CPU, sensor name; empty for the device itself
	State       string            `json:"state"`              // firing | resolved
	Severity    string            `json:"severity"`           // critical | major | minor | warning
	Category    string            `json:"category"`           // availability | link | performance | hardware | configuration | security
	Priority    string            `json:"priority"`           // P1..P4 from the priority matrix
	Value       float64           `json:"value"`              // the observed value that decided the transition
	Threshold   float64           `json:"threshold"`
	Summary     string            `json:"summary"`
	Description string            `json:"description,omitempty"` // the rule's longer explanation
	StartsAt    time.Time         `json:"starts_at"`             // when the condition first held (pending began)
	At          time.Time         `json:"at"`                    // when this transition happened
	Labels      map[string]string `json:"labels,omitempty"`
	// Flapping: the state changed too often; this one firing alert stands
	// for all the changes until it is stable again (see Engine).
	Flapping bool `json:"flapping,omitempty"`
	// Suppressed: the transition happened inside maintenance window
	// Maintenance; record it, open no ticket, send no notice.
	Suppressed  bool   `json:"suppressed,omitempty"`
	Maintenance string `json:"maintenance,omitempty"`
}

// Target is what the rules know of the device being evaluated beyond its
// snapshot: inventory attributes and topology impact.
type Target struct {
	Name     string
	Role     string
	Customer string
	Tier     string // customer tier: gold | silver | bronze
	Site     string
	Tags     []string
	// Downstream is how many devices depend on this one (from topology).
	Downstream int
	// Uplinks are interface names (ifName or ifDescr) known to face other
	// network devices, e.g. the local ports of learned topology links; see
	// iface.uplink.
	Uplinks []string
}
