package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/sqlite"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var tokens = map[string]string{
	"admin":           "admin-token-0123456789",
	"manager:mia":     "manager-token-0123456789",
	"engineer:alice":  "engineer-token-0123456789",
	"customer:acme":   "acme-token-0123456789",
	"customer:globex": "globex-token-0123456789",
}

type server struct {
	t   *testing.T
	h   http.Handler
	svc *ticketing.Service
	clk *testClock
}

func newServer(t *testing.T) *server {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tickets.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	clk := &testClock{t: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)}
	svc, err := ticketing.New(store, ticketing.Options{Now: clk.Now, Logger: quiet(), Process: ticketing.ProcessConfig{
		Engineers: []ticketing.Engineer{{Name: "alice", Skills: []string{"*"}}}, Managers: []string{"mia"},
	}, ConfirmSecret: []byte(confirmSecret)})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := NewTokens(tokens)
	if err != nil {
		t.Fatal(err)
	}
	return &server{t: t, h: New(svc, Options{Tokens: tk, Logger: quiet(), DeviceCount: deviceCount}), svc: svc, clk: clk}
}

// call sends body (nil for none) as role's token ("" for no token) and
// decodes the answer into out when out is not nil.
func (s *server) call(role, method, target, body string, out any) (int, ErrorBody) {
	s.t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req := httptest.NewRequest(method, target, rd)
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+tokens[role])
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	var eb ErrorResponse
	if rec.Code >= 400 {
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil {
			s.t.Fatalf("%s %s: error body %q: %v", method, target, rec.Body, err)
		}
	} else if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			s.t.Fatalf("%s %s: body %q: %v", method, target, rec.Body, err)
		}
	}
	return rec.Code, eb.Error
}

const intake = `{"customer":"acme","contact":"Li Wei","device":"core-01","symptom":"VPN drops","channel":"portal","category":"link","priority":"P2","recent_changes":"new modem"}`

func TestAPIAuthentication(t *testing.T) {
	s := newServer(t)
	for _, tc := range []struct{ name, header string }{
		{"none", ""}, {"wrong token", "Bearer not-a-valid-token-at-all"}, {"basic", "Basic " + tokens["admin"]},
		{"empty bearer", "Bearer "},
	} {
		req := httptest.NewRequest("GET", "/api/v1/tickets", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, req)
		if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") == "" || strings.Contains(rec.Body.String(), "token-0123") {
			t.Errorf("%s: %d %s", tc.name, rec.Code, rec.Body)
		}
	}
	var me ticketing.Actor
	if code, _ := s.call("customer:acme", "GET", "/api/v1/me", "", &me); code != 200 || me.Role != ticketing.RoleCustomer || me.Customer != "acme" {
		t.Errorf("me = %d %+v", code, me)
	}
	if code, _ := s.call("engineer:alice", "GET", "/api/v1/me", "", &me); code != 200 || me.Name != "alice" || me.Role != ticketing.RoleEngineer {
		t.Errorf("me = %d %+v", code, me)
	}
	// No tokens configured: nothing is open.
	h := New(s.svc, Options{Logger: quiet()})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/tickets", nil)
	req.Header.Set("Authorization", "Bearer "+tokens["admin"])
	h.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("without a token set: %d", rec.Code)
	}
}

func TestAPIEndToEndByRole(t *testing.T) {
	s := newServer(t)
	var tk ticketing.Ticket
	if code, eb := s.call("customer:acme", "POST", "/api/v1/tickets", strings.Replace(intake, `"customer":"acme",`, "", 1), &tk); code != 201 {
		t.Fatalf("customer intake: %d %+v", code, eb)
	}
	if tk.Device.Customer != "acme" || tk.Intake.Channel != "portal" || tk.Assignee != "alice" || tk.SLA == nil || tk.SLA.Response.TargetSeconds != 1800 {
		t.Fatalf("created = %+v", tk)
	}
	path := "/api/v1/tickets/" + tk.ID
	// Another customer: 404 for read and for actions, exactly as an unknown id.
	for _, c := range []struct{ method, target, body string }{
		{"GET", path, ""}, {"POST", path + "/actions/note", `{"note":"x"}`}, {"POST", path + "/survey", `{"rating":"satisfied"}`},
	} {
		if code, eb := s.call("customer:globex", c.method, c.target, c.body, nil); code != 404 || eb.Code != "not_found" {
			t.Errorf("globex %s %s: %d %+v", c.method, c.target, code, eb)
		}
	}
	var list ListResponse
	if s.call("customer:globex", "GET", "/api/v1/tickets", "", &list); list.Count != 0 {
		t.Errorf("globex lists %d tickets", list.Count)
	}
	if s.call("customer:acme", "GET", "/api/v1/tickets?customer=globex", "", &list); list.Count != 0 {
		t.Errorf("acme asking for globex lists %d", list.Count)
	}

	steps := []struct {
		role, action, body string
		code               int
		errCode, msg       string
	}{
		{"customer:acme", "ack", `{}`, 403, "forbidden", "customer may not ack"},
		{"engineer:alice", "ack", ``, 200, "", ""},
		{"engineer:alice", "resolve", `{"cause":"MTU"}`, 400, "invalid", `missing field "solution"`},
		{"engineer:alice", "resolve", `{"cause":"MTU","solution":"set 1400","extra":1}`, 400, "invalid", `unknown field "extra"`},
		{"engineer:alice", "resolve", `{"cause":"MTU","solution":"set 1400"}`, 200, "", ""},
		{"engineer:alice", "verify", `{}`, 200, "", ""},
		{"engineer:alice", "confirm", `{}`, 403, "forbidden", "engineer may not confirm"},
		{"customer:acme", "confirm", `{}`, 200, "", ""},
		{"engineer:alice", "close", `{}`, 403, "forbidden", "may not close"},
		{"manager:mia", "close", `{}`, 200, "", ""},
		{"manager:mia", "cancel", `{"reason":"x"}`, 409, "conflict", "state closed"},
		{"admin", "explode", `{}`, 400, "invalid", "unknown action"},
	}
	for _, st := range steps {
		var got ticketing.Ticket
		code, eb := s.call(st.role, "POST", path+"/actions/"+st.action, st.body, &got)
		if code != st.code || eb.Code != st.errCode || !strings.Contains(eb.Message, st.msg) {
			t.Fatalf("%s %s: %d %+v, want %d %s %q", st.role, st.action, code, eb, st.code, st.errCode, st.msg)
		}
	}
	var sv ticketing.Survey
	if code, eb := s.call("customer:acme", "POST", path+"/survey", `{"rating":"unsatisfied","comment":"took two days"}`, &sv); code != 201 || sv.FollowUpID == "" {
		t.Fatalf("survey: %d %+v %+v", code, eb, sv)
	}
	if code, eb := s.call("customer:acme", "POST", path+"/survey", `{"rating":"satisfied"}`, nil); code != 409 {
		t.Errorf("second survey: %d %+v", code, eb)
	}
	var task ticketing.Ticket
	s.call("manager:mia", "GET", "/api/v1/tickets/"+sv.FollowUpID, "", &task)
	if task.ParentID != tk.ID || task.Assignee != "mia" || task.DueAt == nil {
		t.Errorf("follow-up task = %+v", task)
	}
	var kb SuggestionsResponse
	if code, _ := s.call("engineer:alice", "GET", "/api/v1/kb?q=mtu", "", &kb); code != 200 || len(kb.Suggestions) != 1 || kb.Suggestions[0].Article.TicketID != tk.ID {
		t.Errorf("kb = %d %+v", code, kb)
	}
	if code, eb := s.call("customer:acme", "GET", "/api/v1/kb?q=mtu", "", nil); code != 403 {
		t.Errorf("customer kb: %d %+v", code, eb)
	}
	if code, eb := s.call("engineer:alice", "GET", "/api/v1/kb", "", nil); code != 400 || !strings.Contains(eb.Message, "q") {
		t.Errorf("kb without q: %d %+v", code, eb)
	}
	var rep ticketing.KPIReport
	if code, eb := s.call("customer:acme", "GET", "/api/v1/kpis?from=2025-03-01&to=2025-04-01", "", &rep); code != 200 || rep.Customer != "acme" || rep.Tickets != 1 || rep.Satisfaction.Responses != 1 {
		t.Errorf("kpis = %d %+v %+v", code, eb, rep)
	}
	if code, _ := s.call("customer:acme", "GET", "/api/v1/kpis?customer=globex", "", nil); code != 403 {
		t.Errorf("acme reading globex kpis: %d", code)
	}
	if code, eb := s.call("manager:mia", "GET", "/api/v1/kpis?from=March", "", nil); code != 400 || !strings.Contains(eb.Message, "from") {
		t.Errorf("bad from: %d %+v", code, eb)
	}
	var ps ProblemsResponse
	if code, _ := s.call("manager:mia", "GET", "/api/v1/problems", "", &ps); code != 200 || ps.Problems == nil {
		t.Errorf("problems = %d %+v", code, ps)
	}
	if code, _ := s.call("customer:acme", "GET", "/api/v1/problems", "", nil); code != 403 {
		t.Errorf("customer problems: %d", code)
	}
}

func TestAPIIntakeNamesMissingField(t *testing.T) {
	s := newServer(t)
	for _, tc := range []struct{ body, field string }{
		{strings.Replace(intake, `"contact":"Li Wei",`, "", 1), `"contact"`},
		{strings.Replace(intake, `"symptom":"VPN drops",`, "", 1), `"symptom"`},
		{strings.Replace(intake, `"P2"`, `2`, 1), `"priority"`},
		{`{"customer":`, "invalid JSON"},
	} {
		code, eb := s.call("manager:mia", "POST", "/api/v1/tickets", tc.body, nil)
		if code != 400 || !strings.Contains(eb.Message, tc.field) {
			t.Errorf("%s: %d %+v, want 400 naming %s", tc.body, code, eb, tc.field)
		}
	}
	if code, eb := s.call("customer:globex", "POST", "/api/v1/tickets", intake, nil); code != 403 || !strings.Contains(eb.Message, "acme") {
		t.Errorf("globex opening for acme: %d %+v", code, eb)
	}
}

func TestTokens(t *testing.T) {
	if _, err := NewTokens(map[string]string{"root": "0123456789abcdefgh"}); err == nil || !strings.Contains(err.Error(), `"root"`) {
		t.Errorf("unknown role: %v", err)
	}
	if _, err := NewTokens(map[string]string{"customer": "0123456789abcdefgh"}); err == nil {
		t.Error("customer without id accepted")
	}
	_, err := NewTokens(map[string]string{"admin": "short-secret"})
	if err == nil || strings.Contains(err.Error(), "short-secret") {
		t.Errorf("short token: %v (must not echo the token)", err)
	}
	if _, err := NewTokens(map[string]string{"admin": "same-0123456789abc", "manager": "same-0123456789abc"}); err == nil {
		t.Error("duplicate tokens accepted")
	}

	m, err := GenerateTokens([]string{"acme", "globex"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 5 || m["admin"] == m["manager"] || len(m["customer:acme"]) < 40 {
		t.Errorf("generated = %v", m)
	}
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := WriteTokensFile(path, m); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("tokens.json mode = %v (%v), want 0600", fi.Mode(), err)
	}
	toks, err := LoadTokensFile(path)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+m["customer:globex"])
	if a, ok := toks.Authenticate(req); !ok || a.Customer != "globex" || a.Role != ticketing.RoleCustomer {
		t.Errorf("authenticate globex = %+v %v", a, ok)
	}
	req.Header.Set("Authorization", "bearer "+m["engineer"])
	if a, ok := toks.Authenticate(req); !ok || a.Name != "engineer" || a.Role != ticketing.RoleEngineer {
		t.Errorf("authenticate engineer = %+v %v", a, ok)
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// A client that lost the answer to POST /tickets retries with the same
// Idempotency-Key and gets the same ticket; the key with another request
// is refused; another person's same key is their own.
func TestCreateIdempotencyKey(t *testing.T) {
	s := newServer(t)
	post := func(role, key, body string) (*httptest.ResponseRecorder, ticketing.Ticket) {
		t.Helper()
		req := httptest.NewRequest("POST", "/api/v1/tickets", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tokens[role])
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, req)
		var tk ticketing.Ticket
		if rec.Code == 201 {
			json.Unmarshal(rec.Body.Bytes(), &tk)
		}
		return rec, tk
	}
	first, t1 := post("manager:mia", "retry-7f3a", intake)
	again, t2 := post("manager:mia", "retry-7f3a", intake)
	if first.Code != 201 || again.Code != 201 || t1.ID == "" || t2.ID != t1.ID {
		t.Fatalf("retry: %d %s then %d %s, want the same ticket twice", first.Code, t1.ID, again.Code, t2.ID)
	}
	if first.Header().Get("Idempotent-Replayed") != "" || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed: first %q, retry %q", first.Header().Get("Idempotent-Replayed"), again.Header().Get("Idempotent-Replayed"))
	}
	other, _ := post("manager:mia", "retry-7f3a", strings.Replace(intake, "VPN drops", "WAN down", 1))
	if other.Code != 409 || !strings.Contains(other.Body.String(), t1.ID) {
		t.Errorf("same key, other request: %d %s, want 409 naming %s", other.Code, other.Body, t1.ID)
	}
	if bad, _ := post("manager:mia", strings.Repeat("k", 300), intake); bad.Code != 400 {
		t.Errorf("a 300-character key: %d, want 400", bad.Code)
	}
	_, t3 := post("customer:acme", "retry-7f3a", intake)
	_, t4 := post("manager:mia", "", intake)
	if t3.ID == "" || t3.ID == t1.ID || t4.ID == "" || t4.ID == t1.ID {
		t.Errorf("another person's key or no key reused %s: %s %s", t1.ID, t3.ID, t4.ID)
	}
	var list struct{ Count int }
	s.call("manager:mia", "GET", "/api/v1/tickets", "", &list)
	if list.Count != 3 {
		t.Errorf("%d tickets, want 3", list.Count)
	}
}

// Staff notes are internal unless marked public; the customer's copy of
// the ticket never shows internal ones.
func TestInternalNotes(t *testing.T) {
	s := newServer(t)
	var tk ticketing.Ticket
	if code, eb := s.call("customer:acme", "POST", "/api/v1/tickets", intake, &tk); code != 201 {
		t.Fatalf("create: %d %+v", code, eb)
	}
	act := "/api/v1/tickets/" + tk.ID + "/actions/note"
	for _, c := range []struct {
		role, body string
		code       int
	}{
		{"engineer:alice", `{"note":"customer's modem firmware is 3 years old; root password is on the wiki"}`, 200},
		{"engineer:alice", `{"note":"we are looking at the tunnel now","visibility":"public"}`, 200},
		{"engineer:alice", `{"note":"x","visibility":"everyone"}`, 400},
		{"customer:acme", `{"note":"thanks, it drops every 5 minutes"}`, 200},
		{"customer:acme", `{"note":"secret","visibility":"internal"}`, 403},
	} {
		if code, eb := s.call(c.role, "POST", act, c.body, nil); code != c.code {
			t.Errorf("%s %s: %d %+v, want %d", c.role, c.body, code, eb, c.code)
		}
	}
	notes := func(role string) []string {
		var got ticketing.Ticket
		s.call(role, "GET", "/api/v1/tickets/"+tk.ID, "", &got)
		var out []string
		for _, e := range got.Timeline {
			if e.Kind == ticketing.KindNote {
				out = append(out, e.Note)
			}
		}
		return out
	}
	if staff := notes("engineer:alice"); len(staff) != 3 {
		t.Errorf("staff sees %d notes, want all 3: %q", len(staff), staff)
	}
	// Every entry a person made names their role beside their name.
	var full ticketing.Ticket
	s.call("manager:mia", "GET", "/api/v1/tickets/"+tk.ID, "", &full)
	for _, e := range full.Timeline {
		want := map[string]ticketing.Role{"alice": ticketing.RoleEngineer}[e.Actor]
		if strings.HasPrefix(e.Actor, "customer:") {
			want = ticketing.RoleCustomer
		}
		if want != "" && e.Role != want {
			t.Errorf("entry %d by %s: role %q, want %q", e.Seq, e.Actor, e.Role, want)
		}
	}
	cust := notes("customer:acme")
	if len(cust) != 2 || strings.Contains(strings.Join(cust, "|"), "root password") {
		t.Errorf("customer sees %q, want the public note and its own, never the internal one", cust)
	}
}
