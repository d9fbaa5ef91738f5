package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/sqlite"
)

// newAPI serves a real service on a real SQLite file holding three tickets:
// NOC-000001 (r1, acme, P1, open), NOC-000002 (r2, acme, P3, resolved),
// NOC-000003 (r3, globex, P3, open).
func newAPI(t *testing.T) http.Handler {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tickets.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	now := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	svc := ticketing.NewService(store, ticketing.Options{Now: func() time.Time { return now }})
	for _, s := range []struct{ fp, dev, customer, prio string }{
		{"a", "r1", "acme", "P1"}, {"b", "r2", "acme", "P3"}, {"c", "r3", "globex", "P3"},
	} {
		sig := ticketing.Signal{Fingerprint: s.fp, Rule: "if-down", Firing: true, Category: "link", Priority: s.prio,
			Summary: s.dev + " link down", Device: ticketing.DeviceContext{Name: s.dev, Customer: s.customer}}
		if _, _, err := svc.Ingest(ctx, sig); err != nil {
			t.Fatal(err)
		}
	}
	clear := ticketing.Signal{Fingerprint: "b", Category: "link", Device: ticketing.DeviceContext{Name: "r2"}}
	if _, _, err := svc.Ingest(ctx, clear); err != nil {
		t.Fatal(err)
	}
	return NewHandler(svc, slog.New(slog.DiscardHandler))
}

func do(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestListTickets(t *testing.T) {
	h := newAPI(t)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"NOC-000003", "NOC-000002", "NOC-000001"}},
		{"?state=resolved", []string{"NOC-000002"}},
		{"?priority=P3", []string{"NOC-000003", "NOC-000002"}},
		{"?customer=acme", []string{"NOC-000002", "NOC-000001"}},
		{"?device=r3", []string{"NOC-000003"}},
		{"?open=true", []string{"NOC-000003", "NOC-000001"}},
		{"?open=true&customer=acme&priority=P1", []string{"NOC-000001"}},
		{"?open=false", []string{"NOC-000003", "NOC-000002", "NOC-000001"}},
		{"?limit=2", []string{"NOC-000003", "NOC-000002"}},
		{"?customer=initech", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			rec := do(t, h, http.MethodGet, "/api/v1/tickets"+tc.query)
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, content-type %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			var resp struct {
				Tickets []map[string]any `json:"tickets"`
				Count   int              `json:"count"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("decode %s: %v", rec.Body, err)
			}
			ids := []string{}
			for _, tk := range resp.Tickets {
				ids = append(ids, tk["id"].(string))
				if _, ok := tk["timeline"]; ok {
					t.Errorf("%s: list carries a timeline", tk["id"])
				}
			}
			if !reflect.DeepEqual(ids, tc.want) || resp.Count != len(tc.want) {
				t.Errorf("ids = %v (count %d), want %v", ids, resp.Count, tc.want)
			}
		})
	}
}

func TestGetTicketWithTimeline(t *testing.T) {
	h := newAPI(t)
	rec := do(t, h, http.MethodGet, "/api/v1/tickets/NOC-000002")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var tk ticketing.Ticket
	if err := json.Unmarshal(rec.Body.Bytes(), &tk); err != nil {
		t.Fatal(err)
	}
	if tk.ID != "NOC-000002" || tk.State != ticketing.StateResolved || tk.Device.Name != "r2" {
		t.Errorf("ticket = %+v", tk)
	}
	if len(tk.Timeline) != 2 || tk.Timeline[0].Kind != ticketing.KindOpened || tk.Timeline[1].Kind != ticketing.KindResolved {
		t.Errorf("timeline = %+v, want opened, resolved", tk.Timeline)
	}
}

func TestErrors(t *testing.T) {
	h := newAPI(t)
	tests := []struct {
		target string
		status int
		body   string
	}{
		{"/api/v1/tickets/NOC-000009", 404,
			`{"error":{"code":"not_found","message":"ticket NOC-000009 not found"}}`},
		{"/api/v1/tickets?state=open", 400,
			`{"error":{"code":"invalid","message":"invalid value \"open\" for parameter state: want one of new, acknowledged, in_progress, resolved, verified, confirmed, closed, cancelled"}}`},
		{"/api/v1/tickets?priority=urgent", 400,
			`{"error":{"code":"invalid","message":"invalid value \"urgent\" for parameter priority: want one of P1, P2, P3, P4"}}`},
		{"/api/v1/tickets?open=yes", 400,
			`{"error":{"code":"invalid","message":"invalid value \"yes\" for parameter open: want true or false"}}`},
		{"/api/v1/tickets?limit=0", 400,
			`{"error":{"code":"invalid","message":"invalid value \"0\" for parameter limit: want an integer in 1..1000"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			rec := do(t, h, http.MethodGet, tc.target)
			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d", rec.Code, tc.status)
			}
			if got := strings.TrimSpace(rec.Body.String()); got != tc.body {
				t.Errorf("body = %s\nwant   %s", got, tc.body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("content-type = %q", ct)
			}
		})
	}
	if rec := do(t, h, http.MethodPost, "/api/v1/tickets"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST status = %d, want 405", rec.Code)
	}
}

// fakeTickets is a Tickets whose behaviour each test sets.
type fakeTickets struct {
	get  func(ctx context.Context, id string) (ticketing.Ticket, error)
	list func(ctx context.Context, f ticketing.Filter) ([]ticketing.Ticket, error)
}

func (f fakeTickets) Get(ctx context.Context, id string) (ticketing.Ticket, error) {
	return f.get(ctx, id)
}
func (f fakeTickets) List(ctx context.Context, fl ticketing.Filter) ([]ticketing.Ticket, error) {
	return f.list(ctx, fl)
}

func TestInternalErrorsAreHidden(t *testing.T) {
	var logs bytes.Buffer
	secret := errors.New("open /var/lib/nocagent/tickets.db: disk I/O error")
	fake := fakeTickets{
		get: func(context.Context, string) (ticketing.Ticket, error) { return ticketing.Ticket{}, secret },
		list: func(context.Context, ticketing.Filter) ([]ticketing.Ticket, error) {
			return nil, &ticketing.Error{Code: ticketing.EINTERNAL, Message: "sql: database is locked"}
		},
	}
	h := NewHandler(fake, slog.New(slog.NewTextHandler(&logs, nil)))
	for _, target := range []string{"/api/v1/tickets/NOC-000001", "/api/v1/tickets"} {
		rec := do(t, h, http.MethodGet, target)
		want := `{"error":{"code":"internal","message":"internal error"}}`
		if rec.Code != 500 || strings.TrimSpace(rec.Body.String()) != want {
			t.Errorf("%s: %d %s, want 500 %s", target, rec.Code, rec.Body, want)
		}
	}
	for _, detail := range []string{"disk I/O error", "database is locked"} {
		if !strings.Contains(logs.String(), detail) {
			t.Errorf("log lacks %q: %s", detail, logs.String())
		}
	}
}

func TestListPassesFilter(t *testing.T) {
	var got ticketing.Filter
	fake := fakeTickets{list: func(_ context.Context, f ticketing.Filter) ([]ticketing.Ticket, error) {
		got = f
		return nil, nil
	}}
	rec := do(t, NewHandler(fake, nil), http.MethodGet,
		"/api/v1/tickets?state=in_progress&priority=P2&customer=acme%20corp&affecting=globex&device=core-01&open=true&limit=5")
	want := ticketing.Filter{State: ticketing.StateInProgress, Priority: ticketing.P2, Customer: "acme corp", Affecting: "globex",
		Device: "core-01", Open: true, Limit: 5}
	if got != want {
		t.Errorf("filter = %+v, want %+v", got, want)
	}
	if body := strings.TrimSpace(rec.Body.String()); body != `{"tickets":[],"count":0}` {
		t.Errorf("empty list body = %s", body)
	}
}
