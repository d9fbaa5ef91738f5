package ticketing

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// ActionInput carries the fields an action may need. Which are required
// depends on the action and the actor (see Act).
type ActionInput struct {
	Assignee string `json:"assignee,omitempty"` // assign
	Note     string `json:"note,omitempty"`     // note (required); optional remark on the others
	// Visibility of a note: "internal" (staff only, the default for
	// staff) or "public" (the customer sees it). A customer's note is
	// public.
	Visibility string `json:"visibility,omitempty"`
	Reason     string `json:"reason,omitempty"`   // escalate, hold, cancel, reopen; close from verified
	Cause      string `json:"cause,omitempty"`    // resolve by a person
	Solution   string `json:"solution,omitempty"` // resolve by a person
	Evidence   string `json:"evidence,omitempty"` // resolve by monitoring
	// mode: the service mode, and for on_site the appointment time.
	Mode          ServiceMode `json:"mode,omitempty"`
	AppointmentAt *time.Time  `json:"appointment_at,omitempty"`
	// arrive: when the engineer arrived, if earlier than now.
	ArrivedAt *time.Time `json:"arrived_at,omitempty"`
	// report: what was done on site (required), parts replaced, and the
	// name of the customer who signed the report (required).
	Work          string `json:"work,omitempty"`
	PartsReplaced string `json:"parts_replaced,omitempty"`
	SignedBy      string `json:"signed_by,omitempty"`
}

func missing(field, why string) error {
	return Errorf(EINVALID, "missing field %q: %s", field, why)
}

// eventActor is the name an actor's events carry; customers' names are
// prefixed so the timeline shows who spoke for which customer.
func eventActor(a Actor) string {
	if a.Role == RoleCustomer && !strings.HasPrefix(a.Name, "customer:") {
		return "customer:" + a.Customer + "/" + a.Name
	}
	return a.Name
}

// Act applies one action to ticket id on behalf of a and returns the
// ticket as stored. The ticket, its events, any article and the notices are
// written in one transaction.
//
// Errors: EUNAUTHORIZED for an incomplete actor; ENOTFOUND for an unknown
// ticket or one a customer may not see; EFORBIDDEN when a's role may not
// take the action (the message says who may); ECONFLICT when the ticket's
// state does not allow it; EINVALID naming a missing field.
//
// Who may do what (admin may do everything a manager may):
//   - ack (engineer, manager): new → acknowledged; an unassigned engineer
//     takes the ticket.
//   - assign (engineer to themselves, manager to anyone): any open state.
//   - note (staff, customer; note): a staff note on an acknowledged ticket
//     starts the work (→ in_progress) and counts as progress for reminders;
//     a customer note resumes a ticket waiting for the customer.
//   - escalate (staff; reason): up one tier, the tier is notified, L2 gets
//     an L2 engineer.
//   - hold (staff; reason) / resume (staff, customer): waiting for the
//     customer, which pauses the SLA clocks where the contract allows.
//   - mode (staff; mode, appointment_at for on_site): remote_guidance,
//     remote_login or on_site; a new appointment starts a new visit.
//   - arrive (engineer): on an on-site visit, records the arrival (now or
//     arrived_at); a new or acknowledged ticket is then in progress.
//   - report (engineer; work, signed_by, optional parts_replaced): the
//     visit's service report, after the arrival, also once resolved.
//   - resolve: a person needs cause and solution, monitoring needs evidence.
//   - verify (monitoring, staff): resolved → verified, refused while any
//     symptom still fires.
//   - confirm (customer, manager): verified → confirmed.
//   - close (manager): confirmed → closed, or verified → closed with a
//     reason (the customer never confirmed).
//   - cancel (manager; reason): from any state but closed or cancelled.
//   - reopen (customer, staff, monitoring; reason): resolved, verified or
//     confirmed → new.
func (s *Service) Act(ctx context.Context, a Actor, id string, act Action, in ActionInput) (Ticket, error) {
	if err := a.validate(); err != nil {
		return Ticket{}, err
	}
	if strings.TrimSpace(id) == "" {
		return Ticket{}, Errorf(EINVALID, "ticket id is empty")
	}
	if _, ok := rules[act]; !ok {
		return Ticket{}, Errorf(EINVALID, "unknown action %q: want one of %v", act, Actions)
	}
	var t Ticket
	err := s.store.WithTx(ctx, func(tx Tx) error {
		now := s.now().UTC()
		cur, err := tx.TicketByID(ctx, id)
		if err != nil {
			return err
		}
		if !Visible(a, cur) {
			return Errorf(ENOTFOUND, "ticket %s not found", id)
		}
		if err := check(a, act, cur); err != nil {
			return err
		}
		c := &change{t: &cur}
		if err := s.apply(ctx, tx, now, a, act, in, c); err != nil {
			return err
		}
		c.stampRole(eventActor(a), a.Role)
		t, err = s.write(ctx, tx, now, c)
		return err
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("%s ticket %s by %s: %w", act, id, a, err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "ticket action", slog.String("ticket", t.ID), slog.String("action", string(act)),
		slog.String("actor", a.Name), slog.String("role", string(a.Role)), slog.String("state", string(t.State)))
	return forActor(a, s.decorate(t, s.now().UTC())), nil
}

func (s *Service) apply(ctx context.Context, tx Tx, now time.Time, a Actor, act Action, in ActionInput, c *change) error {
	t := c.t
	who := eventActor(a)
	move := func(kind EventKind, to State, note string) {
		from := t.State
		t.State = to
		c.event(now, who, kind, string(from), string(to), note)
	}
	switch act {
	case ActAck:
		move(KindAcknowledged, StateAcknowledged, in.Note)
		if t.Assignee == "" && a.Role == RoleEngineer {
			c.event(now, who, KindAssigned, "", a.Name, "took the ticket on acknowledging")
			t.Assignee = a.Name
		}
	case ActAssign:
		name := strings.TrimSpace(in.Assignee)
		switch {
		case name == "":
			return missing("assignee", "assign needs the engineer's name")
		case a.Role == RoleEngineer && name != a.Name:
			return Errorf(EFORBIDDEN, "an engineer may only assign a ticket to themselves; ask a manager to assign it to %s", name)
		case !s.isAssignable(name):
			return Errorf(EINVALID, "invalid field \"assignee\": %q is not a configured engineer or manager", name)
		case name == t.Assignee:
			return Errorf(ECONFLICT, "ticket %s is already assigned to %s", t.ID, name)
		}
		c.event(now, who, KindAssigned, t.Assignee, name, in.Note)
		c.notify("engineer:" + name)
		t.Assignee = name
	case ActNote:
		note := strings.TrimSpace(in.Note)
		if note == "" {
			return missing("note", "a note needs text")
		}
		internal := a.Role.staff()
		switch in.Visibility {
		case "":
		case "public":
			internal = false
		case "internal":
			if !a.Role.staff() {
				return Errorf(EFORBIDDEN, "a customer's note is public")
			}
		default:
			return Errorf(EINVALID, "invalid field \"visibility\": %.20q: want internal or public", in.Visibility)
		}
		c.event(now, who, KindNote, "", "", note).Internal = internal
		c.t.Timeline[len(c.t.Timeline)-1].Internal = internal
		if a.Role.staff() && t.State == StateAcknowledged {
			move(KindStateChanged, StateInProgress, "work started")
		}
		if a.Role == RoleCustomer && t.WaitingCustomer && t.State.Open() {
			t.WaitingCustomer = false
			c.event(now, who, KindResumed, "waiting_customer", "", "the customer replied")
		}
	case ActEscalate:
		reason := strings.TrimSpace(in.Reason)
		if reason == "" {
			return missing("reason", "escalating needs a reason")
		}
		return s.escalate(ctx, tx, now, c, who, reason)
	case ActHold:
		reason := strings.TrimSpace(in.Reason)
		if reason == "" {
			return missing("reason", "say what the customer is to provide")
		}
		if t.WaitingCustomer {
			return Errorf(ECONFLICT, "ticket %s is already waiting for the customer", t.ID)
		}
		t.WaitingCustomer = true
		c.event(now, who, KindPaused, "", "waiting_customer", reason)
	case ActResume:
		if !t.WaitingCustomer {
			return Errorf(ECONFLICT, "ticket %s is not waiting for the customer", t.ID)
		}
		t.WaitingCustomer = false
		c.event(now, who, KindResumed, "waiting_customer", "", in.Note)
	case ActMode:
		return s.setMode(now, who, in, c)
	case ActArrive:
		return s.arrive(now, who, in, c)
	case ActReport:
		return s.report(now, who, in, c)
	case ActResolve:
		return s.resolve(now, a, in, c)
	case ActCause:
		cause, sol, err := causeAndSolution(in)
		if err != nil {
			return err
		}
		t.Cause, t.Solution = cause, sol
		c.article = articleFrom(*t, now)
		c.event(now, who, KindCauseRecorded, "", "", "cause: "+cause+"; solution: "+sol)
	case ActVerify:
		if i := firingEvidence(*t, ""); i >= 0 {
			e := t.Evidence[i]
			return Errorf(ECONFLICT, "cannot verify ticket %s: %s (%s) is still firing", t.ID, e.Summary, e.Fingerprint)
		}
		note := in.Note
		if note == "" && len(t.Evidence) > 0 {
			note = fmt.Sprintf("all %d symptoms clear", len(t.Evidence))
		}
		move(KindVerified, StateVerified, note)
	case ActConfirm:
		move(KindConfirmed, StateConfirmed, in.Note)
	case ActClose:
		note := strings.TrimSpace(in.Reason)
		if note == "" {
			note = in.Note
		}
		if t.State == StateVerified && strings.TrimSpace(in.Reason) == "" {
			return missing("reason", "closing without the customer's confirmation needs a reason")
		}
		move(KindClosed, StateClosed, note)
		t.ClosedAt = &now
	case ActCancel:
		reason := strings.TrimSpace(in.Reason)
		if reason == "" {
			return missing("reason", "cancelling needs a reason")
		}
		t.WaitingCustomer = false
		move(KindCancelled, StateCancelled, reason)
	case ActReopen:
		reason := strings.TrimSpace(in.Reason)
		if reason == "" {
			return missing("reason", "reopening needs a reason")
		}
		return s.reopen(ctx, tx, now, who, reason, c)
	}
	return nil
}

func (s *Service) resolve(now time.Time, a Actor, in ActionInput, c *change) error {
	t := c.t
	var note string
	if a.Role == RoleMonitoring {
		ev := strings.TrimSpace(in.Evidence)
		if ev == "" {
			return missing("evidence", "monitoring resolves with the evidence that the fault cleared")
		}
		note = ev
	} else {
		cause, sol, err := causeAndSolution(in)
		if err != nil {
			return err
		}
		t.Cause, t.Solution = cause, sol
		note = "cause: " + cause + "; solution: " + sol
		c.article = articleFrom(*t, now)
	}
	from := t.State
	t.State = StateResolved
	t.ResolvedAt = &now
	t.ResolvedBy = a.Name
	t.WaitingCustomer = false
	c.event(now, eventActor(a), KindResolved, string(from), string(StateResolved), note)
	return nil
}

// causeAndSolution are the two things a person's resolution must say.
func causeAndSolution(in ActionInput) (cause, solution string, err error) {
	cause, solution = strings.TrimSpace(in.Cause), strings.TrimSpace(in.Solution)
	switch {
	case cause == "":
		return "", "", missing("cause", "an engineer's resolution needs the cause and the solution")
	case solution == "":
		return "", "", missing("solution", "an engineer's resolution needs the cause and the solution")
	}
	return cause, solution, nil
}

// reopen sends c's ticket back to new, unless another ticket for the same
// device and category is already open (the one-open-ticket rule).
func (s *Service) reopen(ctx context.Context, tx Tx, now time.Time, who, reason string, c *change) error {
	t := c.t
	if other, ok, err := tx.OpenTicketByKey(ctx, t.DedupKey); err != nil {
		return err
	} else if ok && other.ID != t.ID {
		return Errorf(ECONFLICT, "cannot reopen ticket %s: ticket %s is open for the same device and category", t.ID, other.ID)
	}
	from := t.State
	t.State = StateNew
	t.ResolvedAt, t.ResolvedBy = nil, ""
	t.Cause, t.Solution = "", ""
	t.WaitingCustomer = false
	t.ReopenCount++
	c.event(now, who, KindReopened, string(from), string(StateNew), reason)
	return nil
}

// escalate raises c's ticket one tier, notifies that tier and, at L2, hands
// it to an L2 engineer with the skill.
func (s *Service) escalate(ctx context.Context, tx Tx, now time.Time, c *change, who, reason string) error {
	t := c.t
	if t.Tier == 0 {
		t.Tier = 1
	}
	if t.Tier >= 3 {
		return Errorf(ECONFLICT, "ticket %s is already at the top tier %s", t.ID, TierName(3))
	}
	from := t.Tier
	t.Tier++
	c.event(now, who, KindEscalated, TierName(from), TierName(t.Tier), reason)
	recipients := []string{"tier:" + TierName(t.Tier)}
	if t.Tier == 3 {
		recipients = s.managerRecipients()
	} else {
		for _, e := range s.process().cfg.Engineers {
			if e.Tier == t.Tier && e.skilled(t.Category) {
				recipients = append(recipients, "engineer:"+e.Name)
			}
		}
	}
	c.notify(recipients...)
	if t.Tier == 2 {
		return s.autoAssignTier(ctx, tx, now, c, 2, t.Assignee)
	}
	return nil
}

// autoAssignTier assigns only an engineer of exactly that tier.
func (s *Service) autoAssignTier(ctx context.Context, tx Tx, now time.Time, c *change, tier int, exclude string) error {
	var same []Engineer
	for _, e := range s.process().cfg.Engineers {
		if e.Tier == tier {
			same = append(same, e)
		}
	}
	if len(same) == 0 {
		return nil
	}
	loads, err := tx.OpenLoads(ctx)
	if err != nil {
		return err
	}
	t := c.t
	e, why, ok := Pick(same, t.Category, t.Device.Customer, tier, exclude, loads, now)
	if !ok || e.Name == t.Assignee {
		return nil
	}
	c.event(now, ActorSystem, KindAssigned, t.Assignee, e.Name, TierName(tier)+": "+why)
	c.notify("engineer:" + e.Name)
	t.Assignee = e.Name
	return nil
}

// KindITSM marks a change made by people in an external ITSM, pulled back
// by a ticket sink.
const KindITSM EventKind = "itsm"

// KindRemediation marks a remediation step (planned, approved, executed,
// verified, failed) on a ticket's timeline.
const KindRemediation EventKind = "remediation"

// Record appends an event that no person's action made — a remediation
// step by the plugin host, say — to a ticket's timeline, with who did it
// and what. It changes no state and sends no notice.
func (s *Service) Record(ctx context.Context, id, actor string, kind EventKind, note string) error {
	if strings.TrimSpace(actor) == "" || kind == "" || strings.TrimSpace(note) == "" {
		return Errorf(EINVALID, "record on ticket %s: actor, kind and note are required", id)
	}
	err := s.store.WithTx(ctx, func(tx Tx) error {
		cur, err := tx.TicketByID(ctx, id)
		if err != nil {
			return err
		}
		c := &change{t: &cur}
		c.event(s.now().UTC(), actor, kind, "", "", note)
		_, err = s.write(ctx, tx, s.now().UTC(), c)
		return err
	})
	if err != nil {
		return fmt.Errorf("record %s on ticket %s: %w", kind, id, err)
	}
	return nil
}
