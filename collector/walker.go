package collector

import (
	"context"
	"errors"
	"fmt"

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
// than C·R/maxReps. On SNMPv1 it uses GETNEXT with one varbind per column.
type bulkWalker struct {
	r       requester
	v1      bool
	maxReps int
	maxOids int
}

func newBulkWalker(r requester, v1 bool, maxReps int) *bulkWalker {
	if maxReps <= 0 {
		maxReps = defaultMaxRepetitions
	}
	return &bulkWalker{r: r, v1: v1, maxReps: maxReps, maxOids: maxOidsPerRequest}
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
		for _, pdu := range pkt.Variables {
			if !absent(pdu) {
				out = append(out, pdu)
			}
		}
		return out, nil
	}
	return out, nil
}

// column is one root being walked.
type column struct {
	root string
	cur  string
}

var (
	// errWalkNoProgress means the agent answered without any varbind.
	errWalkNoProgress = errors.New("agent returned no varbinds")
	// errNotIncreasing means a column went backwards and was cut short;
	// the other columns were still walked to their end.
	errNotIncreasing = errors.New("OID not increasing")
)

func (w *bulkWalker) Walk(ctx context.Context, roots []string, fn func(gosnmp.SnmpPDU) error) error {
	active := make([]column, 0, len(roots))
	for _, r := range roots {
		r = normOID(r)
		active = append(active, column{root: r, cur: r})
	}
	reps, batch := w.maxReps, min(w.maxOids, 64) // 64: the width of done below
	if w.v1 {
		reps = 1
	}
	oids := make([]string, 0, min(len(active), batch))
	var firstErr error
	for requests := 0; len(active) > 0; requests++ {
		if requests >= maxWalkRequests {
			return fmt.Errorf("walk %s: gave up after %d requests", active[0].root, requests)
		}
		n := min(len(active), batch)
		oids = oids[:0]
		for _, c := range active[:n] {
			oids = append(oids, c.cur)
		}
		kind := gosnmp.GetBulkRequest
		if w.v1 {
			kind = gosnmp.GetNextRequest
		}
		pkt, err := w.r.request(ctx, kind, oids, uint32(reps))
		if err != nil {
			return fmt.Errorf("walk %s: %w", active[0].root, err)
		}
		switch pkt.Error {
		case gosnmp.NoError:
		case gosnmp.NoSuchName:
			// SNMPv1's end of the MIB for one column.
			i := int(pkt.ErrorIndex) - 1
			if !w.v1 || i < 0 || i >= n {
				return fmt.Errorf("walk %s: agent error %s at varbind %d", active[0].root, pkt.Error, pkt.ErrorIndex)
			}
			active = append(active[:i], active[i+1:]...)
			continue
		case gosnmp.TooBig:
			switch {
			case reps > 1:
				reps /= 2
			case batch > 1:
				batch /= 2
			default:
				return fmt.Errorf("walk %s: agent says response too big", active[0].root)
			}
			continue
		default:
			return fmt.Errorf("walk %s: agent error %s at varbind %d", active[0].root, pkt.Error, pkt.ErrorIndex)
		}
		if len(pkt.Variables) == 0 {
			return fmt.Errorf("walk %s: %w", active[0].root, errWalkNoProgress)
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
			if absent(pdu) || !under(pdu.Name, col.root) {
				done |= 1 << c
				continue
			}
			if compareOID(pdu.Name, col.cur) <= 0 {
				done |= 1 << c
				if firstErr == nil {
					firstErr = fmt.Errorf("walk %s: %w: %s after %s", col.root, errNotIncreasing, pdu.Name, col.cur)
				}
				continue
			}
			col.cur = pdu.Name
			if err := fn(pdu); err != nil {
				return err
			}
		}
		if done != 0 {
			kept := active[:0]
			for i, c := range active {
				if i >= n || done&(1<<i) == 0 {
					kept = append(kept, c)
				}
			}
			active = kept
		}
	}
	return firstErr
}
