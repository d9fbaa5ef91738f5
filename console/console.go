// Package console is the web console served by the agent under "/": server
// rendered pages (html/template, embedded) that work without JavaScript. A
// person signs in with their token (a per-person account, or a role token)
// and gets a session cookie (HttpOnly, SameSite=Strict, Secure over TLS);
// every form carries a per-session CSRF token. Scripts may send the API's
// Authorization: Bearer header instead. What a page shows and offers follows
// the person's role; the ticket service checks every action again.
package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// Tickets is what the console needs of the ticket service.
type Tickets interface {
	ListAs(ctx context.Context, a ticketing.Actor, f ticketing.Filter) ([]ticketing.Ticket, error)
	GetAs(ctx context.Context, a ticketing.Actor, id string) (ticketing.Ticket, error)
	Act(ctx context.Context, a ticketing.Actor, id string, act ticketing.Action, in ticketing.ActionInput) (ticketing.Ticket, error)
}

// Authenticator turns a request's bearer token into a person.
type Authenticator interface {
	Authenticate(r *http.Request) (ticketing.Actor, bool)
}

// Options configure a Console.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// SessionTTL is how long a sign-in lasts; default 12h.
	SessionTTL time.Duration
}

// Console serves the pages.
type Console struct {
	tickets Tickets
	auth    Authenticator
	log     *slog.Logger
	now     func() time.Time
	ttl     time.Duration
	pages   *template.Template

	mu       sync.Mutex
	sessions map[string]*session
}

type session struct {
	actor   ticketing.Actor
	csrf    string
	expires time.Time
}

//go:embed templates/*.html
var templates embed.FS

const cookieName = "nocagent_session"

// New returns the console over tickets, signing people in with auth.
func New(tickets Tickets, auth Authenticator, o Options) *Console {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	funcs := template.FuncMap{
		"when": func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
		"left": func(s int64) string {
			d := time.Duration(s) * time.Second
			if d < 0 {
				return "breached " + (-d).Round(time.Minute).String() + " ago"
			}
			return d.Round(time.Minute).String() + " left"
		},
	}
	pages := template.Must(template.New("").Funcs(funcs).ParseFS(templates, "templates/*.html"))
	return &Console{tickets: tickets, auth: auth, log: o.Logger, now: o.Now, ttl: o.SessionTTL,
		pages: pages, sessions: map[string]*session{}}
}

// Routes registers the pages on mux.
func (c *Console) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", c.queue)
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.login)
	mux.HandleFunc("POST /logout", c.logout)
	mux.HandleFunc("GET /tickets/{id}", c.ticket)
	mux.HandleFunc("POST /tickets/{id}/act", c.act)
}

// who is the person behind r: a bearer token, else a live session.
func (c *Console) who(r *http.Request) (ticketing.Actor, *session, bool) {
	if r.Header.Get("Authorization") != "" {
		a, ok := c.auth.Authenticate(r)
		return a, nil, ok
	}
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return ticketing.Actor{}, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[ck.Value]
	if s == nil || !c.now().Before(s.expires) {
		delete(c.sessions, ck.Value)
		return ticketing.Actor{}, nil, false
	}
	return s.actor, s, true
}

func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

func (c *Console) render(w http.ResponseWriter, status int, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := c.pages.ExecuteTemplate(w, page, data); err != nil {
		c.log.Error("console page", "page", page, "err", err)
	}
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "login.html", map[string]any{"Page": page{Title: "Sign in"}, "Next": safeNext(r.URL.Query().Get("next"))})
}

// safeNext keeps a redirect target on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return "/"
	}
	return next
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	tok := strings.TrimSpace(r.PostFormValue("token"))
	probe, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "/", nil)
	probe.Header.Set("Authorization", "Bearer "+tok)
	a, ok := c.auth.Authenticate(probe)
	next := safeNext(r.PostFormValue("next"))
	if tok == "" || !ok {
		c.render(w, http.StatusUnauthorized, "login.html", map[string]any{"Page": page{Title: "Sign in"}, "Next": next, "Error": "That token is not valid."})
		return
	}
	sid, csrf := randomID(), randomID()
	c.mu.Lock()
	for id, s := range c.sessions { // drop expired sessions as new ones come
		if !c.now().Before(s.expires) {
			delete(c.sessions, id)
		}
	}
	c.sessions[sid] = &session{actor: a, csrf: csrf, expires: c.now().Add(c.ttl)}
	c.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: sid, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(c.ttl / time.Second)})
	c.log.Info("console sign-in", "actor", a.Name, "role", a.Role)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if _, s, ok := c.who(r); ok && s != nil && c.csrfOK(r, s) {
		ck, _ := r.Cookie(cookieName)
		c.mu.Lock()
		delete(c.sessions, ck.Value)
		c.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// csrfOK checks a form's CSRF token against the session's; requests with a
// bearer token carry no cookie to forge and need none.
func (c *Console) csrfOK(r *http.Request, s *session) bool {
	if s == nil {
		return true
	}
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

func randomID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

type page struct {
	Who   ticketing.Actor
	CSRF  string
	Title string
}

func pageFor(a ticketing.Actor, s *session, title string) page {
	p := page{Who: a, Title: title}
	if s != nil {
		p.CSRF = s.csrf
	}
	return p
}

// queue is the ticket list: open tickets first by SLA due, filters by
// state, priority and "mine".
func (c *Console) queue(w http.ResponseWriter, r *http.Request) {
	a, s, ok := c.who(r)
	if !ok {
		c.toLogin(w, r)
		return
	}
	q := r.URL.Query()
	f := ticketing.Filter{State: ticketing.State(q.Get("state")), Priority: ticketing.Priority(q.Get("priority")),
		Open: q.Get("state") == "", Limit: ticketing.MaxListLimit}
	if q.Get("mine") == "1" {
		f.Assignee = a.Name
	}
	ts, err := c.tickets.ListAs(r.Context(), a, f)
	if err != nil {
		c.render(w, http.StatusBadRequest, "error.html", map[string]any{"Page": pageFor(a, s, "Error"), "Message": ticketing.ErrorMessage(err)})
		return
	}
	slices.SortStableFunc(ts, func(x, y ticketing.Ticket) int { return compareDue(x, y) })
	title := "Queue"
	if n := len(ts); n > 0 {
		title = "(" + strconv.Itoa(n) + ") Queue"
	}
	c.render(w, http.StatusOK, "queue.html", map[string]any{"Page": pageFor(a, s, title), "Tickets": ts, "Filter": q})
}

// compareDue orders by the resolution clock's time left, soonest first;
// tickets without a running clock last.
func compareDue(x, y ticketing.Ticket) int {
	left := func(t ticketing.Ticket) (int64, bool) {
		if t.SLA == nil || !t.SLA.Resolution.Running {
			return 0, false
		}
		return t.SLA.Resolution.RemainingSeconds, true
	}
	lx, okx := left(x)
	ly, oky := left(y)
	switch {
	case okx && oky:
		return int(lx - ly)
	case okx:
		return -1
	case oky:
		return 1
	}
	return 0
}

// ticket is one ticket with its device, SLA, evidence, timeline and the
// actions the person may take.
func (c *Console) ticket(w http.ResponseWriter, r *http.Request) {
	a, s, ok := c.who(r)
	if !ok {
		c.toLogin(w, r)
		return
	}
	t, err := c.tickets.GetAs(r.Context(), a, r.PathValue("id"))
	if err != nil {
		status := http.StatusInternalServerError
		if ticketing.ErrorCode(err) == ticketing.ENOTFOUND || ticketing.ErrorCode(err) == ticketing.EINVALID {
			status = http.StatusNotFound
		}
		c.render(w, status, "error.html", map[string]any{"Page": pageFor(a, s, "Not found"), "Message": "No such ticket."})
		return
	}
	var forms []actionForm
	for _, act := range ticketing.Allowed(a, t) {
		if f, ok := formFor(act, a); ok {
			forms = append(forms, f)
		}
	}
	c.render(w, http.StatusOK, "ticket.html", map[string]any{"Page": pageFor(a, s, t.ID+" "+t.Title), "T": t,
		"Actions": forms, "Staff": a.Role != ticketing.RoleCustomer, "Msg": r.URL.Query().Get("msg")})
}

// actionForm is one action as a form: its fields by name.
type actionForm struct {
	Action ticketing.Action
	Label  string
	Fields []string // note, reason, cause, solution, assignee, visibility
}

func formFor(act ticketing.Action, a ticketing.Actor) (actionForm, bool) {
	staff := a.Role != ticketing.RoleCustomer
	switch act {
	case ticketing.ActAck:
		return actionForm{act, "Acknowledge", nil}, true
	case ticketing.ActNote:
		if staff {
			return actionForm{act, "Add note", []string{"note", "visibility"}}, true
		}
		return actionForm{act, "Add note", []string{"note"}}, true
	case ticketing.ActAssign:
		return actionForm{act, "Assign", []string{"assignee"}}, true
	case ticketing.ActEscalate, ticketing.ActHold, ticketing.ActCancel, ticketing.ActReopen:
		return actionForm{act, strings.ToUpper(string(act[:1])) + string(act[1:]), []string{"reason"}}, true
	case ticketing.ActClose:
		return actionForm{act, "Close", []string{"reason"}}, true
	case ticketing.ActResolve, ticketing.ActCause:
		return actionForm{act, map[ticketing.Action]string{ticketing.ActResolve: "Resolve", ticketing.ActCause: "Record cause"}[act], []string{"cause", "solution"}}, true
	case ticketing.ActVerify, ticketing.ActConfirm, ticketing.ActResume:
		return actionForm{act, strings.ToUpper(string(act[:1])) + string(act[1:]), nil}, true
	}
	return actionForm{}, false // service modes and site reports: the API and CLI for now
}

func (c *Console) act(w http.ResponseWriter, r *http.Request) {
	a, s, ok := c.who(r)
	if !ok {
		c.toLogin(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !c.csrfOK(r, s) {
		c.render(w, http.StatusForbidden, "error.html", map[string]any{"Page": pageFor(a, s, "Refused"), "Message": "The form has expired or did not come from this console; reload the page and try again."})
		return
	}
	id := r.PathValue("id")
	in := ticketing.ActionInput{Note: r.PostFormValue("note"), Reason: r.PostFormValue("reason"), Cause: r.PostFormValue("cause"),
		Solution: r.PostFormValue("solution"), Assignee: r.PostFormValue("assignee"), Visibility: r.PostFormValue("visibility")}
	msg := "done"
	if _, err := c.tickets.Act(r.Context(), a, id, ticketing.Action(r.PostFormValue("action")), in); err != nil {
		if ticketing.ErrorCode(err) == ticketing.ENOTFOUND {
			c.render(w, http.StatusNotFound, "error.html", map[string]any{"Page": pageFor(a, s, "Not found"), "Message": "No such ticket."})
			return
		}
		msg = ticketing.ErrorMessage(err)
	}
	http.Redirect(w, r, "/tickets/"+url.PathEscape(id)+"?msg="+url.QueryEscape(msg), http.StatusSeeOther)
}
