package console

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/internal/testenv"
	"github.com/nocagent/nocagent/reports"
	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/httpapi"
	"github.com/nocagent/nocagent/ticketing/sqlite"
)

var tokens = map[string]string{
	"engineer:alice":  "alice-token-0123456789",
	"manager:mia":     "mia-token-0123456789ab",
	"customer:acme":   "acme-token-0123456789a",
	"customer:globex": "globex-token-012345678",
}

// env is a console over a real ticket service with one monitoring ticket
// for acme's core-01.
type env struct {
	srv    *httptest.Server
	svc    *ticketing.Service
	ticket ticketing.Ticket
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tickets.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := ticketing.New(store, ticketing.Options{Logger: slog.New(slog.DiscardHandler), Process: ticketing.ProcessConfig{
		Engineers: []ticketing.Engineer{{Name: "alice", Skills: []string{"*"}}}, Managers: []string{"mia"}}})
	if err != nil {
		t.Fatal(err)
	}
	tk, _, err := svc.Ingest(ctx, ticketing.Signal{Fingerprint: "fp-1", Rule: "device_unreachable", Firing: true,
		Category: "availability", Priority: "P1", Severity: "critical", Summary: "core-01 is unreachable", At: time.Now(),
		Device: ticketing.DeviceContext{Name: "core-01", Customer: "acme", Serial: "FOC1234X0AB", Model: "ISR4431"}})
	if err != nil {
		t.Fatal(err)
	}
	tk2, err := httpapi.NewTokens(tokens)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	New(svc, tk2, Options{}).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{srv: srv, svc: svc, ticket: tk}
}

// client is a browser-like client: cookies kept, redirects not followed.
func (e *env) client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (e *env) signIn(t *testing.T, c *http.Client, who string) {
	t.Helper()
	resp, err := c.PostForm(e.srv.URL+"/login", url.Values{"token": {tokens[who]}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in as %s: %d", who, resp.StatusCode)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == cookieName && (!ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode) {
			t.Errorf("session cookie %+v: want HttpOnly and SameSite=Strict", ck)
		}
	}
}

func TestSignInQueueTicketAndAct(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	resp, err := c.Get(e.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("queue without a session: %d to %q, want the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	bad, _ := c.PostForm(e.srv.URL+"/login", url.Values{"token": {"nope-nope-nope-nope"}})
	if b := body(t, bad); bad.StatusCode != http.StatusUnauthorized || !strings.Contains(b, "not valid") {
		t.Errorf("wrong token: %d", bad.StatusCode)
	}
	e.signIn(t, c, "engineer:alice")
	resp, _ = c.Get(e.srv.URL + "/")
	q := body(t, resp)
	if !strings.Contains(q, e.ticket.ID) || !strings.Contains(q, "<title>(1) Queue") || !strings.Contains(q, "core-01 is unreachable") {
		t.Fatalf("queue page lacks the ticket or the count:\n%s", q)
	}
	resp, _ = c.Get(e.srv.URL + "/tickets/" + e.ticket.ID)
	page := body(t, resp)
	for _, want := range []string{"FOC1234X0AB", "ISR4431", `value="ack"`, "Resolution:"} {
		if !strings.Contains(page, want) {
			t.Errorf("ticket page lacks %q", want)
		}
	}
	if strings.Contains(page, `value="close"`) {
		t.Error("an engineer is offered close (managers only)")
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatal("no CSRF token in the ticket page's forms")
	}
	act := e.srv.URL + "/tickets/" + e.ticket.ID + "/act"
	forged, _ := c.PostForm(act, url.Values{"action": {"ack"}})
	if body(t, forged); forged.StatusCode != http.StatusForbidden {
		t.Errorf("action without the CSRF token: %d, want 403", forged.StatusCode)
	}
	ok, _ := c.PostForm(act, url.Values{"action": {"ack"}, "csrf": {csrf[1]}})
	body(t, ok)
	if ok.StatusCode != http.StatusSeeOther {
		t.Fatalf("ack: %d", ok.StatusCode)
	}
	note, _ := c.PostForm(act, url.Values{"action": {"note"}, "csrf": {csrf[1]}, "note": {"root password is on the wiki"}})
	body(t, note)
	got, _ := e.svc.Get(context.Background(), e.ticket.ID)
	var kinds []string
	for _, ev := range got.Timeline {
		if ev.Actor == "alice" {
			kinds = append(kinds, string(ev.Kind))
		}
	}
	// A note on an acknowledged ticket starts the work.
	if got.State != ticketing.StateInProgress || strings.Join(kinds, ",") != "acknowledged,note,state_changed" {
		t.Errorf("after the console's ack and note: state %s, alice's entries %v", got.State, kinds)
	}

	// The customer sees its ticket without the internal note, and another
	// customer does not see it at all.
	acme := e.client(t)
	e.signIn(t, acme, "customer:acme")
	resp, _ = acme.Get(e.srv.URL + "/tickets/" + e.ticket.ID)
	if p := body(t, resp); resp.StatusCode != http.StatusOK || strings.Contains(p, "root password") || strings.Contains(p, `value="ack"`) {
		t.Errorf("acme's view: %d, internal note or staff action shown", resp.StatusCode)
	}
	globex := e.client(t)
	e.signIn(t, globex, "customer:globex")
	resp, _ = globex.Get(e.srv.URL + "/tickets/" + e.ticket.ID)
	if body(t, resp); resp.StatusCode != http.StatusNotFound {
		t.Errorf("globex's view of acme's ticket: %d, want 404", resp.StatusCode)
	}

	// Scripts use the API's bearer token.
	req, _ := http.NewRequest("GET", e.srv.URL+"/", nil)
	req.Header.Set("Authorization", "Bearer "+tokens["manager:mia"])
	resp, _ = http.DefaultClient.Do(req)
	if b := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, e.ticket.ID) {
		t.Errorf("queue with a bearer token: %d", resp.StatusCode)
	}
	// The sign-in page never sends anyone off-site.
	if safeNext("//evil.example/x") != "/" || safeNext("https://evil.example") != "/" || safeNext("/tickets/NOC-1") != "/tickets/NOC-1" {
		t.Error("safeNext lets an off-site redirect through")
	}
}

// The queue renders in headless Chromium without console errors (a
// blocked style or a broken tag shows there).
func TestQueueInChromium(t *testing.T) {
	testenv.Command(t, "chromium", "chromium")
	e := newEnv(t)
	// Chromium's command line cannot sign in: a proxy adds the bearer
	// token a script would send.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequest(r.Method, e.srv.URL+r.URL.RequestURI(), r.Body)
		req.Header.Set("Authorization", "Bearer "+tokens["engineer:alice"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	bin, err := reports.Chromium()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append(reports.ChromiumFlags(t.TempDir()), "--enable-logging=stderr", "--v=0", "--dump-dom", proxy.URL+"/tickets/"+e.ticket.ID)
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(out.String(), "FOC1234X0AB") || !strings.Contains(out.String(), "Acknowledge") {
		t.Errorf("chromium's DOM of the ticket page lacks the serial or the actions:\n%.2000s", out.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("console message: %s", line)
		}
	}
}
