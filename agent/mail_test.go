package agent

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/plugins/jira/jiratest"
	"github.com/nocagent/nocagent/ticketing"
)

// inbox is a real SMTP server on loopback that keeps what it accepted.
type inbox struct {
	mu   sync.Mutex
	msgs []string // "to|data"
}

type inboxSession struct {
	in *inbox
	to []string
}

func (s *inboxSession) AuthPlain(string, string) error       { return nil }
func (s *inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *inboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.in.mu.Lock()
	s.in.msgs = append(s.in.msgs, strings.Join(s.to, ",")+"|"+string(b))
	s.in.mu.Unlock()
	return nil
}
func (s *inboxSession) Reset()        { s.to = nil }
func (s *inboxSession) Logout() error { return nil }

func startInbox(t *testing.T) (*inbox, string) {
	t.Helper()
	in := &inbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &inboxSession{in: in}, nil }))
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return in, ln.Addr().String()
}

// An inspection's report goes by email to the contract's recipients, and
// ticket notices go out by email too.
func TestInspectionReportMailed(t *testing.T) {
	in, addr := startInbox(t)
	h := newHarness(t)
	h.cfg.Notifiers = append(h.cfg.Notifiers, inventory.Notifier{Name: "mail", Kind: "email", SMTP: addr,
		From: "NOC <noc@example.com>", TLS: "none", AddressBook: map[string][]string{"default": {"noc@example.com"}}})
	h.start()
	// Last month's service reports are made at start, archived and mailed.
	h.eventually(10*time.Second, "last month's service report mailed", func() bool {
		in.mu.Lock()
		defer in.mu.Unlock()
		for _, m := range in.msgs {
			if strings.HasPrefix(m, "alice.chen@acme.example|") && strings.Contains(m, "X-Nocagent-Event-Id: service-ACME-2026-001-") {
				return true
			}
		}
		return false
	})
	month := time.Now().UTC().AddDate(0, 0, -time.Now().UTC().Day()+1).AddDate(0, -1, 0).Format("2006-01")
	for _, c := range []string{"ACME-2026-001", "GLX-2026-007"} {
		h.eventually(10*time.Second, "the service report of "+c+" archived", func() bool {
			_, err := os.Stat(filepath.Join(h.dir, "reports", c, "service-"+month+"-en.html"))
			return err == nil
		})
	}
	h.eventually(10*time.Second, "acme devices polled", func() bool {
		var d deviceView
		h.get("/api/v1/devices/acme-acc-3", &d)
		return d.Reachable
	})
	req, _ := http.NewRequest("POST", "http://"+h.addr+"/api/v1/contracts/ACME-2026-001/inspections", nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("inspection: %d", resp.StatusCode)
	}
	h.eventually(10*time.Second, "the report in the customer's mailbox", func() bool {
		in.mu.Lock()
		defer in.mu.Unlock()
		for _, m := range in.msgs {
			if strings.HasPrefix(m, "alice.chen@acme.example|") && strings.Contains(m, "X-Nocagent-Event-Id: inspection-") && strings.Contains(m, "text/html") {
				return true
			}
		}
		return false
	})
}

// Tickets go to a Jira through the jira sink plugin from the outbox, and
// what people do there comes back onto the ticket.
func TestITSMSink(t *testing.T) {
	fake := jiratest.New(t, "Bearer itsm-token-123")
	h := newHarness(t)
	cfgFile := filepath.Join(h.dir, "jira.json")
	os.WriteFile(cfgFile, []byte(`{"base_url":"`+fake.URL+`","project_key":"NOC","auth":{"token":"itsm-token-123"}}`), 0o600)
	h.cfg.Plugins = &inventory.Plugins{ConfigFiles: map[string]string{"jira": cfgFile}}
	h.cfg.Notifiers = append(h.cfg.Notifiers, inventory.Notifier{Name: "customer-jira", Kind: "itsm", Plugin: "jira"})
	h.start()
	sw, _ := h.sim.Device("globex-sw-1")
	h.eventually(10*time.Second, "globex-sw-1 polled", func() bool {
		var d deviceView
		h.get("/api/v1/devices/globex-sw-1", &d)
		return d.Reachable
	})
	if err := h.sim.InjectFault("globex-sw-1", snmpsim.Fault{Kind: "link-down", IfIndex: sw.UplinkIfIndex}); err != nil {
		t.Fatal(err)
	}
	tk := ticketing.Ticket{}
	h.eventually(10*time.Second, "a ticket for globex-sw-1", func() bool {
		got := h.tickets("device=globex-sw-1")
		if len(got) == 1 {
			tk = got[0]
		}
		return len(got) == 1
	})
	key := ""
	h.eventually(10*time.Second, "the ticket pushed to Jira with the device's serial", func() bool {
		for i := 1; i <= 5; i++ {
			is := fake.Issue(fmt.Sprintf("NOC-%d", i))
			if strings.Contains(is.Summary, tk.ID) && strings.Contains(fmt.Sprint(is), sw.Serial) {
				key = is.Key
				return true
			}
		}
		return false
	})
	// A person takes it in Jira; the next pull acknowledges it here.
	at := fake.HumanMove(key, "Work in progress")
	os.WriteFile(filepath.Join(h.dir, "sink-jira.since"), []byte(at.Add(-time.Minute).Format(time.RFC3339Nano)), 0o600)
	h.agent.pullSink(context.Background(), "jira")
	var got ticketing.Ticket
	h.get("/api/v1/tickets/"+tk.ID, &got)
	if got.State != ticketing.StateAcknowledged {
		t.Errorf("after the change in Jira: state %s, timeline %+v", got.State, got.Timeline)
	}
}
