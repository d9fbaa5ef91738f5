package ticketing

import (
	"errors"
	"fmt"
	"time"
)

// Priority orders tickets by urgency: P1 is the most urgent.
type Priority string

// Priorities, most urgent first.
const (
	P1 Priority = "P1"
	P2 Priority = "P2"
	P3 Priority = "P3"
	P4 Priority = "P4"
)

// Valid reports whether p is one of P1..P4.
func (p Priority) Valid() bool {
	switch p {
	case P1, P2, P3, P4:
		return true
	}
	return false
}

// Higher reports whether p is more urgent than q. An invalid q is treated as
// the least urgent, so any valid p beats it.
func (p Priority) Higher(q Priority) bool {
	if !p.Valid() {
		return false
	}
	if !q.Valid() {
		return true
	}
	return p < q // "P1" < "P2" lexically and in urgency
}

// State is where a ticket stands in the service process (DESIGN.md).
type State string

// States of the service process. Escalation and reopening are not states:
// escalation will be a flag with a tier, reopening sends a ticket back to new.
const (
	StateNew          State = "new"
	StateAcknowledged State = "acknowledged"
	StateInProgress   State = "in_progress"
	StateResolved     State = "resolved"
	StateVerified     State = "verified"
	StateConfirmed    State = "confirmed"
	StateClosed       State = "closed"
	StateCancelled    State = "cancelled"
)

// OpenStates are the states in which a ticket still needs work; the one-open-
// ticket-per-(device, category) rule counts tickets in these states.
var OpenStates = []State{StateNew, StateAcknowledged, StateInProgress}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	switch s {
	case StateNew, StateAcknowledged, StateInProgress, StateResolved,
		StateVerified, StateConfirmed, StateClosed, StateCancelled:
		return true
	}
	return false
}

// Terminal reports whether nothing more can happen to a ticket in state s
// except a survey.
func (s State) Terminal() bool { return s == StateClosed || s == StateCancelled }

// Open reports whether a ticket in state s still needs work.
func (s State) Open() bool {
	for _, o := range OpenStates {
		if s == o {
			return true
		}
	}
	return false
}

// Ticket sources.
const (
	SourceMonitoring = "monitoring"
	SourceManual     = "manual"
)

// Actors that are not people. A person's actor is their user name.
const (
	ActorSystem     = "system"
	ActorMonitoring = "monitoring"
)

// EventKind names what happened in one timeline event.
type EventKind string

// Event kinds. A state-changing kind carries the new state in Event.To (see
// changesState), so SLA clocks can be replayed from the timeline alone.
const (
	KindOpened         EventKind = "opened"
	KindSymptomAdded   EventKind = "symptom_added"
	KindSymptomCleared EventKind = "symptom_cleared"
	KindPriorityRaised EventKind = "priority_raised"
	KindResolved       EventKind = "resolved"
	KindReopened       EventKind = "reopened"
	// KindCauseRecorded: cause and solution written after the resolution.
	KindCauseRecorded EventKind = "cause_recorded"
	KindStateChanged  EventKind = "state_changed"
	KindNote          EventKind = "note"
	KindAcknowledged  EventKind = "acknowledged"
	KindVerified      EventKind = "verified"
	KindConfirmed     EventKind = "confirmed"
	KindClosed        EventKind = "closed"
	KindCancelled     EventKind = "cancelled"
	KindAssigned      EventKind = "assigned"
	KindEscalated     EventKind = "escalated"
	KindPaused        EventKind = "paused"  // waiting for the customer: From "", To "waiting_customer"
	KindResumed       EventKind = "resumed" // no longer waiting
	KindReminder      EventKind = "reminder"
	KindProblemLinked EventKind = "problem_linked"
	KindSurvey        EventKind = "survey"
	KindFollowUp      EventKind = "follow_up" // a follow-up task was opened for this ticket
	// KindImpactAdded: devices cut off behind the ticket's device were
	// attached; the note names them. One event per signal, not per device.
	KindImpactAdded EventKind = "impact_added"
	// KindImpactRecovered: impacted devices answer again; the note names them.
	KindImpactRecovered EventKind = "impact_recovered"
)

// changesState reports whether events of kind k move the ticket to the
// state in their To field.
func (k EventKind) changesState() bool {
	switch k {
	case KindOpened, KindResolved, KindReopened, KindStateChanged, KindAcknowledged,
		KindVerified, KindConfirmed, KindClosed, KindCancelled:
		return true
	}
	return false
}

// Notifies reports whether an event of this kind is sent to the configured
// notification channels. Symptoms and notes stay on the timeline only, so a
// flapping interface does not flood a customer's inbox. Impact added
// notifies, since more customers are affected; a recovery of one impacted
// device is timeline-only, like a cleared symptom, and the root's
// resolution is the notice that matters.
func (k EventKind) Notifies() bool {
	switch k {
	case KindOpened, KindPriorityRaised, KindResolved, KindReopened, KindImpactAdded,
		KindEscalated, KindReminder, KindAssigned, KindClosed, KindCancelled,
		KindServiceMode, KindArrived, KindServiceReport:
		return true
	}
	return false
}

// Ticket is one fault or request from its opening to its closure. Its
// Timeline is the audit log: every change is an appended Event.
type Ticket struct {
	ID          string        `json:"id"` // human readable, e.g. NOC-000042
	Title       string        `json:"title"`
	Priority    Priority      `json:"priority"`
	State       State         `json:"state"`
	Category    string        `json:"category"`
	Source      string        `json:"source"`      // monitoring | manual
	Fingerprint string        `json:"fingerprint"` // the signal that opened it
	DedupKey    string        `json:"dedup_key"`   // device name + category
	Device      DeviceContext `json:"device"`
	Evidence    []Evidence    `json:"evidence"`
	OpenedAt    time.Time     `json:"opened_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
	ResolvedAt  *time.Time    `json:"resolved_at,omitempty"`
	// ResolvedBy is the actor of the last resolution; only a resolution by
	// monitoring may be undone by the fault returning (reopen window).
	ResolvedBy  string `json:"resolved_by,omitempty"`
	ReopenCount int    `json:"reopen_count"`
	// Assignee is the engineer working the ticket ("" until assigned).
	Assignee string `json:"assignee,omitempty"`
	// Tier is the escalation tier: 1 (L1 engineer), 2 (L2 senior expert),
	// 3 (L3 manager). Escalated is Tier > 1.
	Tier      int  `json:"tier"`
	Escalated bool `json:"escalated"`
	// WaitingCustomer pauses the SLA clocks of contracts that allow it.
	WaitingCustomer bool       `json:"waiting_customer"`
	Cause           string     `json:"cause,omitempty"`
	Solution        string     `json:"solution,omitempty"`
	ClosedAt        *time.Time `json:"closed_at,omitempty"`
	// DueAt, when set, is the resolution deadline instead of the SLA policy's
	// (follow-up tasks are due 24 h after the survey that opened them).
	DueAt     *time.Time `json:"due_at,omitempty"`
	ParentID  string     `json:"parent_id,omitempty"`  // the ticket a follow-up task is about
	ProblemID string     `json:"problem_id,omitempty"` // the problem record it belongs to
	Intake    *Intake    `json:"intake,omitempty"`     // manual tickets: what the caller told us
	// Service is how the ticket is worked (mode, on-site visit), replayed
	// from the timeline when read; nil until a mode is set.
	Service *ServiceInfo `json:"service,omitempty"`
	// ImpactedDevices are the devices cut off behind Device, sorted by name,
	// recovered ones included (marked). Never null.
	ImpactedDevices []ImpactedDevice `json:"impacted_devices"`
	// ImpactedCustomers is every customer the ticket affects: Device's and
	// each impacted device's, distinct and sorted. Computed, never stored;
	// a customer sees the ticket when it is in this list.
	ImpactedCustomers []string `json:"impacted_customers"`
	// SLA is computed when the ticket is read, from its timeline and the
	// reader's now; it is never stored.
	SLA      *SLAStatus `json:"sla,omitempty"`
	Timeline []Event    `json:"timeline,omitempty"`
}

// Intake is what a manual ticket records about the request.
type Intake struct {
	Channel       string     `json:"channel"` // phone | email | portal | chat | survey
	Contact       string     `json:"contact"`
	Symptom       string     `json:"symptom"`
	OnsetAt       *time.Time `json:"onset_at,omitempty"`
	RecentChanges string     `json:"recent_changes,omitempty"`
}

// Evidence is one firing of one monitoring condition attached to a ticket.
// A fingerprint that fires again after clearing adds a new Evidence, so the
// ticket keeps every occurrence.
type Evidence struct {
	ID          int64      `json:"id"`
	Fingerprint string     `json:"fingerprint"`
	Rule        string     `json:"rule"`
	Instance    string     `json:"instance,omitempty"`
	Severity    string     `json:"severity,omitempty"`
	Priority    Priority   `json:"priority,omitempty"`
	Value       float64    `json:"value"`
	Threshold   float64    `json:"threshold"`
	Summary     string     `json:"summary"`
	At          time.Time  `json:"at"` // when it started firing
	Firing      bool       `json:"firing"`
	ClearedAt   *time.Time `json:"cleared_at,omitempty"`
	// Fires counts how often the symptom fired on this ticket: a symptom
	// that clears and returns is this row again, not another.
	Fires int `json:"fires"`
}

// Event is one append-only entry of a ticket's timeline.
type Event struct {
	Seq   int       `json:"seq"` // 1, 2, ... within the ticket
	At    time.Time `json:"at"`
	Actor string    `json:"actor"` // system, monitoring or a user name
	Kind  EventKind `json:"kind"`
	From  string    `json:"from,omitempty"`
	To    string    `json:"to,omitempty"`
	Note  string    `json:"note,omitempty"`
	// Internal entries are for staff only: the customer never sees them.
	Internal bool `json:"internal,omitempty"`
	// Role is the role of the person Actor names (engineer, manager,
	// admin, customer); empty for monitoring and the system.
	Role Role `json:"role,omitempty"`
}

// ForCustomer reports whether a customer sees this timeline entry: not
// internal notes, and not remediation steps (plans and device evidence).
func (e Event) ForCustomer() bool { return !e.Internal && e.Kind != KindRemediation }

// EventID is the stable identity of a ticket event, used as the idempotency
// key of every notice about it.
func EventID(ticketID string, seq int) string {
	return fmt.Sprintf("%s:%d", ticketID, seq)
}

// Error codes, after benbjohnson/wtf: the HTTP edge maps them to statuses and
// shows the message of any coded error; anything else is "internal error".
const (
	ECONFLICT     = "conflict"
	EFORBIDDEN    = "forbidden"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
)

// Error is an error a caller can act on: its Message is safe to show to users.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or
// "internal error" so that details of unexpected failures never reach users.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
