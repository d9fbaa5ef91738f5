package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/nocagent/nocagent/agent"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/plugins/inspection"
	"github.com/nocagent/nocagent/reports"
	"github.com/nocagent/nocagent/ticketing"
)

// inspectEnv is what inspect and report share: the inventory, its
// contracts and a scheduler that polls the devices itself.
type inspectEnv struct {
	cfg   *inventory.Config
	sched *inspection.Scheduler
}

func newInspectEnv(path string) (*inspectEnv, error) {
	cfg, err := inventory.Load(path)
	if err != nil {
		return nil, err
	}
	cred := map[string]inventory.Credential{}
	for _, c := range cfg.Credentials {
		cred[c.Name] = c
	}
	opts := collector.PollOptions{Session: collector.SessionOptions{Timeout: cfg.Agent.PollTimeout, Retries: cfg.Agent.Retries}}
	if cfg.Agent.ProfilesDir != "" {
		ps, err := collector.LoadProfiles(cfg.Agent.ProfilesDir)
		if err != nil {
			return nil, err
		}
		opts.Profiles = ps
	}
	health := inspection.NewHealth()
	dir := filepath.Join(cfg.Agent.DataDir, "inspections")
	s, err := inspection.NewScheduler(inspection.Config{
		Contracts: inspection.ContractsFromInventory(cfg),
		Targets:   func() []inspection.Target { return inspection.TargetsFromInventory(cfg) },
		Snapshot: func(ctx context.Context, t inspection.Target) (*collector.Snapshot, error) {
			c, ok := cred[t.Device.CredentialRef]
			if !ok {
				return nil, fmt.Errorf("device %s: no credential %q", t.Device.Name, t.Device.CredentialRef)
			}
			snap := collector.Poll(ctx, t.Device.Address, c, opts)
			snap.Device = t.Device.Name
			return snap, nil
		},
		Inspectors: func(name string) (inspection.DeviceInspector, error) {
			if name != inspection.HealthName {
				return nil, fmt.Errorf("%w: %s (only the built-in %s runs from the command line)", plugins.ErrNotFound, name, inspection.HealthName)
			}
			return health, nil
		},
		StateDir: dir, ArchiveDir: dir,
	})
	if err != nil {
		return nil, err
	}
	return &inspectEnv{cfg: cfg, sched: s}, nil
}

func (e *inspectEnv) contract(id string) (inspection.Contract, error) {
	c, ok := e.sched.Contract(id)
	if !ok {
		var ids []string
		for _, c := range e.sched.Contracts() {
			ids = append(ids, c.ID)
		}
		return c, fmt.Errorf("no contract %q in %s (have %s)", id, e.cfg.Path, strings.Join(ids, ", "))
	}
	return c, nil
}

func (e *inspectEnv) customerName(id string) string {
	c, _ := e.cfg.Customer(id)
	return c.Name
}

func (e *inspectEnv) reportsDir() string { return filepath.Join(e.cfg.Agent.DataDir, "reports") }

// writeReport archives html, copies it to out if given, and makes a PDF
// next to out when out ends in .pdf.
func (e *inspectEnv) writeReport(ctx context.Context, contract, name string, html []byte, out string) (string, error) {
	archived, err := reports.Archive(e.reportsDir(), contract, name, html)
	if err != nil {
		return "", err
	}
	switch {
	case out == "":
		return archived, nil
	case strings.HasSuffix(strings.ToLower(out), ".pdf"):
		return out, reports.PDF(ctx, archived, out)
	}
	return out, os.WriteFile(out, html, 0o640)
}

// prepareContract loads the config and finds the contract and the report
// language, for inspect and report alike.
func prepareContract(cfgPath, id, lang string) (*inspectEnv, inspection.Contract, string, error) {
	e, err := newInspectEnv(cfgPath)
	if err != nil {
		return nil, inspection.Contract{}, "", err
	}
	c, err := e.contract(id)
	if err != nil {
		return nil, inspection.Contract{}, "", err
	}
	lg, err := pickLang(lang, c)
	return e, c, lg, err
}

func addLangFlag(cmd *cobra.Command, lang *string) {
	cmd.Flags().StringVar(lang, "lang", "", "report language: en or zh-CN (default: the contract's)")
}

func pickLang(flag string, c inspection.Contract) (string, error) {
	if flag == "" {
		return c.Lang(), nil
	}
	for _, l := range reports.Languages {
		if l == flag {
			return l, nil
		}
	}
	return "", fmt.Errorf("--lang %q is not one of %v", flag, reports.Languages)
}

// newInspectCmd is "nocagent inspect": one contract inspection now.
func newInspectCmd(stdout io.Writer) *cobra.Command {
	var cfgPath, id, out, lang string
	cmd := &cobra.Command{
		Use:   "inspect --config FILE --contract ID [--out FILE]",
		Short: "Inspect every device of a contract now and write the inspection report",
		Long: `inspect polls every device in the contract's scope, runs the device-health
inspector, archives the result under <data_dir>/inspections and the HTML report
under <data_dir>/reports. --out also writes the report to FILE (PDF when FILE
ends in .pdf: needs chromium).`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, c, lg, err := prepareContract(cfgPath, id, lang)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			now := time.Now()
			res, err := e.sched.Inspect(ctx, c, now)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := reports.RenderInspection(&buf, reports.InspectionData{Result: res, CustomerName: e.customerName(c.Customer), Generated: now}, lg); err != nil {
				return err
			}
			path, err := e.writeReport(ctx, c.ID, reports.InspectionFileName(res.ID, lg, "html"), buf.Bytes(), out)
			if err != nil {
				return err
			}
			printInspection(stdout, res)
			fmt.Fprintf(stdout, "result: %s\nreport: %s\n", inspection.ResultPath(filepath.Join(e.cfg.Agent.DataDir, "inspections"), res), path)
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "nocagent.yaml", "configuration file")
	cmd.Flags().StringVar(&id, "contract", "", "contract id (required)")
	cmd.Flags().StringVar(&out, "out", "", "also write the report to FILE (.html or .pdf)")
	addLangFlag(cmd, &lang)
	_ = cmd.MarkFlagRequired("contract")
	return cmd
}

func printInspection(w io.Writer, r inspection.InspectionResult) {
	n := r.Counts()
	fmt.Fprintf(w, "inspection %s: %d devices, %d critical, %d major, %d warning, %d info\n", r.ID, len(r.Devices),
		n[plugins.SeverityCritical], n[plugins.SeverityMajor], n[plugins.SeverityWarning], n[plugins.SeverityInfo])
	for _, d := range r.Devices {
		fmt.Fprintf(w, "  %-16s %-18s %-16s %d findings\n", d.Name, orDashCLI(d.Serial), orDashCLI(d.Model), len(d.Findings))
		for _, f := range d.Findings {
			fmt.Fprintf(w, "    [%s] %s\n", f.Severity, f.Title)
		}
		for _, e := range d.Errors {
			fmt.Fprintf(w, "    error: %s\n", e)
		}
	}
}

func orDashCLI(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// newReportCmd is "nocagent report": the monthly service report of a
// contract from the ticket store and the latest inspection.
func newReportCmd(stdout io.Writer) *cobra.Command {
	var cfgPath, id, month, out, lang string
	cmd := &cobra.Command{
		Use:   "report --config FILE --contract ID --month YYYY-MM [--out FILE]",
		Short: "Write a contract's monthly service report",
		Long: `report reads the agent's ticket store (SQLite in data_dir, or the PostgreSQL
of store:) for the contract's KPIs
of the month (UTC), and the contract's latest inspection (running one now if
there is none), and writes the HTML report under <data_dir>/reports. --out
also writes it to FILE (PDF when FILE ends in .pdf: needs chromium).`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := time.ParseInLocation("2006-01", month, time.UTC)
			if err != nil {
				return fmt.Errorf("--month %q: want YYYY-MM", month)
			}
			e, c, lg, err := prepareContract(cfgPath, id, lang)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			now := time.Now()
			d, err := e.serviceData(ctx, c, from, now)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := reports.RenderService(&buf, d, lg); err != nil {
				return err
			}
			path, err := e.writeReport(ctx, c.ID, reports.ServiceFileName(from, lg, "html"), buf.Bytes(), out)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "service report %s %s: %d tickets, %d major faults\nreport: %s\n", c.ID, month, d.KPIs.Tickets, d.KPIs.MajorFaults, path)
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "nocagent.yaml", "configuration file")
	cmd.Flags().StringVar(&id, "contract", "", "contract id (required)")
	cmd.Flags().StringVar(&month, "month", "", "month, YYYY-MM (required)")
	cmd.Flags().StringVar(&out, "out", "", "also write the report to FILE (.html or .pdf)")
	addLangFlag(cmd, &lang)
	_ = cmd.MarkFlagRequired("contract")
	_ = cmd.MarkFlagRequired("month")
	return cmd
}

func (e *inspectEnv) serviceData(ctx context.Context, c inspection.Contract, from, now time.Time) (reports.ServiceData, error) {
	// The store the agent uses: SQLite in data_dir, or PostgreSQL.
	store, err := agent.OpenStore(ctx, e.cfg)
	if err != nil {
		return reports.ServiceData{}, err
	}
	defer store.Close()
	pc, err := agent.LoadProcess(e.cfg.ServiceFile)
	if err != nil {
		return reports.ServiceData{}, err
	}
	svc, err := ticketing.New(store, ticketing.Options{Process: pc, Now: func() time.Time { return now }})
	if err != nil {
		return reports.ServiceData{}, err
	}
	last, err := e.sched.Latest(c.ID)
	if err != nil {
		return reports.ServiceData{}, err
	}
	if last == nil {
		r, err := e.sched.Inspect(ctx, c, now)
		if err != nil {
			return reports.ServiceData{}, err
		}
		last = &r
	}
	var names []string
	for _, t := range inspection.TargetsFromInventory(e.cfg) {
		if c.InScope(t) {
			names = append(names, t.Device.Name)
		}
	}
	d, truncated, err := reports.Collect(ctx, svc, c, e.customerName(c.Customer), names, last, from, now)
	if truncated {
		fmt.Fprintf(os.Stderr, "warning: %d tickets or more in two months: availability is computed from the newest of them\n", ticketing.MaxListLimit)
	}
	return d, err
}
