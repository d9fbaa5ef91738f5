package agent

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nocagent/nocagent/console"
	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/topology"
)

// deviceView is one device in GET /api/v1/devices: inventory attributes and
// the outcome of its last poll. Credentials are named, never shown.
type deviceView struct {
	Name       string    `json:"name"`
	Address    string    `json:"address"`
	Credential string    `json:"credential,omitempty"` // not shown to customers
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
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "devices": len(a.config().Devices)})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelError)}))
	mux.HandleFunc("GET /api/v1/devices", func(w http.ResponseWriter, r *http.Request) {
		who, ok := a.reader(w, r)
		if !ok {
			return
		}
		writeJSON(w, http.StatusOK, a.deviceViews(who))
	})
	mux.HandleFunc("GET /api/v1/devices/{name}", func(w http.ResponseWriter, r *http.Request) {
		who, ok := a.reader(w, r)
		if !ok {
			return
		}
		name := r.PathValue("name")
		// Another customer's device is "not found", as its tickets are:
		// a customer cannot tell it from a device that does not exist.
		for _, v := range a.deviceViews(who) {
			if v.Name == name {
				writeJSON(w, http.StatusOK, v)
				return
			}
		}
		writeError(w, http.StatusNotFound, "not_found", "device "+quote(name)+" not found")
	})
	mux.HandleFunc("GET /api/v1/topology", func(w http.ResponseWriter, r *http.Request) {
		who, ok := a.reader(w, r)
		if !ok {
			return
		}
		a.mu.RLock()
		g := a.graph
		a.mu.RUnlock()
		v := g.View()
		if who.Role == ticketing.RoleCustomer {
			v = a.customerTopology(v, who.Customer)
		}
		writeJSON(w, http.StatusOK, v)
	})
	a.maintenanceRoutes(mux)
	a.outboxRoutes(mux)
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
	// The web console: /, /login, /tickets/{id}.
	console.New(a.tickets, a.tokens, console.Options{Logger: a.log, Now: a.now}).Routes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// reader authenticates a request with any role's token.
func (a *Agent) reader(w http.ResponseWriter, r *http.Request) (ticketing.Actor, bool) {
	who, ok := a.tokens.Authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="nocagent"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "a valid bearer token is required")
	}
	return who, ok
}

// visible reports whether who may see the device: staff see every device,
// a customer its own.
func visible(who ticketing.Actor, customer string) bool {
	return who.Role != ticketing.RoleCustomer || customer == who.Customer
}

// deviceViews are the devices who may see. A customer sees no credential
// name and, among upstreams and downstreams, only its own devices.
func (a *Agent) deviceViews(who ticketing.Actor) []deviceView {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]deviceView, 0, len(a.config().Devices))
	own := func(names []string) []string {
		if who.Role != ticketing.RoleCustomer {
			return nonNil(names)
		}
		kept := []string{}
		for _, n := range names {
			if d, ok := a.config().Device(n); ok && visible(who, d.Customer) {
				kept = append(kept, n)
			}
		}
		return kept
	}
	for _, d := range a.config().Devices {
		if !visible(who, d.Customer) {
			continue
		}
		v := deviceView{
			Name: d.Name, Address: d.Address, Credential: d.Credential, Customer: d.Customer,
			Site: d.Site, Role: d.Role, Upstream: own(a.graph.Upstream(d.Name)), Tags: nonNil(d.Tags),
			Downstream: own(a.graph.Downstream(d.Name)), Errors: []string{},
		}
		if who.Role == ticketing.RoleCustomer {
			v.Credential = ""
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

// customerTopology restricts v to the customer's devices: their upstreams
// among them, and their neighbours except those matched to another
// customer's device (unmatched neighbours are what the customer's own
// devices announce).
func (a *Agent) customerTopology(v topology.View, customer string) topology.View {
	mine := func(name string) bool {
		d, ok := a.config().Device(name)
		return ok && d.Customer == customer
	}
	out := topology.View{Devices: []topology.DeviceView{}}
	for _, d := range v.Devices {
		if !mine(d.Name) {
			continue
		}
		dv := topology.DeviceView{Name: d.Name, Upstream: []string{}, Neighbors: []topology.NeighborView{}}
		for _, u := range d.Upstream {
			if mine(u) {
				dv.Upstream = append(dv.Upstream, u)
			}
		}
		for _, n := range d.Neighbors {
			if n.Device == "" || mine(n.Device) {
				dv.Neighbors = append(dv.Neighbors, n)
			}
		}
		out.Devices = append(out.Devices, dv)
	}
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
