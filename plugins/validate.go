package plugins

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode"
)

// ErrMalformed marks a plugin reply that breaks the contract. The host
// treats it like a crash: the call fails and the plugin is restarted.
var ErrMalformed = errors.New("malformed reply")

// Limits on what a plugin may send back; a reply beyond them is garbage.
const (
	maxNameLen     = 64
	maxFindings    = 1000
	maxSteps       = 100
	maxTextLen     = 64 << 10
	maxEvidenceLen = 1000
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

var kinds = []string{KindRemediator, KindInspector, KindTicketSink}

// CheckInfo checks what a plugin says about itself, and that it speaks
// this host's APIVersion.
func CheckInfo(info Info) error {
	if len(info.Name) > maxNameLen || !nameRE.MatchString(info.Name) {
		return fmt.Errorf("%w: Info: name %q must be 1-%d characters of a-z, 0-9, '.', '_', '-'", ErrMalformed, info.Name, maxNameLen)
	}
	if !slices.Contains(kinds, info.Kind) {
		return fmt.Errorf("%w: Info: plugin %s: kind %q is not one of %v", ErrMalformed, info.Name, info.Kind, kinds)
	}
	if info.Version == "" {
		return fmt.Errorf("%w: Info: plugin %s: version is empty", ErrMalformed, info.Name)
	}
	if !slices.Contains(info.APIVersions, APIVersion) {
		return fmt.Errorf("%w: plugin %s speaks API versions %v, this host speaks %d", ErrIncompatible, info.Name, info.APIVersions, APIVersion)
	}
	return nil
}

// ErrIncompatible marks a plugin that does not speak this host's API version.
var ErrIncompatible = errors.New("incompatible plugin")

// CheckActions checks a remediator's action list.
func CheckActions(acts []ActionSpec) error {
	seen := map[string]bool{}
	for i, a := range acts {
		if len(a.Name) > maxNameLen || !nameRE.MatchString(a.Name) {
			return fmt.Errorf("%w: Actions: action %d: bad name %q", ErrMalformed, i, a.Name)
		}
		if seen[a.Name] {
			return fmt.Errorf("%w: Actions: action %q listed twice", ErrMalformed, a.Name)
		}
		seen[a.Name] = true
		for j, p := range a.Params {
			if p.Name == "" {
				return fmt.Errorf("%w: Actions: action %q: param %d has no name", ErrMalformed, a.Name, j)
			}
		}
	}
	return nil
}

// CheckPlan checks that a plan answers req: same action, same device (a
// remediation must never run against a device outside the ticket's
// scope), same ticket, at least one step and a known risk.
func CheckPlan(req Request, p Plan) error {
	switch {
	case p.Action != req.Action:
		return fmt.Errorf("%w: Plan: asked for action %q, got a plan for %q", ErrMalformed, req.Action, p.Action)
	case p.Device.Name != req.Device.Name || p.Device.Address != req.Device.Address:
		return fmt.Errorf("%w: Plan: asked for device %s (%s), got a plan for %s (%s)", ErrMalformed,
			req.Device.Name, req.Device.Address, p.Device.Name, p.Device.Address)
	case p.Ticket.ID != req.Ticket.ID:
		return fmt.Errorf("%w: Plan: asked for ticket %q, got a plan for ticket %q", ErrMalformed, req.Ticket.ID, p.Ticket.ID)
	case len(p.Steps) == 0 || len(p.Steps) > maxSteps:
		return fmt.Errorf("%w: Plan: %d steps (want 1..%d)", ErrMalformed, len(p.Steps), maxSteps)
	case !slices.Contains([]string{RiskLow, RiskMedium, RiskHigh}, p.Risk):
		return fmt.Errorf("%w: Plan: risk %q is not low, medium or high", ErrMalformed, p.Risk)
	}
	for i, s := range p.Steps {
		if s == "" || len(s) > maxTextLen {
			return fmt.Errorf("%w: Plan: step %d is empty or longer than %d bytes", ErrMalformed, i, maxTextLen)
		}
	}
	return nil
}

// CheckResult checks Execute's reply.
func CheckResult(r Result) error {
	if len(r.Output) > maxTextLen || len(r.Evidence) > maxEvidenceLen {
		return fmt.Errorf("%w: Execute: output of %d bytes or %d evidence lines is over the limit", ErrMalformed, len(r.Output), len(r.Evidence))
	}
	return nil
}

// CheckVerification checks Verify's reply.
func CheckVerification(v Verification) error {
	if len(v.Evidence) > maxEvidenceLen {
		return fmt.Errorf("%w: Verify: %d evidence lines is over the limit", ErrMalformed, len(v.Evidence))
	}
	return nil
}

// CheckFindings checks an inspector's findings.
func CheckFindings(fs []Finding) error {
	if len(fs) > maxFindings {
		return fmt.Errorf("%w: Inspect: %d findings (max %d)", ErrMalformed, len(fs), maxFindings)
	}
	for i, f := range fs {
		switch {
		case !slices.Contains(Severities, f.Severity):
			return fmt.Errorf("%w: Inspect: finding %d: severity %q is not one of %v", ErrMalformed, i, f.Severity, Severities)
		case f.Title == "" || len(f.Title) > maxTextLen:
			return fmt.Errorf("%w: Inspect: finding %d: title is empty or too long", ErrMalformed, i)
		case len(f.Evidence) > maxEvidenceLen:
			return fmt.Errorf("%w: Inspect: finding %d: %d evidence lines (max %d)", ErrMalformed, i, len(f.Evidence), maxEvidenceLen)
		}
	}
	return nil
}

// Limits on a sink's replies.
const (
	maxExternalIDLen = 255
	maxChanges       = 10000
)

// CheckExternalID checks the id a sink's Push returns: present, short and
// printable, since it is stored on the ticket and shown in the UI.
func CheckExternalID(id string) error {
	if id == "" || len(id) > maxExternalIDLen {
		return fmt.Errorf("%w: Push: external id %q is empty or longer than %d bytes", ErrMalformed, truncate(id), maxExternalIDLen)
	}
	for _, r := range id {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: Push: external id %q holds unprintable characters", ErrMalformed, truncate(id))
		}
	}
	return nil
}

// CheckChanges checks a sink's Pull reply: each change names its ticket
// and external issue, happened after since, and they come oldest first. A
// change's state, when set, is a name; which states exist is the ticket
// store's business.
func CheckChanges(since time.Time, cs []SinkChange) error {
	if len(cs) > maxChanges {
		return fmt.Errorf("%w: Pull: %d changes (max %d)", ErrMalformed, len(cs), maxChanges)
	}
	for i, c := range cs {
		switch {
		case c.TicketID == "" || len(c.TicketID) > maxNameLen*4:
			return fmt.Errorf("%w: Pull: change %d: ticket id %q is empty or too long", ErrMalformed, i, truncate(c.TicketID))
		case CheckExternalID(c.ExternalID) != nil:
			return fmt.Errorf("%w: Pull: change %d: external id %q is empty, too long or unprintable", ErrMalformed, i, truncate(c.ExternalID))
		case c.State != "" && (len(c.State) > maxNameLen || !nameRE.MatchString(c.State)):
			return fmt.Errorf("%w: Pull: change %d: state %q is not a state name", ErrMalformed, i, truncate(c.State))
		case c.State == "" && c.Note == "":
			return fmt.Errorf("%w: Pull: change %d (ticket %s): neither a state nor a note", ErrMalformed, i, c.TicketID)
		case len(c.Note) > maxTextLen || len(c.Actor) > maxTextLen:
			return fmt.Errorf("%w: Pull: change %d: note or actor longer than %d bytes", ErrMalformed, i, maxTextLen)
		case !c.At.After(since):
			return fmt.Errorf("%w: Pull: change %d (ticket %s) at %s is not after since %s", ErrMalformed, i, c.TicketID,
				c.At.UTC().Format(time.RFC3339Nano), since.UTC().Format(time.RFC3339Nano))
		case i > 0 && c.At.Before(cs[i-1].At):
			return fmt.Errorf("%w: Pull: change %d (ticket %s) is older than the change before it", ErrMalformed, i, c.TicketID)
		}
	}
	return nil
}

// truncate shortens garbage quoted in an error.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
