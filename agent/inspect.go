package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/plugins/builtin"
	"github.com/nocagent/nocagent/plugins/inspection"
	"github.com/nocagent/nocagent/plugins/remediation"
	"github.com/nocagent/nocagent/reports"
	"github.com/nocagent/nocagent/rules"
	"github.com/nocagent/nocagent/ticketing"
)

// startPlugins loads the built-in plugins (and external ones from
// plugins_dir) and the inspection scheduler: one contract per customer with
// a contract, inspected on its schedule, each result archived as JSON and
// rendered as an HTML report; findings of major severity or worse become
// tickets.
func (a *Agent) startPlugins(ctx context.Context, dataDir string) error {
	hc := plugins.HostConfig{Builtins: builtin.All(), Logger: a.log, Now: a.now, Configs: map[string][]byte{}}
	if p := a.config().Plugins; p != nil {
		hc.Dir = p.Dir
		for name, path := range p.ConfigFiles {
			b, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("plugin %s configuration: %w", name, err)
			}
			hc.Configs[name] = b
		}
	}
	h, err := plugins.NewHost(ctx, hc)
	if err != nil {
		// A rejected external plugin is listed with its reason; the agent
		// goes on with the rest.
		a.log.Warn("plugins", "err", err)
	}
	a.plugins = h
	dir := filepath.Join(dataDir, "inspections")
	a.inspectionDir = dir
	s, err := inspection.NewScheduler(inspection.Config{
		Contracts: contracts(a.config()),
		Targets:   func() []inspection.Target { return inspection.TargetsFromInventory(a.config()) },
		Snapshot: func(_ context.Context, t inspection.Target) (*collector.Snapshot, error) {
			a.mu.RLock()
			defer a.mu.RUnlock()
			if s := a.latest[t.Device.Name]; s != nil {
				return s, nil
			}
			return nil, fmt.Errorf("device %s not polled yet", t.Device.Name)
		},
		Inspectors: func(name string) (inspection.DeviceInspector, error) { return h.Inspector(name) },
		StateDir:   dir, ArchiveDir: dir,
		OnFinding: a.onFinding,
		OnResult: func(_ context.Context, r inspection.InspectionResult) {
			a.archiveReport(r, filepath.Join(dataDir, "reports"))
		},
		Logger: a.log,
		Now:    a.now,
	})
	if err != nil {
		return fmt.Errorf("inspections: %w", err)
	}
	a.inspections = s
	go a.serviceReports(ctx, filepath.Join(dataDir, "reports"))
	go func() {
		if err := s.Run(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("inspection scheduler stopped", "err", err)
		}
	}()
	return nil
}

// onFinding opens (or adds to) the device's ticket of the finding's
// category.
func (a *Agent) onFinding(_ context.Context, r inspection.Reported) {
	dc, ok := a.deviceContext(r.Device.Name)
	if !ok {
		return
	}
	dev, _ := a.config().Device(r.Device.Name)
	a.mu.RLock()
	target := a.ruleTarget(dev, a.graph)
	a.mu.RUnlock()
	sev := r.Finding.Severity
	if sev == "info" || sev == "" {
		sev = rules.SeverityWarning
	}
	summary := r.Finding.Title
	if len(r.Finding.Evidence) > 0 {
		summary += ": " + r.Finding.Evidence[0]
	}
	a.ingestSignal(ticketing.Signal{
		Fingerprint: r.Fingerprint(), Rule: "inspection/" + r.Finding.Inspector, Firing: true,
		Severity: sev, Category: r.Finding.Category, Priority: priorityMatrix(a.config()).Priority(sev, target),
		Summary: summary, Description: r.Finding.Recommendation, At: a.now(), Device: dc,
	}, rules.Alert{Rule: "inspection/" + r.Finding.Inspector, Device: r.Device.Name, Summary: summary})
}

func (a *Agent) archiveReport(r inspection.InspectionResult, dir string) {
	c := r.Contract
	lang := c.Lang()
	var buf bytes.Buffer
	name := ""
	if cust, ok := a.config().Customer(c.Customer); ok {
		name = cust.Name
	}
	if err := reports.RenderInspection(&buf, reports.InspectionData{Result: r, CustomerName: name, Generated: a.now()}, lang); err != nil {
		a.log.Error("inspection report", "contract", c.ID, "err", err)
		return
	}
	path, err := reports.Archive(dir, c.ID, reports.InspectionFileName(r.ID, lang, "html"), buf.Bytes())
	if err != nil {
		a.log.Error("inspection report", "contract", c.ID, "err", err)
		return
	}
	a.log.Info("inspection report archived", "contract", c.ID, "path", path)
	if a.mailer == nil || len(c.Recipients) == 0 {
		return
	}
	counts := r.Counts()
	text := fmt.Sprintf("Inspection %s of contract %s: %d devices inspected; findings by severity: %v. The full report is the HTML part of this message.",
		r.ID, c.ID, len(r.Devices), counts)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	subject := fmt.Sprintf("Inspection report %s — %s", c.ID, r.At.Format("2006-01-02"))
	if err := a.mailer.SendDocument(ctx, "inspection-"+r.ID, c.Recipients, subject, text, buf.String(), r.At); err != nil {
		a.log.Error("inspection report mail", "contract", c.ID, "err", err)
		return
	}
	a.log.Info("inspection report mailed", "contract", c.ID, "recipients", len(c.Recipients))
}

var reportID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

func (a *Agent) pluginRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/plugins", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := a.staff(w, r); !ok {
			return
		}
		writeJSON(w, http.StatusOK, a.plugins.List())
	})
	mux.HandleFunc("GET /api/v1/contracts", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := a.staff(w, r); !ok {
			return
		}
		writeJSON(w, http.StatusOK, a.inspections.Contracts())
	})
	mux.HandleFunc("POST /api/v1/contracts/{id}/inspections", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := a.staff(w, r); !ok {
			return
		}
		c, ok := a.inspections.Contract(r.PathValue("id"))
		if !ok {
			writeError(w, http.StatusNotFound, "not_found", "contract "+quote(r.PathValue("id"))+" not found")
			return
		}
		res, err := a.inspections.Inspect(r.Context(), c, a.now())
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", "inspection failed")
			a.log.Error("inspection on demand", "contract", c.ID, "err", err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"id": res.ID, "contract": res.Contract.ID, "at": res.At,
			"devices": len(res.Devices), "findings": res.Counts(),
			"report": "/api/v1/reports/" + res.ID})
	})
	mux.HandleFunc("GET /api/v1/reports/{id}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := a.staff(w, r); !ok {
			return
		}
		id := r.PathValue("id")
		if !reportID.MatchString(id) {
			writeError(w, http.StatusBadRequest, "invalid", "report id: letters, digits, '.', '_' and '-' only")
			return
		}
		for _, c := range a.inspections.Contracts() {
			res, err := inspection.LoadResult(filepath.Join(a.inspectionDir, c.ID, id+".json"))
			if err != nil {
				continue
			}
			var buf bytes.Buffer
			name := ""
			if cust, ok := a.config().Customer(c.Customer); ok {
				name = cust.Name
			}
			lang := c.Lang()
			if l := r.URL.Query().Get("lang"); l != "" {
				lang = l
			}
			if err := reports.RenderInspection(&buf, reports.InspectionData{Result: res, CustomerName: name, Generated: a.now()}, lang); err != nil {
				writeError(w, http.StatusInternalServerError, "internal", "report rendering failed")
				return
			}
			switch r.URL.Query().Get("format") {
			case "", "html":
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write(buf.Bytes())
			case "pdf":
				a.servePDF(w, r, id, buf.Bytes())
			default:
				writeError(w, http.StatusBadRequest, "invalid", "format: want html or pdf")
			}
			return
		}
		writeError(w, http.StatusNotFound, "not_found", "report "+quote(strings.TrimSpace(id))+" not found")
	})
}

// contracts are the configured contracts, plus a monthly one for each
// customer with a contract id and no entry of its own.
func contracts(cfg *inventory.Config) []inspection.Contract {
	var out []inspection.Contract
	have := map[string]bool{}
	for _, c := range cfg.Contracts {
		have[c.ID] = true
		out = append(out, inspection.Contract{ID: c.ID, Customer: c.Customer, Schedule: c.Schedule,
			Scope:      inspection.Scope{Sites: c.Scope.Sites, Tags: c.Scope.Tags, Devices: c.Scope.Devices},
			Recipients: c.Recipients, Language: c.Language, Inspectors: c.Inspectors})
	}
	for _, c := range inspection.ContractsFromInventory(cfg) {
		if !have[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

// policy is the configured remediation policy, or the default.
func policy(cfg *inventory.Config) remediation.Policy {
	p := cfg.Remediation
	if p == nil {
		return defaultPolicy
	}
	out := remediation.Policy{DryRun: p.DryRun, Default: remediation.Mode(p.Default),
		MaxPerDevicePerHour: p.MaxPerDevicePerHour, MaxPerHour: p.MaxPerHour}
	for _, r := range p.Rules {
		rule := remediation.Rule{Rule: r.Rule, Category: r.Category, Action: r.Action, Mode: remediation.Mode(r.Mode)}
		for _, ap := range r.Approvers {
			rule.Approvers = append(rule.Approvers, remediation.Role(ap))
		}
		out.Rules = append(out.Rules, rule)
	}
	return out
}

// servePDF prints the report with headless Chromium.
func (a *Agent) servePDF(w http.ResponseWriter, r *http.Request, id string, html []byte) {
	dir, err := os.MkdirTemp(a.dataDir, "pdf-")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, id+".html"), filepath.Join(dir, id+".pdf")
	if err := os.WriteFile(in, html, 0o600); err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	if err := reports.PDF(r.Context(), in, out); err != nil {
		if errors.Is(err, reports.ErrNoChromium) {
			writeError(w, http.StatusNotImplemented, "unavailable", err.Error())
			return
		}
		a.log.Error("report PDF", "report", id, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "PDF rendering failed")
		return
	}
	pdf, err := os.ReadFile(out)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Write(pdf)
}

// serviceReports writes each contract's monthly service report once the
// month is over — archived in the data directory and mailed to the
// contract's recipients — and checks again every hour, so a report missed
// while the agent was down is made when it comes back.
func (a *Agent) serviceReports(ctx context.Context, dir string) {
	every(ctx, time.Hour, true, func() {
		now := a.now().UTC()
		month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
		for _, c := range a.inspections.Contracts() {
			if err := a.serviceReport(ctx, dir, c, month, now); err != nil && ctx.Err() == nil {
				a.log.Error("monthly service report", "contract", c.ID, "month", month.Format("2006-01"), "err", err)
			}
		}
	})
}

func (a *Agent) serviceReport(ctx context.Context, dir string, c inspection.Contract, month, now time.Time) error {
	lang := c.Lang()
	name := reports.ServiceFileName(month, lang, "html")
	if _, err := os.Stat(filepath.Join(dir, c.ID, name)); err == nil {
		return nil // made already
	}
	last, err := a.inspections.Latest(c.ID)
	if err != nil {
		return err
	}
	var devices []string
	for _, t := range inspection.TargetsFromInventory(a.config()) {
		if c.InScope(t) {
			devices = append(devices, t.Device.Name)
		}
	}
	cust, _ := a.config().Customer(c.Customer)
	d, truncated, err := reports.Collect(ctx, a.tickets, c, cust.Name, devices, last, month, now)
	if err != nil {
		return err
	}
	if truncated {
		a.log.Warn("monthly service report: more tickets than one page; availability from the newest", "contract", c.ID)
	}
	var buf bytes.Buffer
	if err := reports.RenderService(&buf, d, lang); err != nil {
		return err
	}
	path, err := reports.Archive(dir, c.ID, name, buf.Bytes())
	if err != nil {
		return err
	}
	a.log.Info("monthly service report archived", "contract", c.ID, "path", path)
	if a.mailer == nil || len(c.Recipients) == 0 {
		return nil
	}
	subject := fmt.Sprintf("Service report %s — %s", c.ID, month.Format("2006-01"))
	text := fmt.Sprintf("Monthly service report of contract %s for %s. The full report is the HTML part of this message.", c.ID, month.Format("January 2006"))
	return a.mailer.SendDocument(ctx, "service-"+c.ID+"-"+month.Format("2006-01"), c.Recipients, subject, text, buf.String(), now)
}
