package ticketing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// DefaultConfirmTTL is how long a confirmation link stays valid.
const DefaultConfirmTTL = 7 * 24 * time.Hour

// ConfirmPathPrefix starts the path of a confirmation link; the token
// follows. The agent puts its public base URL in front.
const ConfirmPathPrefix = "/api/v1/confirm/"

// EGONE: what was asked for existed but is no longer valid (an expired
// confirmation link).
const EGONE = "gone"

// confirmDomain separates these MACs from any other use of the secret, and
// from tokens of the earlier format (legacyConfirmDomain), which carried no
// resolution cycle.
const (
	confirmDomain       = "nocagent-confirm-v2"
	legacyConfirmDomain = "nocagent-confirm-v1"
)

// maxConfirmToken bounds what is decoded: a real token is well under it.
const maxConfirmToken = 512

// ConfirmSummary is what a confirmation link shows: the ticket's summary
// and nothing else, since whoever holds the link is not authenticated.
type ConfirmSummary struct {
	TicketID   string     `json:"ticket_id"`
	Title      string     `json:"title"`
	State      State      `json:"state"`
	Device     string     `json:"device"`
	Customer   string     `json:"customer"`
	OpenedAt   time.Time  `json:"opened_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	Cause      string     `json:"cause,omitempty"`
	Solution   string     `json:"solution,omitempty"`
	// Confirmable: the resolution is verified and waits for the customer.
	Confirmable bool      `json:"confirmable"`
	Expires     time.Time `json:"expires"`
}

// ConfirmLink returns a token that lets the customer of ticket t confirm
// its current resolution without logging in, and when it expires. The
// token is the ticket id, its resolution cycle (Ticket.ReopenCount) and the
// expiry, signed with HMAC-SHA256 under Options.ConfirmSecret; it is empty
// when no secret is configured. The link is ConfirmPathPrefix followed by
// the token. Reopening the ticket starts a new cycle and ends the link:
// only the link sent with the next resolution confirms that one.
func (s *Service) ConfirmLink(t Ticket) (token string, expires time.Time) {
	return s.confirmToken(t.ID, t.ReopenCount, s.now().UTC())
}

func (s *Service) confirmToken(id string, cycle int, now time.Time) (string, time.Time) {
	if len(s.confirmSecret) == 0 || id == "" || cycle < 0 {
		return "", time.Time{}
	}
	exp := now.Add(s.confirmTTL).Truncate(time.Second)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(id)) + "." + strconv.Itoa(cycle) + "." + strconv.FormatInt(exp.Unix(), 10) + "." +
		enc.EncodeToString(s.confirmMAC(id, cycle, exp.Unix())), exp
}

// confirmMAC signs a token of the current format (domain v2: with the
// resolution cycle).
func (s *Service) confirmMAC(id string, cycle int, exp int64) []byte {
	m := hmac.New(sha256.New, s.confirmSecret)
	fmt.Fprintf(m, "%s\x00%s\x00%d\x00%d", confirmDomain, id, cycle, exp)
	return m.Sum(nil)
}

// legacyConfirmMAC signs a token issued before tokens carried the cycle
// (id.exp.mac); such a token is taken as one of the first cycle, 0.
func (s *Service) legacyConfirmMAC(id string, exp int64) []byte {
	m := hmac.New(sha256.New, s.confirmSecret)
	fmt.Fprintf(m, "%s\x00%s\x00%d", legacyConfirmDomain, id, exp)
	return m.Sum(nil)
}

// errBadLink is the one answer for every link that is not ours: it says
// nothing about whether some ticket exists.
var errBadLink = Errorf(ENOTFOUND, "confirmation link not found: it is incomplete, was altered, or its ticket no longer exists")

// confirmClaim is what a genuine token says.
type confirmClaim struct {
	id      string
	cycle   int
	expires time.Time
}

// checkConfirmToken returns what token was issued for. Errors: ENOTFOUND
// for a malformed or forged token (or no secret), EGONE for an expired one.
// Whether the cycle is still the ticket's is for the caller to check.
func (s *Service) checkConfirmToken(token string, now time.Time) (confirmClaim, error) {
	if len(s.confirmSecret) == 0 || len(token) > maxConfirmToken {
		return confirmClaim{}, errBadLink
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 && len(parts) != 4 {
		return confirmClaim{}, errBadLink
	}
	// Strict: one token has one spelling.
	enc := base64.RawURLEncoding.Strict()
	id, err := enc.DecodeString(parts[0])
	if err != nil || len(id) == 0 {
		return confirmClaim{}, errBadLink
	}
	mac, err := enc.DecodeString(parts[len(parts)-1])
	if err != nil {
		return confirmClaim{}, errBadLink
	}
	exp, err := strconv.ParseInt(parts[len(parts)-2], 10, 64)
	if err != nil || strconv.FormatInt(exp, 10) != parts[len(parts)-2] {
		return confirmClaim{}, errBadLink
	}
	// The MAC is checked before the expiry, so a forged expiry is "not
	// found", never "expired".
	c := confirmClaim{id: string(id)}
	if len(parts) == 4 {
		cycle, err := strconv.Atoi(parts[1])
		if err != nil || cycle < 0 || strconv.Itoa(cycle) != parts[1] {
			return confirmClaim{}, errBadLink
		}
		c.cycle = cycle
		if !hmac.Equal(mac, s.confirmMAC(c.id, cycle, exp)) {
			return confirmClaim{}, errBadLink
		}
	} else if !hmac.Equal(mac, s.legacyConfirmMAC(c.id, exp)) {
		return confirmClaim{}, errBadLink
	}
	c.expires = time.Unix(exp, 0).UTC()
	if !now.Before(c.expires) {
		return confirmClaim{}, Errorf(EGONE, "this confirmation link expired on %s; ask your service contact for a new one",
			c.expires.Format("2006-01-02 15:04 MST"))
	}
	return c, nil
}

// errOldCycle answers a genuine link of a resolution that was undone: the
// ticket was reopened after the link was sent.
var errOldCycle = Errorf(EGONE, "this confirmation link was for an earlier resolution: the ticket was reopened since; "+
	"the notice of its next resolution brings a new link")

// confirmTicket returns the ticket a checked claim is for, refusing a
// claim of an earlier resolution cycle.
func confirmTicket(ctx context.Context, tx interface {
	TicketByID(context.Context, string) (Ticket, error)
}, c confirmClaim) (Ticket, error) {
	t, err := tx.TicketByID(ctx, c.id)
	if ErrorCode(err) == ENOTFOUND || (err == nil && t.Device.Customer == "") {
		return Ticket{}, errBadLink
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("confirmation link for ticket %s: %w", c.id, err)
	}
	if t.ReopenCount != c.cycle {
		return Ticket{}, errOldCycle
	}
	return t, nil
}

// ConfirmView returns the summary of the ticket a confirmation token is
// for. Errors: ENOTFOUND for a bad or forged token or a ticket without a
// customer, EGONE for an expired token or one of an earlier resolution
// (the ticket was reopened after it was sent).
func (s *Service) ConfirmView(ctx context.Context, token string) (ConfirmSummary, error) {
	c, err := s.checkConfirmToken(token, s.now().UTC())
	if err != nil {
		return ConfirmSummary{}, err
	}
	t, err := confirmTicket(ctx, s.store, c)
	if err != nil {
		return ConfirmSummary{}, err
	}
	return confirmSummary(t, c.expires), nil
}

// ConfirmByToken takes the confirm action on the token's ticket as that
// ticket's customer, with an optional remark, and returns the summary
// afterwards. Errors are those of ConfirmView, and ECONFLICT when the
// ticket is not verified (still being verified, or already confirmed).
// The token's cycle is checked in the transaction that confirms, so a
// reopening between reading and confirming cannot slip through.
func (s *Service) ConfirmByToken(ctx context.Context, token, note string) (ConfirmSummary, error) {
	c, err := s.checkConfirmToken(token, s.now().UTC())
	if err != nil {
		return ConfirmSummary{}, err
	}
	remark := "confirmed through the confirmation link"
	if n := strings.TrimSpace(note); n != "" {
		remark += ": " + n
	}
	var (
		t   Ticket
		who Actor
	)
	err = s.store.WithTx(ctx, func(tx Tx) error {
		now := s.now().UTC()
		cur, err := confirmTicket(ctx, tx, c)
		if err != nil {
			return err
		}
		if cur.State != StateVerified {
			t = cur
			return Errorf(ECONFLICT, "%s", ConfirmStateMessage(cur.State))
		}
		who = Actor{Name: "customer:" + cur.Device.Customer, Role: RoleCustomer, Customer: cur.Device.Customer}
		if err := check(who, ActConfirm, cur); err != nil {
			return err
		}
		ch := &change{t: &cur}
		if err := s.apply(ctx, tx, now, who, ActConfirm, ActionInput{Note: remark}, ch); err != nil {
			return err
		}
		t, err = s.write(ctx, tx, now, ch)
		return err
	})
	if ErrorCode(err) == ECONFLICT && t.ID != "" {
		return confirmSummary(t, c.expires), err
	}
	if err != nil {
		return ConfirmSummary{}, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "ticket action", slog.String("ticket", t.ID), slog.String("action", string(ActConfirm)),
		slog.String("actor", who.Name), slog.String("role", string(who.Role)), slog.String("state", string(t.State)),
		slog.String("via", "confirmation link"))
	return confirmSummary(t, c.expires), nil
}

// ConfirmStateMessage says, in the customer's terms, why a ticket in state
// st cannot be confirmed now ("" when it can).
func ConfirmStateMessage(st State) string {
	switch st {
	case StateVerified:
		return ""
	case StateResolved:
		return "the fix is still being verified by our monitoring; please use this link again later"
	case StateConfirmed, StateClosed:
		return "this resolution has already been confirmed; thank you"
	case StateCancelled:
		return "this ticket was cancelled; there is nothing to confirm"
	}
	return "this ticket is being worked on again; there is nothing to confirm yet"
}

func confirmSummary(t Ticket, exp time.Time) ConfirmSummary {
	return ConfirmSummary{
		TicketID: t.ID, Title: t.Title, State: t.State, Device: t.Device.Name, Customer: t.Device.Customer,
		OpenedAt: t.OpenedAt, ResolvedAt: t.ResolvedAt, Cause: t.Cause, Solution: t.Solution,
		Confirmable: t.State == StateVerified, Expires: exp,
	}
}
