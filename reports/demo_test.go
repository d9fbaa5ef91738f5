package reports

import (
	"bytes"
	"context"
	"fmt"
	stdhtml "html"
	"image"
	"image/png"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/internal/testenv"
	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/plugins/inspection"
	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/sqlite"
)

const acmeContract = "ACME-2026-001"

var (
	march = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	april = march.AddDate(0, 1, 0)
)

// demoInspection inspects the acme devices of the simulated demo network,
// with a firewall at 97 % CPU and the core switch at 80 °C.
func demoInspection(t *testing.T) (inspection.InspectionResult, map[string]snmpsim.DeviceInfo) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sim := snmpsim.New(snmpsim.Options{})
	t.Cleanup(func() { _ = sim.Close() })
	devs, err := sim.AddDemoNetwork(ctx, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.InjectFault("acme-fw-1", snmpsim.Fault{Kind: snmpsim.FaultCPU, Percent: 97}); err != nil {
		t.Fatal(err)
	}
	if err := sim.InjectFault("acme-core-1", snmpsim.Fault{Kind: snmpsim.FaultTemperature, Celsius: 80}); err != nil {
		t.Fatal(err)
	}
	byName := map[string]snmpsim.DeviceInfo{}
	where := map[string]snmpsim.DemoDevice{}
	for _, d := range snmpsim.DemoNetwork() {
		where[d.Name] = d
	}
	var targets []inspection.Target
	for _, d := range devs {
		byName[d.Name] = d
		targets = append(targets, inspection.Target{Device: plugins.Device{
			Name: d.Name, Address: net.JoinHostPort(d.Address, strconv.Itoa(d.Port)), Role: d.Role,
			Customer: where[d.Name].Customer, Site: where[d.Name].Site,
		}})
	}
	cred := inventory.Credential{Name: "demo", Version: inventory.SNMPv2c, Community: snmpsim.DemoCommunity}
	dir := t.TempDir()
	s, err := inspection.NewScheduler(inspection.Config{
		Targets: func() []inspection.Target { return targets },
		Snapshot: func(ctx context.Context, tg inspection.Target) (*collector.Snapshot, error) {
			return collector.Poll(ctx, tg.Device.Address, cred, collector.PollOptions{Session: collector.SessionOptions{Timeout: time.Second, Retries: 1}}), nil
		},
		Inspectors: func(string) (inspection.DeviceInspector, error) { return inspection.NewHealth(), nil },
		StateDir:   filepath.Join(dir, "state"), ArchiveDir: filepath.Join(dir, "archive"),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := inspection.Contract{ID: acmeContract, Customer: "acme", Schedule: inspection.DefaultSchedule}
	r, err := s.Inspect(ctx, c, april.Add(6*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return r, byName
}

type demoTickets struct {
	kpis     ticketing.KPIReport
	tickets  []ticketing.Ticket
	major    ticketing.Ticket
	problems []ticketing.Problem
}

// demoTicketStore runs a real ticket service over SQLite through March:
// acme-acc-2 unreachable for 90 min, a P1 link fault on the core worked
// by an engineer, an open performance ticket, and a globex ticket that
// another contract's report must not count.
func demoTicketStore(t *testing.T) demoTickets {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "nocagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	var (
		mu  sync.Mutex
		now time.Time
	)
	at := func(v time.Time) { mu.Lock(); now = v; mu.Unlock() }
	svc, err := ticketing.New(store, ticketing.Options{
		Now:     func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Process: ticketing.ProcessConfig{Engineers: []ticketing.Engineer{{Name: "alice", Skills: []string{"*"}}}, Managers: []string{"mia"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	alice := ticketing.Actor{Name: "alice", Role: ticketing.RoleEngineer}
	dev := func(name, customer, contract string) ticketing.DeviceContext {
		return ticketing.DeviceContext{Name: name, Customer: customer, Contract: contract, Serial: "SN-" + name}
	}
	ingest := func(when time.Time, sig ticketing.Signal) ticketing.Ticket {
		t.Helper()
		at(when)
		sig.At = when
		tk, _, err := svc.Ingest(ctx, sig)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	act := func(when time.Time, id string, a ticketing.Action, in ticketing.ActionInput) {
		t.Helper()
		at(when)
		if _, err := svc.Act(ctx, alice, id, a, in); err != nil {
			t.Fatalf("%s %s: %v", a, id, err)
		}
	}
	d := func(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, time.UTC) }

	down := ticketing.Signal{Fingerprint: "unreachable:acme-acc-2", Rule: "device_unreachable", Firing: true, Category: "availability",
		Priority: "P2", Summary: "acme-acc-2 is unreachable", Device: dev("acme-acc-2", "acme", acmeContract)}
	t1 := ingest(d(3, 10, 0), down)
	act(d(3, 10, 10), t1.ID, ticketing.ActAck, ticketing.ActionInput{})
	down.Firing = false
	ingest(d(3, 11, 30), down)

	t2 := ingest(d(10, 8, 0), ticketing.Signal{Fingerprint: "uplink:acme-core-1:1", Rule: "uplink_down", Firing: true, Category: "link",
		Priority: "P1", Summary: "acme-core-1 uplink Te1/0/1 is down", Device: dev("acme-core-1", "acme", acmeContract)})
	act(d(10, 8, 5), t2.ID, ticketing.ActAck, ticketing.ActionInput{})
	act(d(10, 9, 0), t2.ID, ticketing.ActResolve, ticketing.ActionInput{Cause: "fibre cut by contractor", Solution: "spliced"})

	ingest(d(20, 14, 0), ticketing.Signal{Fingerprint: "cpu:acme-fw-1:cpu0", Rule: "cpu_high", Firing: true, Category: "performance",
		Priority: "P3", Summary: "acme-fw-1 CPU at 97%", Device: dev("acme-fw-1", "acme", acmeContract)})
	ingest(d(21, 9, 0), ticketing.Signal{Fingerprint: "unreachable:globex-fw-1", Rule: "device_unreachable", Firing: true, Category: "availability",
		Priority: "P1", Summary: "globex-fw-1 is unreachable", Device: dev("globex-fw-1", "globex", "GLX-2026-007")})

	at(april)
	k, err := svc.KPIs(ctx, ticketing.System, ticketing.KPIFilter{Customer: "acme", Contract: acmeContract, From: march, To: april})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := svc.List(ctx, ticketing.Filter{Customer: "acme", OpenedFrom: march, OpenedTo: april})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := svc.Problems(ctx, ticketing.Actor{Name: "mia", Role: ticketing.RoleManager}, ticketing.ProblemOpen)
	if err != nil {
		t.Fatal(err)
	}
	// The figures must come from the store, not be zero by accident.
	if k.Tickets != 3 || k.MajorFaults != 1 || k.MTTASeconds == 0 || k.ByCategory["availability"].Count != 1 {
		t.Fatalf("unexpected KPIs from the store: %+v", k)
	}
	major, err := svc.Get(ctx, t2.ID)
	if err != nil {
		t.Fatal(err)
	}
	return demoTickets{kpis: k, tickets: ts, major: major, problems: ps}
}

func serviceData(r inspection.InspectionResult, tk demoTickets) ServiceData {
	var names []string
	for _, d := range r.Devices {
		names = append(names, d.Name)
	}
	return ServiceData{
		Contract: r.Contract, CustomerName: "ACME Manufacturing", From: march, To: april, KPIs: tk.kpis,
		Availability: Availability(tk.tickets, names, march, april), MajorFaults: []ticketing.Ticket{tk.major},
		OpenProblems: tk.problems, Inspection: &r, Generated: april.Add(7 * time.Hour),
	}
}

func TestReportsFromDemoNetwork(t *testing.T) {
	res, sims := demoInspection(t)
	tk := demoTicketStore(t)
	wantDevices := []string{"acme-acc-1", "acme-acc-2", "acme-acc-3", "acme-core-1", "acme-dist-1", "acme-dist-2", "acme-fw-1"}
	if got := fmt.Sprint(deviceNames(res)); got != fmt.Sprint(wantDevices) {
		t.Fatalf("in scope: %s, want %v", got, wantDevices)
	}
	wantFinding := map[string]string{"acme-fw-1": "CPU load high", "acme-core-1": "Temperature high"}
	for _, d := range res.Devices {
		if d.Serial == "" || d.Serial != sims[d.Name].Serial || d.Model != sims[d.Name].Model {
			t.Errorf("%s: serial %q model %q, want the simulator's %q %q", d.Name, d.Serial, d.Model, sims[d.Name].Serial, sims[d.Name].Model)
		}
		if w, ok := wantFinding[d.Name]; ok && !hasFinding(d, w) {
			t.Errorf("%s: findings %+v lack %q", d.Name, d.Findings, w)
		}
	}
	sd := serviceData(res, tk)
	wantAvail := 100 * (1 - 5400/(31*86400.0))
	if a := sd.Availability[1]; a.Device != "acme-acc-2" || math.Abs(a.Percent-wantAvail) > 1e-9 || a.DowntimeSeconds != 5400 {
		t.Errorf("availability of acme-acc-2 = %+v, want %.4f%% and 5400 s down", a, wantAvail)
	}

	// NOCAGENT_KEEP_REPORTS=DIR keeps the rendered reports, screenshots
	// and PDF for a human to look at.
	dir := os.Getenv("NOCAGENT_KEEP_REPORTS")
	if dir == "" {
		dir = t.TempDir()
	}
	htmlFiles := map[string]string{} // by kind/lang
	for _, lang := range Languages {
		t.Run("inspection/"+lang, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderInspection(&buf, InspectionData{Result: res, CustomerName: "ACME Manufacturing", Generated: april}, lang); err != nil {
				t.Fatal(err)
			}
			checkDevices(t, buf.String(), res)
			checkLanguage(t, buf.String(), lang, "inspection.title")
			p, err := Archive(dir, acmeContract, InspectionFileName(res.ID, lang, "html"), buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			htmlFiles["inspection/"+lang] = p
		})
		t.Run("service/"+lang, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderService(&buf, sd, lang); err != nil {
				t.Fatal(err)
			}
			html := buf.String()
			checkDevices(t, html, res)
			checkLanguage(t, html, lang, "service.title")
			checkKPIs(t, html, sd)
			for _, want := range []string{tk.major.ID, tk.major.Title, monthName(lang, march), tr(lang, "cat.availability"), tr(lang, "cat.link"), tr(lang, "cat.performance")} {
				if !strings.Contains(html, want) {
					t.Errorf("service report lacks %q", want)
				}
			}
			// 99.8 % is below target: the report says what to do about it.
			if !strings.Contains(html, tr(lang, "rec.availability", "acme-acc-2", tr(lang, "percent3", wantAvail))) {
				t.Errorf("service report lacks the availability recommendation for acme-acc-2")
			}
			p, err := Archive(dir, acmeContract, ServiceFileName(march, lang, "html"), buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			htmlFiles["service/"+lang] = p
		})
	}
	t.Run("chromium", func(t *testing.T) {
		testenv.Command(t, "chromium", "chromium")
		// The service report in Chinese is the largest page; the inspection
		// report in English the other template.
		for _, f := range []string{htmlFiles["service/zh-CN"], htmlFiles["inspection/en"]} {
			checkRendersInChromium(t, f)
		}
		pdf := strings.TrimSuffix(htmlFiles["service/en"], ".html") + ".pdf"
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := PDF(ctx, htmlFiles["service/en"], pdf); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(pdf)
		if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) || len(b) < 5000 {
			t.Fatalf("PDF %s: %d bytes, err %v", pdf, len(b), err)
		}
	})
}

func hasFinding(d inspection.DeviceResult, prefix string) bool {
	for _, f := range d.Findings {
		if strings.HasPrefix(f.Title, prefix) {
			return true
		}
	}
	return false
}

func deviceNames(r inspection.InspectionResult) []string {
	var out []string
	for _, d := range r.Devices {
		out = append(out, d.Name)
	}
	return out
}

// checkDevices: every in-scope device is listed with its serial, and each
// of its findings appears in its own section.
func checkDevices(t *testing.T, html string, r inspection.InspectionResult) {
	t.Helper()
	for _, d := range r.Devices {
		row := regexp.MustCompile(`<tr data-device="` + regexp.QuoteMeta(d.Name) + `">.*?<td class="serial">([^<]*)</td>`).FindStringSubmatch(html)
		if row == nil || row[1] != d.Serial {
			t.Errorf("device %s: row %q, want serial %s", d.Name, row, d.Serial)
		}
		start := strings.Index(html, `id="device-`+d.Name+`"`)
		if start < 0 {
			t.Errorf("device %s has no findings section", d.Name)
			continue
		}
		section := html[start:]
		if end := strings.Index(section[1:], `<div class="device"`); end >= 0 {
			section = section[:end+1]
		}
		if n := strings.Count(section, `class="finding"`); n != len(d.Findings) {
			t.Errorf("device %s: %d findings shown, %d found", d.Name, n, len(d.Findings))
		}
		for _, f := range d.Findings {
			if !strings.Contains(section, stdhtml.EscapeString(f.Title)) {
				t.Errorf("device %s: finding %q not shown in its section", d.Name, f.Title)
			}
		}
	}
}

func checkLanguage(t *testing.T, html, lang, titleKey string) {
	t.Helper()
	if m := regexp.MustCompile(`\?[a-z0-9_.]+\?`).FindString(html); m != "" {
		t.Errorf("untranslated label %s", m)
	}
	if !strings.Contains(html, `<html lang="`+lang+`">`) || !strings.Contains(html, "<h1>"+tr(lang, titleKey)+"</h1>") {
		t.Errorf("report is not in %s", lang)
	}
	if lang == inspection.LangChinese && !strings.Contains(html, "序列号") {
		t.Errorf("Chinese report lacks the serial number label")
	}
}

// checkKPIs: each figure carries the exact value of the KPI report.
func checkKPIs(t *testing.T, html string, sd ServiceData) {
	t.Helper()
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`data-kpi="([a-z_]+)" data-value="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		got[m[1]] = m[2]
	}
	k := sd.KPIs
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'g', -1, 64)
	}
	want := map[string]string{
		"tickets": strconv.Itoa(k.Tickets), "major_faults": strconv.Itoa(k.MajorFaults),
		"mtta_seconds": num(&k.MTTASeconds), "mttr_seconds": num(&k.MTTRSeconds),
		"response_compliance": num(k.ResponseCompliance), "resolution_compliance": num(k.ResolutionCompliance),
		"repair_timeliness": num(k.RepairTimeliness), "satisfaction": num(k.Satisfaction.Score),
		"open_problems": strconv.Itoa(len(sd.OpenProblems)), "availability_percent": num(MeanAvailability(sd.Availability)),
	}
	for key, w := range want {
		g, ok := got[key]
		if !ok {
			t.Errorf("KPI %s missing", key)
			continue
		}
		if g != w {
			gf, err1 := strconv.ParseFloat(g, 64)
			wf, err2 := strconv.ParseFloat(w, 64)
			if err1 != nil || err2 != nil || gf != wf {
				t.Errorf("KPI %s = %q, want %q", key, g, w)
			}
		}
	}
	for cat, ck := range k.ByCategory {
		row := regexp.MustCompile(`<tr><td>` + regexp.QuoteMeta(tr(langOf(html), "cat."+cat)) + `</td><td>(\d+)</td>`).FindStringSubmatch(html)
		if row == nil || row[1] != strconv.Itoa(ck.Count) {
			t.Errorf("category %s: row %q, want count %d", cat, row, ck.Count)
		}
	}
}

func langOf(html string) string {
	if strings.Contains(html, `<html lang="zh-CN">`) {
		return inspection.LangChinese
	}
	return inspection.LangEnglish
}

// checkRendersInChromium opens the page in headless Chromium, takes a
// screenshot and fails on any console message (the page has no script:
// any message is an error such as a blocked resource).
func checkRendersInChromium(t *testing.T, htmlPath string) {
	t.Helper()
	bin, err := Chromium()
	if err != nil {
		t.Fatal(err)
	}
	shot := strings.TrimSuffix(htmlPath, ".html") + ".png"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append(ChromiumFlags(t.TempDir()), "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
		"--window-size=1280,2000", "--screenshot="+shot, "file://"+htmlPath)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("console message while rendering %s: %s", filepath.Base(htmlPath), line)
		}
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot is %dx%d, want 1280x2000", b.Dx(), b.Dy())
	}
	colours, dark := pixelStats(img)
	// A blank or error page has a handful of colours; the report has text
	// in several colours, anti-aliased, and coloured chart bars.
	if colours < 50 || dark < 2000 {
		t.Errorf("screenshot %s looks blank: %d colours, %d dark pixels", shot, colours, dark)
	}
}

func pixelStats(img image.Image) (colours, dark int) {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>11)<<10|(g>>11)<<5|bl>>11] = true
			if r+g+bl < 3*0x6000 {
				dark++
			}
		}
	}
	return len(seen), dark
}
