package collector

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gosnmp/gosnmp"
)

// walker is all the decoding side needs from the network, in the manner of
// snmp_exporter's scraper: fetching knows nothing of what the OIDs mean.
type walker interface {
	// Get fetches scalars. Objects the agent does not have are left out of
	// the result; they are not errors.
	Get(ctx context.Context, oids []string) ([]gosnmp.SnmpPDU, error)
	// Walk visits every varbind under each root, in order within a root;
	// varbinds of different roots interleave. fn's error stops the walk and is returned.
	Walk(ctx context.Context, roots []string, fn func(gosnmp.SnmpPDU) error) error
}

// requester sends one SNMP request and returns the agent's response.
type requester interface {
	request(ctx context.Context, kind gosnmp.PDUType, oids []string, maxReps uint32) (*gosnmp.SnmpPacket, error)
}

const (
	defaultMaxRepetitions = 25
	// DefaultMaxVarbinds caps one walk: a table that never ends, or one
	// far larger than any real device has, must not hold up a poll.
	DefaultMaxVarbinds = 100_000
	// maxOidsPerRequest matches gosnmp.MaxOids; more varbinds per request
	// upsets some agents.
	maxOidsPerRequest = gosnmp.MaxOids
	// maxWalkRequests bounds a walk against an agent that never ends a
	// column (a loop that the increasing-OID check does not catch).
	maxWalkRequests = 20000
)

// bulkWalker implements walker on top of a requester. It walks several
// columns per request: one GETBULK carries every column still in progress,
// so a table of C columns and R rows costs about R/maxReps requests rather
// than C·R/maxReps. On SNMPv1, and for agents that mishandle GETBULK, it
// uses GETNEXT with one varbind per column.
type bulkWalker struct {
	r           requester
	v1          bool
	tune        *Tuning
	maxOids     int
	maxVarbinds int
}

func newBulkWalker(r requester, v1 bool, maxReps int) *bulkWalker {
	return &bulkWalker{r: r, v1: v1, tune: NewTuning(maxReps), maxOids: maxOidsPerRequest, maxVarbinds: DefaultMaxVarbinds}
}

func (w *bulkWalker) Get(ctx context.Context, oids []string) ([]gosnmp.SnmpPDU, error) {
	out := make([]gosnmp.SnmpPDU, 0, len(oids))
	for start := 0; start < len(oids); start += w.maxOids {
		chunk := oids[start:min(start+w.maxOids, len(oids))]
		var err error
		if out, err = w.getChunk(ctx, chunk, out); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (w *bulkWalker) getChunk(ctx context.Context, oids []string, out []gosnmp.SnmpPDU) ([]gosnmp.SnmpPDU, error) {
	pending := append([]string(nil), oids...)
	// Each SNMPv1 noSuchName removes one OID, so this ends.
	for len(pending) > 0 {
		pkt, err := w.r.request(ctx, gosnmp.GetRequest, pending, 0)
		if err != nil {
			return out, err
		}
		switch pkt.Error {
		case gosnmp.NoError:
		case gosnmp.NoSuchName:
			// SNMPv1 fails the whole PDU for one missing object: drop it
			// and ask again for the rest.
			i := int(pkt.ErrorIndex) - 1
			if i < 0 || i >= len(pending) {
				return out, fmt.Errorf("get %s: agent answered noSuchName with bad index %d", pending[0], pkt.ErrorIndex)
			}
			pending = append(pending[:i], pending[i+1:]...)
			continue
		case gosnmp.TooBig:
			if len(pending) == 1 {
				return out, fmt.Errorf("get %s: agent says response too big", pending[0])
			}
			half := len(pending) / 2
			if out, err = w.getChunk(ctx, pending[:half], out); err != nil {
				return out, err
			}
			return w.getChunk(ctx, pending[half:], out)
		default:
			return out, fmt.Errorf("get %s: agent error %s at varbind %d", pending[0], pkt.Error, pkt.ErrorIndex)
		}
		before := len(out)
		for _, pdu := range pkt.Variables {
			if !absent(pdu) {
				out = append(out, pdu)
			}
		}
		walked.Add(uint64(len(out) - before))
		return out, nil
	}
	return out, nil
}

// column is one root being walked.
type column struct {
	root string
	cur  string
	rows int // varbinds delivered so far
}

var (
	// errWalkNoProgress means the agent answered without any varbind.
	errWalkNoProgress = errors.New("agent returned no varbinds")
	// errNotIncreasing means a column went backwards and was cut short;
	// the other columns were still walked to their end.
	errNotIncreasing = errors.New("OID not increasing")
	// ErrTooManyVarbinds means a walk reached its varbind cap and the rest
	// of the table was not read.
	ErrTooManyVarbinds = errors.New("too many varbinds")
)

// Walk walks roots together. GETBULK's max-repetitions follows w.tune: it
// shrinks on tooBig, truncated answers and timeouts, and grows back after
// clean answers. A GETBULK the agent answers with an error, nothing, or
// OIDs that go backwards is asked again with GETNEXT; if that works, the
// agent is walked with GETNEXT for a while.
func (w *bulkWalker) Walk(ctx context.Context, roots []string, fn func(gosnmp.SnmpPDU) error) error {
	active := make([]column, 0, len(roots))
	for _, r := range roots {
		r = normOID(r)
		active = append(active, column{root: r, cur: r})
	}
	batch := min(w.maxOids, 64) // 64: the width of done below
	getNext := w.v1 || w.tune.startWalk()
	// How many rows these columns had last time: enough to ask for just
	// that many (plus one to see the end) instead of overshooting into
	// the next column by a whole max-repetitions.
	hint, hinted := w.tune.rowsHint(active)
	oids := make([]string, 0, min(len(active), batch))
	var (
		firstErr error
		seen     int
		// probe is set when a GETBULK went wrong and the same request is
		// asked again with GETNEXT to tell a bad GETBULK from a bad agent.
		probe   bool
		bulkErr error // what went wrong with the GETBULK being probed
		most    int   // rows of the longest column
	)
	defer func() { walked.Add(uint64(seen)) }()
	for requests := 0; len(active) > 0; requests++ {
		if requests >= maxWalkRequests {
			return fmt.Errorf("walk %s: gave up after %d requests", active[0].root, requests)
		}
		n := min(len(active), batch)
		oids = oids[:0]
		for _, c := range active[:n] {
			oids = append(oids, c.cur)
		}
		kind, reps := gosnmp.GetBulkRequest, w.tune.repsFor(n)
		if hinted {
			least := active[0].rows
			for _, c := range active[1:n] {
				least = min(least, c.rows)
			}
			if rest := hint - least; rest >= 0 {
				reps = min(reps, rest+1)
			}
		}
		if getNext || probe {
			kind, reps = gosnmp.GetNextRequest, 1
		}
		pkt, err := w.r.request(ctx, kind, oids, uint32(reps))
		if err != nil {
			if kind == gosnmp.GetBulkRequest && retryableTimeout(ctx, err) {
				// A big answer may be what gets lost: ask for fewer rows,
				// and at one row try GETNEXT before giving up.
				if reps > 1 {
					w.tune.shrink(reps, reps/4)
				} else {
					probe, bulkErr = true, err
				}
				continue
			}
			if probe {
				return fmt.Errorf("walk %s: GETBULK failed (%w) and GETNEXT failed too: %w", active[0].root, bulkErr, err)
			}
			return fmt.Errorf("walk %s: %w", active[0].root, err)
		}
		switch pkt.Error {
		case gosnmp.NoError:
		case gosnmp.NoSuchName:
			// SNMPv1's end of the MIB for one column.
			i := int(pkt.ErrorIndex) - 1
			if kind != gosnmp.GetNextRequest || i < 0 || i >= n {
				if kind == gosnmp.GetBulkRequest && !probe {
					probe, bulkErr = true, fmt.Errorf("agent error %s to GETBULK", pkt.Error)
					continue
				}
				return fmt.Errorf("walk %s: agent error %s at varbind %d", active[0].root, pkt.Error, pkt.ErrorIndex)
			}
			active = append(active[:i], active[i+1:]...)
			w.confirmGetNext(&probe, &getNext)
			continue
		case gosnmp.TooBig:
			switch {
			case reps > 1:
				w.tune.shrink(reps, reps/2)
			case batch > 1:
				batch /= 2
			default:
				return fmt.Errorf("walk %s: agent says response too big", active[0].root)
			}
			continue
		default:
			if kind == gosnmp.GetBulkRequest {
				probe, bulkErr = true, fmt.Errorf("agent error %s to GETBULK", pkt.Error)
				continue
			}
			return fmt.Errorf("walk %s: agent error %s at varbind %d", active[0].root, pkt.Error, pkt.ErrorIndex)
		}
		if len(pkt.Variables) == 0 {
			if kind == gosnmp.GetBulkRequest {
				probe, bulkErr = true, errors.New("empty answer to GETBULK")
				continue
			}
			return fmt.Errorf("walk %s: %w", active[0].root, errWalkNoProgress)
		}
		if kind == gosnmp.GetBulkRequest && backwards(pkt.Variables, active[:n]) {
			probe, bulkErr = true, fmt.Errorf("GETBULK answer goes backwards: %s after %s", pkt.Variables[0].Name, active[0].cur)
			continue
		}
		if probe && backwards(pkt.Variables, active[:n]) {
			// GETNEXT loops as well: the agent, not GETBULK, is at fault;
			// let the check below cut the columns off.
			probe = false
		}
		// Varbind i of a GETBULK answer continues column i mod n. An agent
		// may cut the answer short anywhere; columns it did not reach this
		// time simply keep their position.
		var done uint64 // bit per column of this batch
		for i, pdu := range pkt.Variables {
			c := i % n
			if done&(1<<c) != 0 {
				continue
			}
			col := &active[c]
			if absent(pdu) {
				done |= 1 << c
				continue
			}
			// Checked before the subtree: an OID at or before the one
			// asked for is wrong wherever it lies.
			if compareOID(pdu.Name, col.cur) <= 0 {
				done |= 1 << c
				if firstErr == nil {
					firstErr = fmt.Errorf("walk %s: agent loops: %w: %s came after %s; column cut off there",
						col.root, errNotIncreasing, pdu.Name, col.cur)
				}
				continue
			}
			if !under(pdu.Name, col.root) {
				done |= 1 << c
				continue
			}
			if seen >= w.maxVarbinds {
				return fmt.Errorf("walk %s: %w: more than %d, at %s; rest of the table cut off",
					col.root, ErrTooManyVarbinds, w.maxVarbinds, pdu.Name)
			}
			seen++
			col.rows++
			col.cur = pdu.Name
			if err := fn(pdu); err != nil {
				return err
			}
		}
		if kind == gosnmp.GetBulkRequest {
			if len(pkt.Variables) < n*reps && done == 0 {
				// Cut short although every column goes on: the agent's
				// message limit. Ask for about what it managed.
				w.tune.truncated(len(pkt.Variables))
			} else {
				w.tune.success()
			}
		} else {
			w.confirmGetNext(&probe, &getNext)
		}
		if done != 0 {
			kept := active[:0]
			for i, c := range active {
				if i >= n || done&(1<<i) == 0 {
					kept = append(kept, c)
				} else {
					most = max(most, c.rows)
				}
			}
			active = kept
		}
	}
	if firstErr == nil {
		w.tune.setRows(roots, most)
	}
	return firstErr
}

// confirmGetNext switches the rest of the walk, and the next walks of this
// agent, to GETNEXT once a GETNEXT probe has worked where GETBULK did not.
func (w *bulkWalker) confirmGetNext(probe, getNext *bool) {
	if *probe {
		*probe, *getNext = false, true
		w.tune.bulkBroken()
	}
}

// backwards reports whether every column the answer's first row reaches
// got an OID at or before the one asked for: garbage, or a loop.
func backwards(vars []gosnmp.SnmpPDU, cols []column) bool {
	k := min(len(vars), len(cols))
	bad := 0
	for i := range k {
		if !absent(vars[i]) && compareOID(vars[i].Name, cols[i].cur) <= 0 {
			bad++
		}
	}
	return k > 0 && bad == k
}

// retryableTimeout reports whether err is the agent not answering in time,
// as opposed to the poll's own deadline passing.
func retryableTimeout(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) && isTimeout(err)
}

// Tuning constants: how fast max-repetitions comes back after a shrink, and
// how long an agent that mishandled GETBULK is walked with GETNEXT.
const (
	growAfter      = 8   // clean GETBULK answers before max-repetitions grows
	forgetLimitAt  = 256 // clean answers after which a size that failed is tried again
	bulkRetryAfter = 50  // walks with GETNEXT before GETBULK is tried again
)

// Tuning is what walks have learned about one agent: how many rows per
// GETBULK it answers well, and whether it handles GETBULK at all. Keep one
// per device across polls (TuningCache does) so each poll starts from what
// the last one learned. Safe for concurrent use.
type Tuning struct {
	mu      sync.Mutex
	ceiling int // the configured max-repetitions, never exceeded
	reps    int
	limit   int // smallest max-repetitions that failed; 0: none
	good    int // the last max-repetitions answered cleanly; 0: none yet
	fit     int // most varbinds a cut-short answer held; 0: none cut short
	streak  int // clean answers since the last change
	clean   int // clean answers since limit was set
	noBulk  int // walks still to do with GETNEXT
	rows    []rowHint
}

// rowHint is how many rows the walk of a set of columns found last time,
// keyed by its first root (the sets are fixed lists in the decoders).
type rowHint struct {
	root  string
	ncols int
	rows  int
}

// TuningState is a Tuning at one moment, for logs and metrics.
type TuningState struct {
	MaxRepetitions int  `json:"max_repetitions"`
	GetNext        bool `json:"getnext"` // GETBULK is avoided for this agent
}

// NewTuning starts at maxReps rows per GETBULK (0 means 25), which is also
// the most it will grow back to.
func NewTuning(maxReps int) *Tuning {
	if maxReps <= 0 {
		maxReps = defaultMaxRepetitions
	}
	return &Tuning{ceiling: maxReps, reps: maxReps}
}

// State returns the current setting.
func (t *Tuning) State() TuningState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return TuningState{MaxRepetitions: t.reps, GetNext: t.noBulk > 0}
}

// repsFor returns max-repetitions for a GETBULK of n columns: an agent
// that cuts answers short is asked for about as many varbinds as it sends.
func (t *Tuning) repsFor(n int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fit > 0 {
		return max(1, min(t.reps, (t.fit+n-1)/max(n, 1)))
	}
	return t.reps
}

// truncated records an answer cut short at n varbinds.
func (t *Tuning) truncated(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fit, t.streak = max(1, n), 0
}

// startWalk reports whether this walk must use GETNEXT.
func (t *Tuning) startWalk() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.noBulk > 0 {
		t.noBulk--
		return true
	}
	return false
}

// shrink records that asking for failed rows went wrong and sets to (at
// least 1) unless an earlier answer already lowered it further.
func (t *Tuning) shrink(failed, to int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	to = max(1, to)
	if t.good > 0 && t.good < failed {
		// Growing past what worked failed: go back, not down by half.
		to = max(to, t.good)
	} else {
		t.good = 0
	}
	if to < t.reps {
		t.reps = to
	}
	if t.limit == 0 || failed < t.limit {
		t.limit = failed
	}
	t.streak, t.clean = 0, 0
}

// success grows max-repetitions by a quarter after growAfter clean answers,
// staying below the smallest size that failed until that failure is old.
func (t *Tuning) success() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.good = t.reps
	if t.limit > 0 {
		if t.clean++; t.clean >= forgetLimitAt {
			t.limit, t.clean = 0, 0
		}
	}
	if t.reps >= t.ceiling && t.fit == 0 {
		return
	}
	if t.streak++; t.streak < growAfter {
		return
	}
	t.streak = 0
	if t.fit > 0 {
		// The agent may have room again; a cut-short answer costs
		// nothing, so probing for it is cheap.
		t.fit += max(1, t.fit/4)
		if t.fit >= t.ceiling*maxOidsPerRequest {
			t.fit = 0 // more than any request asks for
		}
	}
	next := min(t.ceiling, t.reps+max(1, t.reps/4))
	if t.limit > 0 {
		next = min(next, t.limit-1)
	}
	t.reps = max(t.reps, next)
}

func (t *Tuning) rowsHint(cols []column) (rows int, ok bool) {
	if len(cols) == 0 {
		return 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range t.rows {
		if h.root == cols[0].root && h.ncols == len(cols) {
			return h.rows, true
		}
	}
	return 0, false
}

func (t *Tuning) setRows(roots []string, rows int) {
	if len(roots) == 0 {
		return
	}
	root := normOID(roots[0])
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range t.rows {
		if t.rows[i].root == root && t.rows[i].ncols == len(roots) {
			t.rows[i].rows = rows
			return
		}
	}
	t.rows = append(t.rows, rowHint{root: root, ncols: len(roots), rows: rows})
}

func (t *Tuning) bulkBroken() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.noBulk = bulkRetryAfter
}

// TuningCache keeps a Tuning per target. Give one to every poll through
// SessionOptions.Tuning; the scheduler passes the same SessionOptions to
// every poll, so one cache there serves every device.
type TuningCache struct {
	mu sync.Mutex
	m  map[string]*Tuning
}

// NewTuningCache returns an empty cache.
func NewTuningCache() *TuningCache { return &TuningCache{m: map[string]*Tuning{}} }

// For returns target's Tuning, created at maxReps on first use.
func (c *TuningCache) For(target string, maxReps int) *Tuning {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.m[target]
	if n := NewTuning(maxReps); t == nil || t.ceiling != n.ceiling {
		// New, or the configured max-repetitions changed: start over.
		t = n
		c.m[target] = t
	}
	return t
}

// State returns target's current setting, if it has been polled.
func (c *TuningCache) State(target string) (TuningState, bool) {
	c.mu.Lock()
	t := c.m[target]
	c.mu.Unlock()
	if t == nil {
		return TuningState{}, false
	}
	return t.State(), true
}

// Forget drops target, as when a device leaves the inventory.
func (c *TuningCache) Forget(target string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, target)
}
