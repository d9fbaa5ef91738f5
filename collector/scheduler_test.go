package collector

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nocagent/nocagent/inventory"
)

// fakeFleet stands in for Poll: each device takes its configured time (or
// hangs until its budget runs out), and the fleet records what happened.
type fakeFleet struct {
	mu       sync.Mutex
	takes    map[string]time.Duration // missing: instant; negative: hang
	inFlight map[string]int
	overlap  []string
	emitted  map[string][]*Snapshot
	octets   uint64
	born     time.Time // the fake devices' boot time
}

func newFakeFleet() *fakeFleet {
	return &fakeFleet{takes: map[string]time.Duration{}, inFlight: map[string]int{}, emitted: map[string][]*Snapshot{}, born: time.Now()}
}

func (f *fakeFleet) poll(ctx context.Context, t Target, opts PollOptions) *Snapshot {
	start := opts.Now()
	name := t.Device.Name
	f.mu.Lock()
	f.inFlight[name]++
	if f.inFlight[name] > 1 {
		f.overlap = append(f.overlap, name)
	}
	take := f.takes[name]
	f.octets += 1000
	octets := f.octets
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight[name]--
		f.mu.Unlock()
	}()

	snap := newSnapshot(t.Device.Address, start)
	switch {
	case take < 0:
		<-ctx.Done()
		snap.Errors = append(snap.Errors, "system: no answer before the poll deadline")
	case take > 0:
		select {
		case <-time.After(take):
		case <-ctx.Done():
		}
		fallthrough
	default:
		snap.Reachable = true
		snap.System.UptimeSeconds = start.Sub(f.born).Seconds() + 1000
		snap.Interfaces = []Interface{{Index: 1, Name: "eth0", HC: true, InOctets: octets}}
	}
	snap.PollDuration = opts.Now().Sub(start)
	return snap
}

func (f *fakeFleet) emit(s *Snapshot) {
	f.mu.Lock()
	f.emitted[s.Device] = append(f.emitted[s.Device], s)
	f.mu.Unlock()
}

func target(name string, every time.Duration) Target {
	return Target{Device: inventory.Device{Name: name, Address: name + ":161"}, Credential: snmpdV2c, Interval: every}
}

func TestSchedulerTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeFleet()
		f.takes["dead1"], f.takes["dead2"] = -1, -1 // each holds a worker for its whole budget
		f.takes["slow"] = 25 * time.Second          // longer than its interval
		start := time.Now()
		s := NewScheduler(SchedulerOptions{Workers: 4, Budget: 9 * time.Second, Poll: f.poll}, f.emit)
		targets := []Target{
			target("a", 10*time.Second), target("b", 10*time.Second), target("c", 30*time.Second),
			target("dead1", 10*time.Second), target("dead2", 10*time.Second), target("slow", 10*time.Second),
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx, targets) }()
		time.Sleep(95 * time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}

		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.overlap) > 0 {
			t.Errorf("polls of one device overlapped: %v", f.overlap)
		}
		for _, tg := range targets[:3] {
			name, every := tg.Device.Name, tg.Interval
			snaps := f.emitted[name]
			first := start.Add(offset(name, every))
			want := int((95*time.Second-offset(name, every))/every) + 1
			if len(snaps) != want {
				t.Errorf("%s: %d polls, want %d", name, len(snaps), want)
				continue
			}
			// Healthy devices run exactly on their schedule although two
			// dead devices hang for 9 s in every 10 s on the same pool.
			for i, sn := range snaps {
				if at := first.Add(time.Duration(i) * every); !sn.Time.Equal(at) {
					t.Errorf("%s poll %d at +%v, want +%v", name, i, sn.Time.Sub(start), at.Sub(start))
				}
				if sn.Device != name {
					t.Errorf("snapshot Device = %q, want %q", sn.Device, name)
				}
				if (i == 0) != (sn.Interfaces[0].Rates == nil) {
					t.Errorf("%s poll %d: rates %v", name, i, sn.Interfaces[0].Rates)
				}
			}
		}
		for _, name := range []string{"dead1", "dead2"} {
			for _, sn := range f.emitted[name] {
				if sn.Reachable || sn.PollDuration != 9*time.Second {
					t.Errorf("%s: reachable %v after %v, want cut at the 9 s budget", name, sn.Reachable, sn.PollDuration)
				}
			}
		}
		stats := map[string]DeviceStats{}
		for _, st := range s.Stats() {
			stats[st.Device] = st
		}
		// slow takes 9 s (its budget) of every 10 s slot: no overrun. The
		// fake's 25 s is cut by the budget, as a real poll would be.
		// The poll running at cancel is counted but not emitted.
		if st := stats["slow"]; st.Overruns != 0 || st.Polls-len(f.emitted["slow"]) > 1 || st.Polls < len(f.emitted["slow"]) {
			t.Errorf("slow: %+v, emitted %d", st, len(f.emitted["slow"]))
		}
		if st := stats["a"]; st.Overruns != 0 || st.Polls != len(f.emitted["a"]) {
			t.Errorf("a: %+v", st)
		}
	})
}

func TestSchedulerOverrunsAreCountedNotQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeFleet()
		f.takes["slow"] = 25 * time.Second
		s := NewScheduler(SchedulerOptions{Workers: 2, Budget: time.Minute, Poll: f.poll}, f.emit)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx, []Target{target("slow", 10*time.Second)}) }()
		// Offset, then polls of 25 s starting every 30 s (the 10 s slots
		// that fall inside a poll are skipped).
		time.Sleep(offset("slow", 10*time.Second) + 95*time.Second)
		cancel()
		<-done
		st := s.Stats()[0]
		if st.Polls != 4 || st.Overruns != 6 {
			t.Errorf("stats %+v, want 4 polls and 6 overruns", st)
		}
		if len(f.overlap) != 0 {
			t.Errorf("overlapping polls: %v", f.overlap)
		}
	})
}

func TestSchedulerUpdate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeFleet()
		s := NewScheduler(SchedulerOptions{Workers: 2, Poll: f.poll}, f.emit)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx, []Target{target("a", 10*time.Second), target("b", 10*time.Second)}) }()
		time.Sleep(30 * time.Second)
		if err := s.Update([]Target{target("a", 10*time.Second), target("c", 10*time.Second)}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		f.mu.Lock()
		bBefore := len(f.emitted["b"])
		f.mu.Unlock()
		time.Sleep(30 * time.Second)
		cancel()
		<-done
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.emitted["b"]) != bBefore || bBefore != 3 {
			t.Errorf("b: %d polls before removal, %d after; want 3 and no more", bBefore, len(f.emitted["b"]))
		}
		if len(f.emitted["c"]) != 3 || len(f.emitted["a"]) != 6 {
			t.Errorf("a %d polls, c %d; want 6 and 3", len(f.emitted["a"]), len(f.emitted["c"]))
		}
		names := map[string]bool{}
		for _, st := range s.Stats() {
			names[st.Device] = true
		}
		if len(names) != 2 || !names["a"] || !names["c"] {
			t.Errorf("stats cover %v", names)
		}
	})
}

func TestSchedulerRejectsBadTargets(t *testing.T) {
	s := NewScheduler(SchedulerOptions{}, func(*Snapshot) {})
	for _, tt := range []struct {
		targets []Target
		want    string
	}{
		{[]Target{target("a", time.Second), target("a", time.Second)}, `device "a" listed twice`},
		{[]Target{target("a", 0)}, `device "a": poll interval must be positive`},
		{[]Target{{Device: inventory.Device{Address: "10.0.0.1"}, Interval: time.Second}}, `address "10.0.0.1" has no name`},
	} {
		err := s.Run(context.Background(), tt.targets)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run = %v, want %q", err, tt.want)
		}
	}
}

// TestSchedulerOverUDP runs the real poll path: three healthy devices served
// by the in-test agent and one that never answers. Exact timing is
// TestSchedulerTiming's job; this one allows for a loaded machine (-race).
func TestSchedulerOverUDP(t *testing.T) {
	healthy := serveUDP(t, newFakeAgent(syntheticSwitch(8)...), "public")
	dead := blackhole(t)
	var mu sync.Mutex
	got := map[string][]*Snapshot{}
	const (
		every  = 400 * time.Millisecond
		budget = 300 * time.Millisecond
		runFor = 2500 * time.Millisecond
	)
	s := NewScheduler(SchedulerOptions{
		Workers: 3,
		Budget:  budget,
		Session: SessionOptions{Timeout: 2 * time.Second}, // the budget, not the timeout, ends the dead poll
	}, func(sn *Snapshot) {
		mu.Lock()
		got[sn.Device] = append(got[sn.Device], sn)
		mu.Unlock()
	})
	dev := func(name, addr string) Target {
		return Target{Device: inventory.Device{Name: name, Address: addr}, Credential: snmpdV2c, Interval: every}
	}
	targets := []Target{dev("sw1", healthy), dev("sw2", healthy), dev("sw3", healthy), dev("dead", dead)}
	// Cancel rather than a deadline: a deadline would reach the sockets of
	// the last polls before ctx itself reports it, as at any shutdown.
	ctx, cancel := context.WithCancel(testCtx(t))
	defer time.AfterFunc(runFor, cancel).Stop()
	if err := s.Run(ctx, targets); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, name := range []string{"sw1", "sw2", "sw3"} {
		snaps := got[name]
		if len(snaps) < 3 {
			t.Errorf("%s: %d polls in %v at %v, want ≥ 3", name, len(snaps), runFor, every)
			continue
		}
		for i, sn := range snaps {
			if !sn.Reachable || len(sn.Interfaces) != 9 {
				t.Errorf("%s poll %d: reachable %v, %d interfaces, errors %v", name, i, sn.Reachable, len(sn.Interfaces), sn.Errors)
				continue
			}
			if i == 0 {
				continue
			}
			if sn.Interfaces[0].Rates == nil && snaps[i-1].Reachable {
				t.Errorf("%s poll %d has no rates", name, i)
			}
			if gap := sn.Time.Sub(snaps[i-1].Time); gap < every/2 || gap > 2*every {
				t.Errorf("%s: polls %d and %d %v apart, want about %v", name, i-1, i, gap, every)
			}
		}
	}
	deadSnaps := got["dead"]
	if len(deadSnaps) < 3 {
		t.Fatalf("dead: %d polls, want ≥ 3", len(deadSnaps))
	}
	for _, sn := range deadSnaps {
		if sn.Reachable || len(sn.Errors) != 1 || !strings.Contains(sn.Errors[0], "no answer from "+dead+" before the poll deadline") {
			t.Errorf("dead: reachable %v errors %q", sn.Reachable, sn.Errors)
		}
		if sn.PollDuration < budget*3/4 || sn.PollDuration > budget*2 {
			t.Errorf("dead poll took %v, want the %v budget", sn.PollDuration, budget)
		}
	}
}
