package agent

import (
	"encoding/json"
	"io"
	"net/http"
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
	actor, ok := a.tokens.Authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="nocagent"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "a valid bearer token is required")
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
		m := rules.Maintenance{ID: b.ID, Reason: b.Reason, Start: b.Start, End: b.End, Schedule: b.Schedule,
			Devices: b.Devices, Sites: b.Sites, Customers: b.Customers, Tags: b.Tags, Everything: b.Everything}
		if b.Duration != "" {
			d, err := time.ParseDuration(b.Duration)
			if err != nil {
				writeError(w, http.StatusBadRequest, "invalid", "duration: "+err.Error())
				return
			}
			m.Duration = d
		}
		if err := a.engine.AddMaintenance(m); err != nil {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
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
		if !a.engine.RemoveMaintenance(id) {
			writeError(w, http.StatusNotFound, "not_found", "maintenance window "+quote(id)+" not found")
			return
		}
		a.log.Info("maintenance window removed", "id", id, "by", actor.Name)
		w.WriteHeader(http.StatusNoContent)
	})
}
