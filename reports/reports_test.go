package reports

import (
	"bytes"
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/plugins/inspection"
	"github.com/nocagent/nocagent/ticketing"
)

func TestMessagesComplete(t *testing.T) {
	for _, lang := range Languages {
		if _, ok := messages[lang]; !ok {
			t.Fatalf("no messages for %s", lang)
		}
	}
	for key := range messages[inspection.LangEnglish] {
		for _, lang := range Languages {
			if messages[lang][key] == "" {
				t.Errorf("message %q missing in %s", key, lang)
			}
		}
	}
	if len(messages[inspection.LangChinese]) != len(messages[inspection.LangEnglish]) {
		t.Errorf("the languages have %d and %d messages", len(messages[inspection.LangEnglish]), len(messages[inspection.LangChinese]))
	}
}

func TestFormatting(t *testing.T) {
	half := 0.5
	tests := []struct{ got, want string }{
		{duration("en", 59), "1 min"},
		{duration("en", 5400), "1 h 30 min"},
		{duration("zh-CN", 5400), "1小时30分钟"},
		{duration("en", 3*86400+7200), "3 d 2 h"},
		{ratio("en", nil), "n/a"},
		{ratio("zh-CN", &half), "50.0%"},
		{monthName("en", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), "March 2026"},
		{monthName("zh-CN", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)), "2026年11月"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestAvailability(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(100 * time.Hour)
	h := func(n float64) time.Time { return from.Add(time.Duration(n * float64(time.Hour))) }
	ptr := func(v time.Time) *time.Time { return &v }
	tk := func(dev, cat string, open float64, resolved *time.Time, st ticketing.State, impacted ...ticketing.ImpactedDevice) ticketing.Ticket {
		return ticketing.Ticket{Category: cat, State: st, OpenedAt: h(open), ResolvedAt: resolved, Device: ticketing.DeviceContext{Name: dev}, ImpactedDevices: impacted}
	}
	tickets := []ticketing.Ticket{
		tk("a", "availability", 10, ptr(h(12)), ticketing.StateClosed),
		tk("a", "availability", 11, ptr(h(13)), ticketing.StateResolved), // overlaps: counted once
		tk("b", "availability", 95, nil, ticketing.StateNew),             // still open: down to the end
		tk("c", "availability", -5, ptr(h(1)), ticketing.StateClosed),    // began before the period
		tk("d", "link", 0, ptr(h(50)), ticketing.StateClosed),            // not an outage
		tk("e", "availability", 20, ptr(h(30)), ticketing.StateCancelled),
		tk("root", "availability", 40, ptr(h(44)), ticketing.StateClosed,
			ticketing.ImpactedDevice{Name: "f", AddedAt: h(41), Recovered: true, RecoveredAt: ptr(h(42))},
			ticketing.ImpactedDevice{Name: "g"}),
	}
	got := Availability(tickets, []string{"a", "b", "c", "d", "e", "f", "g"}, from, to)
	want := map[string]float64{"a": 3, "b": 5, "c": 1, "d": 0, "e": 0, "f": 1, "g": 4}
	for _, a := range got {
		wh := want[a.Device]
		if math.Abs(a.DowntimeSeconds-wh*3600) > 1e-6 || math.Abs(a.Percent-(100-wh)) > 1e-9 {
			t.Errorf("%s: %+v, want %.0f h down", a.Device, a, wh)
		}
	}
	if m := MeanAvailability(got); m == nil || math.Abs(*m-(100-14.0/7)) > 1e-9 {
		t.Errorf("mean %v", m)
	}
	if MeanAvailability(nil) != nil {
		t.Error("mean of nothing should be n/a")
	}
}

func TestRenderRefusesUnknownLanguage(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderInspection(&buf, InspectionData{}, "fr"); err == nil || buf.Len() != 0 {
		t.Errorf("RenderInspection in fr: %v, %d bytes", err, buf.Len())
	}
	if err := RenderService(&buf, ServiceData{}, "de"); err == nil || buf.Len() != 0 {
		t.Errorf("RenderService in de: %v, %d bytes", err, buf.Len())
	}
}

func TestPDFWithoutChromium(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := PDF(context.Background(), "in.html", "out.pdf")
	if !errors.Is(err, ErrNoChromium) || !strings.Contains(err.Error(), "chromium") {
		t.Errorf("PDF without chromium = %v", err)
	}
}

func TestArchiveRefusesPaths(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ contract, name string }{{"ACME", "../x.html"}, {"..", "x.html"}, {"a/b", "x.html"}, {"", "x.html"}} {
		if _, err := Archive(dir, tt.contract, tt.name, []byte("x")); err == nil {
			t.Errorf("Archive(%q, %q) accepted", tt.contract, tt.name)
		}
	}
	p, err := Archive(dir, "ACME", "r.html", []byte("<html>"))
	if err != nil || p != filepath.Join(dir, "ACME", "r.html") {
		t.Errorf("Archive = %q, %v", p, err)
	}
}
