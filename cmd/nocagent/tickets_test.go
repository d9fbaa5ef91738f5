package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/httpapi"
	"github.com/nocagent/nocagent/ticketing/sqlite"
)

var cliTokens = map[string]string{
	"admin":           "cli-admin-token-0123456789",
	"manager:mia":     "cli-manager-token-0123456789",
	"engineer:alice":  "cli-engineer-token-0123456789",
	"customer:acme":   "cli-acme-token-0123456789",
	"customer:globex": "cli-globex-token-0123456789",
}

type ticketsEnv struct {
	svc    *ticketing.Service
	url    string
	tokens string // tokens.json path
	root   ticketing.Ticket
	manual ticketing.Ticket
}

// newTicketsEnv serves the real API over a real SQLite store on loopback,
// with a root ticket (3 devices cut off behind it, one of globex) and a
// manual ticket of acme.
func newTicketsEnv(t *testing.T) *ticketsEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "tickets.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	now := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := ticketing.New(store, ticketing.Options{Now: func() time.Time { return now }, Logger: quiet,
		Process: ticketing.ProcessConfig{
			Engineers: []ticketing.Engineer{{Name: "alice", Skills: []string{"*"}}, {Name: "bob", Skills: []string{"*"}}}, Managers: []string{"mia"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := httpapi.NewTokens(cliTokens)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(svc, httpapi.Options{Tokens: tk, Logger: quiet}))
	t.Cleanup(srv.Close)
	e := &ticketsEnv{svc: svc, url: srv.URL, tokens: filepath.Join(dir, "tokens.json")}
	if err := httpapi.WriteTokensFile(e.tokens, cliTokens); err != nil {
		t.Fatal(err)
	}
	e.root, _, err = svc.Ingest(ctx, ticketing.Signal{
		Fingerprint: "unreachable:core-01", Rule: "device_unreachable", Firing: true, Category: "availability",
		Priority: "P1", Summary: "core-01 unreachable", At: now,
		Device: ticketing.DeviceContext{Name: "core-01", Address: "192.0.2.1", Serial: "FOC0001", Customer: "acme"},
		Impacted: []ticketing.ImpactedDevice{
			{Name: "acc-1", Serial: "SN1", Customer: "acme"}, {Name: "acc-2", Serial: "SN2", Customer: "globex"},
			{Name: "acc-3", Serial: "SN3", Customer: "acme"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.manual, err = svc.CreateManual(ctx, ticketing.Actor{Name: "alice", Role: ticketing.RoleEngineer}, ticketing.ManualInput{
		Customer: "acme", Contact: "Li Wei", Device: "edge-01", Symptom: "VPN drops", Channel: "phone",
		Category: "link", Priority: ticketing.P3,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// run runs "nocagent tickets ARGS" as role (a tokens.json key).
func (e *ticketsEnv) run(t *testing.T, role string, args ...string) (string, error) {
	t.Helper()
	var out, stderr bytes.Buffer
	cmd := newTicketsCmd(&out)
	cmd.SetArgs(append([]string{"--api", e.url, "--token-file", e.tokens, "--role", role}, args...))
	cmd.SetOut(&out)
	cmd.SetErr(&stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

func (e *ticketsEnv) must(t *testing.T, role string, args ...string) string {
	t.Helper()
	out, err := e.run(t, role, args...)
	if err != nil {
		t.Fatalf("tickets %v as %s: %v\n%s", args, role, err, out)
	}
	return out
}

func TestTicketsListAndShow(t *testing.T) {
	e := newTicketsEnv(t)
	out := e.must(t, "engineer:alice", "list")
	for _, re := range []string{
		`(?m)^ID +PRIO +STATE +CATEGORY +DEVICE +CUSTOMER +IMPACTED +ASSIGNEE +OPENED +TITLE$`,
		`(?m)^` + e.root.ID + ` +P1 +new +availability +core-01 +acme +3/3 +alice +2025-03-10 09:00 +core-01 unreachable$`,
		`(?m)^` + e.manual.ID + ` +P3 +new +link +edge-01 +acme +- +`,
		`(?m)^2 tickets$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("list output lacks %s:\n%s", re, out)
		}
	}

	// globex sees the outage its device sits behind, not acme's own ticket.
	out = e.must(t, "customer:globex", "list", "--json")
	var lr httpapi.ListResponse
	if err := json.Unmarshal([]byte(out), &lr); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if lr.Count != 1 || lr.Tickets[0].ID != e.root.ID || len(lr.Tickets[0].ImpactedDevices) != 3 {
		t.Errorf("globex list = %+v", lr)
	}
	out = e.must(t, "engineer:alice", "list", "--affecting", "globex", "--state", "new")
	if !strings.Contains(out, e.root.ID) || strings.Contains(out, e.manual.ID) {
		t.Errorf("--affecting globex:\n%s", out)
	}

	out = e.must(t, "engineer:alice", "show", e.root.ID)
	for _, re := range []string{
		`(?m)^Ticket: +` + e.root.ID + `  core-01 unreachable$`,
		`(?m)^Customers affected: +acme, globex$`,
		`(?m)^Device: +core-01  192\.0\.2\.1  FOC0001$`,
		`(?m)^Response SLA: +15m0s, due 2025-03-10 09:15 \(15m0s left\)$`,
		`(?m)^Impacted devices \(3/3 down/listed\):$`,
		`(?m)^  acc-2 +SN2 +globex +down since 2025-03-10 09:00$`,
		`(?m)^  1 +2025-03-10 09:00:00 +monitoring +opened +- -> new +core-01 unreachable; 3 devices impacted: acc-1 \(acme\)`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("show output lacks %s:\n%s", re, out)
		}
	}
}

func TestTicketsLifecycle(t *testing.T) {
	e := newTicketsEnv(t)
	id := e.manual.ID
	steps := []struct {
		role  string
		args  []string
		state ticketing.State
	}{
		{"engineer:alice", []string{"ack", id}, ticketing.StateAcknowledged},
		{"manager:mia", []string{"assign", id, "--to", "alice"}, ticketing.StateAcknowledged},
		{"engineer:alice", []string{"note", id, "called", "the", "customer"}, ticketing.StateInProgress},
		{"engineer:alice", []string{"escalate", id, "--reason", "needs a senior"}, ticketing.StateInProgress},
		{"engineer:alice", []string{"resolve", id, "--cause", "MTU", "--solution", "set 1400"}, ticketing.StateResolved},
		{"engineer:alice", []string{"verify", id}, ticketing.StateVerified},
		{"customer:acme", []string{"confirm", id}, ticketing.StateConfirmed},
		{"manager:mia", []string{"close", id}, ticketing.StateClosed},
	}
	for _, st := range steps {
		out := e.must(t, st.role, st.args...)
		if want := id + " " + st.args[0] + ": now " + string(st.state); !strings.HasPrefix(out, want) {
			t.Errorf("%v: output %q, want %q...", st.args, out, want)
		}
		got, err := e.svc.Get(context.Background(), id)
		if err != nil || got.State != st.state {
			t.Fatalf("after %v: state %s (%v), want %s", st.args, got.State, err, st.state)
		}
	}
	got, _ := e.svc.Get(context.Background(), id)
	var note, reason bool
	for _, ev := range got.Timeline {
		note = note || (ev.Kind == ticketing.KindNote && ev.Note == "called the customer")
		reason = reason || (ev.Kind == ticketing.KindEscalated && strings.Contains(ev.Note, "needs a senior"))
	}
	if !note || !reason || got.Cause != "MTU" || got.Solution != "set 1400" {
		t.Errorf("timeline or resolution lost what the CLI sent: cause %q solution %q, %+v", got.Cause, got.Solution, got.Timeline)
	}

	if out := e.must(t, "customer:acme", "survey", id, "--rating", "satisfied", "--comment", "quick"); out != id+" survey recorded: satisfied\n" {
		t.Errorf("survey output %q", out)
	}
	out := e.must(t, "manager:mia", "cancel", e.root.ID, "--reason", "duplicate of a carrier ticket")
	if !strings.HasPrefix(out, e.root.ID+" cancel: now cancelled") {
		t.Errorf("cancel output %q", out)
	}
}

func TestTicketsErrors(t *testing.T) {
	e := newTicketsEnv(t)
	tests := []struct {
		name string
		role string
		args []string
		want string
	}{
		{"missing field", "engineer:alice", []string{"resolve", e.manual.ID, "--cause", "x"}, `missing field "solution"`},
		{"forbidden", "customer:acme", []string{"close", e.manual.ID}, "(forbidden)"},
		{"other customer's ticket", "customer:globex", []string{"show", e.manual.ID}, "not found (not_found)"},
		{"unknown role key", "engineer:zed", []string{"list"}, `no token for role "engineer:zed" (have admin, customer:acme`},
		{"no role", "", []string{"list"}, "say which key to use with --role"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.run(t, tc.role, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			for _, tok := range cliTokens {
				if strings.Contains(err.Error(), tok) {
					t.Errorf("error reveals a token: %v", err)
				}
			}
		})
	}

	// A wrong token is refused without being echoed.
	var out bytes.Buffer
	cmd := newTicketsCmd(&out)
	cmd.SetArgs([]string{"--api", e.url, "--token", "not-a-valid-token-at-all", "list"})
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "unauthorized") || strings.Contains(err.Error(), "not-a-valid") {
		t.Errorf("bad token: %v", err)
	}
}
