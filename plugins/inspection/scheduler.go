package inspection

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/plugins"
)

// DeviceInspector is what the scheduler calls for each device: a
// plugins.Inspector, in-process or a host's (remote) one.
type DeviceInspector interface {
	Inspect(ctx context.Context, req plugins.InspectRequest) ([]plugins.Finding, error)
}

// Config configures a Scheduler.
type Config struct {
	Contracts []Contract
	// Targets lists the devices that may be in scope, read at each
	// inspection so inventory reloads apply.
	Targets func() []Target
	// Snapshot returns the device's latest snapshot (the agent's last poll,
	// or a fresh poll). An error is recorded on the device's result.
	Snapshot func(ctx context.Context, t Target) (*collector.Snapshot, error)
	// Stats, if set, gives CPU and memory statistics of a device over the
	// period since the previous inspection (nil when unknown).
	Stats func(ctx context.Context, device string, from, to time.Time) (cpu, memory *Stat)
	// Inspectors resolves an inspector by name (e.g. a plugins.Host's
	// Inspector method wrapped to return DeviceInspector).
	Inspectors func(name string) (DeviceInspector, error)
	// StateDir holds the scheduler's state file; ArchiveDir holds the
	// results, one directory per contract.
	StateDir, ArchiveDir string
	// MinSeverity is the lowest finding severity passed to OnFinding
	// (default major).
	MinSeverity string
	// OnFinding receives each finding at or above MinSeverity after the
	// result is archived (the agent opens a ticket from it).
	OnFinding func(ctx context.Context, r Reported)
	// OnResult receives each archived result (the agent renders and mails
	// the report).
	OnResult func(ctx context.Context, r InspectionResult)
	// Workers bounds the devices inspected at once (default 4);
	// DeviceTimeout bounds one device's snapshot and inspectors (default
	// 60s), so a slow device delays no other.
	Workers       int
	DeviceTimeout time.Duration
	Now           func() time.Time // nil: time.Now; only Run reads it
	Logger        *slog.Logger
}

// Reported is one finding passed to Config.OnFinding.
type Reported struct {
	Contract Contract
	ResultID string
	Device   DeviceResult
	Finding  Finding
}

// Fingerprint identifies the condition a finding reports, stable across
// inspections, so a ticket opened from it is found again next time.
func (r Reported) Fingerprint() string {
	return "inspection:" + r.Device.Name + ":" + r.Finding.Inspector + ":" + r.Finding.Title
}

// InspectionResult is one inspection of one contract.
type InspectionResult struct {
	ID       string    `json:"id"`
	Contract Contract  `json:"contract"`
	At       time.Time `json:"at"`
	// Slot is the scheduled time the run is for; zero when run on demand.
	Slot    time.Time      `json:"slot,omitzero"`
	Devices []DeviceResult `json:"devices"`
}

// DeviceResult is what one inspection found on one device.
type DeviceResult struct {
	Name          string    `json:"name"`
	Address       string    `json:"address,omitempty"`
	Customer      string    `json:"customer,omitempty"`
	Site          string    `json:"site,omitempty"`
	Role          string    `json:"role,omitempty"`
	Vendor        string    `json:"vendor,omitempty"`
	Model         string    `json:"model"`
	Serial        string    `json:"serial"`
	Firmware      string    `json:"firmware"`
	Reachable     bool      `json:"reachable"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	PolledAt      time.Time `json:"polled_at,omitzero"`
	Findings      []Finding `json:"findings"`
	// Errors are the snapshot and inspector failures: the inspection of
	// this device is incomplete.
	Errors []string `json:"errors"`
	// Observed is what the next inspection of the device compares with.
	Observed History `json:"observed"`
}

// Finding is a plugin's finding and the inspector that made it.
type Finding struct {
	plugins.Finding
	Inspector string `json:"inspector"`
}

// Counts returns the number of findings per severity.
func (r InspectionResult) Counts() map[string]int {
	m := map[string]int{}
	for _, d := range r.Devices {
		for _, f := range d.Findings {
			m[f.Severity]++
		}
	}
	return m
}

// SeverityRank orders severities, info lowest; unknown ones rank -1.
func SeverityRank(s string) int { return slices.Index(plugins.Severities, s) }

// Scheduler runs contract inspections on their schedules. Its methods are
// safe for concurrent use.
type Scheduler struct {
	cfg       Config
	log       *slog.Logger
	contracts []Contract // sorted by ID
	schedules map[string]cron.Schedule
	minRank   int

	mu    sync.Mutex // guards st and the state file
	st    state
	runMu sync.Mutex // one archive write at a time, so result ids are unique
}

// state is the scheduler's memory across restarts.
type state struct {
	Contracts map[string]*contractState `json:"contracts"`
}

type contractState struct {
	// Since is when the scheduler first saw the contract: slots before
	// it are not caught up.
	Since time.Time `json:"since"`
	// LastSlot is the latest slot claimed. It is written before the run
	// starts, so a crash during a run does not repeat it after restart.
	LastSlot time.Time `json:"last_slot,omitzero"`
	// LastResult is the id of the newest archived result: the history of
	// the next inspection.
	LastResult string `json:"last_result,omitempty"`
}

const stateFile = "inspections-state.json"

// NewScheduler checks every contract, parses its schedule and loads the
// state file (a missing one is an empty state).
func NewScheduler(cfg Config) (*Scheduler, error) {
	if cfg.StateDir == "" || cfg.ArchiveDir == "" {
		return nil, errors.New("inspection scheduler: StateDir and ArchiveDir are required")
	}
	if cfg.Targets == nil || cfg.Snapshot == nil || cfg.Inspectors == nil {
		return nil, errors.New("inspection scheduler: Targets, Snapshot and Inspectors are required")
	}
	cfg.MinSeverity = cmp.Or(cfg.MinSeverity, plugins.SeverityMajor)
	s := &Scheduler{cfg: cfg, log: cfg.Logger, schedules: map[string]cron.Schedule{}, minRank: SeverityRank(cfg.MinSeverity)}
	if s.minRank < 0 {
		return nil, fmt.Errorf("inspection scheduler: MinSeverity %q is not one of %v", cfg.MinSeverity, plugins.Severities)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	s.cfg.Workers = cmp.Or(max(s.cfg.Workers, 0), 4)
	s.cfg.DeviceTimeout = cmp.Or(max(s.cfg.DeviceTimeout, 0), time.Minute)
	var errs []error
	for _, c := range cfg.Contracts {
		if err := c.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := s.schedules[c.ID]; dup {
			errs = append(errs, fmt.Errorf("contract %q: defined twice", c.ID))
			continue
		}
		sch, _ := ParseSchedule(c.Schedule)
		s.schedules[c.ID] = sch
		s.contracts = append(s.contracts, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("inspection scheduler: %w", err)
	}
	slices.SortFunc(s.contracts, func(a, b Contract) int { return strings.Compare(a.ID, b.ID) })
	st, err := loadState(filepath.Join(cfg.StateDir, stateFile))
	if err != nil {
		return nil, err
	}
	s.st = st
	return s, nil
}

func loadState(path string) (state, error) {
	st := state{Contracts: map[string]*contractState{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("inspection state: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("inspection state %s: %w", path, err)
	}
	if st.Contracts == nil {
		st.Contracts = map[string]*contractState{}
	}
	return st, nil
}

// saveLocked writes the state atomically; s.mu is held.
func (s *Scheduler) saveLocked() error {
	data, err := json.MarshalIndent(s.st, "", "  ")
	if err != nil {
		return fmt.Errorf("inspection state: %w", err)
	}
	if err := WriteFileAtomic(filepath.Join(s.cfg.StateDir, stateFile), data); err != nil {
		return fmt.Errorf("inspection state: %w", err)
	}
	return nil
}

// Contracts lists the contracts, sorted by ID.
func (s *Scheduler) Contracts() []Contract { return slices.Clone(s.contracts) }

// Contract returns the contract with id.
func (s *Scheduler) Contract(id string) (Contract, bool) {
	i := slices.IndexFunc(s.contracts, func(c Contract) bool { return c.ID == id })
	if i < 0 {
		return Contract{}, false
	}
	return s.contracts[i], true
}

// maxSlotSteps bounds the walk over a schedule's slots.
const maxSlotSteps = 100000

// LatestSlot returns the latest slot of sch in (after, now], if any.
func LatestSlot(sch cron.Schedule, after, now time.Time) (time.Time, bool) {
	if !now.After(after) {
		return time.Time{}, false
	}
	// Start the forward walk close to now, so a per-minute schedule after
	// a week's downtime does not walk ten thousand slots.
	start := after
	for _, back := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour} {
		c := now.Add(-back)
		if !c.After(after) {
			break
		}
		if n := sch.Next(c); !n.IsZero() && !n.After(now) {
			start = c
			break
		}
	}
	slot := sch.Next(start)
	if slot.IsZero() || slot.After(now) {
		return time.Time{}, false
	}
	for range maxSlotSteps {
		n := sch.Next(slot)
		if n.IsZero() || n.After(now) {
			break
		}
		slot = n
	}
	return slot, true
}

// Due is one contract run that is due.
type Due struct {
	Contract Contract
	Slot     time.Time
}

// Due returns the contracts due at now, each with its latest unclaimed
// slot: a run missed while the agent was down is due once, however many
// slots it missed. A contract seen for the first time is recorded (its
// Since is now) and not due.
func (s *Scheduler) Due(now time.Time) ([]Due, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Due
	dirty := false
	for _, c := range s.contracts {
		cs := s.st.Contracts[c.ID]
		if cs == nil {
			s.st.Contracts[c.ID] = &contractState{Since: now}
			dirty = true
			continue
		}
		after := cs.Since
		if cs.LastSlot.After(after) {
			after = cs.LastSlot
		}
		if slot, ok := LatestSlot(s.schedules[c.ID], after, now); ok {
			out = append(out, Due{Contract: c, Slot: slot})
		}
	}
	if dirty {
		if err := s.saveLocked(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// claim records slot as taken for id, before its run starts. It fails
// when the slot was already claimed (a concurrent Tick) or the state
// cannot be written; then the run must not start.
func (s *Scheduler) claim(id string, slot time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.st.Contracts[id]
	if cs == nil {
		cs = &contractState{Since: slot}
		s.st.Contracts[id] = cs
	}
	if !slot.After(cs.LastSlot) {
		return fmt.Errorf("contract %s: slot %s already run", id, slot.Format(time.RFC3339))
	}
	prev := cs.LastSlot
	cs.LastSlot = slot
	if err := s.saveLocked(); err != nil {
		cs.LastSlot = prev
		return err
	}
	return nil
}

// Tick runs every contract due at now, one after the other, and returns
// the results. A failed run is logged and joined into the error; the
// others still run.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) ([]InspectionResult, error) {
	due, err := s.Due(now)
	if err != nil {
		return nil, err
	}
	var (
		out  []InspectionResult
		errs []error
	)
	for _, d := range due {
		if err := s.claim(d.Contract.ID, d.Slot); err != nil {
			errs = append(errs, err)
			continue
		}
		s.log.Info("scheduled inspection", "contract", d.Contract.ID, "slot", d.Slot)
		r, err := s.inspect(ctx, d.Contract, now, d.Slot)
		if err != nil {
			s.log.Error("scheduled inspection failed", "contract", d.Contract.ID, "slot", d.Slot, "err", err)
			errs = append(errs, err)
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// NextWake is when Run should look again after now: the earliest next
// slot of any contract, but at least once a minute, so a clock jump or
// a host suspend is noticed.
func (s *Scheduler) NextWake(now time.Time) time.Time {
	wake := now.Add(time.Minute)
	for _, sch := range s.schedules {
		if n := sch.Next(now); !n.IsZero() && n.Before(wake) {
			wake = n
		}
	}
	return wake
}

// Run runs scheduled inspections until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		now := s.cfg.Now()
		if _, err := s.Tick(ctx, now); err != nil && ctx.Err() == nil {
			s.log.Warn("inspection tick", "err", err)
		}
		t := time.NewTimer(max(s.NextWake(now).Sub(s.cfg.Now()), 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Inspect inspects every device in c's scope now (on demand: no schedule
// slot is claimed), archives the result and reports its findings. Device
// failures are recorded on the device; the error is for the archive.
func (s *Scheduler) Inspect(ctx context.Context, c Contract, now time.Time) (InspectionResult, error) {
	if err := c.Validate(); err != nil {
		return InspectionResult{}, err
	}
	return s.inspect(ctx, c, now, time.Time{})
}

func (s *Scheduler) inspect(ctx context.Context, c Contract, now, slot time.Time) (InspectionResult, error) {
	prev, err := s.Latest(c.ID)
	if err != nil {
		// A lost history only weakens the comparisons: go on.
		s.log.Warn("previous inspection unreadable", "contract", c.ID, "err", err)
	}
	var targets []Target
	for _, t := range s.cfg.Targets() {
		if c.InScope(t) {
			targets = append(targets, t)
		}
	}
	slices.SortFunc(targets, func(a, b Target) int { return strings.Compare(a.Device.Name, b.Device.Name) })
	res := InspectionResult{Contract: c, At: now, Slot: slot, Devices: make([]DeviceResult, len(targets))}
	sem := make(chan struct{}, s.cfg.Workers)
	var wg sync.WaitGroup
	for i, t := range targets {
		var h *History
		if prev != nil {
			// A zero observation (never answered) is no history.
			if j := slices.IndexFunc(prev.Devices, func(d DeviceResult) bool { return d.Name == t.Device.Name }); j >= 0 && !prev.Devices[j].Observed.PreviousAt.IsZero() {
				h = &prev.Devices[j].Observed
			}
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			res.Devices[i] = s.inspectDevice(ctx, c, t, h, now)
		})
	}
	wg.Wait()
	if err := s.archive(&res); err != nil {
		return res, err
	}
	for _, d := range res.Devices {
		for _, f := range d.Findings {
			if s.cfg.OnFinding != nil && SeverityRank(f.Severity) >= s.minRank {
				s.cfg.OnFinding(ctx, Reported{Contract: c, ResultID: res.ID, Device: d, Finding: f})
			}
		}
	}
	if s.cfg.OnResult != nil {
		s.cfg.OnResult(ctx, res)
	}
	return res, nil
}

func (s *Scheduler) inspectDevice(ctx context.Context, c Contract, t Target, prev *History, now time.Time) DeviceResult {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DeviceTimeout)
	defer cancel()
	d := t.Device
	r := DeviceResult{Name: d.Name, Address: d.Address, Customer: d.Customer, Site: d.Site, Role: d.Role,
		Vendor: d.Vendor, Model: d.Model, Serial: d.Serial, Findings: []Finding{}, Errors: []string{}}
	snap, err := s.cfg.Snapshot(ctx, t)
	if err != nil || snap == nil {
		r.Errors = append(r.Errors, fmt.Sprintf("snapshot of %s: %v", d.Name, cmp.Or(err, errors.New("none"))))
		if prev != nil {
			r.Observed = *prev
		}
		return r
	}
	r.Reachable, r.PolledAt, r.UptimeSeconds = snap.Reachable, snap.Time, snap.System.UptimeSeconds
	r.Vendor, r.Model, r.Serial, r.Firmware = cmp.Or(snap.Vendor, r.Vendor), cmp.Or(snap.Model, r.Model), cmp.Or(snap.Serial, r.Serial), snap.Firmware
	r.Observed = Observe(snap)
	if !snap.Reachable && prev != nil {
		// Keep what was last seen, so the next inspection still compares
		// against a device that answered.
		r.Observed = *prev
	}
	d.Vendor, d.Model, d.Serial = r.Vendor, r.Model, r.Serial
	raw, err := json.Marshal(snap)
	if err != nil {
		r.Errors = append(r.Errors, fmt.Sprintf("snapshot of %s: %v", d.Name, err))
		return r
	}
	var hraw json.RawMessage
	if prev != nil {
		h := *prev
		h.CPU, h.Memory = nil, nil
		if s.cfg.Stats != nil {
			h.CPU, h.Memory = s.cfg.Stats(ctx, d.Name, prev.PreviousAt, now)
		}
		if hraw, err = json.Marshal(h); err != nil {
			r.Errors = append(r.Errors, fmt.Sprintf("history of %s: %v", d.Name, err))
		}
	}
	for _, name := range c.inspectors() {
		in, err := s.cfg.Inspectors(name)
		if err != nil {
			r.Errors = append(r.Errors, fmt.Sprintf("inspector %s: %v", name, err))
			continue
		}
		fs, err := in.Inspect(ctx, plugins.InspectRequest{Device: d, Snapshot: raw, History: hraw, Secrets: t.Secrets})
		if err == nil {
			err = plugins.CheckFindings(fs)
		}
		if err != nil {
			s.log.Warn("inspector failed", "inspector", name, "device", d.Name, "err", err)
			r.Errors = append(r.Errors, fmt.Sprintf("inspector %s on %s: %v", name, d.Name, err))
			continue
		}
		for _, f := range fs {
			r.Findings = append(r.Findings, Finding{Finding: f, Inspector: name})
		}
	}
	slices.SortStableFunc(r.Findings, func(a, b Finding) int { return SeverityRank(b.Severity) - SeverityRank(a.Severity) })
	return r
}

// archive gives res its id and writes it to ArchiveDir/<contract>/<id>.json.
func (s *Scheduler) archive(res *InspectionResult) error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	dir := filepath.Join(s.cfg.ArchiveDir, res.Contract.ID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("inspection archive: %w", err)
	}
	base := res.Contract.ID + "-" + res.At.UTC().Format("20060102T150405Z")
	res.ID = base
	for n := 2; ; n++ {
		if _, err := os.Stat(filepath.Join(dir, res.ID+".json")); errors.Is(err, os.ErrNotExist) {
			break
		}
		res.ID = fmt.Sprintf("%s-%d", base, n)
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("inspection archive: %w", err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, res.ID+".json"), data); err != nil {
		return fmt.Errorf("inspection archive: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.st.Contracts[res.Contract.ID]
	if cs == nil {
		cs = &contractState{Since: res.At}
		s.st.Contracts[res.Contract.ID] = cs
	}
	cs.LastResult = res.ID
	return s.saveLocked()
}

// Latest returns the newest archived result of a contract, nil when there
// is none.
func (s *Scheduler) Latest(contract string) (*InspectionResult, error) {
	s.mu.Lock()
	var id string
	if cs := s.st.Contracts[contract]; cs != nil {
		id = cs.LastResult
	}
	s.mu.Unlock()
	if id == "" {
		return nil, nil
	}
	r, err := LoadResult(filepath.Join(s.cfg.ArchiveDir, contract, id+".json"))
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// LoadResult reads an archived result.
func LoadResult(path string) (InspectionResult, error) {
	var r InspectionResult
	data, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("inspection result: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("inspection result %s: %w", path, err)
	}
	return r, nil
}

// ResultPath is where a result is archived.
func ResultPath(archiveDir string, r InspectionResult) string {
	return filepath.Join(archiveDir, r.Contract.ID, r.ID+".json")
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so a reader or a crash never sees half a file.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Chmod(tmp, 0o640); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename to %s: %w", path, err)
	}
	// Make the rename itself durable; not every filesystem supports
	// syncing a directory, so a failure here is not an error.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
