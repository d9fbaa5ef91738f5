package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/nocagent/nocagent/rules"
	"github.com/nocagent/nocagent/ticketing"
)

// MaintenanceWindow is a maintenance window as the API reads and writes
// it (and the CLI sends it): durations as text ("2h"), times in RFC 3339.
type MaintenanceWindow struct {
	ID         string    `json:"id"`
	Reason     string    `json:"reason,omitempty"`
	Start      time.Time `json:"start,omitzero"`
	End        time.Time `json:"end,omitzero"`
	Schedule   string    `json:"schedule,omitempty"` // cron, e.g. "0 2 * * SUN"
	Duration   string    `json:"duration,omitempty"` // with schedule
	Devices    []string  `json:"devices,omitempty"`
	Sites      []string  `json:"sites,omitempty"`
	Customers  []string  `json:"customers,omitempty"`
	Tags       []string  `json:"tags,omitempty"`
	Everything bool      `json:"everything,omitempty"`
	Active     bool      `json:"active"`
}

func toBody(m rules.Maintenance, now time.Time) MaintenanceWindow {
	b := MaintenanceWindow{ID: m.ID, Reason: m.Reason, Start: m.Start, End: m.End, Schedule: m.Schedule,
		Devices: m.Devices, Sites: m.Sites, Customers: m.Customers, Tags: m.Tags, Everything: m.Everything,
		Active: m.ActiveAt(now)}
	if m.Duration > 0 {
		b.Duration = m.Duration.String()
	}
	return b
}

// staff authenticates a request and requires an engineer, manager or admin:
// maintenance windows silence tickets for every customer they match.
func (a *Agent) staff(w http.ResponseWriter, r *http.Request) (ticketing.Actor, bool) {
	actor, ok := a.reader(w, r)
	if !ok {
		return actor, false
	}
	switch actor.Role {
	case ticketing.RoleAdmin, ticketing.RoleManager, ticketing.RoleEngineer:
		return actor, true
	}
	writeError(w, http.StatusForbidden, "forbidden", "maintenance windows are for engineers, managers and admins")
	return actor, false
}

func (a *Agent) maintenanceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/maintenance", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := a.staff(w, r); !ok {
			return
		}
		now := a.now()
		out := []MaintenanceWindow{}
		for _, m := range a.engine.Maintenances() {
			out = append(out, toBody(m, now))
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /api/v1/maintenance", func(w http.ResponseWriter, r *http.Request) {
		actor, ok := a.staff(w, r)
		if !ok {
			return
		}
		var b MaintenanceWindow
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			writeError(w, http.StatusBadRequest, "invalid", "maintenance window: "+err.Error())
			return
		}
		m, err := b.window()
		if err == nil {
			err = m.CheckRequested(a.now(), actor.Role == ticketing.RoleManager || actor.Role == ticketing.RoleAdmin)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		if err := a.setMaintenance(r.Context(), m, b); err != nil {
			if errors.Is(err, errInvalidWindow) {
				writeError(w, http.StatusBadRequest, "invalid", err.Error())
			} else {
				a.log.Error("maintenance window not stored", "id", m.ID, "err", err)
				writeError(w, http.StatusInternalServerError, "internal", "maintenance window "+quote(m.ID)+" could not be stored")
			}
			return
		}
		a.log.Info("maintenance window set", "id", m.ID, "by", actor.Name, "reason", m.Reason)
		writeJSON(w, http.StatusCreated, toBody(m, a.now()))
	})
	mux.HandleFunc("DELETE /api/v1/maintenance/{id}", func(w http.ResponseWriter, r *http.Request) {
		actor, ok := a.staff(w, r)
		if !ok {
			return
		}
		id := r.PathValue("id")
		if _, err := a.store.DeleteRecord(r.Context(), recordMaintenance, id); err != nil {
			a.log.Error("maintenance window not deleted", "id", id, "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "maintenance window "+quote(id)+" could not be deleted")
			return
		}
		if !a.engine.RemoveMaintenance(id) {
			writeError(w, http.StatusNotFound, "not_found", "maintenance window "+quote(id)+" not found")
			return
		}
		a.log.Info("maintenance window removed", "id", id, "by", actor.Name)
		w.WriteHeader(http.StatusNoContent)
	})
}

// recordMaintenance is the store's record kind of API-made windows.
const recordMaintenance = "maintenance"

var errInvalidWindow = errors.New("invalid maintenance window")

// window is b as the rules engine's window.
func (b MaintenanceWindow) window() (rules.Maintenance, error) {
	m := rules.Maintenance{ID: b.ID, Reason: b.Reason, Start: b.Start, End: b.End, Schedule: b.Schedule,
		Devices: b.Devices, Sites: b.Sites, Customers: b.Customers, Tags: b.Tags, Everything: b.Everything}
	if b.Duration != "" {
		d, err := time.ParseDuration(b.Duration)
		if err != nil {
			return m, fmt.Errorf("duration: %w", err)
		}
		m.Duration = d
	}
	return m, nil
}

// setMaintenance puts a window in force and stores it, so that it is in
// force again after a restart; a window the store refused is not in force.
func (a *Agent) setMaintenance(ctx context.Context, m rules.Maintenance, b MaintenanceWindow) error {
	var prev *rules.Maintenance
	for _, x := range a.engine.Maintenances() {
		if x.ID == m.ID {
			prev = &x
		}
	}
	if err := a.engine.AddMaintenance(m); err != nil {
		return fmt.Errorf("%w: %w", errInvalidWindow, err)
	}
	b.Active = false // derived on read
	body, err := json.Marshal(b)
	if err == nil {
		err = a.store.PutRecord(ctx, ticketing.Record{Kind: recordMaintenance, ID: m.ID, Body: body})
	}
	if err != nil {
		a.engine.RemoveMaintenance(m.ID)
		if prev != nil {
			_ = a.engine.AddMaintenance(*prev) // it was in force: it compiles
		}
		return err
	}
	return nil
}

// loadMaintenance puts the stored windows back in force at start. A window
// that no longer compiles is logged and left stored, not dropped.
func (a *Agent) loadMaintenance(ctx context.Context) error {
	recs, err := a.store.Records(ctx, recordMaintenance)
	if err != nil {
		return fmt.Errorf("maintenance windows: %w", err)
	}
	for _, r := range recs {
		var b MaintenanceWindow
		err := json.Unmarshal(r.Body, &b)
		if err == nil {
			var m rules.Maintenance
			if m, err = b.window(); err == nil {
				err = a.engine.AddMaintenance(m)
			}
		}
		if err != nil {
			a.log.Error("stored maintenance window not in force", "id", r.ID, "err", err)
		}
	}
	return nil
}

// maxDeadLetters bounds what the outbox API and metric read.
const maxDeadLetters = 1000

// outboxRoutes: dead letters for managers and admins to see and retry.
func (a *Agent) outboxRoutes(mux *http.ServeMux) {
	manager := func(w http.ResponseWriter, r *http.Request) (ticketing.Actor, bool) {
		actor, ok := a.staff(w, r)
		if ok && actor.Role == ticketing.RoleEngineer {
			writeError(w, http.StatusForbidden, "forbidden", "the outbox is for managers and admins")
			return actor, false
		}
		return actor, ok
	}
	mux.HandleFunc("GET /api/v1/outbox/dead", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := manager(w, r); !ok {
			return
		}
		dead, err := a.dispatcher.DeadLetters(r.Context(), maxDeadLetters)
		if err != nil {
			a.log.Error("dead letters", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		}
		for i := range dead {
			dead[i].Payload = nil // the notice itself stays in the store
		}
		writeJSON(w, http.StatusOK, dead)
	})
	mux.HandleFunc("POST /api/v1/outbox/{id}/retry", func(w http.ResponseWriter, r *http.Request) {
		actor, ok := manager(w, r)
		if !ok {
			return
		}
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			writeError(w, http.StatusBadRequest, "invalid", "outbox message id: want a positive integer")
			return
		}
		if err := a.dispatcher.Retry(r.Context(), id); err != nil {
			if ticketing.ErrorCode(err) == ticketing.ENOTFOUND {
				writeError(w, http.StatusNotFound, "not_found", ticketing.ErrorMessage(err))
				return
			}
			a.log.Error("retry dead letter", "id", id, "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		}
		a.log.Info("dead letter retried", "id", id, "by", actor.Name)
		w.WriteHeader(http.StatusNoContent)
	})
}
