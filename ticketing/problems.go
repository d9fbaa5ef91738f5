package ticketing

import (
	"context"
	"fmt"
	"time"
)

// Problem states.
const (
	ProblemOpen   = "open"
	ProblemClosed = "closed"
)

// Problem is a record for root-cause review: one fingerprint that kept
// opening tickets (ProblemThreshold within ProblemWindow).
type Problem struct {
	ID          string    `json:"id"` // PRB-000001
	Fingerprint string    `json:"fingerprint"`
	Title       string    `json:"title"`
	State       string    `json:"state"`
	OpenedAt    time.Time `json:"opened_at"`
	TicketIDs   []string  `json:"ticket_ids"`
}

// linkProblem runs after t, a new monitoring ticket, is stored: it links t
// to the open problem of its fingerprint, or opens one when the fingerprint
// has now opened ProblemThreshold tickets within ProblemWindow, linking all
// of them. It returns t as stored afterwards.
func (s *Service) linkProblem(ctx context.Context, tx Tx, now time.Time, t Ticket) (Ticket, error) {
	if t.Fingerprint == "" {
		return t, nil
	}
	p, ok, err := tx.OpenProblemByFingerprint(ctx, t.Fingerprint)
	if err != nil {
		return Ticket{}, err
	}
	ids := []string{t.ID}
	if !ok {
		if ids, err = tx.TicketIDsByFingerprint(ctx, t.Fingerprint, now.Add(-s.process().cfg.ProblemWindow)); err != nil {
			return Ticket{}, err
		}
		if len(ids) < s.process().cfg.ProblemThreshold {
			return t, nil
		}
		seq, err := tx.NextProblemSeq(ctx)
		if err != nil {
			return Ticket{}, err
		}
		p = Problem{
			ID: fmt.Sprintf("PRB-%06d", seq), Fingerprint: t.Fingerprint, State: ProblemOpen, OpenedAt: now,
			Title: fmt.Sprintf("%s: %d tickets in %s", t.Title, len(ids), s.process().cfg.ProblemWindow),
		}
		if err := tx.CreateProblem(ctx, seq, p); err != nil {
			return Ticket{}, err
		}
		s.log.InfoContext(ctx, "problem record opened", "problem", p.ID, "fingerprint", t.Fingerprint, "tickets", ids)
	}
	for _, id := range ids {
		x := t
		if id != t.ID {
			if x, err = tx.TicketByID(ctx, id); err != nil {
				return Ticket{}, err
			}
		}
		if x.ProblemID == p.ID {
			continue
		}
		x.ProblemID = p.ID
		c := &change{t: &x}
		c.event(now, ActorSystem, KindProblemLinked, "", p.ID, p.Title)
		if x, err = s.write(ctx, tx, now, c); err != nil {
			return Ticket{}, err
		}
		if id == t.ID {
			t = x
		}
	}
	return t, nil
}

// Problems lists problem records ("" state for all) for staff; customers
// get EFORBIDDEN: a problem spans customers.
func (s *Service) Problems(ctx context.Context, a Actor, state string) ([]Problem, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	if !a.Role.staff() {
		return nil, Errorf(EFORBIDDEN, "role %s may not list problem records", a.Role)
	}
	if state != "" && state != ProblemOpen && state != ProblemClosed {
		return nil, Errorf(EINVALID, "invalid value %q for state: want open or closed", state)
	}
	ps, err := s.store.Problems(ctx, state)
	if err != nil {
		return nil, fmt.Errorf("list problems: %w", err)
	}
	if ps == nil {
		ps = []Problem{}
	}
	return ps, nil
}
