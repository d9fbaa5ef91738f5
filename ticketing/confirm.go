package ticketing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
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

// confirmDomain separates these MACs from any other use of the secret.
const confirmDomain = "nocagent-confirm-v1"

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

// ConfirmLink returns a token that lets the customer of ticket id confirm
// its resolution without logging in, and when it expires. The token is
// ticket id and expiry, signed with HMAC-SHA256 under Options.ConfirmSecret;
// it is empty when no secret is configured. The link is ConfirmPathPrefix
// followed by the token.
func (s *Service) ConfirmLink(id string) (token string, expires time.Time) {
	return s.confirmToken(id, s.now().UTC())
}

func (s *Service) confirmToken(id string, now time.Time) (string, time.Time) {
	if len(s.confirmSecret) == 0 || id == "" {
		return "", time.Time{}
	}
	exp := now.Add(s.confirmTTL).Truncate(time.Second)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(id)) + "." + strconv.FormatInt(exp.Unix(), 10) + "." +
		enc.EncodeToString(s.confirmMAC(id, exp.Unix())), exp
}

func (s *Service) confirmMAC(id string, exp int64) []byte {
	m := hmac.New(sha256.New, s.confirmSecret)
	fmt.Fprintf(m, "%s\x00%s\x00%d", confirmDomain, id, exp)
	return m.Sum(nil)
}

// errBadLink is the one answer for every link that is not ours: it says
// nothing about whether some ticket exists.
var errBadLink = Errorf(ENOTFOUND, "confirmation link not found: it is incomplete, was altered, or its ticket no longer exists")

// checkConfirmToken returns the ticket id token was issued for and its
// expiry. Errors: ENOTFOUND for a malformed or forged token (or no secret),
// EGONE for an expired one.
func (s *Service) checkConfirmToken(token string, now time.Time) (string, time.Time, error) {
	if len(s.confirmSecret) == 0 {
		return "", time.Time{}, errBadLink
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", time.Time{}, errBadLink
	}
	enc := base64.RawURLEncoding
	id, err1 := enc.DecodeString(parts[0])
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	mac, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || len(id) == 0 {
		return "", time.Time{}, errBadLink
	}
	// The MAC is checked before the expiry, so a forged expiry is "not
	// found", never "expired".
	if !hmac.Equal(mac, s.confirmMAC(string(id), exp)) {
		return "", time.Time{}, errBadLink
	}
	expires := time.Unix(exp, 0).UTC()
	if !now.Before(expires) {
		return "", time.Time{}, Errorf(EGONE, "this confirmation link expired on %s; ask your service contact for a new one",
			expires.Format("2006-01-02 15:04 MST"))
	}
	return string(id), expires, nil
}

// ConfirmView returns the summary of the ticket a confirmation token is
// for. Errors: ENOTFOUND for a bad or forged token or a ticket without a
// customer, EGONE for an expired token.
func (s *Service) ConfirmView(ctx context.Context, token string) (ConfirmSummary, error) {
	id, exp, err := s.checkConfirmToken(token, s.now().UTC())
	if err != nil {
		return ConfirmSummary{}, err
	}
	t, err := s.store.TicketByID(ctx, id)
	if ErrorCode(err) == ENOTFOUND || (err == nil && t.Device.Customer == "") {
		return ConfirmSummary{}, errBadLink
	}
	if err != nil {
		return ConfirmSummary{}, fmt.Errorf("confirmation link for ticket %s: %w", id, err)
	}
	return confirmSummary(t, exp), nil
}

// ConfirmByToken takes the confirm action on the token's ticket as that
// ticket's customer, with an optional remark, and returns the summary
// afterwards. Errors are those of ConfirmView, and ECONFLICT when the
// ticket is not verified (still being verified, or already confirmed).
func (s *Service) ConfirmByToken(ctx context.Context, token, note string) (ConfirmSummary, error) {
	v, err := s.ConfirmView(ctx, token)
	if err != nil {
		return ConfirmSummary{}, err
	}
	if !v.Confirmable {
		return v, Errorf(ECONFLICT, "%s", ConfirmStateMessage(v.State))
	}
	remark := "confirmed through the confirmation link"
	if n := strings.TrimSpace(note); n != "" {
		remark += ": " + n
	}
	who := Actor{Name: "customer:" + v.Customer, Role: RoleCustomer, Customer: v.Customer}
	t, err := s.Act(ctx, who, v.TicketID, ActConfirm, ActionInput{Note: remark})
	if err != nil {
		return ConfirmSummary{}, err
	}
	return confirmSummary(t, v.Expires), nil
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
