package ticketing

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Rating is a survey answer.
type Rating string

// Ratings, best first.
const (
	VerySatisfied Rating = "very_satisfied"
	Satisfied     Rating = "satisfied"
	Neutral       Rating = "neutral"
	Unsatisfied   Rating = "unsatisfied"
)

// Ratings lists every rating, best first.
var Ratings = []Rating{VerySatisfied, Satisfied, Neutral, Unsatisfied}

// Valid reports whether r is a known rating.
func (r Rating) Valid() bool {
	for _, x := range Ratings {
		if r == x {
			return true
		}
	}
	return false
}

// SurveyInput is a customer's answer.
type SurveyInput struct {
	Rating  Rating `json:"rating"`
	Comment string `json:"comment,omitempty"`
}

// Survey is a stored answer. FollowUpID is the supervisor's task an
// unsatisfied answer opened.
type Survey struct {
	TicketID   string    `json:"ticket_id"`
	Customer   string    `json:"customer"`
	Rating     Rating    `json:"rating"`
	Comment    string    `json:"comment,omitempty"`
	Actor      string    `json:"actor"`
	At         time.Time `json:"at"`
	FollowUpID string    `json:"follow_up_id,omitempty"`
}

// FollowUpDue is how long a supervisor has to follow up an unsatisfied survey.
const FollowUpDue = 24 * time.Hour

// SubmitSurvey records the survey of closed ticket id, accepted once and
// only within SurveyValidFor of closing. "unsatisfied" opens a follow-up
// task (a manual ticket in category "follow_up", due in 24 h) assigned to
// the first manager, linked both ways.
//
// Errors: ENOTFOUND (unknown or not the customer's), EFORBIDDEN (engineers:
// the survey is the customer's voice; a manager may record one taken by
// phone), ECONFLICT (not closed, expired, already answered), EINVALID.
func (s *Service) SubmitSurvey(ctx context.Context, a Actor, id string, in SurveyInput) (Survey, error) {
	if err := a.validate(); err != nil {
		return Survey{}, err
	}
	if !roleIn(a.Role, []Role{RoleCustomer, RoleManager, RoleAdmin}) {
		return Survey{}, Errorf(EFORBIDDEN, "role %s may not answer a survey (allowed: customer, manager, admin)", a.Role)
	}
	if in.Rating == "" {
		return Survey{}, missing("rating", "want one of very_satisfied, satisfied, neutral, unsatisfied")
	}
	if !in.Rating.Valid() {
		return Survey{}, Errorf(EINVALID, "invalid field \"rating\": %q: want one of very_satisfied, satisfied, neutral, unsatisfied", in.Rating)
	}
	var sv Survey
	err := s.store.WithTx(ctx, func(tx Tx) error {
		now := s.now().UTC()
		t, err := tx.TicketByID(ctx, id)
		if err != nil {
			return err
		}
		if !Visible(a, t) {
			return Errorf(ENOTFOUND, "ticket %s not found", id)
		}
		if t.State != StateClosed || t.ClosedAt == nil {
			return Errorf(ECONFLICT, "ticket %s is %s: a survey is taken after closing", id, t.State)
		}
		if exp := t.ClosedAt.Add(s.process().cfg.SurveyValidFor); now.After(exp) {
			return Errorf(ECONFLICT, "the survey of ticket %s expired at %s", id, exp.Format(time.RFC3339))
		}
		who := eventActor(a)
		sv = Survey{TicketID: id, Customer: t.Device.Customer, Rating: in.Rating, Comment: strings.TrimSpace(in.Comment), Actor: who, At: now}
		c := &change{t: &t}
		c.event(now, who, KindSurvey, "", string(in.Rating), sv.Comment)
		if in.Rating == Unsatisfied {
			due := now.Add(FollowUpDue)
			var supervisor string
			if len(s.process().cfg.Managers) > 0 {
				supervisor = s.process().cfg.Managers[0]
			}
			comment := sv.Comment
			if comment == "" {
				comment = "(no comment)"
			}
			task, err := s.openManual(ctx, tx, now, ActorSystem, manualTicket{
				in: ManualInput{
					Customer: t.Device.Customer, Contact: who, Symptom: "customer unsatisfied: " + comment,
					Category: "follow_up", Priority: P3, Title: "Follow up unsatisfied survey on " + id,
				},
				dev: t.Device, channel: "survey", dueAt: &due, parentID: id, assignee: supervisor,
			})
			if err != nil {
				return err
			}
			sv.FollowUpID = task.ID
			c.event(now, ActorSystem, KindFollowUp, "", task.ID, "supervisor follow-up due "+due.Format(time.RFC3339))
		}
		if err := tx.AddSurvey(ctx, sv); err != nil {
			return err
		}
		_, err = s.write(ctx, tx, now, c)
		return err
	})
	if err != nil {
		return Survey{}, fmt.Errorf("survey of ticket %s by %s: %w", id, a, err)
	}
	return sv, nil
}
