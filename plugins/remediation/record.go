package remediation

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nocagent/nocagent/plugins"
)

// State of a remediation.
type State string

// planned → approved → executed → verified | failed. A dry run stays
// planned; a denied or rejected one goes to failed from planned; anything
// can fail.
const (
	StatePlanned  State = "planned"
	StateApproved State = "approved"
	StateExecuted State = "executed"
	StateVerified State = "verified"
	StateFailed   State = "failed"
)

// Event types, one per step, for the ticket timeline.
const (
	EventPlanned  = "remediation_planned"
	EventApproved = "remediation_approved"
	EventExecuted = "remediation_executed"
	EventVerified = "remediation_verified"
	EventFailed   = "remediation_failed"
)

// ErrTransition: the step is not allowed in the remediation's state, or
// not by that actor. Test with errors.Is.
var ErrTransition = errors.New("remediation transition not allowed")

// Actor is who did a step: a person with a role, or "policy" for what the
// agent did on its own.
type Actor struct {
	Name string `json:"name"`
	Role Role   `json:"role,omitempty"`
}

// PolicyActor does what the policy allows without a person.
var PolicyActor = Actor{Name: "policy"}

// Event is one step, to append to the ticket's timeline.
type Event struct {
	Type          string    `json:"type"`
	RemediationID string    `json:"remediation_id"`
	TicketID      string    `json:"ticket_id"`
	At            time.Time `json:"at"`
	Actor         Actor     `json:"actor"`
	Message       string    `json:"message"`
	Evidence      []string  `json:"evidence,omitempty"`
}

// Remediation is the record of one remediation on one ticket. Its Plan
// never holds secrets (the JSON tag drops them; New clears them too).
type Remediation struct {
	ID         string                `json:"id"`
	TicketID   string                `json:"ticket_id"`
	Plugin     string                `json:"plugin"`
	Action     string                `json:"action"`
	Device     string                `json:"device"`
	Plan       plugins.Plan          `json:"plan"`
	Decision   Decision              `json:"decision"`
	State      State                 `json:"state"`
	Reason     string                `json:"reason,omitempty"` // why it failed
	Result     *plugins.Result       `json:"result,omitempty"`
	Verify     *plugins.Verification `json:"verification,omitempty"`
	PlannedAt  time.Time             `json:"planned_at"`
	ApprovedAt time.Time             `json:"approved_at,omitzero"`
	ApprovedBy Actor                 `json:"approved_by,omitzero"`
	// RequestedBy is who asked for the plan; they may not approve it.
	RequestedBy Actor `json:"requested_by,omitzero"`
	// Refused: the plugin would not act when it came to it (the port had
	// come back, someone shut it): nothing ran, nothing to escalate.
	Refused    bool      `json:"refused,omitempty"`
	ExecutedAt time.Time `json:"executed_at,omitzero"`
	DoneAt     time.Time `json:"done_at,omitzero"` // verified or failed
}

// New records a plan. A denied decision fails the remediation at once.
func New(id, plugin string, plan plugins.Plan, d Decision, now time.Time) (Remediation, []Event) {
	plan.Secrets = nil
	r := Remediation{ID: id, TicketID: plan.Ticket.ID, Plugin: plugin, Action: plan.Action, Device: plan.Device.Name,
		Plan: plan, Decision: d, State: StatePlanned, PlannedAt: now}
	msg := fmt.Sprintf("planned %s on %s by %s (risk %s): %s", plan.Action, plan.Device.Name, plugin, plan.Risk, d.Reason)
	switch {
	case d.DryRun:
		msg += "; dry run, nothing will be executed"
	case d.Mode == ModeApproval:
		msg += fmt.Sprintf("; waiting for approval by %v", d.Approvers)
	}
	evs := []Event{r.event(EventPlanned, PolicyActor, now, msg, plan.Steps)}
	if !d.DryRun && d.Mode == ModeDeny {
		evs = append(evs, r.fail(PolicyActor, now, "denied by policy: "+d.Reason))
	}
	return r, evs
}

func (r *Remediation) event(typ string, a Actor, now time.Time, msg string, ev []string) Event {
	return Event{Type: typ, RemediationID: r.ID, TicketID: r.TicketID, At: now, Actor: a, Message: msg, Evidence: slices.Clone(ev)}
}

func (r *Remediation) fail(a Actor, now time.Time, reason string) Event {
	r.State, r.Reason, r.DoneAt = StateFailed, reason, now
	return r.event(EventFailed, a, now, fmt.Sprintf("%s on %s failed: %s", r.Action, r.Device, reason), nil)
}

func (r *Remediation) want(s State, step string) error {
	if r.State != s {
		return fmt.Errorf("%w: remediation %s: cannot %s in state %s", ErrTransition, r.ID, step, r.State)
	}
	return nil
}

// Approve records a person's approval. Dry runs cannot be approved, and
// only the decision's approver roles may approve.
func (r *Remediation) Approve(a Actor, now time.Time) (Event, error) {
	if err := r.want(StatePlanned, "approve"); err != nil {
		return Event{}, err
	}
	switch {
	case r.Decision.DryRun:
		return Event{}, fmt.Errorf("%w: remediation %s is a dry run", ErrTransition, r.ID)
	case r.Decision.Mode != ModeApproval && r.Decision.Mode != ModeAuto:
		return Event{}, fmt.Errorf("%w: remediation %s: policy says %s", ErrTransition, r.ID, r.Decision.Mode)
	case a.Name == "" || !r.Decision.MayApprove(a.Role) && !(r.Decision.Mode == ModeAuto && (a.Role == RoleEngineer || a.Role == RoleManager)):
		return Event{}, fmt.Errorf("%w: remediation %s: %s (%s) may not approve; approvers: %v", ErrTransition, r.ID, a.Name, a.Role, r.Decision.Approvers)
	case a.Name == r.RequestedBy.Name:
		return Event{}, fmt.Errorf("%w: remediation %s: %s requested it and may not approve it too: another person must", ErrTransition, r.ID, a.Name)
	}
	r.State, r.ApprovedAt, r.ApprovedBy = StateApproved, now, a
	return r.event(EventApproved, a, now, fmt.Sprintf("%s on %s approved by %s (%s)", r.Action, r.Device, a.Name, a.Role), nil), nil
}

// AutoApprove approves a remediation the policy runs automatically.
func (r *Remediation) AutoApprove(now time.Time) (Event, error) {
	if r.Decision.Mode != ModeAuto {
		return Event{}, fmt.Errorf("%w: remediation %s needs approval (%s)", ErrTransition, r.ID, r.Decision.Mode)
	}
	if err := r.want(StatePlanned, "approve"); err != nil {
		return Event{}, err
	}
	if r.Decision.DryRun {
		return Event{}, fmt.Errorf("%w: remediation %s is a dry run", ErrTransition, r.ID)
	}
	r.State, r.ApprovedAt, r.ApprovedBy = StateApproved, now, PolicyActor
	return r.event(EventApproved, PolicyActor, now, fmt.Sprintf("%s on %s approved automatically: %s", r.Action, r.Device, r.Decision.Reason), nil), nil
}

// Executed records Execute's result; a result that is not OK fails it.
func (r *Remediation) Executed(res plugins.Result, now time.Time) ([]Event, error) {
	if err := r.want(StateApproved, "record execution"); err != nil {
		return nil, err
	}
	r.Result, r.ExecutedAt = &res, now
	r.State = StateExecuted
	msg := fmt.Sprintf("executed %s on %s: %s", r.Action, r.Device, res.Output)
	evs := []Event{r.event(EventExecuted, PolicyActor, now, msg, res.Evidence)}
	if !res.OK {
		evs = append(evs, r.fail(PolicyActor, now, "execution did not succeed: "+res.Output))
	}
	return evs, nil
}

// Verified records Verify's answer: verified, or failed.
func (r *Remediation) Verified(v plugins.Verification, now time.Time) (Event, error) {
	if err := r.want(StateExecuted, "record verification"); err != nil {
		return Event{}, err
	}
	r.Verify = &v
	if !v.OK {
		ev := r.fail(PolicyActor, now, "the effect could not be verified")
		ev.Evidence = slices.Clone(v.Evidence)
		return ev, nil
	}
	r.State, r.DoneAt = StateVerified, now
	return r.event(EventVerified, PolicyActor, now, fmt.Sprintf("%s on %s verified", r.Action, r.Device), v.Evidence), nil
}

// Fail ends a remediation that is not finished (a plugin error, a refusal
// at execution, an approver's rejection).
func (r *Remediation) Fail(a Actor, reason string, now time.Time) (Event, error) {
	if r.State == StateVerified || r.State == StateFailed {
		return Event{}, fmt.Errorf("%w: remediation %s is already %s", ErrTransition, r.ID, r.State)
	}
	return r.fail(a, now, reason), nil
}

// Refuse ends an approved remediation that the plugin would not run when
// it came to it: a timeline entry, not a failure to escalate.
func (r *Remediation) Refuse(reason string, now time.Time) (Event, error) {
	if err := r.want(StateApproved, "refuse"); err != nil {
		return Event{}, err
	}
	r.Refused = true
	ev := r.fail(PolicyActor, now, "not run: "+reason)
	ev.Message = fmt.Sprintf("%s on %s not run: %s", r.Action, r.Device, reason)
	return ev, nil
}

// Escalate reports whether the ticket must be escalated: a remediation
// that was executed (or approved) and then failed or could not be
// verified. A denial, or a refusal before anything ran, does not escalate.
func (r *Remediation) Escalate() bool {
	return r.State == StateFailed && !r.ApprovedAt.IsZero() && !r.Refused
}
