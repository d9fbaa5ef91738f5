package ticketing_test

import (
	"math"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

func TestKPIAvailability(t *testing.T) {
	e := newProcEnv(t, ticketing.ProcessConfig{Engineers: engineer})
	start := e.clk.Now()
	at := func(d time.Duration) {
		t.Helper()
		if now := e.clk.Now(); start.Add(d).Before(now) {
			t.Fatalf("test steps out of order: %s < %s", start.Add(d), now)
		}
		e.clk.Advance(start.Add(d).Sub(e.clk.Now()))
	}
	avail := func(fp, dev string) ticketing.Signal {
		return firing(e.clk, fp, dev, ticketing.CategoryAvailability, "P2", dev+" unreachable")
	}

	// fw-01 is down from before the period (09:00) until 10:00; the period
	// starts at 09:30.
	fw := avail("fw", "fw-01")
	e.ingest(t, fw)
	// A link fault is no outage.
	link := firing(e.clk, "lk", "sw-01", "link", "P3", "errors on Gi0/1")
	e.ingest(t, link)
	at(time.Hour)
	e.ingest(t, cleared(e.clk, fw))
	// core-01 is down 10:00-12:00 on its own ticket, and again cut off
	// behind agg-01 11:00-13:00: three hours, not four.
	core := avail("core", "core-01")
	e.ingest(t, core)
	at(2 * time.Hour)
	agg := avail("agg", "agg-01")
	agg.Impacted = []ticketing.ImpactedDevice{{Name: "core-01", Customer: "acme"}, {Name: "gx-01", Customer: "globex"}}
	e.ingest(t, agg)
	at(3 * time.Hour)
	e.ingest(t, cleared(e.clk, core))
	at(4 * time.Hour)
	e.ingest(t, cleared(e.clk, agg))
	// sw-02: an engineer resolves it at 14:30 while monitoring still sees
	// it down until 15:00.
	sw := avail("sw", "sw-02")
	at(5 * time.Hour)
	e.ingest(t, sw)
	at(5*time.Hour + 30*time.Minute)
	tk, ok, err := e.svc.OpenTicketFor(ctxBg, "sw-02", ticketing.CategoryAvailability)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	e.act(t, alice, tk.ID, ticketing.ActResolve, ticketing.ActionInput{Cause: "power cable", Solution: "reseated"})
	at(6 * time.Hour)
	e.ingest(t, cleared(e.clk, sw))
	// A false alarm, cancelled, and another customer's outage do not count.
	fa := avail("fa", "ap-01")
	e.ingest(t, fa)
	fal, _, _ := e.svc.OpenTicketFor(ctxBg, "ap-01", ticketing.CategoryAvailability)
	e.act(t, manager, fal.ID, ticketing.ActCancel, ticketing.ActionInput{Reason: "false alarm"})
	gx := avail("gx", "gx-02")
	gx.Device.Customer = "globex"
	e.ingest(t, gx)
	// rtr-02 goes down at 18:00 and is still down when the period ends.
	at(9 * time.Hour)
	e.ingest(t, avail("rtr", "rtr-02"))
	at(11 * time.Hour)

	from, to := start.Add(30*time.Minute), start.Add(10*time.Hour)
	// fw-01 30m + core-01 3h + agg-01 2h + sw-02 1h + rtr-02 1h.
	const down = 7*time.Hour + 30*time.Minute
	period := to.Sub(from)
	for _, c := range []struct {
		name    string
		devices int
		want    *float64
	}{
		{"devices unknown", 0, nil},
		{"five devices", 5, ptr(1 - float64(down)/float64(5*period))},
		{"twenty devices", 20, ptr(1 - float64(down)/float64(20*period))},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := e.svc.KPIs(ctxBg, manager, ticketing.KPIFilter{Customer: "acme", From: from, To: to, Devices: c.devices})
			if err != nil {
				t.Fatal(err)
			}
			if rep.DowntimeSeconds != down.Seconds() {
				t.Errorf("downtime = %s, want %s", time.Duration(rep.DowntimeSeconds*float64(time.Second)), down)
			}
			if (rep.Availability == nil) != (c.want == nil) || (c.want != nil && math.Abs(*rep.Availability-*c.want) > 1e-12) {
				t.Fatalf("availability = %v, want %v", deref(rep.Availability), deref(c.want))
			}
			var sample *ticketing.KPISample
			for _, s := range rep.Samples() {
				if s.Name == "nocagent_service_availability_ratio" {
					sample = &s
				}
			}
			switch {
			case c.want == nil && sample != nil:
				t.Errorf("availability exported while unknown: %+v", sample)
			case c.want != nil && (sample == nil || sample.Value != *rep.Availability || sample.Labels["customer"] != "acme"):
				t.Errorf("availability sample = %+v", sample)
			}
		})
	}

	// globex: gx-02 down from 15:00 to the period's end at 19:00, and gx-01
	// cut off 11:00-13:00.
	rep, err := e.svc.KPIs(ctxBg, globex, ticketing.KPIFilter{From: from, To: to, Devices: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := (4*time.Hour + 2*time.Hour).Seconds(); rep.DowntimeSeconds != want {
		t.Errorf("globex downtime = %vs, want %vs", rep.DowntimeSeconds, want)
	}
	// A period that has not begun has no availability yet.
	rep, err = e.svc.KPIs(ctxBg, manager, ticketing.KPIFilter{Customer: "acme", From: start.Add(24 * time.Hour), To: start.Add(48 * time.Hour), Devices: 5})
	if err != nil || rep.Availability != nil {
		t.Errorf("future period: availability %v, %v", deref(rep.Availability), err)
	}
	if _, err := e.svc.KPIs(ctxBg, manager, ticketing.KPIFilter{Devices: -1}); ticketing.ErrorCode(err) != ticketing.EINVALID {
		t.Errorf("negative devices: %v, want invalid", err)
	}
}

func ptr(f float64) *float64 { return &f }
