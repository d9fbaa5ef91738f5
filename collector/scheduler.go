package collector

import (
	"container/heap"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/nocagent/nocagent/inventory"
)

// Target is one device the scheduler polls.
type Target struct {
	Device     inventory.Device
	Credential inventory.Credential
	Interval   time.Duration
}

// SchedulerOptions configure a Scheduler. Zero values get defaults.
type SchedulerOptions struct {
	// Workers is the number of polls that may run at once; default 16.
	Workers int
	// Logger receives overruns and poll outcomes; default discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Session is passed to every poll.
	Session SessionOptions
	// Profiles are the vendor profiles polls choose from; nil = built-ins.
	Profiles *ProfileSet
	// Budget is the most one poll may take (its context deadline); 0 means
	// the device's interval.
	Budget time.Duration
	// MaxRateGap is RateTracker.MaxGap; 0 means no limit.
	MaxRateGap time.Duration
	// Poll replaces the SNMP poll, for simulations and tests; nil means
	// Poll against Device.Address with Credential.
	Poll func(ctx context.Context, t Target, opts PollOptions) *Snapshot
}

// DeviceStats is how one device's schedule has gone.
type DeviceStats struct {
	Device   string
	Polls    int // polls started
	Overruns int // due times skipped because the previous poll was still queued or running
}

// Scheduler polls a set of devices, each at its interval, on a fixed pool
// of workers. Each device has at most one poll queued or running; a device
// still busy when it falls due again has an overrun counted, and that slot
// is skipped rather than queued. Devices start at an offset within their
// interval taken from a hash of their name, so polls spread out. A poll
// that hangs is cut at its budget and holds up only its own worker.
type Scheduler struct {
	opts  SchedulerOptions
	emit  func(*Snapshot)
	rates *RateTracker
	log   *slog.Logger

	mu      sync.Mutex
	entries map[string]*schedEntry
	urgent  []string // devices to poll now (PollNow), applied by Run
	pending []Target // set by Update, applied by Run
	hasNew  bool
	// profiles starts as opts.Profiles; SetProfiles replaces it.
	profiles *ProfileSet
	wake     chan struct{}
}

// NewScheduler returns a scheduler that hands every Snapshot, with rates
// filled, to emit. emit is called from the worker goroutines, concurrently;
// it must not keep them long.
func NewScheduler(opts SchedulerOptions, emit func(*Snapshot)) *Scheduler {
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Poll == nil {
		opts.Poll = func(ctx context.Context, t Target, po PollOptions) *Snapshot {
			return Poll(ctx, t.Device.Address, t.Credential, po)
		}
	}
	return &Scheduler{
		opts:     opts,
		emit:     emit,
		rates:    NewRateTracker(opts.MaxRateGap),
		log:      log,
		entries:  map[string]*schedEntry{},
		wake:     make(chan struct{}, 1),
		profiles: opts.Profiles,
	}
}

// SetProfiles replaces the vendor profiles, as on a reload; polls that
// start after it use them.
func (s *Scheduler) SetProfiles(p *ProfileSet) {
	s.mu.Lock()
	s.profiles = p
	s.mu.Unlock()
}

type schedEntry struct {
	t        Target
	next     time.Time
	busy     bool // queued or running
	polls    int
	overruns int
	heapIdx  int
}

// Update replaces the set of devices, as on an inventory reload. New devices
// start at their offset, removed ones stop (a running poll still finishes),
// changed ones keep their place unless their interval changed.
func (s *Scheduler) Update(targets []Target) error {
	if err := checkTargets(targets); err != nil {
		return err
	}
	s.mu.Lock()
	s.pending = append([]Target(nil), targets...)
	s.hasNew = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// PollNow asks for an immediate extra poll of a device, as when a trap says
// something changed. The device keeps its regular slots; a poll already
// queued or running is not doubled. It reports whether the device is known.
func (s *Scheduler) PollNow(name string) bool {
	s.mu.Lock()
	_, ok := s.entries[name]
	if ok {
		s.urgent = append(s.urgent, name)
	}
	s.mu.Unlock()
	if ok {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return ok
}

func checkTargets(targets []Target) error {
	seen := make(map[string]bool, len(targets))
	for _, t := range targets {
		switch {
		case t.Device.Name == "":
			return fmt.Errorf("scheduler: device with address %q has no name", t.Device.Address)
		case seen[t.Device.Name]:
			return fmt.Errorf("scheduler: device %q listed twice", t.Device.Name)
		case t.Interval <= 0:
			return fmt.Errorf("scheduler: device %q: poll interval must be positive, got %s", t.Device.Name, t.Interval)
		}
		seen[t.Device.Name] = true
	}
	return nil
}

// Stats returns each device's counters, in no particular order.
func (s *Scheduler) Stats() []DeviceStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DeviceStats, 0, len(s.entries))
	for name, e := range s.entries {
		out = append(out, DeviceStats{Device: name, Polls: e.polls, Overruns: e.overruns})
	}
	return out
}

// offset spreads devices over their interval by a hash of their name.
func offset(name string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(name))
	return time.Duration(h.Sum64() % uint64(interval))
}

// Run polls targets until ctx is done, then waits for running polls (which
// see ctx cancelled) and returns nil. It returns an error only for a bad
// target list.
func (s *Scheduler) Run(ctx context.Context, targets []Target) error {
	if err := s.Update(targets); err != nil {
		return err
	}
	jobs := make(chan *schedEntry)
	done := make(chan *schedEntry, s.opts.Workers)
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Go(func() {
			for e := range jobs {
				s.pollOne(ctx, e)
				done <- e
			}
		})
	}
	defer func() {
		close(jobs)
		wg.Wait()
	}()

	var (
		due   dueHeap
		queue []*schedEntry
		timer = time.NewTimer(time.Hour)
	)
	defer timer.Stop()
	for {
		s.mu.Lock()
		now := s.opts.Now()
		if s.hasNew {
			s.apply(&due, now)
		}
		for _, name := range s.urgent {
			if e := s.entries[name]; e != nil && !e.busy {
				e.busy = true
				queue = append(queue, e)
			}
		}
		s.urgent = s.urgent[:0]
		for len(due) > 0 && !due[0].next.After(now) {
			e := due[0]
			if e.busy {
				e.overruns++
				s.log.Warn("poll overrun: previous poll still queued or running",
					"device", e.t.Device.Name, "interval", e.t.Interval, "overruns", e.overruns)
			} else {
				e.busy = true
				queue = append(queue, e)
			}
			// Skip every slot already past, keeping the device's phase.
			k := now.Sub(e.next)/e.t.Interval + 1
			e.next = e.next.Add(k * e.t.Interval)
			heap.Fix(&due, 0)
		}
		s.mu.Unlock()

		wait := time.Hour
		if len(due) > 0 {
			wait = due[0].next.Sub(now)
		}
		timer.Reset(wait)
		var send chan *schedEntry
		var head *schedEntry
		if len(queue) > 0 {
			send, head = jobs, queue[0]
		}
		select {
		case <-ctx.Done():
			return nil
		case send <- head:
			queue[0] = nil
			queue = queue[1:]
		case e := <-done:
			s.mu.Lock()
			e.busy = false
			s.mu.Unlock()
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// apply installs the pending target list; s.mu is held.
func (s *Scheduler) apply(due *dueHeap, now time.Time) {
	s.hasNew = false
	keep := make(map[string]bool, len(s.pending))
	for _, t := range s.pending {
		name := t.Device.Name
		keep[name] = true
		e := s.entries[name]
		if e == nil {
			e = &schedEntry{t: t, next: now.Add(offset(name, t.Interval))}
			s.entries[name] = e
			heap.Push(due, e)
			continue
		}
		changed := e.t.Interval != t.Interval
		e.t = t
		if changed {
			e.next = now.Add(offset(name, t.Interval))
			heap.Fix(due, e.heapIdx)
		}
	}
	for name, e := range s.entries {
		if !keep[name] {
			heap.Remove(due, e.heapIdx)
			delete(s.entries, name)
			s.rates.Forget(name)
		}
	}
	s.pending = nil
}

// pollOne runs one poll under its budget and emits the result. e.t is only
// read under s.mu, since Update may replace it meanwhile.
func (s *Scheduler) pollOne(ctx context.Context, e *schedEntry) {
	s.mu.Lock()
	t, profiles := e.t, s.profiles
	current := s.entries[t.Device.Name] == e
	if current {
		e.polls++
	}
	s.mu.Unlock()
	if !current {
		return // removed by Update while it waited for a worker
	}
	budget := s.opts.Budget
	if budget <= 0 {
		budget = t.Interval
	}
	pctx, cancel := context.WithTimeout(ctx, budget)
	prev := s.rates.Last(t.Device.Name)
	if prev != nil && prev.Target != t.Device.Address {
		prev = nil // the device moved: nothing of the old answer holds
	}
	snap := s.opts.Poll(pctx, t, PollOptions{Session: s.opts.Session, Now: s.opts.Now, Profiles: profiles, Previous: prev})
	cancel()
	snap.Device = t.Device.Name
	if ctx.Err() != nil {
		return // shutting down: a cut-short poll is not news
	}
	s.rates.Update(snap)
	s.log.Debug("polled", "device", snap.Device, "target", snap.Target, "reachable", snap.Reachable,
		"duration", snap.PollDuration, "pdus", snap.PDUs, "errors", len(snap.Errors))
	s.emit(snap)
}

// dueHeap orders entries by next due time.
type dueHeap []*schedEntry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}
func (h *dueHeap) Push(x any) {
	e := x.(*schedEntry)
	e.heapIdx = len(*h)
	*h = append(*h, e)
}
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
