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
	}
	n.Ticket = t
	return n
}

var staffKinds = []ticketing.EventKind{
	ticketing.KindOpened, ticketing.KindImpactAdded, ticketing.KindPriorityRaised, ticketing.KindReopened,
	ticketing.KindResolved, ticketing.KindEscalated, ticketing.KindReminder, ticketing.KindAssigned,
	ticketing.KindClosed, ticketing.KindCancelled,
}

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
	for _, c := range cases {
		for _, lang := range Languages {
			name := strings.NewReplacer(":", "-").Replace(string(c.kind) + "." + lang + "." + c.audience)
			t.Run(name, func(t *testing.T) {
				n := fixture(c.kind)
				subject, text, html, err := Render(n, lang, c.audience)
				if err != nil {
					t.Fatal(err)
				}
				_, md, err := Default.Markdown(n, lang, c.audience, FlavorMarkdown)
				if err != nil {
					t.Fatal(err)
				}
				got := "Subject: " + subject + "\n\n--- text ---\n" + text + "\n--- html ---\n" + html + "\n--- markdown ---\n" + md
				checkGolden(t, filepath.Join("testdata", "golden", name+".txt"), got)
			})
		}
	}
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
