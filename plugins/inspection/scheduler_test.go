package inspection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/plugins"
)

func TestLatestSlot(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		spec, after, now string
		want             string // "" = none
	}{
		{"0 6 1 * *", "2026-01-15T00:00:00Z", "2026-02-01T05:59:59Z", ""},
		{"0 6 1 * *", "2026-01-15T00:00:00Z", "2026-02-01T06:00:00Z", "2026-02-01T06:00:00Z"},
		{"0 6 1 * *", "2026-02-01T06:00:00Z", "2026-02-01T06:00:00Z", ""}, // already taken
		{"0 6 1 * *", "2026-02-01T06:00:00Z", "2026-02-20T00:00:00Z", ""},
		// down from January to May: one run, for the latest slot
		{"0 6 1 * *", "2026-01-15T00:00:00Z", "2026-05-03T00:00:00Z", "2026-05-01T06:00:00Z"},
		{"* * * * *", "2026-01-01T00:00:00Z", "2026-01-08T12:34:56Z", "2026-01-08T12:34:00Z"},
		{"@daily", "2026-01-01T00:00:00Z", "2026-01-01T23:59:00Z", ""},
		{"@daily", "2026-01-01T00:00:00Z", "2026-03-10T08:00:00Z", "2026-03-10T00:00:00Z"},
		{"0 8 * * 1", "2026-01-01T00:00:00Z", "2026-01-05T08:00:00Z", "2026-01-05T08:00:00Z"}, // a Monday
		{"0 0 29 2 *", "2026-01-01T00:00:00Z", "2029-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"CRON_TZ=Asia/Shanghai 0 9 1 * *", "2026-01-15T00:00:00Z", "2026-02-01T01:00:00Z", "2026-02-01T01:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.spec+" "+tt.now, func(t *testing.T) {
			sch, err := ParseSchedule(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := LatestSlot(sch, at(tt.after), at(tt.now))
			if tt.want == "" {
				if ok {
					t.Errorf("slot %s, want none", got)
				}
				return
			}
			if !ok || !got.Equal(at(tt.want)) {
				t.Errorf("slot %s (%v), want %s", got, ok, tt.want)
			}
		})
	}
}

func TestContractValidate(t *testing.T) {
	good := Contract{ID: "ACME-2026-001", Customer: "acme", Schedule: "0 6 1 * *", Language: "zh-CN", Recipients: []string{"a@b.example"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mut  func(c *Contract)
		want string
	}{
		{func(c *Contract) { c.ID = "../etc" }, "id"},
		{func(c *Contract) { c.Schedule = "" }, "schedule: missing"},
		{func(c *Contract) { c.Schedule = "61 * * * *" }, "schedule"},
		{func(c *Contract) { c.Schedule = "@every 1h" }, "@every"},
		{func(c *Contract) { c.Language = "fr" }, "language"},
		{func(c *Contract) { c.Recipients = []string{"nobody"} }, "recipients[0]"},
	}
	for _, tt := range tests {
		c := good
		tt.mut(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), c.ID) {
			t.Errorf("Validate(%+v) = %v, want an error about %s naming the contract", c, err, tt.want)
		}
	}
}

func TestInScope(t *testing.T) {
	tg := func(name, cust, site string, tags ...string) Target {
		return Target{Device: plugins.Device{Name: name, Customer: cust, Site: site}, Tags: tags}
	}
	all := []Target{tg("a1", "acme", "hq", "core"), tg("a2", "acme", "hq"), tg("a3", "acme", "plant", "core"), tg("g1", "globex", "hq", "core")}
	tests := []struct {
		scope Scope
		cust  string
		want  []string
	}{
		{Scope{}, "acme", []string{"a1", "a2", "a3"}},
		{Scope{}, "", []string{"a1", "a2", "a3", "g1"}},
		{Scope{Sites: []string{"hq"}}, "acme", []string{"a1", "a2"}},
		{Scope{Tags: []string{"core"}}, "acme", []string{"a1", "a3"}},
		{Scope{Tags: []string{"core"}, Sites: []string{"plant"}}, "acme", []string{"a3"}},
		{Scope{Devices: []string{"a2", "g1"}}, "acme", []string{"a2"}},
	}
	for _, tt := range tests {
		c := Contract{Customer: tt.cust, Scope: tt.scope}
		var got []string
		for _, x := range all {
			if c.InScope(x) {
				got = append(got, x.Device.Name)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("customer %q scope %+v: %v, want %v", tt.cust, tt.scope, got, tt.want)
		}
	}
}

// fakeNet is a network of snapshots the test edits between inspections.
type fakeNet struct {
	mu    sync.Mutex
	snaps map[string]*collector.Snapshot
	calls []string // device names, in snapshot order
}

func (n *fakeNet) snapshot(_ context.Context, t Target) (*collector.Snapshot, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, t.Device.Name)
	s, ok := n.snaps[t.Device.Name]
	if !ok {
		return nil, errors.New("never polled")
	}
	c := *s
	return &c, nil
}

type env struct {
	net      *fakeNet
	cfg      Config
	mu       sync.Mutex
	reported []Reported
}

func newEnv(t *testing.T, contracts ...Contract) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{net: &fakeNet{snaps: map[string]*collector.Snapshot{}}}
	for _, n := range []string{"acme-sw1", "acme-sw2", "globex-fw1"} {
		s := healthySnapshot()
		s.Device, s.Serial = n, "SN-"+n
		e.net.snaps[n] = s
	}
	e.cfg = Config{
		Contracts: contracts,
		Targets: func() []Target {
			return []Target{
				{Device: plugins.Device{Name: "acme-sw2", Customer: "acme", Site: "hq"}},
				{Device: plugins.Device{Name: "acme-sw1", Customer: "acme", Site: "hq"}},
				{Device: plugins.Device{Name: "globex-fw1", Customer: "globex", Site: "br"}},
			}
		},
		Snapshot: e.net.snapshot,
		Inspectors: func(name string) (DeviceInspector, error) {
			if name != HealthName {
				return nil, fmt.Errorf("%w: %s", plugins.ErrNotFound, name)
			}
			return NewHealth(), nil
		},
		StateDir: filepath.Join(dir, "state"), ArchiveDir: filepath.Join(dir, "archive"),
		OnFinding: func(_ context.Context, r Reported) {
			e.mu.Lock()
			e.reported = append(e.reported, r)
			e.mu.Unlock()
		},
	}
	return e
}

func (e *env) scheduler(t *testing.T) *Scheduler {
	t.Helper()
	s, err := NewScheduler(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var acmeMonthly = Contract{ID: "ACME-1", Customer: "acme", Schedule: "0 6 1 * *"}

func TestSchedulerRunsOnTimeOnceAndCatchesUp(t *testing.T) {
	e := newEnv(t, acmeMonthly)
	s := e.scheduler(t)
	ctx := context.Background()
	tick := func(s *Scheduler, now string) []time.Time {
		t.Helper()
		at, err := time.Parse(time.RFC3339, now)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := s.Tick(ctx, at)
		if err != nil {
			t.Fatalf("tick at %s: %v", now, err)
		}
		var slots []time.Time
		for _, r := range rs {
			slots = append(slots, r.Slot)
			if !r.At.Equal(at) || r.Contract.ID != "ACME-1" {
				t.Errorf("result at %s for %s, want %s for ACME-1", r.At, r.Contract.ID, at)
			}
		}
		return slots
	}
	slot := func(s string) []time.Time {
		v, _ := time.Parse(time.RFC3339, s)
		return []time.Time{v}
	}
	steps := []struct {
		restart bool
		now     string
		want    []time.Time
	}{
		// First sight of the contract: it starts counting, nothing is due,
		// even though 1 January 06:00 lies in the past.
		{now: "2026-01-20T10:00:00Z"},
		{now: "2026-02-01T05:59:00Z"},
		{now: "2026-02-01T06:00:00Z", want: slot("2026-02-01T06:00:00Z")},
		{now: "2026-02-01T06:00:30Z"},
		{restart: true, now: "2026-02-01T06:01:00Z"}, // never the same slot twice, across a restart
		// The agent is down through March and April: one catch-up run.
		{restart: true, now: "2026-04-15T09:00:00Z", want: slot("2026-04-01T06:00:00Z")},
		{now: "2026-04-15T09:01:00Z"},
		{now: "2026-05-01T06:00:05Z", want: slot("2026-05-01T06:00:00Z")},
	}
	for _, st := range steps {
		if st.restart {
			s = e.scheduler(t)
		}
		if got := tick(s, st.now); !slices.EqualFunc(got, st.want, time.Time.Equal) {
			t.Fatalf("tick at %s ran slots %v, want %v", st.now, got, st.want)
		}
	}
	ents, err := os.ReadDir(filepath.Join(e.cfg.ArchiveDir, "ACME-1"))
	if err != nil || len(ents) != 3 {
		t.Fatalf("archive holds %d results (%v), want 3", len(ents), err)
	}
}

func TestSchedulerClaimSurvivesACrashedRun(t *testing.T) {
	e := newEnv(t, acmeMonthly)
	s := e.scheduler(t)
	jan := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	feb := time.Date(2026, 2, 1, 6, 0, 0, 0, time.UTC)
	if _, err := s.Tick(context.Background(), jan); err != nil {
		t.Fatal(err)
	}
	// The run for February is claimed and the agent dies before it ends.
	if err := s.claim("ACME-1", feb); err != nil {
		t.Fatal(err)
	}
	if err := s.claim("ACME-1", feb); err == nil {
		t.Fatal("the same slot was claimed twice")
	}
	rs, err := e.scheduler(t).Tick(context.Background(), feb.Add(time.Hour))
	if err != nil || len(rs) != 0 {
		t.Fatalf("after restart ran %d inspections (%v), want none: the slot was claimed", len(rs), err)
	}
}

func TestSchedulerStateFileIsChecked(t *testing.T) {
	e := newEnv(t, acmeMonthly)
	if err := os.MkdirAll(e.cfg.StateDir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.cfg.StateDir, stateFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewScheduler(e.cfg); err == nil || !strings.Contains(err.Error(), stateFile) {
		t.Errorf("NewScheduler with a corrupt state = %v, want an error naming the file", err)
	}
	e.cfg.Contracts = []Contract{acmeMonthly, acmeMonthly, {ID: "X", Schedule: "bad"}}
	_, err := NewScheduler(e.cfg)
	if err == nil || !strings.Contains(err.Error(), `"ACME-1": defined twice`) || !strings.Contains(err.Error(), `"X": schedule`) {
		t.Errorf("NewScheduler with bad contracts = %v", err)
	}
}

func TestInspectScopeArchiveHistoryAndReporting(t *testing.T) {
	e := newEnv(t, acmeMonthly)
	e.cfg.Stats = func(_ context.Context, device string, from, to time.Time) (*Stat, *Stat) {
		if device == "acme-sw2" && to.Sub(from) > 0 {
			return &Stat{Min: 70, Avg: 80, Max: 95}, nil
		}
		return nil, nil
	}
	s := e.scheduler(t)
	ctx := context.Background()
	e.net.snaps["acme-sw1"].Sensors[2].Status = "failed"         // critical: reported
	e.net.snaps["acme-sw1"].Interfaces[0].Rates.UtilPercent = 99 // warning: not reported
	delete(e.net.snaps, "acme-sw2")                              // no snapshot: an error on the device

	r1, err := s.Inspect(ctx, acmeMonthly, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got := deviceNames(r1); !slices.Equal(got, []string{"acme-sw1", "acme-sw2"}) {
		t.Fatalf("inspected %v, want the acme devices in name order", got)
	}
	sw1, sw2 := r1.Devices[0], r1.Devices[1]
	if sw1.Serial != "SN-acme-sw1" || sw1.Model != "C9300-48P" || sw1.Firmware != "17.9.4a" || !sw1.Reachable {
		t.Errorf("sw1 identity = %+v", sw1)
	}
	if titles := findingTitles(sw1); !slices.Equal(titles, []string{"Power supply failed: PSU 1", "Interface utilisation high: Gi1/0/1"}) {
		t.Errorf("sw1 findings %v (want most severe first)", titles)
	}
	if len(sw2.Errors) != 1 || !strings.Contains(sw2.Errors[0], "never polled") || len(sw2.Findings) != 0 {
		t.Errorf("sw2 without snapshot = %+v", sw2)
	}
	if len(e.reported) != 1 || e.reported[0].Finding.Title != "Power supply failed: PSU 1" || e.reported[0].Device.Name != "acme-sw1" ||
		e.reported[0].Fingerprint() != "inspection:acme-sw1:device-health:Power supply failed: PSU 1" || e.reported[0].ResultID != r1.ID {
		t.Errorf("reported %+v, want the PSU finding only", e.reported)
	}
	stored, err := LoadResult(ResultPath(e.cfg.ArchiveDir, r1))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(stored)
	b, _ := json.Marshal(r1)
	if string(a) != string(b) {
		t.Errorf("archived result differs from the returned one:\n%s\n%s", a, b)
	}

	// A month later the switch was swapped, its firmware upgraded and
	// re-cabled; sw2 answers again.
	sw := e.net.snaps["acme-sw1"]
	sw.Sensors[2].Status, sw.Interfaces[0].Rates.UtilPercent = "ok", 10
	sw.Serial, sw.Firmware = "SN-NEW", "17.12.1"
	sw.Neighbors = nil
	e.net.snaps["acme-sw2"] = healthySnapshot()
	r2, err := s.Inspect(ctx, acmeMonthly, t0.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if r2.ID == r1.ID {
		t.Fatal("two results share an id")
	}
	if got, want := findingTitles(r2.Devices[0]), []string{"Device replaced: serial number changed", "LLDP/CDP neighbours changed since the last inspection", "Firmware changed"}; !slices.Equal(got, want) {
		t.Errorf("second inspection of sw1: %v, want %v", got, want)
	}
	// sw2 had no snapshot last time, so nothing to compare with; the stats
	// hook gives it no period either (no previous poll).
	if got := findingTitles(r2.Devices[1]); len(got) != 0 {
		t.Errorf("second inspection of sw2: %v, want none", got)
	}
	r3, err := s.Inspect(ctx, acmeMonthly, t0.AddDate(0, 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := findingTitles(r3.Devices[1]); !slices.Equal(got, []string{"CPU load high over the period"}) {
		t.Errorf("third inspection of sw2 with period stats: %v", got)
	}
}

func TestInspectorFailuresAreRecorded(t *testing.T) {
	e := newEnv(t)
	e.cfg.Inspectors = func(name string) (DeviceInspector, error) {
		switch name {
		case "garbage":
			return inspectorFunc(func(context.Context, plugins.InspectRequest) ([]plugins.Finding, error) {
				return []plugins.Finding{{Severity: "catastrophic", Title: "x"}}, nil
			}), nil
		case "failing":
			return inspectorFunc(func(context.Context, plugins.InspectRequest) ([]plugins.Finding, error) {
				return nil, fmt.Errorf("%w: crashed", plugins.ErrPluginFailed)
			}), nil
		case HealthName:
			return NewHealth(), nil
		}
		return nil, plugins.ErrNotFound
	}
	s := e.scheduler(t)
	c := Contract{ID: "G", Customer: "globex", Schedule: "@monthly", Inspectors: []string{"garbage", "failing", "missing", HealthName}}
	e.net.snaps["globex-fw1"].CPU[0].Percent = 99
	r, err := s.Inspect(context.Background(), c, t0)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Devices[0]
	if len(d.Errors) != 3 || !strings.Contains(d.Errors[0], "garbage") || !strings.Contains(d.Errors[1], "crashed") || !strings.Contains(d.Errors[2], "missing") {
		t.Errorf("errors %q", d.Errors)
	}
	if got := findingTitles(d); !slices.Equal(got, []string{"CPU load high"}) || d.Findings[0].Inspector != HealthName {
		t.Errorf("findings %+v: the working inspector's should remain", d.Findings)
	}
}

// TestRun drives Run on the fake clock of testing/synctest: over 50 hours
// of virtual time it runs the two daily slots once each.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, Contract{ID: "ACME-1", Customer: "acme", Schedule: "0 6 * * *"})
		var (
			mu    sync.Mutex
			slots []time.Time
		)
		e.cfg.Now = time.Now // the bubble's clock: 2000-01-01 00:00 UTC
		start := time.Now()
		e.cfg.OnResult = func(_ context.Context, r InspectionResult) {
			mu.Lock()
			slots = append(slots, r.Slot)
			mu.Unlock()
		}
		s := e.scheduler(t)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(50 * time.Hour)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		var got []string
		for _, sl := range slots {
			got = append(got, sl.UTC().Format(time.RFC3339))
		}
		// The schedule is in local time: the first 06:00 local after the
		// bubble's start is the same day west of UTC+6 and the next day east
		// of it (Asia/Shanghai), so derive the slots rather than fix them.
		local := start.In(time.Local)
		first := time.Date(local.Year(), local.Month(), local.Day(), 6, 0, 0, 0, time.Local)
		if first.Before(start) {
			first = first.AddDate(0, 0, 1)
		}
		want := []string{first.UTC().Format(time.RFC3339), first.AddDate(0, 0, 1).UTC().Format(time.RFC3339)}
		if !slices.Equal(got, want) {
			t.Errorf("Run ran slots %v, want %v", got, want)
		}
	})
}

type inspectorFunc func(context.Context, plugins.InspectRequest) ([]plugins.Finding, error)

func (f inspectorFunc) Inspect(ctx context.Context, r plugins.InspectRequest) ([]plugins.Finding, error) {
	return f(ctx, r)
}

func deviceNames(r InspectionResult) []string {
	var out []string
	for _, d := range r.Devices {
		out = append(out, d.Name)
	}
	return out
}

func findingTitles(d DeviceResult) []string {
	out := []string{}
	for _, f := range d.Findings {
		out = append(out, f.Title)
	}
	return out
}
