// Package httpapi serves the ticketing REST API: New is the authenticated
// API with roles; NewHandler is the earlier read-only, unauthenticated one.
package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/nocagent/nocagent/ticketing"
)

// Tickets is what the API needs from the ticket service; *ticketing.Service
// implements it.
type Tickets interface {
	Get(ctx context.Context, id string) (ticketing.Ticket, error)
	List(ctx context.Context, f ticketing.Filter) ([]ticketing.Ticket, error)
}

var _ Tickets = (*ticketing.Service)(nil)

// NewHandler returns the read-only API without authentication.
//
// Deprecated: it predates tokens and roles; serve New instead. Kept until
// the agent switches, so its callers keep building.
//
// NewHandler serves:
//
//	GET /api/v1/tickets        ?state= &priority= &customer= &device= &open=true &limit=
//	GET /api/v1/tickets/{id}   the ticket with its timeline
//
// Errors are JSON {"error":{"code":..., "message":...}}; unexpected ones are
// logged and shown as "internal error" only.
func NewHandler(svc Tickets, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	h := &handler{svc: svc, log: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/tickets", h.list)
	mux.HandleFunc("GET /api/v1/tickets/{id}", h.get)
	return mux
}

type handler struct {
	svc Tickets
	log *slog.Logger
}

// handler's fail and write are shared with New's api; svc is nil there.

// ListResponse is the body of GET /api/v1/tickets.
type ListResponse struct {
	Tickets []ticketing.Ticket `json:"tickets"`
	Count   int                `json:"count"`
}

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody carries a ticketing error code and a message safe to show.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ts, err := h.svc.List(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ts == nil {
		ts = []ticketing.Ticket{}
	}
	h.write(w, http.StatusOK, ListResponse{Tickets: ts, Count: len(ts)})
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	t, err := h.svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.write(w, http.StatusOK, t)
}

// parseFilter checks every query parameter and names the one that is wrong.
func parseFilter(q url.Values) (ticketing.Filter, error) {
	bad := func(param, value, want string) error {
		return ticketing.Errorf(ticketing.EINVALID, "invalid value %q for parameter %s: %s", value, param, want)
	}
	var f ticketing.Filter
	if v := q.Get("state"); v != "" {
		if f.State = ticketing.State(v); !f.State.Valid() {
			return f, bad("state", v, "want one of new, acknowledged, in_progress, resolved, verified, confirmed, closed, cancelled")
		}
	}
	if v := q.Get("priority"); v != "" {
		if f.Priority = ticketing.Priority(v); !f.Priority.Valid() {
			return f, bad("priority", v, "want one of P1, P2, P3, P4")
		}
	}
	f.Customer = q.Get("customer")
	f.Affecting = q.Get("affecting")
	f.Device = q.Get("device")
	if v := q.Get("open"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, bad("open", v, "want true or false")
		}
		f.Open = b
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > ticketing.MaxListLimit {
			return f, bad("limit", v, fmt.Sprintf("want an integer in 1..%d", ticketing.MaxListLimit))
		}
		f.Limit = n
	}
	return f, nil
}

var statusOf = map[string]int{
	ticketing.EINVALID:      http.StatusBadRequest,
	ticketing.ENOTFOUND:     http.StatusNotFound,
	ticketing.ECONFLICT:     http.StatusConflict,
	ticketing.EFORBIDDEN:    http.StatusForbidden,
	ticketing.EUNAUTHORIZED: http.StatusUnauthorized,
	ticketing.EINTERNAL:     http.StatusInternalServerError,
	ticketing.EGONE:         http.StatusGone,
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := ticketing.ErrorCode(err)
	status, ok := statusOf[code]
	msg := ticketing.ErrorMessage(err)
	if !ok || status == http.StatusInternalServerError {
		status, code, msg = http.StatusInternalServerError, ticketing.EINTERNAL, "internal error"
		h.log.ErrorContext(r.Context(), "api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h.write(w, status, ErrorResponse{Error: ErrorBody{Code: code, Message: msg}})
}

func (h *handler) write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		h.log.Warn("write api response", "err", err)
	}
}
