// Package reports renders the customer's contract reports: the inspection
// report of one contract inspection, and the monthly service report that
// combines monitoring (availability, the latest inspection) with the
// ticket store's KPIs. Output is one self-contained HTML page (charts as
// inline SVG, no script, no external resource) in English or Simplified
// Chinese, and PDF through headless Chromium.
//
// reports is a leaf: it reads domain values (inspection results, ticketing
// KPIs, tickets, problems) and never fetches them.
package reports

import (
	"bytes"
	"cmp"
	"embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/plugins/inspection"
	"github.com/nocagent/nocagent/ticketing"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	// Replaced per render by the language's; here so parsing succeeds.
	"t": func(string, ...any) string { return "" },
}).ParseFS(templateFS, "templates/*.html"))

// InspectionData is what an inspection report shows.
type InspectionData struct {
	Result       inspection.InspectionResult
	CustomerName string // "" shows the customer id
	Generated    time.Time
}

// ServiceData is what a monthly service report shows.
type ServiceData struct {
	Contract     inspection.Contract
	CustomerName string
	// From and To bound the period, To excluded (a calendar month).
	From, To time.Time
	// KPIs are the ticket store's figures for the contract and period.
	KPIs ticketing.KPIReport
	// Availability per in-scope device, see Availability.
	Availability []DeviceAvailability
	// MajorFaults are the period's P1 tickets.
	MajorFaults  []ticketing.Ticket
	OpenProblems []ticketing.Problem
	// Inspection is the contract's latest inspection, nil if none.
	Inspection *inspection.InspectionResult
	Generated  time.Time
}

// Languages lists the languages a report can be rendered in.
var Languages = inspection.Languages

func checkLang(lang string) error {
	if !slices.Contains(Languages, lang) {
		return fmt.Errorf("report language %q is not one of %v", lang, Languages)
	}
	return nil
}

// RenderInspection writes the inspection report as HTML.
func RenderInspection(w io.Writer, d InspectionData, lang string) error {
	if err := checkLang(lang); err != nil {
		return err
	}
	r := d.Result
	pg := page{Lang: lang, Title: tr(lang, "inspection.title"), Customer: cmp.Or(d.CustomerName, r.Contract.Customer),
		Contract: r.Contract.ID, When: stamp(r.At), Generated: stamp(d.Generated)}
	pg.Inspection = inspectionView(lang, r)
	pg.Recommendations = findingRecommendations(lang, r)
	return render(w, "inspection.html", lang, pg)
}

// RenderService writes the monthly service report as HTML.
func RenderService(w io.Writer, d ServiceData, lang string) error {
	if err := checkLang(lang); err != nil {
		return err
	}
	pg := page{Lang: lang, Title: tr(lang, "service.title"), Customer: cmp.Or(d.CustomerName, d.Contract.Customer),
		Contract: d.Contract.ID, Period: monthName(lang, d.From), Generated: stamp(d.Generated)}
	if d.Inspection != nil {
		pg.Inspection = inspectionView(lang, *d.Inspection)
		pg.When = stamp(d.Inspection.At)
	}
	pg.Service = serviceView(lang, d)
	pg.Recommendations = append(serviceRecommendations(lang, d), pg.Recommendations...)
	if d.Inspection != nil {
		pg.Recommendations = append(pg.Recommendations, findingRecommendations(lang, *d.Inspection)...)
	}
	if len(pg.Recommendations) == 0 {
		pg.Recommendations = []string{tr(lang, "rec.none")}
	}
	return render(w, "service.html", lang, pg)
}

func render(w io.Writer, name, lang string, pg page) error {
	t, err := templates.Clone()
	if err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	t.Funcs(template.FuncMap{"t": func(key string, args ...any) string { return tr(lang, key, args...) }})
	// Render to memory first: a template error must not leave half a
	// report in w.
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, pg); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02 15:04 MST")
}

// page is the view model both templates read.
type page struct {
	Lang, Title, Customer, Contract, Period, When, Generated string
	Inspection                                               *inspectionPage
	Service                                                  *servicePage
	Recommendations                                          []string
}

type inspectionPage struct {
	Devices, Unreachable, Findings int
	BySeverity                     chart
	Rows                           []deviceRow
}

type deviceRow struct {
	Name, Site, Role, Serial, Model, Firmware, Uptime string
	Reachable                                         bool
	Findings                                          []findingRow
	Errors                                            []string
}

type findingRow struct {
	Severity, SeverityLabel, Category, Title, Recommendation string
	Evidence                                                 []string
}

func inspectionView(lang string, r inspection.InspectionResult) *inspectionPage {
	v := &inspectionPage{Devices: len(r.Devices)}
	counts := r.Counts()
	for _, d := range r.Devices {
		if !d.Reachable {
			v.Unreachable++
		}
		row := deviceRow{Name: d.Name, Site: d.Site, Role: d.Role, Serial: dash(d.Serial), Model: dash(d.Model),
			Firmware: dash(d.Firmware), Reachable: d.Reachable, Errors: d.Errors}
		if d.Reachable {
			row.Uptime = duration(lang, d.UptimeSeconds)
		}
		for _, f := range d.Findings {
			v.Findings++
			row.Findings = append(row.Findings, findingRow{Severity: f.Severity, SeverityLabel: tr(lang, "sev."+f.Severity),
				Category: tr(lang, "cat."+f.Category), Title: f.Title, Evidence: f.Evidence, Recommendation: f.Recommendation})
		}
		v.Rows = append(v.Rows, row)
	}
	var bars []bar
	for i := len(plugins.Severities) - 1; i >= 0; i-- {
		s := plugins.Severities[i]
		bars = append(bars, bar{Label: tr(lang, "sev."+s), Value: float64(counts[s]), Text: fmt.Sprint(counts[s]), Color: severityColor[s]})
	}
	v.BySeverity = newChart(bars, 0)
	return v
}

var severityColor = map[string]string{
	plugins.SeverityCritical: "#b3261e", plugins.SeverityMajor: "#e8710a",
	plugins.SeverityWarning: "#f2b705", plugins.SeverityInfo: "#4a7bb7",
}

func dash(s string) string { return cmp.Or(strings.TrimSpace(s), "—") }

type servicePage struct {
	KPIs         []kpiRow
	Availability chart
	FaultCounts  chart
	FaultHours   chart
	Categories   []categoryRow
	MajorFaults  []ticketRow
	OpenProblems []ticketing.Problem
}

// kpiRow is one figure; Key and Raw let a test (or a machine) read the
// exact value the text shows.
type kpiRow struct {
	Key, Label, Text, Raw string
}

type categoryRow struct {
	Name, Count, Duration string
}

type ticketRow struct {
	ID, Title, Device, Opened, Resolved, State string
}

func serviceView(lang string, d ServiceData) *servicePage {
	k := d.KPIs
	v := &servicePage{OpenProblems: d.OpenProblems}
	raw := func(r *float64) string {
		if r == nil {
			return ""
		}
		return fmt.Sprint(*r)
	}
	avail := MeanAvailability(d.Availability)
	availText := tr(lang, "na")
	if avail != nil {
		availText = tr(lang, "percent3", *avail)
	}
	sat := ratio(lang, k.Satisfaction.Score)
	if k.Satisfaction.Responses > 0 {
		sat = tr(lang, "satisfaction.responses", sat, k.Satisfaction.Responses)
	}
	v.KPIs = []kpiRow{
		{"availability_percent", tr(lang, "availability"), availText, raw(avail)},
		{"tickets", tr(lang, "tickets"), fmt.Sprint(k.Tickets), fmt.Sprint(k.Tickets)},
		{"major_faults", tr(lang, "major_faults"), fmt.Sprint(k.MajorFaults), fmt.Sprint(k.MajorFaults)},
		{"response_compliance", tr(lang, "response_compliance"), ratio(lang, k.ResponseCompliance), raw(k.ResponseCompliance)},
		{"resolution_compliance", tr(lang, "resolution_compliance"), ratio(lang, k.ResolutionCompliance), raw(k.ResolutionCompliance)},
		{"repair_timeliness", tr(lang, "repair_timeliness"), ratio(lang, k.RepairTimeliness), raw(k.RepairTimeliness)},
		{"mtta_seconds", tr(lang, "mtta"), duration(lang, k.MTTASeconds), fmt.Sprint(k.MTTASeconds)},
		{"mttr_seconds", tr(lang, "mttr"), duration(lang, k.MTTRSeconds), fmt.Sprint(k.MTTRSeconds)},
		{"satisfaction", tr(lang, "satisfaction"), sat, raw(k.Satisfaction.Score)},
		{"open_problems", tr(lang, "open_problems"), fmt.Sprint(len(d.OpenProblems)), fmt.Sprint(len(d.OpenProblems))},
	}
	var ab []bar
	for _, a := range d.Availability {
		color := "#2e7d32"
		if a.Percent < 99.9 {
			color = "#e8710a"
		}
		ab = append(ab, bar{Label: a.Device, Value: a.Percent, Text: tr(lang, "percent3", a.Percent), Color: color})
	}
	v.Availability = newChart(ab, 100)
	cats := slices.Sorted(maps.Keys(k.ByCategory))
	var cb, hb []bar
	for _, c := range cats {
		ck := k.ByCategory[c]
		name := tr(lang, "cat."+c)
		if strings.HasPrefix(name, "?") {
			name = c // a category the message table does not know: show it as is
		}
		v.Categories = append(v.Categories, categoryRow{Name: name, Count: fmt.Sprint(ck.Count), Duration: duration(lang, ck.FaultSeconds)})
		cb = append(cb, bar{Label: name, Value: float64(ck.Count), Text: fmt.Sprint(ck.Count), Color: "#4a7bb7"})
		hb = append(hb, bar{Label: name, Value: ck.FaultSeconds, Text: duration(lang, ck.FaultSeconds), Color: "#7b5ea7"})
	}
	v.FaultCounts, v.FaultHours = newChart(cb, 0), newChart(hb, 0)
	for _, t := range d.MajorFaults {
		row := ticketRow{ID: t.ID, Title: t.Title, Device: t.Device.Name, Opened: stamp(t.OpenedAt), State: string(t.State)}
		if t.ResolvedAt != nil {
			row.Resolved = stamp(*t.ResolvedAt)
		}
		v.MajorFaults = append(v.MajorFaults, row)
	}
	return v
}

// findingRecommendations lists each distinct recommendation of the
// warning-or-worse findings, with the devices it applies to.
func findingRecommendations(lang string, r inspection.InspectionResult) []string {
	type rec struct {
		text    string
		rank    int
		devices []string
	}
	var recs []*rec
	by := map[string]*rec{}
	for _, d := range r.Devices {
		for _, f := range d.Findings {
			if f.Recommendation == "" || inspection.SeverityRank(f.Severity) < inspection.SeverityRank(plugins.SeverityWarning) {
				continue
			}
			x := by[f.Recommendation]
			if x == nil {
				x = &rec{text: f.Recommendation}
				by[f.Recommendation] = x
				recs = append(recs, x)
			}
			x.rank = max(x.rank, inspection.SeverityRank(f.Severity))
			if !slices.Contains(x.devices, d.Name) {
				x.devices = append(x.devices, d.Name)
			}
		}
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].rank > recs[j].rank })
	var out []string
	for _, x := range recs {
		out = append(out, tr(lang, "rec.finding", strings.Join(x.devices, ", "), x.text))
	}
	return out
}

// Targets below which the service report recommends an action.
const (
	targetCompliance   = 0.95
	targetAvailability = 99.9
	targetSatisfaction = 0.8
)

func serviceRecommendations(lang string, d ServiceData) []string {
	var out []string
	k := d.KPIs
	if r := k.ResponseCompliance; r != nil && *r < targetCompliance {
		out = append(out, tr(lang, "rec.response", ratio(lang, r)))
	}
	if r := k.ResolutionCompliance; r != nil && *r < targetCompliance {
		out = append(out, tr(lang, "rec.resolution", ratio(lang, r)))
	}
	for _, a := range d.Availability {
		if a.Percent < targetAvailability {
			out = append(out, tr(lang, "rec.availability", a.Device, tr(lang, "percent3", a.Percent)))
		}
	}
	if n := len(d.OpenProblems); n > 0 {
		out = append(out, tr(lang, "rec.problems", n))
	}
	if s := k.Satisfaction.Score; s != nil && *s < targetSatisfaction {
		out = append(out, tr(lang, "rec.satisfaction", ratio(lang, s)))
	}
	return out
}
