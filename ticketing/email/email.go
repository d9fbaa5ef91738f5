// Package email delivers ticket notices over SMTP: one MIME message
// (text/plain and text/html alternatives, UTF-8) per audience and language,
// addressed through an address book that maps the notice's recipient keys
// ("engineer:alice", "tier:L2", "manager:mia", "customer:acme") to mailboxes.
//
// It uses net/smtp, which is frozen but complete for submission (STARTTLS,
// AUTH PLAIN); go-smtp's client offers STARTTLS only as all-or-nothing, and
// opportunistic STARTTLS is what most relays need.
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/notice"
)

// TLS modes.
const (
	TLSStartTLS = "starttls" // default: STARTTLS when the server offers it
	TLSRequired = "required" // STARTTLS must be offered, or the send fails
	TLSImplicit = "implicit" // SMTPS: TLS from the first byte (port 465)
	TLSNone     = "none"     // never encrypt (a local relay)
)

// Audiences a Sender serves.
const (
	Staff     = "staff"     // engineers and managers: the notice's Recipients, else DefaultKey
	Customers = "customers" // each impacted customer's "customer:<id>" entry, for customer events
)

// DefaultKey is the address-book entry that receives staff notices naming no
// recipient, and those whose recipients have no entry of their own.
const DefaultKey = "default"

// Config is the YAML-facing configuration of an email notifier.
type Config struct {
	Addr string `yaml:"addr" json:"addr"` // host:port of the submission server
	From string `yaml:"from" json:"from"` // "NOC <noc@example.com>"
	TLS  string `yaml:"tls" json:"tls"`   // starttls (default), required, implicit, none
	// Username enables AUTH PLAIN. The password comes from PasswordFile or
	// the environment variable PasswordEnv, never from the config itself.
	Username     string `yaml:"username" json:"username"`
	PasswordFile string `yaml:"password_file" json:"password_file"`
	PasswordEnv  string `yaml:"password_env" json:"password_env"`
	// AllowInsecureAuth permits AUTH over an unencrypted connection.
	AllowInsecureAuth bool `yaml:"allow_insecure_auth" json:"allow_insecure_auth"`
	// Audiences: staff (default) and/or customers.
	Audiences []string `yaml:"audiences" json:"audiences"`
	// AddressBook maps recipient keys to mailboxes: "default",
	// "engineer:<name>", "tier:L1".."tier:L3", "manager:<name>",
	// "customer:<id>".
	AddressBook map[string][]string `yaml:"address_book" json:"address_book"`
	// Languages by address-book key ("customer:acme": zh-CN); keys without
	// an entry use Language.
	Languages map[string]string `yaml:"languages" json:"languages"`
	Language  string            `yaml:"language" json:"language"` // default en
}

// Options are the programmatic settings of a Sender.
type Options struct {
	// TLSConfig for STARTTLS and implicit TLS; its ServerName defaults to
	// the host of Addr. Tests set RootCAs here.
	TLSConfig *tls.Config
	Renderer  *notice.Renderer // default notice.Default
	Logger    *slog.Logger     // default slog.Default()
	LocalName string           // EHLO name; default the host name
	// Password overrides PasswordFile/PasswordEnv (e.g. from a secret store).
	Password string
}

// Sender implements ticketing.Sender over SMTP.
type Sender struct {
	cfg       Config
	from      *mail.Address
	host      string
	domain    string // of From: the right-hand side of Message-IDs
	password  string
	tls       *tls.Config
	render    *notice.Renderer
	log       *slog.Logger
	localName string
	staff     bool
	customers bool
}

// New checks cfg and reads the password. Errors name the field at fault and
// never include the password.
func New(cfg Config, opts Options) (*Sender, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, ticketing.Errorf(ticketing.EINVALID, "email "+field+": "+format, args...))
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		bad("addr", "want host:port, got %q", cfg.Addr)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		bad("from", "%q: %v", cfg.From, err)
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = TLSStartTLS
	case TLSStartTLS, TLSRequired, TLSImplicit, TLSNone:
	default:
		bad("tls", "%q: want starttls, required, implicit or none", cfg.TLS)
	}
	s := &Sender{cfg: cfg, from: from, host: host, render: opts.Renderer, log: opts.Logger, localName: opts.LocalName}
	if len(cfg.Audiences) == 0 {
		s.staff = true
	}
	for _, a := range cfg.Audiences {
		switch a {
		case Staff:
			s.staff = true
		case Customers:
			s.customers = true
		default:
			bad("audiences", "%q: want staff or customers", a)
		}
	}
	for k, addrs := range cfg.AddressBook {
		for _, a := range addrs {
			if _, err := mail.ParseAddress(a); err != nil {
				bad("address_book", "%s: %q: %v", k, a, err)
			}
		}
	}
	if cfg.Username != "" {
		switch {
		case opts.Password != "":
			s.password = opts.Password
		case cfg.PasswordFile != "":
			b, err := os.ReadFile(cfg.PasswordFile)
			if err != nil {
				// The path is config, not a secret; the error is about the file.
				errs = append(errs, fmt.Errorf("email password_file: %w", err))
			}
			s.password = strings.TrimRight(string(b), "\r\n")
		case cfg.PasswordEnv != "":
			s.password = os.Getenv(cfg.PasswordEnv)
		}
		if s.password == "" && len(errs) == 0 {
			bad("username", "set: want a password from password_file or password_env")
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 {
		s.domain = from.Address[at+1:]
	} else {
		s.domain = "nocagent.invalid"
	}
	if opts.TLSConfig != nil {
		s.tls = opts.TLSConfig.Clone()
	} else {
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = host
	}
	if s.render == nil {
		s.render = notice.Default
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.localName == "" {
		if h, err := os.Hostname(); err == nil && h != "" {
			s.localName = h
		} else {
			s.localName = "localhost"
		}
	}
	return s, nil
}

// Letter is one message of a notice: an audience in a language, and who
// gets it.
type Letter struct {
	Audience string // engineer, manager or customer:<id>
	Lang     string
	To       []string
}

// Plan decides who receives notice n, one Letter per (audience, language):
// staff by the notice's recipient keys (falling back to DefaultKey), and for
// customer events each impacted customer with an address-book entry. It is
// an error when staff notices are enabled and nobody can be reached, so the
// message stays in the outbox until the address book is fixed.
func (s *Sender) Plan(n ticketing.Notice) ([]Letter, error) {
	var letters []Letter
	add := func(audience, lang string, addrs []string) {
		lang = notice.NormalizeLang(lang)
		for i := range letters {
			if letters[i].Audience == audience && letters[i].Lang == lang {
				for _, a := range addrs {
					if !slices.Contains(letters[i].To, a) {
						letters[i].To = append(letters[i].To, a)
					}
				}
				return
			}
		}
		letters = append(letters, Letter{Audience: audience, Lang: lang, To: slices.Compact(slices.Clone(addrs))})
	}
	if s.staff {
		keys := n.Recipients
		if len(keys) == 0 {
			keys = []string{DefaultKey}
		}
		var missing []string
		for _, k := range keys {
			addrs, key := s.cfg.AddressBook[k], k
			if len(addrs) == 0 {
				missing = append(missing, k)
				addrs, key = s.cfg.AddressBook[DefaultKey], DefaultKey
			}
			if len(addrs) == 0 {
				continue
			}
			audience := notice.AudienceEngineer
			if strings.HasPrefix(k, "manager:") || k == "tier:L3" {
				audience = notice.AudienceManager
			}
			add(audience, s.lang(key), addrs)
		}
		if len(letters) == 0 {
			return nil, ticketing.Errorf(ticketing.EINVALID, "email: no address for %s and no %q entry in the address book", strings.Join(missing, ", "), DefaultKey)
		}
		if len(missing) > 0 && len(n.Recipients) > 0 {
			s.log.Warn("email: recipients without an address book entry, sent to the default entry", "event_id", n.EventID, "recipients", missing)
		}
	}
	if s.customers && notice.ForCustomer(n.Event) {
		ids := n.Ticket.ImpactedCustomers
		if len(ids) == 0 && n.Ticket.Device.Customer != "" {
			ids = []string{n.Ticket.Device.Customer}
		}
		for _, id := range ids {
			key := "customer:" + id
			if addrs := s.cfg.AddressBook[key]; len(addrs) > 0 {
				add(notice.AudienceCustomer+":"+id, s.lang(key), addrs)
			} else {
				s.log.Info("email: customer has no address book entry, no notice sent", "event_id", n.EventID, "customer", id)
			}
		}
	}
	return letters, nil
}

func (s *Sender) lang(key string) string {
	if l, ok := s.cfg.Languages[key]; ok {
		return l
	}
	return s.cfg.Language
}

// Send implements ticketing.Sender: it renders every letter of the notice
// and submits them over one SMTP session. A failure part-way re-sends the
// earlier letters on retry, with the same Message-ID.
func (s *Sender) Send(ctx context.Context, msg ticketing.OutboxMessage) error {
	n, err := notice.Decode(msg.Payload)
	if err != nil {
		return fmt.Errorf("email %s: %w", msg.EventID, err)
	}
	letters, err := s.Plan(n)
	if err != nil {
		return err
	}
	if len(letters) == 0 {
		return nil
	}
	raws := make([][]byte, len(letters))
	for i, l := range letters {
		subject, text, html, err := s.render.Render(n, l.Lang, l.Audience)
		if err != nil {
			return fmt.Errorf("email %s: render for %s: %w", msg.EventID, l.Audience, err)
		}
		raws[i], err = s.compose(n, l, subject, text, html)
		if err != nil {
			return fmt.Errorf("email %s: compose for %s: %w", msg.EventID, l.Audience, err)
		}
	}
	return s.submit(ctx, msg.EventID, letters, raws)
}

func (s *Sender) submit(ctx context.Context, eventID string, letters []Letter, raws [][]byte) error {
	fail := func(step string, err error) error {
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			// A 5xx reply is the server's final word (unknown mailbox,
			// policy refusal): retrying repeats it.
			return fmt.Errorf("%w: email %s: smtp %s: %s: %w", ticketing.ErrPermanent, eventID, s.cfg.Addr, step, err)
		}
		return fmt.Errorf("email %s: smtp %s: %s: %w", eventID, s.cfg.Addr, step, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fail("connect", err)
	}
	// net/smtp knows no context: a deadline bounds each read and write, and
	// cancellation closes the connection under it.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	ctxErr := func(step string, err error) error {
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		case errors.Is(err, os.ErrDeadlineExceeded):
			// The connection's deadline is the context's: it can fire a
			// moment before the context's own timer does.
			err = fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
		}
		return fail(step, err)
	}
	encrypted := false
	if s.cfg.TLS == TLSImplicit {
		conn = tls.Client(conn, s.tls)
		encrypted = true
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		_ = conn.Close()
		return ctxErr("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(s.localName); err != nil {
		return ctxErr("EHLO", err)
	}
	if !encrypted && s.cfg.TLS != TLSNone {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tls); err != nil {
				return ctxErr("STARTTLS", err)
			}
			encrypted = true
		} else if s.cfg.TLS == TLSRequired {
			return fail("STARTTLS", errors.New("server does not offer STARTTLS and tls is required"))
		}
	}
	if s.cfg.Username != "" {
		if !encrypted && !s.cfg.AllowInsecureAuth {
			return fail("AUTH", errors.New("refusing to send the password over an unencrypted connection (server offers no STARTTLS; set allow_insecure_auth to override)"))
		}
		if err := c.Auth(plainAuth{user: s.cfg.Username, pass: s.password}); err != nil {
			return ctxErr("AUTH", err)
		}
	}
	for i, l := range letters {
		if err := c.Mail(s.from.Address); err != nil {
			return ctxErr("MAIL FROM", err)
		}
		for _, to := range l.To {
			a, _ := mail.ParseAddress(to) // checked by New
			if err := c.Rcpt(a.Address); err != nil {
				return ctxErr("RCPT TO "+a.Address, err)
			}
		}
		w, err := c.Data()
		if err != nil {
			return ctxErr("DATA", err)
		}
		if _, err := w.Write(raws[i]); err != nil {
			return ctxErr("DATA", err)
		}
		if err := w.Close(); err != nil {
			return ctxErr("DATA", err)
		}
	}
	if err := c.Quit(); err != nil {
		// Every message was accepted; a failed QUIT loses nothing.
		s.log.Debug("email: QUIT failed", "err", err)
	}
	return nil
}

// plainAuth is AUTH PLAIN (RFC 4616). net/smtp's PlainAuth insists on TLS
// except for hosts literally named localhost; Sender enforces its own rule
// (TLS unless allow_insecure_auth) before calling Auth.
type plainAuth struct{ user, pass string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge")
	}
	return nil, nil
}

var _ ticketing.Sender = (*Sender)(nil)

// SendDocument mails a document that is not a ticket notice — a contract's
// inspection or service report — to the given addresses, as HTML with a
// plain-text alternative. id names it in the Message-ID and headers, so a
// re-send is recognisable.
func (s *Sender) SendDocument(ctx context.Context, id string, to []string, subject, text, html string, at time.Time) error {
	if len(to) == 0 {
		return fmt.Errorf("email %s: no recipients", id)
	}
	l := Letter{Audience: "report", Lang: "", To: to}
	n := ticketing.Notice{EventID: id, At: at, Ticket: ticketing.Ticket{ID: id}}
	raw, err := s.compose(n, l, subject, text, html)
	if err != nil {
		return fmt.Errorf("email %s: %w", id, err)
	}
	return s.submit(ctx, id, []Letter{l}, [][]byte{raw})
}
