package ticketing

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TickReport counts what one Tick did.
type TickReport struct {
	Escalated int `json:"escalated"`
	Reminded  int `json:"reminded"`
	Verified  int `json:"verified"`
	Reopened  int `json:"reopened"`
}

type tickOp int

const (
	opEscalate tickOp = iota + 1
	opRemindAssignee
	opRemindManagers
	opVerify
	opReopen
)

// Reminder audiences, the To of a reminder event.
const (
	remindAssignee = "assignee"
	remindManagers = "managers"
)

// maxTickTickets bounds one sweep.
const maxTickTickets = 100000

// Tick is the periodic sweep (the agent runs it every ~10 s with its clock's
// now). Every decision is derived from the timeline, so a sweep repeated,
// or run after a restart, does nothing twice:
//
//   - a new ticket whose response clock passed its target (once per target
//     elapsed since the current opening) goes up one tier, the tier is
//     notified, and at L2 it is reassigned to an L2 engineer other than
//     the assignee who let it lapse;
//   - an acknowledged or in-progress P1/P2 not waiting for the customer,
//     without progress (a staff note or a state change) for ReminderAfter,
//     reminds its assignee, and after ManagerReminderAfter the managers;
//   - a resolved ticket with monitoring evidence is, VerifyAfter after its
//     resolution, verified if every symptom is clear, or reopened if one
//     still fires.
//
// Each ticket is changed in its own transaction; a failure on one is
// returned (joined) after the others were processed.
func (s *Service) Tick(ctx context.Context, now time.Time) (TickReport, error) {
	now = now.UTC()
	var rep TickReport
	ts, err := s.store.ListTickets(ctx, Filter{Active: true, WithTimeline: true, Limit: maxTickTickets})
	if err != nil {
		return rep, fmt.Errorf("tick: list active tickets: %w", err)
	}
	var errs []error
	for _, t := range ts {
		if len(s.plan(t, now)) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		err := s.store.WithTx(ctx, func(tx Tx) error {
			cur, err := tx.TicketByID(ctx, t.ID)
			if err != nil {
				return err
			}
			ops := s.plan(cur, now) // again: another writer may have acted since
			if len(ops) == 0 {
				return nil
			}
			c := &change{t: &cur}
			for _, op := range ops {
				if err := s.tickApply(ctx, tx, now, c, op, &rep); err != nil {
					return err
				}
			}
			_, err = s.write(ctx, tx, now, c)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("tick ticket %s: %w", t.ID, err))
		}
	}
	if rep != (TickReport{}) {
		s.log.InfoContext(ctx, "ticket sweep", "escalated", rep.Escalated, "reminded", rep.Reminded,
			"verified", rep.Verified, "reopened", rep.Reopened)
	}
	return rep, errors.Join(errs...)
}

// plan returns what Tick must do to t at now; nothing when t is up to date.
func (s *Service) plan(t Ticket, now time.Time) []tickOp {
	cfg := s.process().cfg
	var ops []tickOp
	switch {
	case t.State == StateNew:
		st := s.process().slaStatus(t, now)
		r := replay(t, false, now)
		auto := 0
		for _, ev := range t.Timeline {
			if ev.Kind == KindEscalated && ev.Actor == ActorSystem && !ev.At.Before(r.cycleStart) {
				auto++
			}
		}
		target := st.Response.TargetSeconds
		if target > 0 && t.Tier < 3 && st.Response.ElapsedSeconds >= target*int64(auto+1) {
			ops = append(ops, opEscalate)
		}
	case (t.State == StateAcknowledged || t.State == StateInProgress) && (t.Priority == P1 || t.Priority == P2) && !t.WaitingCustomer:
		r := replay(t, false, now)
		silent := now.Sub(r.lastProgress)
		sent := map[string]bool{}
		for _, ev := range t.Timeline {
			if ev.Kind == KindReminder && !ev.At.Before(r.lastProgress) {
				sent[ev.To] = true
			}
		}
		if silent >= cfg.Escalation.ReminderAfter && !sent[remindAssignee] {
			ops = append(ops, opRemindAssignee)
		}
		if silent >= cfg.Escalation.ManagerReminderAfter && !sent[remindManagers] {
			ops = append(ops, opRemindManagers)
		}
	case t.State == StateResolved && len(t.Evidence) > 0 && t.ResolvedAt != nil && now.Sub(settledSince(t)) >= cfg.VerifyAfter:
		if firingEvidence(t, "") >= 0 {
			ops = append(ops, opReopen)
		} else {
			ops = append(ops, opVerify)
		}
	}
	return ops
}

func (s *Service) tickApply(ctx context.Context, tx Tx, now time.Time, c *change, op tickOp, rep *TickReport) error {
	t := c.t
	switch op {
	case opEscalate:
		resp := s.process().slaStatus(*t, now).Response
		reason := fmt.Sprintf("not acknowledged within the %s response target", resp.Target)
		if err := s.escalate(ctx, tx, now, c, ActorSystem, reason); err != nil {
			return err
		}
		rep.Escalated++
	case opRemindAssignee:
		to := []string{"tier:" + TierName(max(t.Tier, 1))}
		if t.Assignee != "" {
			to = []string{"engineer:" + t.Assignee}
		}
		c.event(now, ActorSystem, KindReminder, "", remindAssignee,
			fmt.Sprintf("%s %s: no progress note for %s", t.Priority, t.ID, s.process().cfg.Escalation.ReminderAfter))
		c.notify(to...)
		rep.Reminded++
	case opRemindManagers:
		c.event(now, ActorSystem, KindReminder, "", remindManagers,
			fmt.Sprintf("%s %s: no progress note for %s (assignee %q)", t.Priority, t.ID, s.process().cfg.Escalation.ManagerReminderAfter, t.Assignee))
		c.notify(s.managerRecipients()...)
		rep.Reminded++
	case opVerify:
		from := t.State
		t.State = StateVerified
		c.event(now, ActorMonitoring, KindVerified, string(from), string(StateVerified),
			fmt.Sprintf("monitoring: all %d symptoms clear for %s", len(t.Evidence), s.process().cfg.VerifyAfter))
		rep.Verified++
	case opReopen:
		e := t.Evidence[firingEvidence(*t, "")]
		if err := s.reopen(ctx, tx, now, ActorMonitoring, "verification failed: still firing: "+e.Summary, c); err != nil {
			if ErrorCode(err) == ECONFLICT {
				return nil // another open ticket carries the fault; nothing to reopen
			}
			return err
		}
		rep.Reopened++
	}
	return nil
}

// settledSince is when t's situation last changed: its resolution or the
// last symptom clearing after it, so "clear for VerifyAfter" means it.
func settledSince(t Ticket) time.Time {
	at := *t.ResolvedAt
	for _, e := range t.Evidence {
		if e.ClearedAt != nil && e.ClearedAt.After(at) {
			at = *e.ClearedAt
		}
	}
	return at
}
