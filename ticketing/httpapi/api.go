package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
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
	CreateManual(ctx context.Context, a ticketing.Actor, in ticketing.ManualInput) (ticketing.Ticket, error)
	Act(ctx context.Context, a ticketing.Actor, id string, act ticketing.Action, in ticketing.ActionInput) (ticketing.Ticket, error)
	SubmitSurvey(ctx context.Context, a ticketing.Actor, id string, in ticketing.SurveyInput) (ticketing.Survey, error)
	Problems(ctx context.Context, a ticketing.Actor, state string) ([]ticketing.Problem, error)
	SearchKB(ctx context.Context, a ticketing.Actor, q string, limit int) ([]ticketing.Suggestion, error)
	Similar(ctx context.Context, a ticketing.Actor, id string, limit int) ([]ticketing.Suggestion, error)
	KPIs(ctx context.Context, a ticketing.Actor, f ticketing.KPIFilter) (ticketing.KPIReport, error)
}

var _ Service = (*ticketing.Service)(nil)

// Options configure New.
type Options struct {
	Tokens *Tokens      // nil: every request answers 401
	Logger *slog.Logger // default slog.Default()
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// New returns the authenticated API. Every route needs a bearer token
// (Authorization: Bearer <token>); without a valid one it answers 401.
//
//	GET  /api/v1/me                               the caller's actor
//	GET  /api/v1/tickets                          ?state= &priority= &customer= &affecting= &device= &assignee= &open=true &limit=
//	POST /api/v1/tickets                          manual intake (ticketing.ManualInput)
//	GET  /api/v1/tickets/{id}                     with timeline and SLA
//	POST /api/v1/tickets/{id}/actions/{action}    ack assign note escalate hold resume resolve verify confirm close cancel reopen (ticketing.ActionInput)
//	POST /api/v1/tickets/{id}/survey              {"rating": ..., "comment": ...}
//	GET  /api/v1/tickets/{id}/similar             past resolutions like it (staff)
//	GET  /api/v1/problems                         ?state=open|closed (staff)
//	GET  /api/v1/kb                               ?q= &limit= (staff)
//	GET  /api/v1/kpis                             ?customer= &contract= &from= &to= (RFC 3339 or YYYY-MM-DD)
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
	a := &api{svc: svc, tokens: opts.Tokens, h: handler{log: opts.Logger}}
	mux := http.NewServeMux()
	route := func(pattern string, fn func(w http.ResponseWriter, r *http.Request, who ticketing.Actor)) {
		mux.HandleFunc(pattern, a.auth(fn))
	}
	route("GET /api/v1/me", func(w http.ResponseWriter, _ *http.Request, who ticketing.Actor) { a.h.write(w, http.StatusOK, who) })
	route("GET /api/v1/tickets", a.list)
	route("POST /api/v1/tickets", a.create)
	route("GET /api/v1/tickets/{id}", a.get)
	route("POST /api/v1/tickets/{id}/actions/{action}", a.act)
	route("POST /api/v1/tickets/{id}/survey", a.survey)
	route("GET /api/v1/tickets/{id}/similar", a.similar)
	route("GET /api/v1/problems", a.problems)
	route("GET /api/v1/kb", a.kb)
	route("GET /api/v1/kpis", a.kpis)
	return mux
}

type api struct {
	svc    Service
	tokens *Tokens
	h      handler
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
	t, err := a.svc.CreateManual(r.Context(), who, in)
	if err == nil {
		w.Header().Set("Location", "/api/v1/tickets/"+t.ID)
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
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return ticketing.Errorf(ticketing.EINVALID, "invalid field %q: want %s", te.Field, te.Type)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return ticketing.Errorf(ticketing.EINVALID, "unknown field %s", f)
		}
		return ticketing.Errorf(ticketing.EINVALID, "invalid JSON body: %v", err)
	}
	if dec.More() {
		return ticketing.Errorf(ticketing.EINVALID, "invalid JSON body: more than one value")
	}
	return nil
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
