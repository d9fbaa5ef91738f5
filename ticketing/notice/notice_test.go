package notice

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var (
	opened   = time.Date(2026, 3, 2, 1, 14, 0, 0, time.UTC)
	eventAt  = opened.Add(7 * time.Minute)
	resolved = opened.Add(83 * time.Minute)
)

func ptr[T any](v T) *T { return &v }

// fixture is an outage of an Acme core switch that cut off two Acme access
// switches (one has come back) and a Globex router hanging off the same
// switch: a single ticket touching two customers.
func fixture(kind ticketing.EventKind) ticketing.Notice {
	t := ticketing.Ticket{
		ID: "NOC-000042", Title: "core-sw-1: device unreachable", Priority: ticketing.P1,
		State: ticketing.StateAcknowledged, Category: "availability", Source: ticketing.SourceMonitoring,
		Device: ticketing.DeviceContext{
			Name: "core-sw-1", Address: "10.0.0.1", Serial: "FOC1234X0AB", Model: "C9300-48P",
			Vendor: "Cisco", OS: "IOS-XE 17.9", Site: "sha-hq", SiteName: "Shanghai HQ",
			Customer: "acme", CustomerName: "Acme <Corp>", Contract: "acme-gold",
		},
		Evidence: []ticketing.Evidence{{
			Rule: "device_unreachable", Summary: "core-sw-1 does not answer SNMP", At: opened, Firing: true,
		}},
		OpenedAt: opened, Assignee: "alice", Tier: 1,
		ImpactedDevices: []ticketing.ImpactedDevice{
			{Name: "acc-sw-7", Serial: "FOC7", Customer: "acme", AddedAt: opened.Add(time.Minute)},
			{Name: "acc_sw_9", Serial: "FOC9", Customer: "acme", AddedAt: opened.Add(time.Minute), Recovered: true, RecoveredAt: ptr(opened.Add(5 * time.Minute))},
			{Name: "gx-rtr-1", Customer: "globex", AddedAt: opened.Add(2 * time.Minute)},
		},
		ImpactedCustomers: []string{"acme", "globex"},
		SLA: &ticketing.SLAStatus{
			Calendar: "24x7",
			Response: ticketing.Clock{Target: "15m", TargetSeconds: 900, ElapsedSeconds: 300,
				StoppedAt: ptr(opened.Add(5 * time.Minute))},
			Resolution: ticketing.Clock{Target: "4h", TargetSeconds: 14400, ElapsedSeconds: 420,
				RemainingSeconds: 13980, Running: true, DueAt: ptr(opened.Add(4 * time.Hour))},
		},
	}
	n := ticketing.Notice{Event: kind, EventID: "NOC-000042:5", At: eventAt, Actor: ticketing.ActorSystem}
	switch kind {
	case ticketing.KindOpened:
		t.State, t.SLA.Response = ticketing.StateNew, ticketing.Clock{Target: "15m", TargetSeconds: 900,
			RemainingSeconds: 480, Running: true, DueAt: ptr(opened.Add(15 * time.Minute))}
		n.Actor, n.Note = ticketing.ActorMonitoring, "device_unreachable: core-sw-1 does not answer SNMP"
	case ticketing.KindImpactAdded:
		n.Actor, n.Note = ticketing.ActorMonitoring, "impacted: acc-sw-7, acc_sw_9, gx-rtr-1"
	case ticketing.KindPriorityRaised:
		n.Actor, n.Note = ticketing.ActorMonitoring, "P2 → P1: 3 devices cut off"
	case ticketing.KindReopened:
		t.State, n.Actor, n.Note = ticketing.StateNew, ticketing.ActorMonitoring, "fault returned: core-sw-1 does not answer SNMP"
	case ticketing.KindResolved, ticketing.KindClosed:
		t.State, t.ResolvedAt, t.ResolvedBy = ticketing.StateResolved, ptr(resolved), "alice"
		t.Cause, t.Solution = "A failed power supply in core-sw-1.", "Replaced the power supply; the switch and the devices behind it are back."
		t.Evidence[0].Firing, t.Evidence[0].ClearedAt = false, ptr(resolved.Add(-time.Minute))
		t.SLA.Resolution = ticketing.Clock{Target: "4h", TargetSeconds: 14400, ElapsedSeconds: 4980, StoppedAt: ptr(resolved)}
		n.At, n.Actor, n.Note = resolved, "alice", "power supply replaced"
		if kind == ticketing.KindClosed {
			t.State, n.Actor, n.Note = ticketing.StateClosed, "mia", "customer confirmed"
		}
	case ticketing.KindEscalated:
		t.Tier, t.Escalated, n.Note = 3, true, "not acknowledged within the 15m response target"
		n.Recipients = []string{"manager:mia"}
	case ticketing.KindReminder:
		n.Note, n.Recipients = `P1 NOC-000042: no progress note for 30m0s (assignee "alice")`, []string{"manager:mia"}
	case ticketing.KindAssigned:
		n.Note, n.Recipients = "named engineer for acme", []string{"engineer:alice"}
	case ticketing.KindCancelled:
		t.State, n.Actor, n.Note = ticketing.StateCancelled, "mia", "duplicate of NOC-000041"
	case ticketing.KindServiceMode, ticketing.KindArrived, ticketing.KindServiceReport:
		t.State = ticketing.StateInProgress
		t.Service = &ticketing.ServiceInfo{Mode: ticketing.ModeOnSite, SetBy: "alice", SetAt: eventAt, AppointmentAt: ptr(appointment)}
		n.Actor, n.Note = "alice", "appointment: "+appointment.Format(time.RFC3339)+"\nbadge at reception, ask for <Bob>"
		if kind == ticketing.KindServiceMode {
			break
		}
		t.Service.ArrivedAt, t.Service.ArrivedBy = ptr(arrived), "bob"
		n.At, n.Actor, n.Note = arrived.Add(time.Minute), "bob", "parked in bay 3"
		if kind == ticketing.KindArrived {
			break
		}
		t.Service.Report = &ticketing.ServiceReport{Work: reportWork, PartsReplaced: reportParts, SignedBy: "Wang Wei", By: "bob", At: reportAt}
		n.At, n.Note = reportAt, reportNote
	}
	n.Ticket = t
	return n
}

// The on-site visit of the service fixtures: booked for 08:00 UTC (16:00 in
// China), the engineer 12 minutes late.
var (
	appointment = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	arrived     = appointment.Add(12 * time.Minute)
	reportAt    = arrived.Add(50 * time.Minute)
)

const (
	reportWork  = "Replaced the failed power supply (PSU-2) in core-sw-1.\nChecked the uplinks to acc-sw-7 and acc_sw_9."
	reportParts = "PWR-C1-715WAC, S/N LIT2233"
	// reportNote is the timeline's layout of the report (ticketing's reportNote).
	reportNote = "signed by: Wang Wei\nparts replaced: " + reportParts + "\nwork:\n" + reportWork
)

// withMode is the service_mode fixture for another mode.
func withMode(m ticketing.ServiceMode) ticketing.Notice {
	n := fixture(ticketing.KindServiceMode)
	n.Ticket.Service.Mode, n.Ticket.Service.AppointmentAt, n.Note = m, nil, "customer prefers it"
	return n
}

const confirmPath = ticketing.ConfirmPathPrefix + "Tk9DLTAwMDA0Mg.1773000000.abc-DEF_123"

// confirmable is the resolution notice with a confirmation link.
func confirmable() ticketing.Notice {
	n := fixture(ticketing.KindResolved)
	n.ConfirmURL = confirmPath
	return n
}

var staffKinds = []ticketing.EventKind{
	ticketing.KindOpened, ticketing.KindImpactAdded, ticketing.KindPriorityRaised, ticketing.KindReopened,
	ticketing.KindResolved, ticketing.KindEscalated, ticketing.KindReminder, ticketing.KindAssigned,
	ticketing.KindClosed, ticketing.KindCancelled,
}

// serviceKinds have templates but, until ticketing's EventKind.Notifies
// lists them, are not sent.
var serviceKinds = []ticketing.EventKind{ticketing.KindServiceMode, ticketing.KindArrived, ticketing.KindServiceReport}

// TestGolden renders every (event × language × audience) a notice can go to
// and compares it with testdata/golden; run with -update after a deliberate
// wording change and review the diff.
func TestGolden(t *testing.T) {
	type tc struct {
		kind     ticketing.EventKind
		audience string
	}
	var cases []tc
	for _, k := range staffKinds {
		if !k.Notifies() {
			t.Fatalf("%s does not notify: the golden set is out of date", k)
		}
		cases = append(cases, tc{k, AudienceEngineer}, tc{k, AudienceManager})
		if ForCustomer(k) {
			cases = append(cases, tc{k, AudienceCustomer}, tc{k, "customer:globex"})
		}
	}
	for _, k := range serviceKinds {
		cases = append(cases, tc{k, AudienceEngineer}, tc{k, AudienceManager}, tc{k, AudienceCustomer}, tc{k, "customer:globex"})
	}
	for _, c := range cases {
		for _, lang := range Languages {
			name := strings.NewReplacer(":", "-").Replace(string(c.kind) + "." + lang + "." + c.audience)
			t.Run(name, func(t *testing.T) {
				renderGolden(t, Default, fixture(c.kind), lang, c.audience, name)
			})
		}
	}
}

// TestGoldenVariants renders the other service modes and the resolution
// with a confirmation link, with and without a base URL.
func TestGoldenVariants(t *testing.T) {
	withBase := New(Options{BaseURL: "https://noc.example.com/"})
	tests := []struct {
		name, lang, audience string
		r                    *Renderer
		n                    ticketing.Notice
	}{
		{"service_mode-remote_guidance.en.customer", "en", AudienceCustomer, Default, withMode(ticketing.ModeRemoteGuidance)},
		{"service_mode-remote_guidance.zh-CN.customer", "zh-CN", AudienceCustomer, Default, withMode(ticketing.ModeRemoteGuidance)},
		{"service_mode-remote_login.en.customer", "en", AudienceCustomer, Default, withMode(ticketing.ModeRemoteLogin)},
		{"service_mode-remote_login.zh-CN.customer", "zh-CN", AudienceCustomer, Default, withMode(ticketing.ModeRemoteLogin)},
		{"service_mode-remote_login.en.engineer", "en", AudienceEngineer, Default, withMode(ticketing.ModeRemoteLogin)},
		{"resolved-confirm.en.customer", "en", AudienceCustomer, withBase, confirmable()},
		{"resolved-confirm.zh-CN.customer", "zh-CN", AudienceCustomer, withBase, confirmable()},
		{"resolved-confirm.en.engineer", "en", AudienceEngineer, withBase, confirmable()},
		{"resolved-confirm-nobase.en.customer", "en", AudienceCustomer, Default, confirmable()},
		{"resolved-confirm-nobase.zh-CN.customer", "zh-CN", AudienceCustomer, Default, confirmable()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			renderGolden(t, tc.r, tc.n, tc.lang, tc.audience, tc.name)
		})
	}
}

func renderGolden(t *testing.T, r *Renderer, n ticketing.Notice, lang, audience, name string) {
	t.Helper()
	subject, text, html, err := r.Render(n, lang, audience)
	if err != nil {
		t.Fatal(err)
	}
	_, md, err := r.Markdown(n, lang, audience, FlavorMarkdown)
	if err != nil {
		t.Fatal(err)
	}
	got := "Subject: " + subject + "\n\n--- text ---\n" + text + "\n--- html ---\n" + html + "\n--- markdown ---\n" + md
	checkGolden(t, filepath.Join("testdata", "golden", name+".txt"), got)
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the rendering (run go test -update and review the diff):\n--- got ---\n%s", path, got)
	}
}

// TestCustomerScope: a customer sees its own devices and nothing of another
// customer's equipment or of the internal notes.
func TestCustomerScope(t *testing.T) {
	tests := []struct {
		audience      string
		kind          ticketing.EventKind
		want, notWant []string
	}{
		{AudienceCustomer, ticketing.KindOpened,
			[]string{"core-sw-1 at Shanghai HQ, and 1 device behind it", "acc-sw-7", "acc_sw_9 (serial FOC9), recovered", "Devices affected: 2 (listed below)", "Dear Acme <Corp>,", "Engineer alice is investigating"},
			[]string{"gx-rtr-1", "globex", "device_unreachable", "does not answer SNMP", "FOC1234X0AB", "10.0.0.1"}},
		{"customer:globex", ticketing.KindOpened,
			[]string{"One of your devices is unreachable because of a fault in the network upstream of it", "gx-rtr-1", "Dear customer,", "Since: 2026-03-02 01:16 UTC"},
			[]string{"core-sw-1", "acc-sw-7", "acc_sw_9", "Acme", "Shanghai", "device unreachable"}},
		{"customer:globex", ticketing.KindResolved,
			// Cause and solution are shown as the engineer wrote them.
			[]string{"Resolved: your devices are reachable again [NOC-000042]", "What was affected: One of your devices, cut off", "Duration: 1 h 21 min", "Cause: A failed power supply"},
			[]string{"Shanghai", "acc-sw-7", "Acme", "power supply replaced", "10.0.0.1"}},
		{AudienceCustomer, ticketing.KindResolved,
			[]string{"What was affected: core-sw-1 at Shanghai HQ, and 2 devices behind it", "Duration: 1 h 23 min"},
			[]string{"gx-rtr-1", "power supply replaced"}},
		{AudienceCustomer, ticketing.KindServiceMode,
			[]string{"An engineer will visit Shanghai HQ on 2026-03-02 08:00 UTC [NOC-000042]", "give access to core-sw-1", "Visit: 2026-03-02 08:00 UTC"},
			[]string{"badge at reception", "<Bob>", "appointment:", "gx-rtr-1"}},
		{"customer:globex", ticketing.KindServiceMode,
			[]string{"The fault in the network upstream of your devices needs an engineer on site; the visit is booked for 2026-03-02 08:00 UTC."},
			[]string{"Shanghai", "core-sw-1", "acc-sw-7", "Acme", "badge at reception"}},
		{AudienceCustomer, ticketing.KindArrived,
			[]string{"Our engineer bob arrived at Shanghai HQ at 2026-03-02 08:12 UTC and is working on core-sw-1."},
			[]string{"parked in bay 3", "12 min"}},
		{AudienceCustomer, ticketing.KindServiceReport,
			[]string{"Work done: Replaced the failed power supply (PSU-2) in core-sw-1.", "Parts replaced: PWR-C1-715WAC, S/N LIT2233", "Signed by: Wang Wei", "signed by Wang Wei."},
			[]string{"signed by: Wang Wei\n", "work:"}},
		{"customer:globex", ticketing.KindServiceReport,
			// The report is about Acme's switch and signed by Acme.
			[]string{"Our engineer has finished the on-site work on the network upstream of your devices."},
			[]string{"Wang Wei", "PSU", "LIT2233", "core-sw-1", "Shanghai", "Acme", "acc-sw-7"}},
		{AudienceEngineer, ticketing.KindServiceMode,
			[]string{"[P1] NOC-000042 on-site visit on 2026-03-02 08:00 UTC: core-sw-1", "Service mode set to on-site visit by alice: badge at reception, ask for <Bob>.", "Appointment: 2026-03-02 08:00 UTC"},
			[]string{"appointment: 2026"}},
		{AudienceEngineer, ticketing.KindArrived,
			[]string{"bob arrived on site at 2026-03-02 08:12 UTC, 12 min after the appointment: parked in bay 3."},
			nil},
		{AudienceEngineer, ticketing.KindServiceReport,
			[]string{"Signed by: Wang Wei (customer)", "Arrived: 2026-03-02 08:12 UTC by bob", "bob filed the on-site service report at 2026-03-02 09:02 UTC."},
			[]string{"signed by: Wang Wei"}},
		{AudienceEngineer, ticketing.KindOpened,
			[]string{"gx-rtr-1 [globex]", "acc-sw-7 [acme] (serial FOC7)", "Response SLA: target 15m, due 2026-03-02 01:29 UTC (8 min left)", "device_unreachable: core-sw-1 does not answer SNMP (2026-03-02 01:14 UTC, firing)", "Impacted devices: 2 down, 1 recovered"},
			nil},
	}
	for _, tc := range tests {
		t.Run(tc.audience+"/"+string(tc.kind), func(t *testing.T) {
			subject, text, html, err := Render(fixture(tc.kind), "en", tc.audience)
			if err != nil {
				t.Fatal(err)
			}
			all := subject + "\n" + text
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("missing %q in:\n%s", w, all)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(all, w) || strings.Contains(html, w) {
					t.Errorf("leaks %q:\n%s", w, all)
				}
			}
		})
	}
}

func TestHTMLEscapesData(t *testing.T) {
	_, text, html, err := Render(fixture(ticketing.KindOpened), "en", AudienceCustomer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Acme <Corp>") {
		t.Errorf("text body should carry the name as is")
	}
	if strings.Contains(html, "<Corp>") || !strings.Contains(html, "Acme &lt;Corp&gt;") {
		t.Errorf("html body does not escape the customer name")
	}
}

func TestConfirmLink(t *testing.T) {
	const full = "https://noc.example.com" + confirmPath
	tests := []struct {
		name, base, audience, confirm string
		want                          string // the link, "" for none
	}{
		{"base with trailing slash", "https://noc.example.com/", AudienceCustomer, confirmPath, full},
		{"base without slash", "https://noc.example.com", "customer:acme", confirmPath, full},
		{"base with a path", " https://example.com/noc// ", AudienceCustomer, confirmPath, "https://example.com/noc" + confirmPath},
		{"no base: no broken link", "", AudienceCustomer, confirmPath, ""},
		{"not a web base", "ftp://noc.example.com", AudienceCustomer, confirmPath, ""},
		{"relative base", "noc.example.com", AudienceCustomer, confirmPath, ""},
		{"no confirmation", "https://noc.example.com", AudienceCustomer, "", ""},
		{"customer behind another customer's device", "https://noc.example.com", "customer:globex", confirmPath, ""},
		{"engineer", "https://noc.example.com", AudienceEngineer, confirmPath, ""},
		{"manager", "https://noc.example.com", AudienceManager, confirmPath, ""},
		{"other path", "https://noc.example.com", AudienceCustomer, "/api/v1/tickets/NOC-000042", ""},
		{"markup in the token", "https://noc.example.com", AudienceCustomer, ticketing.ConfirmPathPrefix + `x"><script>alert(1)</script>`, ""},
		{"script URL", "https://noc.example.com", AudienceCustomer, "javascript:alert(1)", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := New(Options{BaseURL: tc.base})
			n := fixture(ticketing.KindResolved)
			n.ConfirmURL = tc.confirm
			_, text, html, err := r.Render(n, "en", tc.audience)
			if err != nil {
				t.Fatal(err)
			}
			_, md, err := r.Markdown(n, "en", tc.audience, FlavorMarkdown)
			if err != nil {
				t.Fatal(err)
			}
			_, slack, err := r.Markdown(n, "en", tc.audience, FlavorSlack)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				for _, body := range []string{text, html, md, slack} {
					if strings.Contains(body, "confirm/") || strings.Contains(body, "confirm the fix here") || strings.Contains(body, "<script") {
						t.Errorf("unexpected link in:\n%s", body)
					}
				}
				return
			}
			for _, w := range []struct{ body, want string }{
				{text, "Please confirm the fix here:\n" + tc.want + "\n"},
				{text, "otherwise please confirm the resolution with the link above."},
				{html, `<a href="` + tc.want + `">` + tc.want + `</a>`},
				{md, "[" + strings.ReplaceAll(tc.want, "_", `\_`) + "](" + tc.want + ")"},
				{slack, "<" + tc.want + ">"},
			} {
				if !strings.Contains(w.body, w.want) {
					t.Errorf("missing %q in:\n%s", w.want, w.body)
				}
			}
		})
	}
}

func TestConfirmLinkHTMLEscaped(t *testing.T) {
	r := New(Options{BaseURL: "https://noc.example.com/a&b"})
	_, text, html, err := r.Render(confirmable(), "zh-CN", AudienceCustomer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "请点击以下链接确认修复结果：\nhttps://noc.example.com/a&b"+confirmPath) {
		t.Errorf("text link missing:\n%s", text)
	}
	if want := `<a href="https://noc.example.com/a&amp;b` + confirmPath + `">https://noc.example.com/a&amp;b`; !strings.Contains(html, want) {
		t.Errorf("html link not escaped, want %q in:\n%s", want, html)
	}
}

func TestCheckBaseURL(t *testing.T) {
	for in, ok := range map[string]bool{
		"https://noc.example.com": true, "http://noc.example.com:8080/portal/": true, " https://noc.example.com/ ": true,
		"": false, "noc.example.com": false, "/portal": false, "ftp://noc.example.com": false, "https://": false,
		"https://noc.example.com/?a=1": false, "https://noc.example.com/#x": false, "https://u:p@noc.example.com": false,
		"https://noc.example.com/a(b)": false, "https://noc.example.com/a b": false,
	} {
		if err := CheckBaseURL(in); (err == nil) != ok {
			t.Errorf("CheckBaseURL(%q) = %v, want ok %v", in, err, ok)
		}
	}
}

// TestServiceReportFromNote: a notice whose ticket carries no service info
// still shows the report, read from the event's note.
func TestServiceReportFromNote(t *testing.T) {
	n := fixture(ticketing.KindServiceReport)
	n.Ticket.Service = nil
	for _, aud := range []string{AudienceCustomer, AudienceEngineer} {
		_, text, _, err := Render(n, "en", aud)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"Work done: Replaced the failed power supply (PSU-2) in core-sw-1.\nChecked the uplinks", "Parts replaced: " + reportParts, "Signed by: Wang Wei"} {
			if !strings.Contains(text, w) {
				t.Errorf("%s: missing %q in:\n%s", aud, w, text)
			}
		}
	}
	n.Note = "not a report"
	_, text, _, err := Render(n, "en", AudienceCustomer)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "Work done") || strings.Contains(text, "not a report") {
		t.Errorf("a note that is no report shows:\n%s", text)
	}
}

func TestForCustomer(t *testing.T) {
	for k, want := range map[ticketing.EventKind]bool{
		ticketing.KindOpened: true, ticketing.KindResolved: true, ticketing.KindServiceMode: true,
		ticketing.KindArrived: true, ticketing.KindServiceReport: true,
		ticketing.KindAssigned: false, ticketing.KindEscalated: false, ticketing.KindReminder: false,
		ticketing.KindClosed: false, ticketing.KindSymptomAdded: false,
	} {
		if got := ForCustomer(k); got != want {
			t.Errorf("ForCustomer(%s) = %v, want %v", k, got, want)
		}
	}
}

func TestChineseTimesAndWords(t *testing.T) {
	subject, text, _, err := Render(fixture(ticketing.KindOpened), "zh_CN", AudienceCustomer)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "【故障通知】Shanghai HQ core-sw-1 发生故障（NOC-000042）" {
		t.Errorf("subject = %q", subject)
	}
	// Opened 01:14 UTC is 09:14 in China; a P1 promises an update 30 min after the event.
	for _, w := range []string{"开始时间：2026-03-02 09:14 CST", "下次更新：2026-03-02 09:51 CST 之前", "工程师 alice 正在排查（优先级 P1）"} {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q in:\n%s", w, text)
		}
	}
}

func TestRenderRejects(t *testing.T) {
	tests := []struct {
		name     string
		n        ticketing.Notice
		audience string
		is       error
	}{
		{"internal event to a customer", fixture(ticketing.KindEscalated), AudienceCustomer, ErrNotForCustomer},
		{"assignment to a named customer", fixture(ticketing.KindAssigned), "customer:acme", ErrNotForCustomer},
		{"unknown audience", fixture(ticketing.KindOpened), "customers", nil},
		{"unknown event", func() ticketing.Notice { n := fixture(ticketing.KindOpened); n.Event = "symptom_added"; return n }(), AudienceEngineer, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := Render(tc.n, "en", tc.audience)
			if ticketing.ErrorCode(err) != ticketing.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want %v", err, tc.is)
			}
		})
	}
}

func TestNormalizeLang(t *testing.T) {
	for in, want := range map[string]string{
		"": "en", "en": "en", "en-US": "en", "fr": "en", "zh": "zh-CN", "zh-CN": "zh-CN",
		"zh_cn": "zh-CN", " ZH-Hans ": "zh-CN", "zh-TW": "en",
	} {
		if got := NormalizeLang(in); got != want {
			t.Errorf("NormalizeLang(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOptionsOverrideDefaults(t *testing.T) {
	r := New(Options{
		Zones:       map[string]*time.Location{"en": time.FixedZone("CET", 3600)},
		UpdateEvery: map[ticketing.Priority]time.Duration{ticketing.P1: 15 * time.Minute},
		Team:        map[string]string{"en": "Example Networks NOC"},
	})
	_, text, _, err := r.Render(fixture(ticketing.KindOpened), "en", AudienceCustomer)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Since: 2026-03-02 02:14 CET", "Next update: By 2026-03-02 02:36 CET", "Example Networks NOC"} {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q in:\n%s", w, text)
		}
	}
}

func TestMarkdownSlackFlavour(t *testing.T) {
	_, md, err := Default.Markdown(fixture(ticketing.KindOpened), "en", AudienceEngineer, FlavorSlack)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(md, "*New ticket NOC-000042: core-sw-1: device unreachable*\n") || strings.Contains(md, "**") || strings.Contains(md, "###") {
		t.Errorf("not Slack mrkdwn:\n%s", md)
	}
	if !strings.Contains(md, `acc\_sw\_9`) {
		t.Errorf("underscores in names are not escaped:\n%s", md)
	}
}
