package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/plugins/remediation"
	"github.com/nocagent/nocagent/plugins/snmpbounce"
	"github.com/nocagent/nocagent/ticketing"
)

// defaultPolicy: nothing runs without an engineer's or manager's approval,
// and a device is touched at most three times an hour.
var defaultPolicy = remediation.Policy{Default: remediation.ModeApproval, MaxPerDevicePerHour: 3, MaxPerHour: 30}

// remediations holds the remediation records, kept in the store as they
// change (see saveRemediation) and read back at start.
type remediations struct {
	mu   sync.Mutex
	seq  int
	byID map[string]*remediation.Remediation
}

// offer is one action a remediator plugin offers for a ticket.
type offer struct {
	Plugin string `json:"plugin"`
	plugins.ActionSpec
}

func (a *Agent) offers(ctx context.Context, t ticketing.Ticket) []offer {
	var out []offer
	for _, name := range a.plugins.Names(plugins.KindRemediator) {
		rem, err := a.plugins.Remediator(name)
		if err != nil {
			continue
		}
		specs, err := rem.Actions(ctx)
		if err != nil {
			a.log.Warn("remediator actions", "plugin", name, "err", err)
			continue
		}
		for _, s := range specs {
			if len(s.Categories) == 0 || slices.Contains(s.Categories, t.Category) {
				out = append(out, offer{Plugin: name, ActionSpec: s})
			}
		}
	}
	return out
}

// request builds what a remediator needs from the ticket's device only: a
// remediation never runs against a device outside the ticket's scope.
func (a *Agent) request(t ticketing.Ticket, action string) (plugins.Request, error) {
	dev, ok := a.config().Device(t.Device.Name)
	if !ok {
		return plugins.Request{}, fmt.Errorf("%w: ticket %s has no inventory device", plugins.ErrInvalid, t.ID)
	}
	cred, _ := a.config().Credential(dev.Credential)
	req := plugins.Request{
		Action: action,
		Device: plugins.Device{Name: dev.Name, Address: dev.Address, CredentialRef: dev.Credential, Vendor: t.Device.Vendor,
			Model: t.Device.Model, Serial: t.Device.Serial, Role: dev.Role, Customer: dev.Customer, Site: dev.Site},
		Ticket:  plugins.Ticket{ID: t.ID, Title: t.Title, Category: t.Category},
		Params:  map[string]string{},
		Secrets: snmpbounce.Secrets(cred),
	}
	// The interface of the ticket's first firing evidence, resolved to its
	// ifIndex and role from the last poll and the topology.
	a.mu.RLock()
	s, graph := a.good[dev.Name], a.graph
	a.mu.RUnlock()
	for _, ev := range t.Evidence {
		if ev.Instance == "" || s == nil {
			continue
		}
		req.Ticket.Rule = ev.Rule
		req.Ticket.Summary = ev.Summary
		for _, it := range s.Interfaces {
			if it.Name != ev.Instance && it.Descr != ev.Instance {
				continue
			}
			req.Params["if_index"] = strconv.Itoa(it.Index)
			role := "access"
			for _, l := range graph.Links(dev.Name) {
				if l.APort == it.Name {
					role, req.Params["neighbor"] = "uplink", l.B
				}
			}
			if strings.Contains(strings.ToLower(it.Alias), "uplink") {
				role = "uplink"
			}
			req.Params["port_role"] = role
			req.Params["alias"] = it.Alias
		}
		break
	}
	return req, nil
}

func (a *Agent) remediationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/tickets/{id}/remediations", func(w http.ResponseWriter, r *http.Request) {
		actor, ok := a.staff(w, r)
		if !ok {
			return
		}
		t, err := a.tickets.GetAs(r.Context(), actor, r.PathValue("id"))
		if err != nil {
			writeTicketError(w, err)
			return
		}
		a.rem.mu.Lock()
		var recs []*remediation.Remediation
		for _, x := range a.rem.byID {
			if x.TicketID == t.ID {
				recs = append(recs, x)
			}
		}
		a.rem.mu.Unlock()
		slices.SortFunc(recs, func(x, y *remediation.Remediation) int { return strings.Compare(x.ID, y.ID) })
		writeJSON(w, http.StatusOK, map[string]any{"actions": nonNilOffers(a.offers(r.Context(), t)), "remediations": recs})
	})
	mux.HandleFunc("POST /api/v1/tickets/{id}/remediations", func(w http.ResponseWriter, r *http.Request) {
		actor, ok := a.staff(w, r)
		if !ok {
			return
		}
		var body struct {
			Action string `json:"action"`
			DryRun bool   `json:"dry_run"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil || body.Action == "" {
			writeError(w, http.StatusBadRequest, "invalid", `body: want {"action": NAME, "dry_run": bool}`)
			return
		}
		t, err := a.tickets.GetAs(r.Context(), actor, r.PathValue("id"))
		if err != nil {
			writeTicketError(w, err)
			return
		}
		var chosen *offer
		for _, o := range a.offers(r.Context(), t) {
			if o.Name == body.Action {
				chosen = &o
				break
			}
		}
		if chosen == nil {
			writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("no remediator offers %q for a %s ticket", body.Action, t.Category))
			return
		}
		rec, err := a.plan(r.Context(), t, remediationActor(actor), chosen.Plugin, body.Action, body.DryRun)
		if err != nil {
			writePluginError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, rec)
	})
	mux.HandleFunc("POST /api/v1/remediations/{id}/approve", func(w http.ResponseWriter, r *http.Request) {
		actor, ok := a.staff(w, r)
		if !ok {
			return
		}
		a.rem.mu.Lock()
		rec := a.rem.byID[r.PathValue("id")]
		if rec == nil {
			a.rem.mu.Unlock()
			writeError(w, http.StatusNotFound, "not_found", "remediation "+quote(r.PathValue("id"))+" not found")
			return
		}
		// The limits are checked again, under the same lock as the
		// approval: plans made earlier cannot add up past them.
		ev, err := remediation.Event{}, error(nil)
		if reason := policy(a.config()).OverLimit(rec.Device, a.rem.others(rec.ID), a.now()); reason != "" {
			err = errors.New(reason + ": approve it later")
		} else {
			ev, err = rec.Approve(remediationActor(actor), a.now())
		}
		a.rem.mu.Unlock()
		if err != nil {
			writeError(w, http.StatusConflict, "conflict", err.Error())
			return
		}
		a.saveOrLog(r.Context(), rec)
		a.timeline(r.Context(), ev)
		writeJSON(w, http.StatusOK, a.execute(r.Context(), rec))
	})
}

func nonNilOffers(o []offer) []offer {
	if o == nil {
		return []offer{}
	}
	return o
}

// plan asks the plugin for a dry-run plan, applies the policy and, where
// the policy runs it without approval, executes it.
func (a *Agent) plan(ctx context.Context, t ticketing.Ticket, by remediation.Actor, plugin, action string, dryRun bool) (*remediation.Remediation, error) {
	rem, err := a.plugins.Remediator(plugin)
	if err != nil {
		return nil, err
	}
	req, err := a.request(t, action)
	if err != nil {
		return nil, err
	}
	p, err := rem.Plan(ctx, req)
	if err != nil {
		return nil, err
	}
	a.rem.mu.Lock()
	a.rem.seq++
	id := fmt.Sprintf("REM-%06d", a.rem.seq)
	d := policy(a.config()).Decide(remediation.Input{Rule: req.Ticket.Rule, Category: t.Category, Action: action, Device: t.Device.Name, DryRun: dryRun}, a.rem.others(""), a.now())
	rec, evs := remediation.New(id, plugin, p, d, a.now())
	rec.RequestedBy = by
	// What the policy runs on its own is approved under the same lock as
	// the decision, so that no other plan counts against the limits
	// between the two.
	auto := d.Mode == remediation.ModeAuto && !d.DryRun
	if auto {
		ev, err := rec.AutoApprove(a.now())
		auto = err == nil
		evs = append(evs, ev)
	}
	a.rem.byID[id] = &rec
	a.rem.mu.Unlock()
	if err := a.saveRemediation(ctx, &rec); err != nil {
		a.rem.mu.Lock()
		delete(a.rem.byID, id)
		a.rem.mu.Unlock()
		return nil, err
	}
	a.timeline(ctx, evs...)
	if auto {
		return a.execute(ctx, &rec), nil
	}
	return &rec, nil
}

// execute runs an approved plan, verifies it and escalates the ticket when
// it failed or could not be verified.
func (a *Agent) execute(ctx context.Context, rec *remediation.Remediation) *remediation.Remediation {
	rem, err := a.plugins.Remediator(rec.Plugin)
	t, terr := a.tickets.Get(ctx, rec.TicketID)
	if err != nil || terr != nil {
		a.rem.mu.Lock()
		ev, _ := rec.Fail(remediation.PolicyActor, fmt.Sprintf("cannot run: %v", errors.Join(err, terr)), a.now())
		a.rem.mu.Unlock()
		a.saveOrLog(ctx, rec)
		a.timeline(ctx, ev)
		return rec
	}
	req, _ := a.request(t, rec.Action)
	p := rec.Plan
	p.Secrets = req.Secrets // never stored: set again for each run
	res, err := rem.Execute(ctx, p)
	a.rem.mu.Lock()
	var evs []remediation.Event
	switch {
	case errors.Is(err, plugins.ErrRefused):
		// The device no longer needs it (the port came back, someone
		// shut it): nothing ran, and nothing is escalated.
		ev, _ := rec.Refuse(err.Error(), a.now())
		evs = append(evs, ev)
	case err != nil:
		ev, _ := rec.Fail(remediation.PolicyActor, "execute: "+err.Error(), a.now())
		evs = append(evs, ev)
	default:
		evs, _ = rec.Executed(res, a.now())
	}
	a.rem.mu.Unlock()
	a.saveOrLog(ctx, rec)
	a.timeline(ctx, evs...)
	if err == nil && rec.State == remediation.StateExecuted {
		v, verr := rem.Verify(ctx, p)
		a.rem.mu.Lock()
		var ev remediation.Event
		if verr != nil {
			ev, _ = rec.Fail(remediation.PolicyActor, "verify: "+verr.Error(), a.now())
		} else {
			ev, _ = rec.Verified(v, a.now())
		}
		a.rem.mu.Unlock()
		a.saveOrLog(ctx, rec)
		a.timeline(ctx, ev)
	}
	if t, err := a.tickets.Get(ctx, rec.TicketID); err == nil && rec.Escalate() && t.State.Open() {
		if _, err := a.tickets.Act(ctx, ticketing.Actor{Name: "remediation", Role: ticketing.RoleManager}, rec.TicketID,
			ticketing.ActEscalate, ticketing.ActionInput{Reason: "remediation " + rec.ID + " failed or was not verified: " + rec.Reason}); err != nil {
			a.log.Warn("escalate after remediation", "ticket", rec.TicketID, "err", err)
		}
	}
	return rec
}

// timeline writes remediation steps onto their ticket.
func (a *Agent) timeline(ctx context.Context, evs ...remediation.Event) {
	for _, ev := range evs {
		if ev.Type == "" {
			continue
		}
		note := ev.Type + " " + ev.RemediationID + ": " + ev.Message
		if len(ev.Evidence) > 0 {
			note += "\n" + strings.Join(ev.Evidence, "\n")
		}
		actor := ev.Actor.Name
		if actor == "" {
			actor = "policy"
		}
		if err := a.tickets.Record(ctx, ev.TicketID, actor, ticketing.KindRemediation, note); err != nil {
			a.log.Warn("remediation step on timeline", "ticket", ev.TicketID, "err", err)
		}
	}
}

func writeTicketError(w http.ResponseWriter, err error) {
	switch ticketing.ErrorCode(err) {
	case ticketing.ENOTFOUND:
		writeError(w, http.StatusNotFound, "not_found", ticketing.ErrorMessage(err))
	case ticketing.EINVALID:
		writeError(w, http.StatusBadRequest, "invalid", ticketing.ErrorMessage(err))
	default:
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

func writePluginError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, plugins.ErrRefused):
		writeError(w, http.StatusConflict, "refused", err.Error())
	case errors.Is(err, plugins.ErrInvalid):
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
	case errors.Is(err, plugins.ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
	default:
		writeError(w, http.StatusBadGateway, "plugin_failed", err.Error())
	}
}

// recordRemediation is the store's record kind of remediation records.
const recordRemediation = "remediation"

// saveRemediation stores rec as it is now: plans waiting for approval,
// approvals and results survive a restart, and so does the history the
// per-device limits count.
func (a *Agent) saveRemediation(ctx context.Context, rec *remediation.Remediation) error {
	a.rem.mu.Lock()
	body, err := json.Marshal(rec)
	a.rem.mu.Unlock()
	if err != nil {
		return fmt.Errorf("remediation %s: %w", rec.ID, err)
	}
	// A step already taken on the device is stored even when the request
	// that took it has gone.
	ctx = context.WithoutCancel(ctx)
	if err := a.store.PutRecord(ctx, ticketing.Record{Kind: recordRemediation, ID: rec.ID, Body: body}); err != nil {
		return fmt.Errorf("remediation %s: %w", rec.ID, err)
	}
	return nil
}

func (a *Agent) saveOrLog(ctx context.Context, rec *remediation.Remediation) {
	if err := a.saveRemediation(ctx, rec); err != nil {
		a.log.Error("remediation record not stored", "remediation", rec.ID, "err", err)
	}
}

// loadRemediations reads the stored records back at start. One that was
// approved or executed but not finished when the agent stopped is failed:
// what happened on the device is unknown, and it is not run again.
func (a *Agent) loadRemediations(ctx context.Context) error {
	recs, err := a.store.Records(ctx, recordRemediation)
	if err != nil {
		return fmt.Errorf("remediation records: %w", err)
	}
	for _, r := range recs {
		rec := &remediation.Remediation{}
		if err := json.Unmarshal(r.Body, rec); err != nil {
			a.log.Error("stored remediation record unreadable", "remediation", r.ID, "err", err)
			continue
		}
		a.rem.byID[rec.ID] = rec
		if n, err := strconv.Atoi(strings.TrimPrefix(rec.ID, "REM-")); err == nil && n > a.rem.seq {
			a.rem.seq = n
		}
		if rec.State == remediation.StateApproved || rec.State == remediation.StateExecuted {
			ev, err := rec.Fail(remediation.PolicyActor, "interrupted by an agent restart in state "+string(rec.State)+": check the device", a.now())
			if err == nil {
				a.saveOrLog(ctx, rec)
				a.timeline(ctx, ev)
			}
		}
	}
	return nil
}

// others returns every record but the one with id skip, as values, for the
// policy's limits. The caller holds mu.
func (r *remediations) others(skip string) []remediation.Remediation {
	out := make([]remediation.Remediation, 0, len(r.byID))
	for id, x := range r.byID {
		if id != skip {
			out = append(out, *x)
		}
	}
	return out
}

// remediationActor is the person behind an API call as a remediation
// actor; an admin approves as a manager.
func remediationActor(a ticketing.Actor) remediation.Actor {
	role := remediation.Role(a.Role)
	if a.Role == ticketing.RoleAdmin {
		role = remediation.RoleManager
	}
	return remediation.Actor{Name: a.Name, Role: role}
}
