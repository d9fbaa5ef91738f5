package ticketing

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// TierName is the label of an escalation tier: L1, L2, L3.
func TierName(tier int) string { return fmt.Sprintf("L%d", tier) }

// Pick chooses the engineer for a ticket of category for customer at tier
// (1 or 2) at now, given each engineer's open load; exclude is skipped (the
// assignee who let it lapse). The order is the customer's named engineer
// with the skill, then an on-call engineer with the skill, then the least
// loaded engineer with the skill; ties go to the lower load, then the name.
// Engineers at MaxLoad are skipped. When nobody at tier qualifies, any tier
// is tried, since an unassigned ticket is worse than an over-qualified
// engineer. It returns the reason for the timeline.
func Pick(engineers []Engineer, category, customer string, tier int, exclude string, loads map[string]int, now time.Time) (Engineer, string, bool) {
	for _, sameTier := range []bool{true, false} {
		var cands []Engineer
		for _, e := range engineers {
			if e.Name == exclude || !e.skilled(category) || (sameTier && e.Tier != tier) {
				continue
			}
			if e.MaxLoad > 0 && loads[e.Name] >= e.MaxLoad {
				continue
			}
			cands = append(cands, e)
		}
		if len(cands) == 0 {
			continue
		}
		sort.SliceStable(cands, func(i, j int) bool {
			if li, lj := loads[cands[i].Name], loads[cands[j].Name]; li != lj {
				return li < lj
			}
			return cands[i].Name < cands[j].Name
		})
		for _, e := range cands {
			if e.namedFor(customer) {
				return e, fmt.Sprintf("named engineer for %s, skill %s", customer, category), true
			}
		}
		for _, e := range cands {
			if e.onCall(now) {
				return e, fmt.Sprintf("on call, skill %s", category), true
			}
		}
		e := cands[0]
		return e, fmt.Sprintf("least loaded with skill %s (%d open)", category, loads[e.Name]), true
	}
	return Engineer{}, "", false
}

// autoAssign assigns c's ticket to the engineer Pick chooses, recording the
// reason; with no engineer configured or qualified the ticket keeps its
// assignee.
func (s *Service) autoAssign(ctx context.Context, tx Tx, now time.Time, c *change, tier int, exclude string) error {
	if len(s.process().cfg.Engineers) == 0 {
		return nil
	}
	loads, err := tx.OpenLoads(ctx)
	if err != nil {
		return err
	}
	t := c.t
	e, why, ok := Pick(s.process().cfg.Engineers, t.Category, t.Device.Customer, tier, exclude, loads, now)
	if !ok || e.Name == t.Assignee {
		return nil
	}
	c.event(now, ActorSystem, KindAssigned, t.Assignee, e.Name, why)
	c.notify("engineer:" + e.Name)
	t.Assignee = e.Name
	return nil
}

// isEngineer reports whether name may be assigned tickets: a configured
// engineer or manager. With no roster configured anyone may be.
func (s *Service) isAssignable(name string) bool {
	if len(s.process().cfg.Engineers) == 0 && len(s.process().cfg.Managers) == 0 {
		return true
	}
	for _, e := range s.process().cfg.Engineers {
		if e.Name == name {
			return true
		}
	}
	for _, m := range s.process().cfg.Managers {
		if m == name {
			return true
		}
	}
	return false
}

func (s *Service) managerRecipients() []string {
	var rs []string
	for _, m := range s.process().cfg.Managers {
		rs = append(rs, "manager:"+m)
	}
	if len(rs) == 0 {
		rs = []string{"tier:" + TierName(3)}
	}
	return rs
}
