package ticketing_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

func newConfirmEnv(t *testing.T, secret string) *env {
	t.Helper()
	e := &env{clk: newClock(), path: tempDB(t)}
	e.store = openStore(t, e.path)
	svc, err := ticketing.New(e.store, ticketing.Options{Now: e.clk.Now, Logger: quietLogger(), Channels: []string{"webhook"},
		ConfirmSecret: []byte(secret), ConfirmTTL: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

// resolvedNotice returns the notice queued for tk's resolution.
func resolvedNotice(t *testing.T, e *env, id string) ticketing.Notice {
	t.Helper()
	msgs, err := e.store.DueOutbox(ctxBg, e.clk.Now().Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	for len(msgs) > 0 {
		for _, m := range msgs {
			if m.TicketID == id && m.Kind == ticketing.KindResolved {
				var n ticketing.Notice
				if err := json.Unmarshal(m.Payload, &n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if err := e.store.MarkDelivered(ctxBg, m.ID, e.clk.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if msgs, err = e.store.DueOutbox(ctxBg, e.clk.Now().Add(time.Hour), 100); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("no resolution notice for %s", id)
	return ticketing.Notice{}
}

func TestConfirmLink(t *testing.T) {
	e := newConfirmEnv(t, "s3cret-for-links")
	sig := firing(e.clk, "fp-a", "core-01", "link", "P2", "Gi0/0/1 down")
	tk, _ := e.ingest(t, sig)
	other, _ := e.ingest(t, firing(e.clk, "fp-b", "core-02", "link", "P3", "Gi0/0/2 down"))
	e.clk.Advance(20 * time.Minute)
	e.ingest(t, cleared(e.clk, sig))

	n := resolvedNotice(t, e, tk.ID)
	token, ok := strings.CutPrefix(n.ConfirmURL, ticketing.ConfirmPathPrefix)
	if !ok || token == "" {
		t.Fatalf("resolution notice confirm_url = %q, want %s<token>", n.ConfirmURL, ticketing.ConfirmPathPrefix)
	}
	if strings.Contains(n.ConfirmURL, "s3cret") {
		t.Fatal("the link carries the secret")
	}

	v, err := e.svc.ConfirmView(ctxBg, token)
	if err != nil || v.TicketID != tk.ID || v.Customer != "acme" || v.Confirmable || v.State != ticketing.StateResolved {
		t.Fatalf("view before verification = %+v, %v", v, err)
	}
	if !v.Expires.Equal(e.clk.Now().Add(48 * time.Hour)) {
		t.Errorf("expires = %s, want 48 h after the notice", v.Expires)
	}
	if _, err := e.svc.ConfirmByToken(ctxBg, token, ""); ticketing.ErrorCode(err) != ticketing.ECONFLICT ||
		!strings.Contains(ticketing.ErrorMessage(err), "still being verified") {
		t.Errorf("confirm before verification: %v, want conflict", err)
	}

	// Forged and damaged links say nothing about any ticket.
	otherTok, _ := e.svc.ConfirmLink(other)
	parts := strings.Split(token, ".")
	otherParts := strings.Split(otherTok, ".")
	forged := newConfirmEnv(t, "another-secret")
	forgedTok, _ := forged.svc.ConfirmLink(tk)
	for name, bad := range map[string]string{
		"empty":              "",
		"garbage":            "not-a-token",
		"other ticket's mac": otherParts[0] + "." + strings.Join(parts[1:], "."),
		"later expiry":       parts[0] + "." + parts[1] + ".99999999999." + parts[3],
		"later cycle":        parts[0] + ".1." + parts[2] + "." + parts[3],
		"cycle as +0":        parts[0] + ".+0." + parts[2] + "." + parts[3],
		"cycle dropped":      parts[0] + "." + parts[2] + "." + parts[3],
		"flipped mac":        parts[0] + "." + parts[1] + "." + parts[2] + "." + flip(parts[3]),
		"other secret":       forgedTok,
		"extra part":         token + ".x",
	} {
		_, err := e.svc.ConfirmView(ctxBg, bad)
		if ticketing.ErrorCode(err) != ticketing.ENOTFOUND || strings.Contains(ticketing.ErrorMessage(err), tk.ID) ||
			strings.Contains(ticketing.ErrorMessage(err), other.ID) {
			t.Errorf("%s: %v, want a not-found naming no ticket", name, err)
		}
		if _, err := e.svc.ConfirmByToken(ctxBg, bad, ""); ticketing.ErrorCode(err) != ticketing.ENOTFOUND {
			t.Errorf("%s: confirm: %v, want not found", name, err)
		}
	}

	e.act(t, alice, tk.ID, ticketing.ActVerify, ticketing.ActionInput{})
	if v, err := e.svc.ConfirmView(ctxBg, token); err != nil || !v.Confirmable {
		t.Fatalf("view after verification = %+v, %v", v, err)
	}
	v, err = e.svc.ConfirmByToken(ctxBg, token, "  all good, thanks ")
	if err != nil || v.State != ticketing.StateConfirmed {
		t.Fatalf("confirm = %+v, %v", v, err)
	}
	got := e.get(t, tk.ID)
	last := got.Timeline[len(got.Timeline)-1]
	if got.State != ticketing.StateConfirmed || last.Kind != ticketing.KindConfirmed || last.Actor != "customer:acme" ||
		!strings.Contains(last.Note, "all good, thanks") {
		t.Errorf("after confirmation: state %s, last event %+v", got.State, last)
	}
	if _, err := e.svc.ConfirmByToken(ctxBg, token, ""); ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("second confirmation: %v, want conflict", err)
	}
	if g := e.get(t, other.ID); g.State != ticketing.StateNew {
		t.Errorf("the other ticket changed: %s", g.State)
	}

	e.clk.Advance(48 * time.Hour)
	if _, err := e.svc.ConfirmView(ctxBg, token); ticketing.ErrorCode(err) != ticketing.EGONE ||
		!strings.Contains(ticketing.ErrorMessage(err), "expired") {
		t.Errorf("expired link: %v, want gone", err)
	}
}

func TestConfirmLinkNeedsSecret(t *testing.T) {
	e := newConfirmEnv(t, "")
	if tok, exp := e.svc.ConfirmLink(ticketing.Ticket{ID: "NOC-000001"}); tok != "" || !exp.IsZero() {
		t.Errorf("ConfirmLink without a secret = %q, %s", tok, exp)
	}
	sig := firing(e.clk, "fp-a", "core-01", "link", "P2", "Gi0/0/1 down")
	tk, _ := e.ingest(t, sig)
	e.ingest(t, cleared(e.clk, sig))
	if n := resolvedNotice(t, e, tk.ID); n.ConfirmURL != "" {
		t.Errorf("confirm_url without a secret = %q", n.ConfirmURL)
	}
	withSecret := newConfirmEnv(t, "s3cret-for-links")
	tok, _ := withSecret.svc.ConfirmLink(tk)
	if _, err := e.svc.ConfirmView(ctxBg, tok); ticketing.ErrorCode(err) != ticketing.ENOTFOUND {
		t.Errorf("a link checked without a secret: %v, want not found", err)
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

// resolvedTokens drains the outbox and returns the confirmation tokens of
// ticket id's resolution notices, oldest first.
func resolvedTokens(t *testing.T, e *env, id string) []string {
	t.Helper()
	var toks []string
	for {
		msgs, err := e.store.DueOutbox(ctxBg, e.clk.Now().Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			return toks
		}
		for _, m := range msgs {
			if m.TicketID == id && m.Kind == ticketing.KindResolved {
				var n ticketing.Notice
				if err := json.Unmarshal(m.Payload, &n); err != nil {
					t.Fatal(err)
				}
				tok, ok := strings.CutPrefix(n.ConfirmURL, ticketing.ConfirmPathPrefix)
				if !ok || tok == "" {
					t.Fatalf("resolution notice %s: confirm_url = %q", m.EventID, n.ConfirmURL)
				}
				toks = append(toks, tok)
			}
			if err := e.store.MarkDelivered(ctxBg, m.ID, e.clk.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// legacyToken builds a token of the format before tokens carried the
// resolution cycle (id.exp.mac, domain v1), computed independently.
func legacyToken(secret, id string, exp time.Time) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "nocagent-confirm-v1\x00%s\x00%d", id, exp.Unix())
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(id)) + "." + strconv.FormatInt(exp.Unix(), 10) + "." + enc.EncodeToString(m.Sum(nil))
}

// TestConfirmLinkBoundToResolutionCycle: the link of a resolution that was
// undone by a reopening never confirms the next resolution; that one comes
// with its own link.
func TestConfirmLinkBoundToResolutionCycle(t *testing.T) {
	const secret = "s3cret-for-links"
	e := newConfirmEnv(t, secret)
	sig := firing(e.clk, "fp-a", "core-01", "link", "P2", "Gi0/0/1 down")
	tk, _ := e.ingest(t, sig)
	e.clk.Advance(20 * time.Minute)
	e.ingest(t, cleared(e.clk, sig))
	first := resolvedTokens(t, e, tk.ID)
	if len(first) != 1 {
		t.Fatalf("first resolution: %d tokens, want 1", len(first))
	}
	legacy := legacyToken(secret, tk.ID, e.clk.Now().Add(24*time.Hour))
	e.act(t, alice, tk.ID, ticketing.ActVerify, ticketing.ActionInput{})
	for name, tok := range map[string]string{"first": first[0], "legacy": legacy} {
		if v, err := e.svc.ConfirmView(ctxBg, tok); err != nil || !v.Confirmable {
			t.Fatalf("%s link before the reopening: %+v, %v", name, v, err)
		}
	}

	e.act(t, alice, tk.ID, ticketing.ActReopen, ticketing.ActionInput{Reason: "customer: still no link"})
	e.clk.Advance(time.Hour)
	e.act(t, alice, tk.ID, ticketing.ActResolve, ticketing.ActionInput{Cause: "bad optic", Solution: "replaced the SFP"})
	second := resolvedTokens(t, e, tk.ID)
	if len(second) != 1 || second[0] == first[0] {
		t.Fatalf("second resolution: tokens %q, want one new token", second)
	}
	e.act(t, alice, tk.ID, ticketing.ActVerify, ticketing.ActionInput{})

	wantGone := func(t *testing.T, name, tok string) {
		t.Helper()
		_, err := e.svc.ConfirmView(ctxBg, tok)
		if ticketing.ErrorCode(err) != ticketing.EGONE || !strings.Contains(ticketing.ErrorMessage(err), "earlier resolution") {
			t.Errorf("%s link: view: %v, want gone naming the earlier resolution", name, err)
		}
		if _, err := e.svc.ConfirmByToken(ctxBg, tok, "ok"); ticketing.ErrorCode(err) != ticketing.EGONE {
			t.Errorf("%s link: confirm: %v, want gone", name, err)
		}
	}
	tests := []struct {
		name string
		tok  string
	}{
		{"first resolution's", first[0]},
		{"legacy (first cycle)", legacy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantGone(t, tc.name, tc.tok) })
	}
	if got := e.get(t, tk.ID); got.State != ticketing.StateVerified {
		t.Fatalf("an old link changed the ticket: state %s", got.State)
	}

	v, err := e.svc.ConfirmByToken(ctxBg, second[0], "works now")
	if err != nil || v.State != ticketing.StateConfirmed || v.Solution != "replaced the SFP" {
		t.Fatalf("second resolution's link: %+v, %v", v, err)
	}
	got := e.get(t, tk.ID)
	if last := got.Timeline[len(got.Timeline)-1]; last.Kind != ticketing.KindConfirmed || last.Actor != "customer:acme" ||
		!strings.Contains(last.Note, "works now") {
		t.Errorf("confirmation event %+v", last)
	}
	wantGone(t, "first resolution's, after confirming", first[0])
}
