package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

const confirmSecret = "test-confirm-secret"

// deviceCount is the inventory the test API reports availability against.
func deviceCount(customer, contract string) int {
	return map[string]int{"acme": 4, "globex": 2}[customer]
}

func TestAPIServiceModeActions(t *testing.T) {
	s := newServer(t)
	var tk ticketing.Ticket
	if code, e := s.call("manager:mia", "POST", "/api/v1/tickets", intake, &tk); code != 201 {
		t.Fatalf("intake: %d %+v", code, e)
	}
	path := "/api/v1/tickets/" + tk.ID + "/actions/"
	appt := s.clk.Now().Add(3 * time.Hour).Format(time.RFC3339)
	for _, c := range []struct {
		role, action, body string
		status             int
		want               string // in the error message
	}{
		{"customer:acme", "mode", `{"mode":"remote_login"}`, 403, "may not mode"},
		{"engineer:alice", "mode", `{"mode":"on_site"}`, 400, `"appointment_at"`},
		{"engineer:alice", "mode", `{"mode":"on_site","appointment_at":"tomorrow"}`, 400, `"appointment_at"`},
		{"engineer:alice", "arrive", `{}`, 409, "no on-site visit"},
		{"engineer:alice", "mode", `{"mode":"on_site","appointment_at":"` + appt + `"}`, 200, ""},
		{"manager:mia", "arrive", `{}`, 403, "may not arrive"},
		{"engineer:alice", "report", `{"work":"swapped PSU","signed_by":"Li Wei"}`, 409, "arrival"},
		{"engineer:alice", "arrive", `{}`, 200, ""},
		{"engineer:alice", "report", `{"work":"swapped PSU"}`, 400, `"signed_by"`},
		{"engineer:alice", "report", `{"signed_by":"Li Wei"}`, 400, `"work"`},
		{"engineer:alice", "report", `{"work":"swapped PSU","parts_replaced":"PWR-4430-AC","signed_by":"Li Wei"}`, 200, ""},
	} {
		var got ticketing.Ticket
		code, e := s.call(c.role, "POST", path+c.action, c.body, &got)
		if code != c.status || !strings.Contains(e.Message, c.want) {
			t.Fatalf("%s %s %s: %d %+v, want %d naming %s", c.role, c.action, c.body, code, e, c.status, c.want)
		}
	}
	var got ticketing.Ticket
	if code, _ := s.call("customer:acme", "GET", "/api/v1/tickets/"+tk.ID, "", &got); code != 200 {
		t.Fatalf("get: %d", code)
	}
	sv := got.Service
	if sv == nil || sv.Mode != ticketing.ModeOnSite || sv.AppointmentAt == nil || sv.AppointmentAt.Format(time.RFC3339) != appt ||
		sv.ArrivedBy != "alice" || sv.Report == nil || sv.Report.PartsReplaced != "PWR-4430-AC" || sv.Report.SignedBy != "Li Wei" {
		t.Errorf("service = %+v", sv)
	}
	if got.State != ticketing.StateInProgress {
		t.Errorf("state = %s, want in_progress after the arrival", got.State)
	}
}

// confirmReq asks for the confirmation link without any token.
func (s *server) confirmReq(method, path, body, contentType, accept string) *httptest.ResponseRecorder {
	s.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

func TestAPIConfirmLink(t *testing.T) {
	s := newServer(t)
	ctx := t.Context()
	open := func(dev, fp, customer string) ticketing.Signal {
		d := ticketing.DeviceContext{Name: dev, Customer: customer}
		return ticketing.Signal{Fingerprint: fp, Rule: "down", Firing: true, Category: "availability", Priority: "P2",
			Summary: dev + " <b>unreachable</b>", Device: d, At: s.clk.Now()}
	}
	sig := open("core-01", "fp-1", "acme")
	tk, _, err := s.svc.Ingest(ctx, sig)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := s.svc.Ingest(ctx, open("gx-01", "fp-2", "globex"))
	if err != nil {
		t.Fatal(err)
	}
	s.clk.Advance(10 * time.Minute)
	sig.Firing, sig.At = false, s.clk.Now()
	if _, _, err := s.svc.Ingest(ctx, sig); err != nil {
		t.Fatal(err)
	}
	token, _ := s.svc.ConfirmLink(tk)
	link := ticketing.ConfirmPathPrefix + token

	// Resolved but not verified: the page shows the summary, no button.
	rec := s.confirmReq("GET", link, "", "", "text/html")
	body := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(body, tk.ID) || strings.Contains(body, "<form") || !strings.Contains(body, "still being verified") {
		t.Fatalf("page before verification: %d %s", rec.Code, body)
	}
	if strings.Contains(body, "<b>unreachable</b>") || !strings.Contains(body, "&lt;b&gt;unreachable") {
		t.Errorf("the title is not escaped: %s", body)
	}
	if rec.Header().Get("Referrer-Policy") != "no-referrer" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("headers = %v", rec.Header())
	}
	if rec := s.confirmReq("POST", link, "note=ok", "application/x-www-form-urlencoded", ""); rec.Code != 409 {
		t.Errorf("confirm before verification: %d", rec.Code)
	}

	if code, e := s.call("engineer:alice", "POST", "/api/v1/tickets/"+tk.ID+"/actions/verify", "", nil); code != 200 {
		t.Fatalf("verify: %d %+v", code, e)
	}
	rec = s.confirmReq("GET", link, "", "", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `<form method="post">`) {
		t.Fatalf("page after verification: %d %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), secret.ID) {
		t.Errorf("the page names another ticket")
	}

	// Bad links: 404 or 410, never another ticket.
	otherTok, _ := s.svc.ConfirmLink(secret)
	forged := strings.Split(otherTok, ".")[0] + token[strings.Index(token, "."):]
	for _, c := range []struct {
		name, path string
		status     int
	}{
		{"garbage", ticketing.ConfirmPathPrefix + "nope", 404},
		{"another ticket's id", ticketing.ConfirmPathPrefix + forged, 404},
		{"truncated", link[:len(link)-3], 404},
	} {
		for _, method := range []string{"GET", "POST"} {
			rec := s.confirmReq(method, c.path, "", "", "application/json")
			var eb ErrorResponse
			_ = json.Unmarshal(rec.Body.Bytes(), &eb)
			if rec.Code != c.status || eb.Error.Message == "" || strings.Contains(rec.Body.String(), secret.ID) ||
				strings.Contains(rec.Body.String(), tk.ID) {
				t.Errorf("%s %s: %d %s", method, c.name, rec.Code, rec.Body)
			}
		}
	}

	rec = s.confirmReq("POST", link, url.Values{"note": {"works again"}}.Encode(), "application/x-www-form-urlencoded", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Thank you") {
		t.Fatalf("confirm: %d %s", rec.Code, rec.Body)
	}
	var got ticketing.Ticket
	if code, _ := s.call("customer:acme", "GET", "/api/v1/tickets/"+tk.ID, "", &got); code != 200 || got.State != ticketing.StateConfirmed {
		t.Fatalf("after confirming: %d %s", code, got.State)
	}
	if last := got.Timeline[len(got.Timeline)-1]; last.Actor != "customer:acme" || !strings.Contains(last.Note, "works again") {
		t.Errorf("confirm event = %+v", last)
	}
	if g, _ := s.svc.Get(ctx, secret.ID); g.State != ticketing.StateNew {
		t.Errorf("the other ticket changed: %s", g.State)
	}
	rec = s.confirmReq("POST", link, `{"note":"again"}`, "application/json", "application/json")
	if rec.Code != 409 || !strings.Contains(rec.Body.String(), "already been confirmed") {
		t.Errorf("confirming twice: %d %s", rec.Code, rec.Body)
	}

	s.clk.Advance(ticketing.DefaultConfirmTTL)
	rec = s.confirmReq("GET", link, "", "", "")
	if rec.Code != 410 || !strings.Contains(rec.Body.String(), "expired") {
		t.Errorf("expired link: %d %s", rec.Code, rec.Body)
	}
}

func TestAPIKPIAvailability(t *testing.T) {
	s := newServer(t)
	ctx := t.Context()
	start := s.clk.Now()
	sig := ticketing.Signal{Fingerprint: "fp", Rule: "down", Firing: true, Category: ticketing.CategoryAvailability, Priority: "P2",
		Summary: "core-01 down", Device: ticketing.DeviceContext{Name: "core-01", Customer: "acme"}, At: start}
	if _, _, err := s.svc.Ingest(ctx, sig); err != nil {
		t.Fatal(err)
	}
	s.clk.Advance(6 * time.Hour)
	sig.Firing, sig.At = false, s.clk.Now()
	if _, _, err := s.svc.Ingest(ctx, sig); err != nil {
		t.Fatal(err)
	}
	s.clk.Advance(48 * time.Hour)
	q := "?from=" + start.Format(time.RFC3339) + "&to=" + start.Add(24*time.Hour).Format(time.RFC3339)
	for role, want := range map[string]float64{
		"customer:acme": 1 - 6.0/(4*24), // the customer's own four devices
		"manager:mia":   1 - 6.0/(4*24),
	} {
		var rep ticketing.KPIReport
		target := "/api/v1/kpis" + q
		if role == "manager:mia" {
			target += "&customer=acme"
		}
		if code, e := s.call(role, "GET", target, "", &rep); code != 200 {
			t.Fatalf("%s: %d %+v", role, code, e)
		}
		if rep.Availability == nil || *rep.Availability != want || rep.DowntimeSeconds != 6*3600 {
			t.Errorf("%s: availability %v downtime %v, want %v", role, rep.Availability, rep.DowntimeSeconds, want)
		}
	}
}

func TestOpenAPIServedWithoutToken(t *testing.T) {
	s := newServer(t)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.yaml", nil))
	b, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK || string(b) != string(OpenAPI) || !strings.Contains(rec.Header().Get("Content-Type"), "yaml") {
		t.Errorf("GET openapi.yaml: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}
