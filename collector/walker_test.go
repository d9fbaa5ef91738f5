package collector

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// tableAgent has a table .1.3.6.1.9.1.<col>.<row> with cols columns and rows
// rows, column c holding only rows divisible by skip[c] (sparse columns),
// plus an object before and after the table so walks must stop on their own.
func tableAgent(cols, rows int, skip map[int]int) *fakeAgent {
	pdus := []gosnmp.SnmpPDU{vInt(".1.3.6.1.9.0", 1), vInt(".1.3.6.1.10.0", 2)}
	for c := 1; c <= cols; c++ {
		for r := 1; r <= rows; r++ {
			if s := skip[c]; s > 1 && r%s != 0 {
				continue
			}
			pdus = append(pdus, vInt(fmt.Sprintf(".1.3.6.1.9.1.%d.%d", c, r), c*1000+r))
		}
	}
	return newFakeAgent(pdus...)
}

func tableRoots(cols int) []string {
	var roots []string
	for c := 1; c <= cols; c++ {
		roots = append(roots, ".1.3.6.1.9.1."+strconv.Itoa(c))
	}
	return roots
}

// want is what a per-column walk must yield: every varbind under each root.
func wantWalk(a *fakeAgent, roots []string) map[string]int {
	want := map[string]int{}
	for _, p := range a.pdus {
		for _, r := range roots {
			if under(p.Name, r) {
				want[p.Name] = p.Value.(int)
			}
		}
	}
	return want
}

func TestWalkMultiColumn(t *testing.T) {
	tests := []struct {
		name        string
		cols, rows  int
		skip        map[int]int
		v1          bool
		maxReps     int
		maxVarbinds int
		tooBigAbove int
		maxRequests int
	}{
		// 146 rows in blocks of 25 rows: 6 requests carrying all 10
		// columns, then nothing left to ask.
		{name: "146 ports 10 columns", cols: 10, rows: 146, maxReps: 25, maxRequests: 6},
		{name: "exact multiple needs one more to see the end", cols: 3, rows: 50, maxReps: 25, maxRequests: 3},
		{name: "sparse columns end at different rows", cols: 4, rows: 60, skip: map[int]int{2: 3, 4: 7}, maxReps: 10, maxRequests: 7},
		{name: "agent cuts responses short", cols: 5, rows: 40, maxReps: 25, maxVarbinds: 7, maxRequests: 40},
		{name: "agent fits fewer varbinds than there are columns", cols: 5, rows: 6, maxReps: 25, maxVarbinds: 3, maxRequests: 12},
		{name: "agent says tooBig", cols: 5, rows: 40, maxReps: 25, tooBigAbove: 30, maxRequests: 20},
		{name: "snmpv1 getnext, one varbind per column", cols: 4, rows: 12, v1: true, maxRequests: 13},
		{name: "empty table", cols: 3, rows: 0, maxReps: 10, maxRequests: 1},
		{name: "more columns than one request takes", cols: 70, rows: 3, maxReps: 5, maxRequests: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tableAgent(tt.cols, tt.rows, tt.skip)
			a.v1, a.maxVarbinds, a.tooBigAbove = tt.v1, tt.maxVarbinds, tt.tooBigAbove
			w := newBulkWalker(a, tt.v1, tt.maxReps)
			roots := tableRoots(tt.cols)
			got := map[string]int{}
			last := map[string]string{}
			err := w.Walk(context.Background(), roots, func(p gosnmp.SnmpPDU) error {
				if _, dup := got[p.Name]; dup {
					t.Errorf("varbind %s visited twice", p.Name)
				}
				got[p.Name] = p.Value.(int)
				c, _, _ := splitColumn(p.Name, ".1.3.6.1.9.1")
				key := strconv.Itoa(c)
				if prev, ok := last[key]; ok && compareOID(prev, p.Name) >= 0 {
					t.Errorf("column %s out of order: %s after %s", key, p.Name, prev)
				}
				last[key] = p.Name
				return nil
			})
			if err != nil {
				t.Fatalf("Walk: %v", err)
			}
			want := wantWalk(a, roots)
			if len(got) != len(want) {
				t.Errorf("got %d varbinds, want %d", len(got), len(want))
			}
			for name, v := range want {
				if got[name] != v {
					t.Errorf("%s = %d, want %d", name, got[name], v)
				}
			}
			if a.requests > tt.maxRequests {
				t.Errorf("walk took %d requests, want at most %d", a.requests, tt.maxRequests)
			}
		})
	}
}

func TestWalkCostVersusOneColumnAtATime(t *testing.T) {
	// The point of walking columns together: a 146-row, 10-column table
	// costs what one column costs walked alone.
	a := tableAgent(10, 146, nil)
	w := newBulkWalker(a, false, 25)
	if err := w.Walk(context.Background(), tableRoots(10), func(gosnmp.SnmpPDU) error { return nil }); err != nil {
		t.Fatal(err)
	}
	together := a.requests
	a.requests = 0
	for _, r := range tableRoots(10) {
		if err := w.Walk(context.Background(), []string{r}, func(gosnmp.SnmpPDU) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if together*10 > a.requests {
		t.Errorf("together %d requests, one by one %d: want ≥10× fewer", together, a.requests)
	}
}

func TestWalkErrors(t *testing.T) {
	t.Run("request error names the root", func(t *testing.T) {
		a := tableAgent(2, 5, nil)
		a.err = errFakeDown
		err := newBulkWalker(a, false, 10).Walk(context.Background(), tableRoots(2), func(gosnmp.SnmpPDU) error { return nil })
		if !errors.Is(err, errFakeDown) {
			t.Fatalf("err = %v, want errFakeDown", err)
		}
		if want := ".1.3.6.1.9.1.1"; !strings.Contains(err.Error(), want) {
			t.Errorf("err %q does not name %s", err, want)
		}
	})
	t.Run("callback error stops the walk", func(t *testing.T) {
		a := tableAgent(2, 50, nil)
		stop := errors.New("stop")
		n := 0
		err := newBulkWalker(a, false, 10).Walk(context.Background(), tableRoots(2), func(gosnmp.SnmpPDU) error {
			n++
			if n == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Fatalf("err = %v after %d varbinds, want stop after 3", err, n)
		}
	})
	t.Run("column going backwards is cut, others finish", func(t *testing.T) {
		a := &loopAgent{fakeAgent: tableAgent(2, 30, nil)}
		var got int
		err := newBulkWalker(a, false, 5).Walk(context.Background(), tableRoots(2), func(gosnmp.SnmpPDU) error {
			got++
			return nil
		})
		if !errors.Is(err, errNotIncreasing) {
			t.Fatalf("err = %v, want errNotIncreasing", err)
		}
		if got < 30 { // column 2 complete, column 1 partly
			t.Errorf("got %d varbinds, want column 2's 30 at least", got)
		}
	})
}

// loopAgent answers column 1 past row 10 with row 1 again, like a buggy
// agent whose walk would never end.
type loopAgent struct{ *fakeAgent }

func (l *loopAgent) request(ctx context.Context, kind gosnmp.PDUType, oids []string, reps uint32) (*gosnmp.SnmpPacket, error) {
	pkt, err := l.fakeAgent.request(ctx, kind, oids, reps)
	if err != nil {
		return nil, err
	}
	for i, p := range pkt.Variables {
		if c, idx, ok := splitColumn(p.Name, ".1.3.6.1.9.1"); ok && c == 1 {
			if n, _ := parseIndex1(idx); n > 10 {
				pkt.Variables[i].Name = ".1.3.6.1.9.1.1.1"
			}
		}
	}
	return pkt, nil
}

func TestGet(t *testing.T) {
	pdus := []gosnmp.SnmpPDU{vStr(".1.3.6.1.2.1.1.1.0", "descr"), vStr(".1.3.6.1.2.1.1.5.0", "name")}
	oids := []string{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.4.0", ".1.3.6.1.2.1.1.5.0", ".1.3.6.1.2.1.1.6.0"}
	for _, v1 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v1=%v", v1), func(t *testing.T) {
			a := newFakeAgent(pdus...)
			a.v1 = v1
			got, err := newBulkWalker(a, v1, 0).Get(context.Background(), oids)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Name != oids[0] || got[1].Name != oids[2] {
				t.Fatalf("got %v, want sysDescr and sysName only", got)
			}
			wantReq := 1
			if v1 {
				wantReq = 3 // two noSuchName answers, each dropping one OID
			}
			if a.requests != wantReq {
				t.Errorf("%d requests, want %d", a.requests, wantReq)
			}
		})
	}
	t.Run("tooBig splits the request", func(t *testing.T) {
		a := newFakeAgent(pdus...)
		a.tooBigAbove = 1
		got, err := newBulkWalker(a, false, 0).Get(context.Background(), oids)
		if err != nil || len(got) != 2 || got[0].Name != oids[0] || got[1].Name != oids[2] {
			t.Fatalf("got %v, %v", got, err)
		}
		if a.requests != 7 { // 4 → 2+2 → 1+1+1+1
			t.Errorf("%d requests, want 7", a.requests)
		}
	})
	t.Run("batched by 60", func(t *testing.T) {
		a := newFakeAgent(pdus...)
		many := make([]string, 130)
		for i := range many {
			many[i] = fmt.Sprintf(".1.3.6.1.2.1.99.%d.0", i)
		}
		if _, err := newBulkWalker(a, false, 0).Get(context.Background(), many); err != nil {
			t.Fatal(err)
		}
		if a.requests != 3 {
			t.Errorf("%d requests for 130 OIDs, want 3", a.requests)
		}
	})
}
