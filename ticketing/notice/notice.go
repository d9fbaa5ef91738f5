// Package notice turns a ticketing.Notice into the words people read: a
// subject, a plain-text body, an HTML body and a chat (markdown) body, in
// English or Simplified Chinese, for customers (plain language, their own
// devices only) or for engineers and managers (technical, with the device
// context and SLA position).
//
// Every sentence is a text/template in the language catalogs (catalog_en.go,
// catalog_zh.go); layouts (layout.go) arrange the sentences, and the HTML
// layout is an html/template, so device names and notes are escaped there.
package notice

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// Audiences of a rendered notice. A customer audience may name the customer
// ("customer:acme"): the notice is then scoped to that customer's devices, so
// a customer cut off behind another customer's device sees its own devices
// and an "upstream fault", never the other customer's equipment. Plain
// "customer" is the ticket device's customer.
const (
	AudienceCustomer = "customer"
	AudienceEngineer = "engineer"
	AudienceManager  = "manager"
)

// Languages are the supported languages, the default first.
var Languages = []string{"en", "zh-CN"}

// ErrNotForCustomer is returned when a customer audience asks for an event
// that stays internal (assignment, escalation, reminder...).
var ErrNotForCustomer = ticketing.Errorf(ticketing.EINVALID, "notice: event is not sent to customers")

// ForCustomer reports whether customers are told about events of kind k:
// the fault notice, its updates, how and when an engineer works on it (the
// service mode, the arrival on site, the service report) and the resolution
// summary. A customer cut off behind another customer's device is told of
// the visit in general terms only: never where it is, nor the report.
func ForCustomer(k ticketing.EventKind) bool {
	switch k {
	case ticketing.KindOpened, ticketing.KindImpactAdded, ticketing.KindPriorityRaised,
		ticketing.KindReopened, ticketing.KindResolved,
		ticketing.KindServiceMode, ticketing.KindArrived, ticketing.KindServiceReport:
		return true
	}
	return false
}

// NormalizeLang maps a configured language ("zh", "zh_CN", "zh-Hans",
// "ZH-cn", "en-US"...) to one of Languages; anything unknown is English.
func NormalizeLang(s string) string {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "_", "-"))
	if s == "zh" || strings.HasPrefix(s, "zh-cn") || strings.HasPrefix(s, "zh-hans") || strings.HasPrefix(s, "zh-sg") {
		return "zh-CN"
	}
	return "en"
}

// Decode parses an outbox payload.
func Decode(payload []byte) (ticketing.Notice, error) {
	var n ticketing.Notice
	if err := json.Unmarshal(payload, &n); err != nil {
		return n, fmt.Errorf("decode notice payload: %w", err)
	}
	return n, nil
}

// Options configure a Renderer. Zero values take the defaults.
type Options struct {
	// Zones are the time zones times are shown in, per language. Defaults:
	// en UTC, zh-CN China Standard Time (UTC+8, no daylight saving).
	Zones map[string]*time.Location
	// UpdateEvery is the promised interval between customer updates, per
	// priority. Defaults: P1 30m, P2 1h, P3 4h, P4 24h.
	UpdateEvery map[ticketing.Priority]time.Duration
	// Team signs customer notices, per language. Defaults: "The NOC service
	// team", "NOC 服务团队".
	Team map[string]string
	// BaseURL is the NOC portal's public address ("https://noc.example.com",
	// a trailing slash is fine). The customer's resolution notice links to
	// BaseURL + Notice.ConfirmURL. Without it (or when CheckBaseURL rejects
	// it) the notice carries no link rather than a path the customer cannot
	// open, and asks them to confirm when asked.
	BaseURL string
}

// Renderer renders notices. It is safe for concurrent use.
type Renderer struct{ o Options }

// CheckBaseURL reports whether s can be Options.BaseURL: an absolute http
// or https URL without query or fragment, and nothing that would break a
// link in markdown or mail.
func CheckBaseURL(s string) error {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("notice base URL %q: %w", s, err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return fmt.Errorf("notice base URL %q: want an absolute http or https URL", s)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("notice base URL %q: want no user, query or fragment", s)
	case strings.ContainsAny(s, unsafeURL):
		return fmt.Errorf("notice base URL %q: has characters (%q) that break links", s, unsafeURL)
	}
	return nil
}

// unsafeURL are characters that end a link in markdown or plain text.
const unsafeURL = "()<>[]\"'` \t\r\n"

// confirmLink makes the confirmation path whole, or returns "" when there
// is no base URL or the path is not a confirmation path.
func (r *Renderer) confirmLink(path string) string {
	token, ok := strings.CutPrefix(path, ticketing.ConfirmPathPrefix)
	if !ok || r.o.BaseURL == "" || token == "" || strings.IndexFunc(token, notTokenRune) >= 0 {
		return ""
	}
	return r.o.BaseURL + path
}

// notTokenRune: tokens are base64url and decimal parts joined by dots.
func notTokenRune(c rune) bool {
	return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')
}

// Default is a Renderer with the default options.
var Default = New(Options{})

// New returns a Renderer; opts' maps are copied over the defaults.
func New(opts Options) *Renderer {
	o := Options{
		Zones:       map[string]*time.Location{"en": time.UTC, "zh-CN": time.FixedZone("CST", 8*3600)},
		UpdateEvery: map[ticketing.Priority]time.Duration{ticketing.P1: 30 * time.Minute, ticketing.P2: time.Hour, ticketing.P3: 4 * time.Hour, ticketing.P4: 24 * time.Hour},
		Team:        map[string]string{"en": "The NOC service team", "zh-CN": "NOC 服务团队"},
	}
	for k, v := range opts.Zones {
		if v != nil {
			o.Zones[NormalizeLang(k)] = v
		}
	}
	for k, v := range opts.UpdateEvery {
		if v > 0 {
			o.UpdateEvery[k] = v
		}
	}
	for k, v := range opts.Team {
		if v != "" {
			o.Team[NormalizeLang(k)] = v
		}
	}
	if CheckBaseURL(opts.BaseURL) == nil {
		o.BaseURL = strings.TrimRight(strings.TrimSpace(opts.BaseURL), "/")
	}
	return &Renderer{o: o}
}

// Render renders n with the Default renderer.
func Render(n ticketing.Notice, lang, audience string) (subject, text, html string, err error) {
	return Default.Render(n, lang, audience)
}

// Render returns the subject, plain-text body and HTML body of n for
// audience in lang (normalized with NormalizeLang).
func (r *Renderer) Render(n ticketing.Notice, lang, audience string) (subject, text, html string, err error) {
	v, err := r.view(n, lang, audience)
	if err != nil {
		return "", "", "", err
	}
	if text, err = execText(textLayout, v); err != nil {
		return "", "", "", err
	}
	var b strings.Builder
	if err := htmlLayout.Execute(&b, v); err != nil {
		return "", "", "", fmt.Errorf("notice %s: html layout: %w", n.EventID, err)
	}
	return v.Subject, text, b.String(), nil
}

// Markdown flavours for chat.
const (
	FlavorMarkdown = "markdown" // WeCom, DingTalk: **bold**, ### headings
	FlavorSlack    = "slack"    // Slack mrkdwn: *bold*
)

// Markdown returns a title and a chat-sized markdown body of n.
func (r *Renderer) Markdown(n ticketing.Notice, lang, audience, flavor string) (title, body string, err error) {
	v, err := r.view(n, lang, audience)
	if err != nil {
		return "", "", err
	}
	v.Slack = flavor == FlavorSlack
	body, err = execText(markdownLayout, v)
	if err != nil {
		return "", "", err
	}
	return v.Subject, body, nil
}

// view is what a layout arranges: localized sentences, no formatting.
type view struct {
	Lang      string
	Subject   string
	Heading   string
	Greeting  string
	Body      []string
	Facts     []factLine
	Lists     []list
	Link      *link
	Outro     []string
	Signature string
	Ref       string
	Slack     bool
	Colon     string // after a label: ": " or the full-width "："
}

type factLine struct{ Label, Value string }

// link is a sentence and the URL it introduces.
type link struct{ Text, URL string }

type list struct {
	Title string
	Items []string
	Colon string
}

func (r *Renderer) view(n ticketing.Notice, lang, audience string) (*view, error) {
	lang = NormalizeLang(lang)
	cat := catalogs[lang]
	d, err := r.data(n, lang, audience)
	if err != nil {
		return nil, err
	}
	group := "staff"
	if d.IsCustomer {
		group = "customer"
	}
	m, ok := cat.msgs[group+"/"+string(n.Event)]
	if !ok {
		return nil, ticketing.Errorf(ticketing.EINVALID, "notice %s: no %s template for event %q", n.EventID, group, n.Event)
	}
	x := func(s *tmpl) string {
		if s == nil {
			return ""
		}
		out, err2 := s.exec(d)
		if err2 != nil && err == nil {
			err = fmt.Errorf("notice %s: %s/%s: %w", n.EventID, group, n.Event, err2)
		}
		return out
	}
	v := &view{Lang: lang, Colon: colons[lang], Subject: oneLine(x(m.subject)), Heading: x(m.heading), Ref: x(cat.common.ref)}
	for _, p := range m.body {
		if s := x(p); s != "" {
			v.Body = append(v.Body, s)
		}
	}
	facts := m.facts
	if !d.IsCustomer {
		facts = append(slices.Clone(facts), cat.staffFacts...)
	}
	for _, f := range facts {
		if s := x(f.value); s != "" {
			v.Facts = append(v.Facts, factLine{Label: f.label, Value: s})
		}
	}
	if len(d.Devices) > 0 {
		v.Lists = append(v.Lists, list{Title: x(cat.common.devicesTitle), Items: d.Devices, Colon: strings.TrimSpace(v.Colon)})
	}
	if !d.IsCustomer && len(d.Evidence) > 0 {
		v.Lists = append(v.Lists, list{Title: x(cat.common.evidenceTitle), Items: d.Evidence, Colon: strings.TrimSpace(v.Colon)})
	}
	if d.ConfirmLink != "" && m.link != nil {
		v.Link = &link{Text: x(m.link), URL: d.ConfirmLink}
	}
	if d.IsCustomer {
		v.Greeting = x(cat.common.greeting)
		for _, p := range m.outro {
			if s := x(p); s != "" {
				v.Outro = append(v.Outro, s)
			}
		}
		v.Signature = r.o.Team[lang]
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

var colons = map[string]string{"en": ": ", "zh-CN": "："}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
