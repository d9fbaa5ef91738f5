package ticketing

import "fmt"

// Role is what an actor may do. People hold one of admin, manager, engineer
// or customer; monitoring and system are the agent itself.
type Role string

// Roles.
const (
	RoleAdmin      Role = "admin"
	RoleManager    Role = "manager"
	RoleEngineer   Role = "engineer"
	RoleCustomer   Role = "customer"
	RoleMonitoring Role = "monitoring"
	RoleSystem     Role = "system"
)

// Person reports whether r is a role a token can carry.
func (r Role) Person() bool {
	switch r {
	case RoleAdmin, RoleManager, RoleEngineer, RoleCustomer:
		return true
	}
	return false
}

// staff is every person who works tickets rather than raises them.
func (r Role) staff() bool { return r == RoleAdmin || r == RoleManager || r == RoleEngineer }

// Actor is who asks for a change. Customer is set, and required, for the
// customer role: such an actor sees only that customer's tickets.
type Actor struct {
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	Customer string `json:"customer,omitempty"`
}

// Built-in actors for changes the agent makes itself.
var (
	Monitoring = Actor{Name: ActorMonitoring, Role: RoleMonitoring}
	System     = Actor{Name: ActorSystem, Role: RoleSystem}
)

func (a Actor) String() string {
	if a.Role == RoleCustomer {
		return fmt.Sprintf("%s (customer %s)", a.Name, a.Customer)
	}
	return fmt.Sprintf("%s (%s)", a.Name, a.Role)
}

func (a Actor) validate() error {
	switch {
	case a.Name == "":
		return Errorf(EUNAUTHORIZED, "actor has no name")
	case a.Role == RoleCustomer && a.Customer == "":
		return Errorf(EUNAUTHORIZED, "customer actor %s has no customer", a.Name)
	case !a.Role.Person() && a.Role != RoleMonitoring && a.Role != RoleSystem:
		return Errorf(EUNAUTHORIZED, "actor %s has unknown role %q", a.Name, a.Role)
	}
	return nil
}

// Visible reports whether a may see t: a customer sees the tickets that
// affect it, those of its own devices and those listing one of its devices
// as impacted (an outage upstream of it); everyone else sees all. Callers
// answer ENOTFOUND for an invisible ticket, so a customer cannot even learn
// that an id exists.
//
// A customer seeing a root ticket sees it whole, other customers' impacted
// devices included: nocagent serves one provider, whose customers share its
// core network and are told what it affects.
func Visible(a Actor, t Ticket) bool {
	return a.Role != RoleCustomer || (a.Customer != "" && affects(t, a.Customer))
}

// Action is one step a person (or monitoring) asks a ticket to take.
type Action string

// Actions, as in POST /api/v1/tickets/{id}/actions/{action}.
const (
	ActAck      Action = "ack"
	ActAssign   Action = "assign"
	ActNote     Action = "note"
	ActEscalate Action = "escalate"
	ActResolve  Action = "resolve"
	ActVerify   Action = "verify"
	ActConfirm  Action = "confirm"
	ActClose    Action = "close"
	ActCancel   Action = "cancel"
	ActReopen   Action = "reopen"
	// ActCause records the cause and solution on a ticket that is already
	// resolved (monitoring saw the fault clear before anyone wrote them).
	ActCause  Action = "cause"
	ActHold   Action = "hold"   // waiting for the customer: pauses SLA clocks where the contract allows
	ActResume Action = "resume" // no longer waiting
	ActMode   Action = "mode"   // how the ticket is worked: remote guidance, remote login or on site
	ActArrive Action = "arrive" // the engineer arrived on site
	ActReport Action = "report" // the on-site service report
)

// Actions lists every action in lifecycle order.
var Actions = []Action{ActAck, ActAssign, ActNote, ActEscalate, ActHold, ActResume, ActMode, ActArrive,
	ActReport, ActResolve, ActCause, ActVerify, ActConfirm, ActClose, ActCancel, ActReopen}

// rule says who may take an action and from which states.
type rule struct {
	roles []Role
	from  []State
}

var openStates = []State{StateNew, StateAcknowledged, StateInProgress}

// rules is the permission matrix. Admin may do everything a manager may.
// Only a manager closes or cancels; the customer confirms; monitoring (or a
// person, for a manual ticket with nothing to monitor) verifies.
var rules = map[Action]rule{
	ActAck:      {[]Role{RoleEngineer, RoleManager, RoleAdmin}, []State{StateNew}},
	ActAssign:   {[]Role{RoleEngineer, RoleManager, RoleAdmin}, openStates},
	ActNote:     {[]Role{RoleEngineer, RoleManager, RoleAdmin, RoleCustomer}, []State{StateNew, StateAcknowledged, StateInProgress, StateResolved, StateVerified, StateConfirmed}},
	ActEscalate: {[]Role{RoleEngineer, RoleManager, RoleAdmin}, openStates},
	ActHold:     {[]Role{RoleEngineer, RoleManager, RoleAdmin}, openStates},
	ActResume:   {[]Role{RoleEngineer, RoleManager, RoleAdmin, RoleCustomer}, openStates},
	ActMode:     {[]Role{RoleEngineer, RoleManager, RoleAdmin}, openStates},
	// Only the engineer on site can say they arrived and what they did; a
	// report may follow the resolution.
	ActArrive:  {[]Role{RoleEngineer}, openStates},
	ActReport:  {[]Role{RoleEngineer}, []State{StateNew, StateAcknowledged, StateInProgress, StateResolved}},
	ActResolve: {[]Role{RoleEngineer, RoleManager, RoleAdmin, RoleMonitoring}, openStates},
	ActCause:   {[]Role{RoleEngineer, RoleManager, RoleAdmin}, []State{StateResolved, StateVerified, StateConfirmed}},
	ActVerify:  {[]Role{RoleMonitoring, RoleEngineer, RoleManager, RoleAdmin}, []State{StateResolved}},
	ActConfirm: {[]Role{RoleCustomer, RoleManager, RoleAdmin}, []State{StateVerified}},
	ActClose:   {[]Role{RoleManager, RoleAdmin}, []State{StateVerified, StateConfirmed}},
	ActCancel:  {[]Role{RoleManager, RoleAdmin}, []State{StateNew, StateAcknowledged, StateInProgress, StateResolved, StateVerified, StateConfirmed}},
	ActReopen:  {[]Role{RoleCustomer, RoleEngineer, RoleManager, RoleAdmin, RoleMonitoring}, []State{StateResolved, StateVerified, StateConfirmed}},
}

// check returns EFORBIDDEN when a's role may not take act, and ECONFLICT
// when t's state does not allow it. The role is checked first, so a customer
// learns "not allowed", not the ticket's internal state.
func check(a Actor, act Action, t Ticket) error {
	r, ok := rules[act]
	if !ok {
		return Errorf(EINVALID, "unknown action %q", act)
	}
	if !roleIn(a.Role, r.roles) {
		return Errorf(EFORBIDDEN, "role %s may not %s a ticket (allowed: %v)", a.Role, act, r.roles)
	}
	for _, s := range r.from {
		if t.State == s {
			return nil
		}
	}
	return Errorf(ECONFLICT, "cannot %s ticket %s in state %s (allowed in %v)", act, t.ID, t.State, r.from)
}

func roleIn(r Role, rs []Role) bool {
	for _, x := range rs {
		if r == x {
			return true
		}
	}
	return false
}

// Allowed lists, in lifecycle order, the actions a may take on t now: what
// a console offers as buttons. Act checks again.
func Allowed(a Actor, t Ticket) []Action {
	var out []Action
	for _, act := range Actions {
		if check(a, act, t) == nil {
			out = append(out, act)
		}
	}
	return out
}
