package collector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/nocagent/nocagent/inventory"
)

var errFakeTimeout = fmt.Errorf("request timeout (after 0 retries): %w", gosnmp.ErrMaxRetriesExceeded)

// flakyAgent wraps fakeAgent with the ways real agents get GETBULK wrong.
type flakyAgent struct {
	*fakeAgent
	bulkFault      string // "", "genErr", "empty", "echo", "timeout"
	timeoutAbove   int    // GETBULK asking for more varbinds than this times out; 0: never
	bulks, nexts   int
	askedVarbinds  []int // n·max-repetitions of every GETBULK
	tooBigAnswered int
}

func (f *flakyAgent) request(ctx context.Context, kind gosnmp.PDUType, oids []string, reps uint32) (*gosnmp.SnmpPacket, error) {
	switch kind {
	case gosnmp.GetNextRequest:
		f.nexts++
	case gosnmp.GetBulkRequest:
		f.bulks++
		f.askedVarbinds = append(f.askedVarbinds, len(oids)*int(reps))
		if f.timeoutAbove > 0 && len(oids)*int(reps) > f.timeoutAbove {
			return nil, errFakeTimeout
		}
		switch f.bulkFault {
		case "genErr":
			return &gosnmp.SnmpPacket{PDUType: gosnmp.GetResponse, Error: gosnmp.GenErr, ErrorIndex: 1}, nil
		case "empty":
			return &gosnmp.SnmpPacket{PDUType: gosnmp.GetResponse}, nil
		case "echo":
			// Some agents send the request's varbinds straight back.
			pkt := &gosnmp.SnmpPacket{PDUType: gosnmp.GetResponse}
			for _, o := range oids {
				pkt.Variables = append(pkt.Variables, vInt(o, 0))
			}
			return pkt, nil
		case "timeout":
			return nil, errFakeTimeout
		}
	}
	pkt, err := f.fakeAgent.request(ctx, kind, oids, reps)
	if err == nil && pkt.Error == gosnmp.TooBig {
		f.tooBigAnswered++
	}
	return pkt, err
}

// walkAll walks roots and checks the result is the whole table, in order.
func walkAll(t *testing.T, w *bulkWalker, a *fakeAgent, roots []string) {
	t.Helper()
	got := map[string]bool{}
	err := w.Walk(context.Background(), roots, func(p gosnmp.SnmpPDU) error {
		if got[p.Name] {
			t.Errorf("varbind %s visited twice", p.Name)
		}
		got[p.Name] = true
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if want := wantWalk(a, roots); len(got) != len(want) {
		t.Fatalf("got %d varbinds, want %d", len(got), len(want))
	}
}

func TestWalkAdaptsMaxRepetitions(t *testing.T) {
	tests := []struct {
		name      string
		cols      int
		setup     func(f *flakyAgent)
		wantReps  int // after the first walk
		wantFit   int // Tuning.fit after the first walk
		maxAsked2 int // the second walk asks for at most this many varbinds per GETBULK
	}{
		// 5 columns: 125 varbinds too big, 60 too big, 30 fits; growing
		// to 7 fails and goes back to 6.
		{name: "tooBig", cols: 5, setup: func(f *flakyAgent) { f.tooBigAbove = 30 }, wantReps: 6, maxAsked2: 30},
		// 125 times out, 6 rows (30) work, then it grows to 7 (35).
		{name: "timeout on big answers", cols: 5, setup: func(f *flakyAgent) { f.timeoutAbove = 40 }, wantReps: 7, maxAsked2: 40},
		// Cut to 45 varbinds: 21 columns get ceil(45/21) = 3 rows.
		{name: "truncated answers", cols: 21, setup: func(f *flakyAgent) { f.maxVarbinds = 45 }, wantReps: 25, wantFit: 45, maxAsked2: 63},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tableAgent(tt.cols, 48, nil)
			f := &flakyAgent{fakeAgent: a}
			tt.setup(f)
			w := newBulkWalker(f, false, 25)
			walkAll(t, w, a, tableRoots(tt.cols))
			if got := w.tune.State().MaxRepetitions; got != tt.wantReps {
				t.Errorf("max-repetitions after first walk = %d, want %d", got, tt.wantReps)
			}
			if w.tune.fit != tt.wantFit {
				t.Errorf("fit = %d, want %d", w.tune.fit, tt.wantFit)
			}
			// The next poll of this agent starts from what was learned:
			// no more failed requests.
			f.askedVarbinds, f.tooBigAnswered = nil, 0
			walkAll(t, w, a, tableRoots(tt.cols))
			if f.tooBigAnswered != 0 {
				t.Errorf("second walk got %d tooBig answers, want 0", f.tooBigAnswered)
			}
			for _, n := range f.askedVarbinds {
				if n > tt.maxAsked2 {
					t.Errorf("second walk asked for %d varbinds in one GETBULK, want ≤ %d", n, tt.maxAsked2)
				}
			}
		})
	}
}

func TestTuningGrowsBackGradually(t *testing.T) {
	tu := NewTuning(25)
	tu.shrink(25, 6) // tooBig at 25 rows
	var seen []int
	for range 8 * 10 {
		tu.success()
		if r := tu.repsFor(1); len(seen) == 0 || seen[len(seen)-1] != r {
			seen = append(seen, r)
		}
	}
	// +max(1, reps/4) every 8 clean answers, held below the 25 that failed.
	want := []int{6, 7, 8, 10, 12, 15, 18, 22, 24}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("max-repetitions went %v, want %v", seen, want)
	}
	for range forgetLimitAt {
		tu.success()
	}
	if r := tu.repsFor(1); r != 25 {
		t.Errorf("after %d clean answers max-repetitions = %d, want the configured 25 again", forgetLimitAt, r)
	}
	for range 100 {
		tu.success()
	}
	if r := tu.repsFor(1); r != 25 {
		t.Errorf("grew past the configured maximum: %d", r)
	}
	// A cut-short answer limits varbinds per request, not rows.
	tu.truncated(40)
	if got := [2]int{tu.repsFor(4), tu.repsFor(20)}; got != [2]int{10, 2} {
		t.Errorf("after an answer cut at 40 varbinds, reps for 4 and 20 columns = %v, want [10 2]", got)
	}
}

func TestWalkFallsBackToGetNext(t *testing.T) {
	for _, fault := range []string{"genErr", "empty", "echo", "timeout"} {
		t.Run(fault, func(t *testing.T) {
			a := tableAgent(4, 30, map[int]int{3: 2})
			f := &flakyAgent{fakeAgent: a, bulkFault: fault}
			w := newBulkWalker(f, false, 10)
			walkAll(t, w, a, tableRoots(4))
			if !w.tune.State().GetNext {
				t.Errorf("tuning does not record GETNEXT for an agent that answered GETBULK with %s", fault)
			}
			// The next walks go straight to GETNEXT.
			f.bulks = 0
			walkAll(t, w, a, tableRoots(4))
			if f.bulks != 0 {
				t.Errorf("second walk sent %d GETBULKs, want 0", f.bulks)
			}
		})
	}
	t.Run("GETBULK is tried again after a while", func(t *testing.T) {
		a := tableAgent(2, 5, nil)
		f := &flakyAgent{fakeAgent: a, bulkFault: "genErr"}
		w := newBulkWalker(f, false, 10)
		walkAll(t, w, a, tableRoots(2))
		f.bulkFault, f.bulks = "", 0 // firmware fixed
		for range bulkRetryAfter {
			walkAll(t, w, a, tableRoots(2))
		}
		if f.bulks != 0 {
			t.Fatalf("GETBULK retried within %d walks", bulkRetryAfter)
		}
		walkAll(t, w, a, tableRoots(2))
		if f.bulks == 0 || w.tune.State().GetNext {
			t.Errorf("GETBULK not back after %d walks: bulks=%d state=%+v", bulkRetryAfter, f.bulks, w.tune.State())
		}
	})
	t.Run("both fail: the error names both", func(t *testing.T) {
		a := tableAgent(2, 5, nil)
		f := &flakyAgent{fakeAgent: a, bulkFault: "timeout"}
		a.err = errFakeDown // GETNEXT fails too
		err := newBulkWalker(f, false, 1).Walk(context.Background(), tableRoots(2), func(gosnmp.SnmpPDU) error { return nil })
		if !errors.Is(err, errFakeDown) || !errors.Is(err, gosnmp.ErrMaxRetriesExceeded) || !strings.Contains(err.Error(), "GETNEXT") {
			t.Errorf("err = %v, want the GETBULK timeout and the GETNEXT failure", err)
		}
	})
}

// stuckAgent answers every request about column 1 with the same varbind,
// whatever was asked: a loop under GETBULK and GETNEXT alike.
type stuckAgent struct{ *fakeAgent }

func (s *stuckAgent) request(ctx context.Context, kind gosnmp.PDUType, oids []string, reps uint32) (*gosnmp.SnmpPacket, error) {
	pkt, err := s.fakeAgent.request(ctx, kind, oids, reps)
	if err != nil {
		return nil, err
	}
	for i, p := range pkt.Variables {
		if c, _, ok := splitColumn(p.Name, ".1.3.6.1.9.1"); ok && c == 1 {
			pkt.Variables[i] = vInt(".1.3.6.1.9.1.1.1", 1)
		}
	}
	return pkt, nil
}

// endlessAgent serves a column whose OIDs grow forever: each GETNEXT
// answer is the asked OID with ".1" appended.
type endlessAgent struct{ requests int }

func (e *endlessAgent) request(_ context.Context, kind gosnmp.PDUType, oids []string, reps uint32) (*gosnmp.SnmpPacket, error) {
	e.requests++
	pkt := &gosnmp.SnmpPacket{PDUType: gosnmp.GetResponse}
	cur := append([]string(nil), oids...)
	for range max(reps, 1) {
		for i := range cur {
			cur[i] += ".1"
			pkt.Variables = append(pkt.Variables, vInt(cur[i], 1))
		}
	}
	return pkt, nil
}

func TestWalkCutsOffBadAgents(t *testing.T) {
	t.Run("loop names the OID, other columns finish, GETBULK kept", func(t *testing.T) {
		a := tableAgent(2, 30, nil)
		w := newBulkWalker(&stuckAgent{a}, false, 10)
		col2 := 0
		err := w.Walk(context.Background(), tableRoots(2), func(p gosnmp.SnmpPDU) error {
			if under(p.Name, ".1.3.6.1.9.1.2") {
				col2++
			}
			return nil
		})
		if !errors.Is(err, errNotIncreasing) {
			t.Fatalf("err = %v, want errNotIncreasing", err)
		}
		if !strings.Contains(err.Error(), ".1.3.6.1.9.1.1.1 came after .1.3.6.1.9.1.1.1") {
			t.Errorf("err %q does not name the OID that repeats", err)
		}
		if col2 != 30 {
			t.Errorf("column 2 got %d rows, want all 30", col2)
		}
		if w.tune.State().GetNext {
			t.Error("a loop that GETNEXT shows too was blamed on GETBULK")
		}
	})
	tests := []struct {
		name  string
		r     requester
		roots []string
		limit int
		want  string
	}{
		{name: "enormous table", r: tableAgent(3, 200, nil), roots: tableRoots(3), limit: 250, want: "walk .1.3.6.1.9.1."},
		{name: "OIDs growing forever", r: &endlessAgent{}, roots: []string{".1.3.6.1.9.1.1"}, limit: 1000, want: "walk .1.3.6.1.9.1.1: too many varbinds: more than 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newBulkWalker(tt.r, false, 25)
			w.maxVarbinds = tt.limit
			n := 0
			err := w.Walk(testCtx(t), tt.roots, func(gosnmp.SnmpPDU) error { n++; return nil })
			if !errors.Is(err, ErrTooManyVarbinds) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrTooManyVarbinds containing %q", err, tt.want)
			}
			if n != tt.limit {
				t.Errorf("fn saw %d varbinds, want the cap %d", n, tt.limit)
			}
		})
	}
}

func TestSessionKeepsTuningAcrossPolls(t *testing.T) {
	a := tableAgent(5, 48, nil)
	a.tooBigAbove = 30
	addr := serveUDP(t, a, "public")
	cache := NewTuningCache()
	cred := inventory.Credential{Name: "lab", Version: "2c", Community: "public"}
	opts := SessionOptions{Timeout: 2 * time.Second, Tuning: cache, MaxVarbinds: 1000}
	walk := func() (requests int, err error) {
		t.Helper()
		s, err := Dial(testCtx(t), addr, cred, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		before := ReadWireStats()
		n := 0
		err = s.Walk(testCtx(t), tableRoots(5), func(gosnmp.SnmpPDU) error { n++; return nil })
		after := ReadWireStats()
		if err == nil && n != 240 {
			t.Fatalf("walked %d varbinds, want 240", n)
		}
		if got := after.Varbinds - before.Varbinds; got < uint64(n) {
			t.Errorf("wire stats counted %d varbinds, want at least %d", got, n)
		}
		return s.PDUs(), err
	}
	first, err := walk()
	if err != nil {
		t.Fatal(err)
	}
	st, ok := cache.State(addr)
	if !ok || st.MaxRepetitions != 6 {
		t.Fatalf("cached tuning = %+v, %v; want max-repetitions 6", st, ok)
	}
	second, err := walk()
	if err != nil {
		t.Fatal(err)
	}
	if second >= first {
		t.Errorf("second poll sent %d requests, first %d: want fewer once tooBig is learned", second, first)
	}
	opts.MaxVarbinds = 100
	if _, err := walk(); !errors.Is(err, ErrTooManyVarbinds) {
		t.Errorf("with MaxVarbinds 100: err = %v, want ErrTooManyVarbinds", err)
	}
	cache.Forget(addr)
	if _, ok := cache.State(addr); ok {
		t.Error("Forget kept the target")
	}
}

func TestWalkAsksOnlyForRowsSeenLastTime(t *testing.T) {
	tests := []struct {
		name       string
		cols, rows int
		// n·max-repetitions of each GETBULK of the second walk
		want []int
	}{
		// 6 columns of 4 rows: 6·25 varbinds the first time, then 4 rows
		// plus one to see the end.
		{name: "short table", cols: 6, rows: 4, want: []int{30}},
		{name: "empty table", cols: 4, rows: 0, want: []int{4}},
		// 48 rows: 25, then the 23 left plus one.
		{name: "48 ports", cols: 21, rows: 48, want: []int{21 * 25, 21 * 24}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tableAgent(tt.cols, tt.rows, nil)
			f := &flakyAgent{fakeAgent: a}
			w := newBulkWalker(f, false, 25)
			walkAll(t, w, a, tableRoots(tt.cols))
			f.askedVarbinds = nil
			walkAll(t, w, a, tableRoots(tt.cols))
			if fmt.Sprint(f.askedVarbinds) != fmt.Sprint(tt.want) {
				t.Errorf("second walk asked for %v varbinds, want %v", f.askedVarbinds, tt.want)
			}
			// A table that grew is still read to its end.
			grown := tableAgent(tt.cols, tt.rows+30, nil)
			w.r = grown
			walkAll(t, w, grown, tableRoots(tt.cols))
		})
	}
}
