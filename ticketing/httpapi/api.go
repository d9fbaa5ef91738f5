package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// Service is what the authenticated API needs; *ticketing.Service
// implements it.
type Service interface {
	GetAs(ctx context.Context, a ticketing.Actor, id string) (ticketing.Ticket, error)
	ListAs(ctx context.Context, a ticketing.Actor, f ticketing.Filter) ([]ticketing.Ticket, error)
	CreateManualOnce(ctx context.Context, a ticketing.Actor, in ticketing.ManualInput, idempotencyKey string) (ticketing.Ticket, bool, error)
	Act(ctx context.Context, a ticketing.Actor, id string, act ticketing.Action, in ticketing.ActionInput) (ticketing.Ticket, error)
	SubmitSurvey(ctx context.Context, a ticketing.Actor, id string, in ticketing.SurveyInput) (ticketing.Survey, error)
	Problems(ctx context.Context, a ticketing.Actor, state string) ([]ticketing.Problem, error)
	SearchKB(ctx context.Context, a ticketing.Actor, q string, limit int) ([]ticketing.Suggestion, error)
	Similar(ctx context.Context, a ticketing.Actor, id string, limit int) ([]ticketing.Suggestion, error)
	KPIs(ctx context.Context, a ticketing.Actor, f ticketing.KPIFilter) (ticketing.KPIReport, error)
	ConfirmView(ctx context.Context, token string) (ticketing.ConfirmSummary, error)
	ConfirmByToken(ctx context.Context, token, note string) (ticketing.ConfirmSummary, error)
}

var _ Service = (*ticketing.Service)(nil)

// Options configure New.
type Options struct {
	Tokens *Tokens      // nil: every request answers 401
	Logger *slog.Logger // default slog.Default()
	// DeviceCount, if set, returns how many devices a customer (and
	// contract; "" for all) has, so GET /api/v1/kpis reports availability.
	DeviceCount func(customer, contract string) int
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// New returns the authenticated API. Every route but the confirmation link
// and the OpenAPI document needs a bearer token (Authorization: Bearer
// <token>); without a valid one it answers 401.
//
//	GET  /api/v1/me                               the caller's actor
//	GET  /api/v1/tickets                          ?state= &priority= &customer= &affecting= &device= &assignee= &open=true &limit=
//	POST /api/v1/tickets                          manual intake (ticketing.ManualInput)
//	GET  /api/v1/tickets/{id}                     with timeline and SLA
//	POST /api/v1/tickets/{id}/actions/{action}    ticketing.Actions (ticketing.ActionInput)
//	POST /api/v1/tickets/{id}/survey              {"rating": ..., "comment": ...}
//	GET  /api/v1/tickets/{id}/similar             past resolutions like it (staff)
//	GET  /api/v1/problems                         ?state=open|closed (staff)
//	GET  /api/v1/kb                               ?q= &limit= (staff)
//	GET  /api/v1/kpis                             ?customer= &contract= &from= &to= (RFC 3339 or YYYY-MM-DD)
//
// and without a token:
//
//	GET  /api/v1/confirm/{token}                  HTML page: the ticket's summary and a confirm button
//	POST /api/v1/confirm/{token}                  the customer confirms (form field "note" optional)
//	GET  /api/v1/openapi.yaml                     the OpenAPI 3.0 document of this API
//
// Tickets carry impacted_devices (devices cut off behind the ticket's
// device, recovered ones marked) and impacted_customers. customer= selects
// by the ticket's own device, affecting= by it or any impacted device.
//
// A customer sees only the tickets that affect it (its devices', and those
// listing one of its devices as impacted): any other id answers 404. A
// forbidden action answers 403 with the reason, a state that does not allow
// it 409, a missing field 400 naming it.
func New(svc Service, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	a := &api{svc: svc, tokens: opts.Tokens, devices: opts.DeviceCount, h: handler{log: opts.Logger}}
	mux := http.NewServeMux()
	for _, rt := range a.routes() {
		if rt.public != nil {
			mux.HandleFunc(rt.pattern, rt.public)
		} else {
			mux.HandleFunc(rt.pattern, a.auth(rt.fn))
		}
	}
	return mux
}

// route is one pattern New serves: fn behind the bearer token, or public
// without one.
type route struct {
	pattern string
	fn      func(w http.ResponseWriter, r *http.Request, who ticketing.Actor)
	public  http.HandlerFunc
}

// routes is the one list of what New serves; the OpenAPI test walks it.
func (a *api) routes() []route {
	return []route{
		{pattern: "GET /api/v1/me", fn: func(w http.ResponseWriter, _ *http.Request, who ticketing.Actor) { a.h.write(w, http.StatusOK, who) }},
		{pattern: "GET /api/v1/tickets", fn: a.list},
		{pattern: "POST /api/v1/tickets", fn: a.create},
		{pattern: "GET /api/v1/tickets/{id}", fn: a.get},
		{pattern: "POST /api/v1/tickets/{id}/actions/{action}", fn: a.act},
		{pattern: "POST /api/v1/tickets/{id}/survey", fn: a.survey},
		{pattern: "GET /api/v1/tickets/{id}/similar", fn: a.similar},
		{pattern: "GET /api/v1/problems", fn: a.problems},
		{pattern: "GET /api/v1/kb", fn: a.kb},
		{pattern: "GET /api/v1/kpis", fn: a.kpis},
		// The token in the path is the credential: whoever holds the link
		// the customer was sent may see that one ticket's summary and
		// confirm it.
		{pattern: "GET /api/v1/confirm/{token}", public: a.confirmPage},
		{pattern: "POST /api/v1/confirm/{token}", public: a.confirmPost},
		{pattern: "GET /api/v1/openapi.yaml", public: serveOpenAPI},
	}
}

// Patterns returns every "METHOD /path" pattern New serves, and whether it
// needs a bearer token.
func Patterns() map[string]bool {
	out := map[string]bool{}
	for _, rt := range (&api{}).routes() {
		out[rt.pattern] = rt.public == nil
	}
	return out
}

type api struct {
	svc     Service
	tokens  *Tokens
	devices func(customer, contract string) int
	h       handler
}

func (a *api) auth(fn func(http.ResponseWriter, *http.Request, ticketing.Actor)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, ok := a.tokens.Authenticate(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="nocagent"`)
			a.h.write(w, http.StatusUnauthorized, ErrorResponse{Error: ErrorBody{Code: ticketing.EUNAUTHORIZED,
				Message: "missing or invalid bearer token"}})
			return
		}
		fn(w, r, who)
	}
}

func (a *api) list(w http.ResponseWriter, r *http.Request, who ticketing.Actor) {
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		a.h.fail(w, r, err)
		return
	}
	f.Assignee = r.URL.Query().Get("assignee")
	ts, err := a.svc.ListAs(r.Context(), who, f)
	if err != nil {
		a.h.fail(w, r, err)
		return
	}
	if ts == nil {
		ts = []ticketing.Ticket{}
	}
	a.h.write(w, http.StatusOK, ListResponse{Tickets: ts, Count: len(ts)})
}

func (a *api) get(w http.ResponseWriter, r *http.Request, who ticketing.Actor) {
	t, err := a.svc.GetAs(r.Context(), who, r.PathValue("id"))
	a.reply(w, r, http.StatusOK, t, err)
}

func (a *api) create(w http.ResponseWriter, r *http.Request, who ticketing.Actor) {
	var in ticketing.ManualInput
	if err := decode(r, &in); err != nil {
		a.h.fail(w, r, err)
		return
	}
	// A client that lost the answer retries with the same Idempotency-Key
	// and gets the same ticket, not a second one.
	t, replayed, err := a.svc.CreateManualOnce(r.Context(), who, in, r.Header.Get("Idempotency-Key"))
	if err == nil {
		w.Header().Set("Location", "/api/v1/tickets/"+t.ID)
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
	}
	a.reply(w, r, http.StatusCreated, t, err)
}

func (a *api) act(w http.ResponseWriter, r *http.Request, who ticketing.Actor) {
	var in ticketing.ActionInput
	if err := decode(r, &in); err != nil {
		a.h.fail(w, r, err)
		return
	}
	t, err := a.svc.Act(r.Context(), who, r.PathValue("id"), ticketing.Action(r.PathValue("action")), in)
	a.reply(w, r, http.StatusOK, t, err)
}

func (a *api) survey(w http.ResponseWriter, r *http.Request, who ticketing.Actor) {
	var in ticketing.SurveyInput
	if err := decode(r, &in); err != nil {
		a.h.fail(w, r, err)
		return
	}
	sv, err := a.svc.SubmitSurvey(r.Context(), who, r.PathValue("id"), in)
	a.reply(w, r, http.StatusCreated, sv, err)
}

// SuggestionsResponse is the body of the knowledge-base endpoints.
type SuggestionsResponse struct {
	Suggestions []ticketing.Suggestion `json:"suggestions"`
}

func (a *api) similar(w http.ResponseWriter, r *http.Request, who ticketing.Actor) {
	limit, err := intParam(r.URL.Query(), "limit", 0, 50)
	if err != nil {
		a.h.fail(w, r, err)
		return
	}
	s, err := a.svc.Similar(r.Context(), who, r.PathValue("id"), limit)
	a.reply(w, r, http.StatusOK, SuggestionsResponse{Suggestions: s}, err)
}

func (a *api) kb(w http.ResponseWriter, r *http.Request, who ticketing.Actor) {
	q := r.URL.Query()
	limit, err := intParam(q, "limit", 0, 50)
	if err != nil {
		a.h.fail(w, r, err)
		return
	}
	if q.Get("q") == "" {
		a.h.fail(w, r, ticketing.Errorf(ticketing.EINVALID, "missing parameter q: the words to search for"))
		return
	}
	s, err := a.svc.SearchKB(r.Context(), who, q.Get("q"), limit)
	a.reply(w, r, http.StatusOK, SuggestionsResponse{Suggestions: s}, err)
}

// ProblemsResponse is the body of GET /api/v1/problems.
type ProblemsResponse struct {
	Problems []ticketing.Problem `json:"problems"`
}

func (a *api) problems(w http.ResponseWriter, r *http.Request, who ticketing.Actor) {
	ps, err := a.svc.Problems(r.Context(), who, r.URL.Query().Get("state"))
	a.reply(w, r, http.StatusOK, ProblemsResponse{Problems: ps}, err)
}

func (a *api) kpis(w http.ResponseWriter, r *http.Request, who ticketing.Actor) {
	q := r.URL.Query()
	f := ticketing.KPIFilter{Customer: q.Get("customer"), Contract: q.Get("contract")}
	var err error
	if f.From, err = timeParam(q, "from"); err != nil {
		a.h.fail(w, r, err)
		return
	}
	if f.To, err = timeParam(q, "to"); err != nil {
		a.h.fail(w, r, err)
		return
	}
	if a.devices != nil {
		c := f.Customer
		if who.Role == ticketing.RoleCustomer {
			c = who.Customer
		}
		f.Devices = a.devices(c, f.Contract)
	}
	rep, err := a.svc.KPIs(r.Context(), who, f)
	a.reply(w, r, http.StatusOK, rep, err)
}

func (a *api) reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		a.h.fail(w, r, err)
		return
	}
	a.h.write(w, status, v)
}

// decode reads a JSON body strictly: unknown fields and trailing data are
// errors naming what is wrong; an empty body is an empty object.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return ticketing.Errorf(ticketing.EINVALID, "read body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return ticketing.Errorf(ticketing.EINVALID, "invalid field %q: want %s", te.Field, te.Type)
		}
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return ticketing.Errorf(ticketing.EINVALID, "invalid field %q: %q is not an RFC 3339 time (like 2025-03-10T14:00:00+08:00)",
				badTimeField(body), pe.Value)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return ticketing.Errorf(ticketing.EINVALID, "unknown field %s", f)
		}
		return ticketing.Errorf(ticketing.EINVALID, "invalid JSON body: %v", err)
	}
	// Only white space may follow the value. dec.More is not enough: it
	// says false for a stray ']' or '}' ("{}]" was accepted).
	if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) > 0 {
		return ticketing.Errorf(ticketing.EINVALID, "invalid JSON body: unexpected %q after the value", clipRest(rest))
	}
	return nil
}

// clipRest is the start of what follows a body's value, for an error.
func clipRest(b []byte) string {
	if len(b) > 16 {
		return string(b[:16]) + "..."
	}
	return string(b)
}

// badTimeField names the top-level field of body holding a string that is
// not a time: encoding/json's time error does not say which field it was.
func badTimeField(body []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return "?"
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		var s string
		if json.Unmarshal(m[k], &s) != nil || !strings.HasSuffix(k, "_at") {
			continue
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return k
		}
	}
	return "?"
}

func intParam(q url.Values, name string, lo, hi int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, ticketing.Errorf(ticketing.EINVALID, "invalid value %q for parameter %s: want an integer in %d..%d", v, name, lo, hi)
	}
	return n, nil
}

func timeParam(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, ticketing.Errorf(ticketing.EINVALID, "invalid value %q for parameter %s: want RFC 3339 or YYYY-MM-DD", v, name)
}
