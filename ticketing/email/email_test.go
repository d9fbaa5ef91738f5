package email

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/sqlite"
)

const password = "pa55-w0rd-s3cret"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var t0 = time.Date(2026, 3, 2, 1, 14, 0, 0, time.UTC)

func openedNotice() ticketing.Notice {
	return ticketing.Notice{
		Event: ticketing.KindOpened, EventID: "NOC-000042:1", At: t0, Actor: ticketing.ActorMonitoring,
		Ticket: ticketing.Ticket{
			ID: "NOC-000042", Title: "core-sw-1: device unreachable", Priority: ticketing.P1,
			State: ticketing.StateNew, Category: "availability", OpenedAt: t0,
			Device: ticketing.DeviceContext{Name: "core-sw-1", Site: "sha", SiteName: "上海总部", Customer: "acme", CustomerName: "Acme"},
			ImpactedDevices: []ticketing.ImpactedDevice{
				{Name: "acc-sw-7", Customer: "acme"}, {Name: "gx-rtr-1", Customer: "globex"},
			},
			ImpactedCustomers: []string{"acme", "globex"},
		},
	}
}

func outbox(t *testing.T, n ticketing.Notice) ticketing.OutboxMessage {
	t.Helper()
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return ticketing.OutboxMessage{TicketID: n.Ticket.ID, EventID: n.EventID, Kind: n.Event, Channel: "email", Payload: b}
}

func baseConfig(addr string) Config {
	return Config{
		Addr: addr, From: "NOC 值班 <noc@example.net>",
		Audiences: []string{Staff, Customers},
		AddressBook: map[string][]string{
			DefaultKey:        {"noc@example.net"},
			"engineer:alice":  {"alice@example.net"},
			"manager:mia":     {"Mia <mia@example.net>"},
			"customer:acme":   {"ops@acme.example", "it@acme.example"},
			"customer:globex": {"noc@globex.example"},
		},
		Languages: map[string]string{"customer:acme": "zh-CN"},
	}
}

// parsed is one received message taken apart as a mail reader would.
type parsed struct {
	header      mail.Header
	subject     string
	text, html  string
	contentType string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, raw)
	}
	p := parsed{header: m.Header}
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("subject does not decode: %v", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // undoes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(part)
		switch cte := part.Header.Get("Content-Transfer-Encoding"); cte {
		case "": // quoted-printable, already undone by the reader
		case "base64":
			if body, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\r\n", "")); err != nil {
				t.Fatalf("base64 part: %v", err)
			}
		default:
			t.Fatalf("transfer encoding %q", cte)
		}
		switch ct := part.Header.Get("Content-Type"); ct {
		case "text/plain; charset=UTF-8":
			p.text = string(body)
		case "text/html; charset=UTF-8":
			p.html = string(body)
		default:
			t.Errorf("unexpected part %q", ct)
		}
	}
	return p
}

func TestSendOverSTARTTLSWithAuth(t *testing.T) {
	srvTLS, cliTLS := selfSigned(t)
	mb := startMailbox(t, serverOpts{tls: srvTLS, user: "noc", pass: password})
	cfg := baseConfig(mb.Addr)
	cfg.Username, cfg.PasswordEnv = "noc", "TEST_SMTP_PASSWORD"
	t.Setenv("TEST_SMTP_PASSWORD", password)
	s, err := New(cfg, Options{TLSConfig: cliTLS, Logger: quiet, LocalName: "agent.test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), outbox(t, openedNotice())); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := mb.received()
	if len(got) != 3 {
		t.Fatalf("server got %d messages, want 3 (staff, acme, globex)", len(got))
	}
	type want struct {
		to          []string
		subject     string
		messageID   string
		text, html  string
		notInBodies string
	}
	wants := []want{
		{[]string{"noc@example.net"}, "[P1] NOC-000042 opened: core-sw-1: device unreachable",
			"<NOC-000042.1.engineer.en@example.net>", "Impacted devices: 2 down, 0 recovered", "<th", ""},
		{[]string{"ops@acme.example", "it@acme.example"}, "【故障通知】上海总部 core-sw-1 发生故障（NOC-000042）",
			"<NOC-000042.1.customer.acme.zh-CN@example.net>", "尊敬的Acme：", "<li>acc-sw-7</li>", "gx-rtr-1"},
		{[]string{"noc@globex.example"}, "Service disruption affecting one of your devices [NOC-000042]",
			"<NOC-000042.1.customer.globex.en@example.net>", "upstream", "<li>gx-rtr-1</li>", "core-sw-1"},
	}
	for i, w := range wants {
		r := got[i]
		if r.From != "noc@example.net" || !slices.Equal(r.To, w.to) {
			t.Errorf("message %d envelope %s -> %v, want noc@example.net -> %v", i, r.From, r.To, w.to)
		}
		if !r.TLS || r.Authed != "noc" {
			t.Errorf("message %d: tls=%v authed=%q, want STARTTLS and AUTH as noc", i, r.TLS, r.Authed)
		}
		p := parse(t, r.Data)
		if p.subject != w.subject {
			t.Errorf("message %d subject %q, want %q", i, p.subject, w.subject)
		}
		for h, v := range map[string]string{
			"Message-ID": w.messageID, "X-Nocagent-Event-Id": "NOC-000042:1", "X-Nocagent-Ticket": "NOC-000042",
			"References": "<NOC-000042@example.net>", "Auto-Submitted": "auto-generated", "MIME-Version": "1.0",
		} {
			if got := p.header.Get(h); got != v {
				t.Errorf("message %d %s = %q, want %q", i, h, got, v)
			}
		}
		from, err := p.header.AddressList("From")
		if err != nil || len(from) != 1 || from[0].Name != "NOC 值班" || from[0].Address != "noc@example.net" {
			t.Errorf("message %d From = %v (%v)", i, from, err)
		}
		to, err := p.header.AddressList("To")
		if err != nil || len(to) != len(w.to) {
			t.Errorf("message %d To = %v (%v), want %v", i, to, err, w.to)
		}
		if d, err := p.header.Date(); err != nil || !d.Equal(t0) {
			t.Errorf("message %d Date = %v (%v), want the event time", i, d, err)
		}
		if !strings.Contains(p.text, w.text) || !strings.Contains(p.html, w.html) {
			t.Errorf("message %d: text lacks %q or html lacks %q:\n%s\n%s", i, w.text, w.html, p.text, p.html)
		}
		if w.notInBodies != "" && (strings.Contains(p.text, w.notInBodies) || strings.Contains(p.html, w.notInBodies)) {
			t.Errorf("message %d names %q, which belongs to another customer", i, w.notInBodies)
		}
		for _, line := range strings.Split(string(r.Data), "\r\n") {
			if len(line) > 998 {
				t.Errorf("message %d has a %d-octet line", i, len(line))
			}
		}
	}
	// A re-send (the dispatcher retrying after a lost acknowledgement) is
	// recognisable: the same Message-ID.
	if err := s.Send(context.Background(), outbox(t, openedNotice())); err != nil {
		t.Fatal(err)
	}
	again := mb.received()
	if len(again) != 6 || parse(t, again[3].Data).header.Get("Message-ID") != wants[0].messageID {
		t.Errorf("re-send: %d messages; want the same Message-ID again", len(again))
	}
}

func TestPlan(t *testing.T) {
	s, err := New(baseConfig("127.0.0.1:25"), Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	staffOnly, _ := New(Config{Addr: "127.0.0.1:25", From: "noc@example.net", AddressBook: baseConfig("").AddressBook}, Options{Logger: quiet})
	customersOnly, _ := New(Config{Addr: "127.0.0.1:25", From: "noc@example.net", Audiences: []string{Customers}, AddressBook: map[string][]string{"customer:acme": {"ops@acme.example"}}}, Options{Logger: quiet})
	noDefault, _ := New(Config{Addr: "127.0.0.1:25", From: "noc@example.net", AddressBook: map[string][]string{"engineer:alice": {"alice@example.net"}}}, Options{Logger: quiet})
	with := func(kind ticketing.EventKind, recipients ...string) ticketing.Notice {
		n := openedNotice()
		n.Event, n.Recipients = kind, recipients
		return n
	}
	tests := []struct {
		name    string
		s       *Sender
		n       ticketing.Notice
		want    []Letter
		wantErr bool
	}{
		{"assigned to alice", s, with(ticketing.KindAssigned, "engineer:alice"),
			[]Letter{{"engineer", "en", []string{"alice@example.net"}}}, false},
		{"escalated to managers and an unknown tier", s, with(ticketing.KindEscalated, "manager:mia", "tier:L2"),
			[]Letter{{"manager", "en", []string{"Mia <mia@example.net>"}}, {"engineer", "en", []string{"noc@example.net"}}}, false},
		{"two keys, one mailbox, once", s, with(ticketing.KindReminder, "tier:L1", "tier:L2"),
			[]Letter{{"engineer", "en", []string{"noc@example.net"}}}, false},
		{"resolved reaches staff and customers", s, with(ticketing.KindResolved),
			[]Letter{{"engineer", "en", []string{"noc@example.net"}}, {"customer:acme", "zh-CN", []string{"ops@acme.example", "it@acme.example"}}, {"customer:globex", "en", []string{"noc@globex.example"}}}, false},
		{"staff only ignores customers", staffOnly, with(ticketing.KindOpened),
			[]Letter{{"engineer", "en", []string{"noc@example.net"}}}, false},
		{"customers only: internal event sends nothing", customersOnly, with(ticketing.KindEscalated, "manager:mia"), nil, false},
		{"customers only: one customer has no entry", customersOnly, with(ticketing.KindOpened),
			[]Letter{{"customer:acme", "en", []string{"ops@acme.example"}}}, false},
		{"nobody to reach is an error to retry", noDefault, with(ticketing.KindOpened), nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.s.Plan(tc.n)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("letters %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i].Audience != tc.want[i].Audience || got[i].Lang != tc.want[i].Lang || !slices.Equal(got[i].To, tc.want[i].To) {
					t.Errorf("letter %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestSendFailuresKeepThePasswordOut(t *testing.T) {
	srvTLS, cliTLS := selfSigned(t)
	pwFile := filepath.Join(t.TempDir(), "smtp.pass")
	if err := os.WriteFile(pwFile, []byte("wrong-"+password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		server serverOpts
		cfg    func(*Config)
		want   string
	}{
		{"no STARTTLS: no password in clear", serverOpts{user: "noc", pass: password}, func(c *Config) {
			c.Username, c.PasswordFile = "noc", pwFile
		}, "refusing to send the password over an unencrypted connection"},
		{"wrong password", serverOpts{tls: srvTLS, user: "noc", pass: password}, func(c *Config) {
			c.Username, c.PasswordFile = "noc", pwFile
		}, "AUTH"},
		{"tls required but not offered", serverOpts{}, func(c *Config) { c.TLS = TLSRequired }, "does not offer STARTTLS"},
		{"server wants auth", serverOpts{tls: srvTLS, user: "noc", pass: password}, func(*Config) {}, "MAIL FROM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mb := startMailbox(t, tc.server)
			cfg := baseConfig(mb.Addr)
			tc.cfg(&cfg)
			s, err := New(cfg, Options{TLSConfig: cliTLS, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), outbox(t, openedNotice()))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), password) || !strings.Contains(err.Error(), mb.Addr) {
				t.Errorf("err = %v: must name the server and never the password", err)
			}
			if n := len(mb.received()); n != 0 {
				t.Errorf("server accepted %d messages", n)
			}
		})
	}
}

func TestSendHonoursContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts and never greets
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s, err := New(baseConfig(ln.Addr().String()), Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, outbox(t, openedNotice()))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %v, want deadline exceeded promptly", err, time.Since(start))
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"addr", Config{Addr: "smtp.example.net", From: "noc@example.net"}, "email addr"},
		{"from", Config{Addr: "h:25", From: "not an address"}, "email from"},
		{"tls", Config{Addr: "h:25", From: "noc@example.net", TLS: "ssl"}, "email tls"},
		{"audience", Config{Addr: "h:25", From: "noc@example.net", Audiences: []string{"everyone"}}, "email audiences"},
		{"address book", Config{Addr: "h:25", From: "noc@example.net", AddressBook: map[string][]string{"default": {"nobody"}}}, "address_book: default"},
		{"no password", Config{Addr: "h:25", From: "noc@example.net", Username: "noc", PasswordEnv: "NOCAGENT_TEST_UNSET_VAR"}, "password"},
		{"missing password file", Config{Addr: "h:25", From: "noc@example.net", Username: "noc", PasswordFile: "/nonexistent/pw"}, "password_file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestEncodeSubjectFolds(t *testing.T) {
	long := strings.Repeat("故障通知", 20)
	enc := encodeSubject(long)
	for _, line := range strings.Split(enc, "\r\n") {
		if len(line) > 78 {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
	}
	dec, err := new(mime.WordDecoder).DecodeHeader(strings.ReplaceAll(enc, "\r\n", ""))
	if err != nil || dec != long {
		t.Errorf("decodes to %q (%v)", dec, err)
	}
	if got := encodeSubject("plain ascii"); got != "plain ascii" {
		t.Errorf("ASCII subject encoded: %q", got)
	}
}

// TestDispatcherDeliversOnceServerComesUp runs the real chain: a ticket
// opened on a SQLite store queues a notice, the SMTP server is down, the
// dispatcher backs off, the server comes up, and the notice arrives exactly
// once, also across a dispatcher restart.
func TestDispatcherDeliversOnceServerComesUp(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tickets.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := t0
	clock := func() time.Time { return now }
	svc := ticketing.NewService(store, ticketing.Options{Now: clock, Logger: quiet, Channels: []string{"email"}})
	_, _, err = svc.Ingest(ctx, ticketing.Signal{
		Fingerprint: "fp-1", Rule: "device_unreachable", Firing: true, Category: "availability", Priority: "P1",
		Summary: "core-sw-1 does not answer SNMP", At: now,
		Device: ticketing.DeviceContext{Name: "core-sw-1", Customer: "acme", CustomerName: "Acme", SiteName: "HQ"},
	})
	if err != nil {
		t.Fatal(err)
	}

	// A port that nothing listens on yet.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	s, err := New(baseConfig(addr), Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	newDispatcher := func() *ticketing.Dispatcher {
		return ticketing.NewDispatcher(store, map[string]ticketing.Sender{"email": s}, ticketing.DispatcherOptions{
			Now: clock, Logger: quiet, MinBackoff: time.Minute, MaxBackoff: 10 * time.Minute,
			SendTimeout: 5 * time.Second, Rand: func() float64 { return 0 },
		})
	}
	d := newDispatcher()
	if n, err := d.DeliverDue(ctx); err != nil || n != 0 {
		t.Fatalf("server down: delivered %d (%v), want 0", n, err)
	}
	due, _ := store.DueOutbox(ctx, now.Add(time.Hour), 10)
	if len(due) != 1 || due[0].Attempts != 1 || !strings.Contains(due[0].LastError, "connect") {
		t.Fatalf("after the failure: %+v, want one message, attempts 1, a connect error", due)
	}

	mb := startMailbox(t, serverOpts{addr: addr})
	// Up, but the backoff (min 1m, jitter 0 → 30s) has not passed.
	now = now.Add(10 * time.Second)
	if n, _ := d.DeliverDue(ctx); n != 0 || len(mb.received()) != 0 {
		t.Fatalf("sent before the backoff expired")
	}
	now = now.Add(time.Minute)
	if n, err := d.DeliverDue(ctx); err != nil || n != 1 {
		t.Fatalf("server up: delivered %d (%v), want 1", n, err)
	}
	// A restarted dispatcher finds nothing left to send.
	now = now.Add(time.Hour)
	if n, err := newDispatcher().DeliverDue(ctx); err != nil || n != 0 {
		t.Fatalf("after restart delivered %d (%v), want 0", n, err)
	}
	got := mb.received()
	if len(got) != 2 { // staff and the customer acme
		t.Fatalf("server got %d messages, want 2 (staff + acme)", len(got))
	}
	ids := map[string]bool{}
	for _, r := range got {
		p := parse(t, r.Data)
		ids[p.header.Get("Message-ID")] = true
		if p.header.Get("X-Nocagent-Event-Id") != "NOC-000001:1" {
			t.Errorf("event id header %q", p.header.Get("X-Nocagent-Event-Id"))
		}
	}
	if len(ids) != 2 {
		t.Errorf("Message-IDs %v, want two distinct", ids)
	}
	if b, _ := d.Backlog(ctx); b != 0 {
		t.Errorf("backlog %d after delivery", b)
	}
}
