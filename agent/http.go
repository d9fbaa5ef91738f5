package agent

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// deviceView is one device in GET /api/v1/devices: inventory attributes and
// the outcome of its last poll. Credentials are named, never shown.
type deviceView struct {
	Name       string    `json:"name"`
	Address    string    `json:"address"`
	Credential string    `json:"credential"`
	Customer   string    `json:"customer"`
	Site       string    `json:"site"`
	Role       string    `json:"role"`
	Upstream   []string  `json:"upstream"`
	Downstream []string  `json:"downstream"`
	Tags       []string  `json:"tags"`
	Polled     bool      `json:"polled"`
	Reachable  bool      `json:"reachable"`
	LastPoll   time.Time `json:"last_poll,omitzero"`
	PollMillis float64   `json:"poll_ms"`
	Vendor     string    `json:"vendor"`
	Model      string    `json:"model"`
	Serial     string    `json:"serial"`
	OS         string    `json:"os"`
	Interfaces int       `json:"interfaces"`
	Errors     []string  `json:"errors"`
}

func (a *Agent) handler(reg *prometheus.Registry, tickets http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "devices": len(a.cfg.Devices)})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelError)}))
	mux.HandleFunc("GET /api/v1/devices", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, a.deviceViews())
	})
	mux.HandleFunc("GET /api/v1/devices/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		for _, v := range a.deviceViews() {
			if v.Name == name {
				writeJSON(w, http.StatusOK, v)
				return
			}
		}
		writeError(w, http.StatusNotFound, "not_found", "device "+quote(name)+" not found")
	})
	mux.HandleFunc("GET /api/v1/topology", func(w http.ResponseWriter, r *http.Request) {
		a.mu.RLock()
		g := a.graph
		a.mu.RUnlock()
		writeJSON(w, http.StatusOK, g.View())
	})
	a.maintenanceRoutes(mux)
	a.pluginRoutes(mux)
	a.remediationRoutes(mux)
	// The ticketing API (tickets, actions, survey, problems, kb, kpis, me)
	// answers the rest of /api/v1/, its own 404s included.
	mux.Handle("/api/v1/", tickets)
	// Method-less twins of the routes above catch other methods, so that
	// every error the API returns is JSON.
	for _, path := range []string{"/healthz", "/metrics", "/api/v1/devices", "/api/v1/devices/{name}", "/api/v1/topology"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return mux
}

func (a *Agent) deviceViews() []deviceView {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]deviceView, 0, len(a.cfg.Devices))
	for _, d := range a.cfg.Devices {
		v := deviceView{
			Name: d.Name, Address: d.Address, Credential: d.Credential, Customer: d.Customer,
			Site: d.Site, Role: d.Role, Upstream: nonNil(a.graph.Upstream(d.Name)), Tags: nonNil(d.Tags),
			Downstream: nonNil(a.graph.Downstream(d.Name)), Errors: []string{},
		}
		if s := a.latest[d.Name]; s != nil {
			v.Polled, v.Reachable, v.LastPoll = true, s.Reachable, s.Time
			v.PollMillis = float64(s.PollDuration.Microseconds()) / 1000
			v.Vendor, v.Model, v.Serial, v.OS = s.Vendor, s.Model, s.Serial, s.OS
			v.Interfaces = len(s.Interfaces)
			v.Errors = nonNil(s.Errors)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
