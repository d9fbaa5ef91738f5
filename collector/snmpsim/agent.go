package snmpsim

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"
)

// SNMP error-status values (RFC 1157, RFC 3416).
const (
	errNoError     = 0
	errTooBig      = 1
	errNoSuchName  = 2
	errBadValue    = 3
	errReadOnly    = 4
	errGenErr      = 5
	errWrongType   = 7
	errWrongValue  = 10
	errNotWritable = 17
)

// defaultMaxMessage keeps responses inside one UDP datagram with room to
// spare, like net-snmp's default for UDP.
const defaultMaxMessage = 65000

// Stats counts what one device's socket saw.
type Stats struct {
	Requests     uint64 `json:"requests"`      // datagrams received
	Responses    uint64 `json:"responses"`     // responses sent
	Malformed    uint64 `json:"malformed"`     // undecodable or unsupported packets, dropped
	BadCommunity uint64 `json:"bad_community"` // requests with an unknown community, dropped
	Dropped      uint64 `json:"dropped"`       // requests ignored because of a "down" fault
}

type stats struct {
	requests, responses, malformed, badCommunity, dropped atomic.Uint64
}

func (s *stats) snapshot() Stats {
	return Stats{
		Requests: s.requests.Load(), Responses: s.responses.Load(), Malformed: s.malformed.Load(),
		BadCommunity: s.badCommunity.Load(), Dropped: s.dropped.Load(),
	}
}

// views maps a community to what it sees. Never mutated once published.
type views map[string]*table

// reqVarbind is one varbind of a request.
type reqVarbind struct {
	oid OID
	val Value
}

// setFunc validates and applies a SET atomically. It returns an SNMP
// error-status and a 1-based error-index, or 0, 0 when every varbind was set.
type setFunc func(now time.Time, v1 bool, vbs []reqVarbind, tbl *table) (status, index int)

// agent answers SNMP requests on one socket.
type agent struct {
	name   string
	conn   net.PacketConn
	log    *slog.Logger
	now    func() time.Time
	views  atomic.Pointer[views]
	down   atomic.Bool
	set    setFunc // nil: nothing is writable
	maxMsg int
	stats  stats
	done   chan struct{}
}

// worker holds the buffers one serving goroutine reuses between requests.
type worker struct {
	dec     gosnmp.GoSNMP
	out     []byte
	vbl     []byte
	scratch []byte
	oidBuf  []byte
}

func (a *agent) serve() {
	defer close(a.done)
	buf := make([]byte, 65536)
	w := &worker{}
	for {
		n, addr, err := a.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			a.log.Debug("snmpsim: read failed", slog.String("device", a.name), slog.Any("error", err))
			// A failing socket must not spin a CPU.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		a.stats.requests.Add(1)
		resp := a.handle(w, buf[:n], addr)
		if resp == nil {
			continue
		}
		if _, err := a.conn.WriteTo(resp, addr); err != nil {
			a.log.Debug("snmpsim: write failed", slog.String("device", a.name), slog.String("peer", addr.String()), slog.Any("error", err))
			continue
		}
		a.stats.responses.Add(1)
	}
}

// handle returns the response to pkt, or nil when nothing must be sent.
func (a *agent) handle(w *worker, pkt []byte, from net.Addr) []byte {
	if a.down.Load() {
		a.stats.dropped.Add(1)
		return nil
	}
	req, err := decodeRequest(&w.dec, pkt)
	if err != nil {
		a.stats.malformed.Add(1)
		a.log.Debug("snmpsim: dropped undecodable packet", slog.String("device", a.name),
			slog.String("peer", from.String()), slog.Int("bytes", len(pkt)), slog.Any("error", err))
		return nil
	}
	// The community is a credential: never log it.
	tbl := (*a.views.Load())[req.Community]
	if tbl == nil {
		a.stats.badCommunity.Add(1)
		a.log.Debug("snmpsim: dropped request with unknown community", slog.String("device", a.name), slog.String("peer", from.String()))
		return nil
	}
	vbs, err := requestVarbinds(req)
	if err != nil {
		a.stats.malformed.Add(1)
		a.log.Debug("snmpsim: dropped request with a bad varbind", slog.String("device", a.name),
			slog.String("peer", from.String()), slog.Any("error", err))
		return nil
	}
	v1 := req.Version == gosnmp.Version1
	if v1 && req.PDUType == gosnmp.GetBulkRequest {
		a.stats.malformed.Add(1)
		a.log.Debug("snmpsim: dropped GETBULK sent with SNMPv1", slog.String("device", a.name), slog.String("peer", from.String()))
		return nil
	}
	r := &response{a: a, w: w, req: req, vbs: vbs, tbl: tbl, v1: v1, now: a.now(), comm: []byte(req.Community)}
	switch req.PDUType {
	case gosnmp.GetRequest:
		return r.get()
	case gosnmp.GetNextRequest:
		return r.getNext()
	case gosnmp.GetBulkRequest:
		return r.getBulk()
	case gosnmp.SetRequest:
		return r.setRequest()
	}
	a.stats.malformed.Add(1)
	a.log.Debug("snmpsim: dropped unsupported PDU", slog.String("device", a.name),
		slog.String("peer", from.String()), slog.String("pdu", req.PDUType.String()))
	return nil
}

// decodeRequest decodes an SNMPv1/v2c message with gosnmp. v3 is refused
// before decoding, since it needs USM state this agent does not keep. The
// recover is a guard: a malformed datagram must never stop the agent.
func decodeRequest(dec *gosnmp.GoSNMP, pkt []byte) (p *gosnmp.SnmpPacket, err error) {
	switch v := peekVersion(pkt); v {
	case int(gosnmp.Version1), int(gosnmp.Version2c):
	case -1:
		return nil, errors.New("not an SNMP message")
	default:
		return nil, fmt.Errorf("unsupported SNMP version %d", v)
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("decoder panic: %v", r)
		}
	}()
	p, err = dec.SnmpDecodePacket(pkt)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// peekVersion reads the version field of an SNMP message, or returns -1.
func peekVersion(pkt []byte) int {
	if len(pkt) < 5 || pkt[0] != 0x30 {
		return -1
	}
	i := 2
	if pkt[1]&0x80 != 0 {
		i += int(pkt[1] & 0x7f)
	}
	if i+3 > len(pkt) || pkt[i] != byte(gosnmp.Integer) || pkt[i+1] != 1 {
		return -1
	}
	return int(pkt[i+2])
}

func requestVarbinds(p *gosnmp.SnmpPacket) ([]reqVarbind, error) {
	vbs := make([]reqVarbind, len(p.Variables))
	for i, v := range p.Variables {
		oid, err := ParseOID(v.Name)
		if err != nil {
			return nil, fmt.Errorf("varbind %d: %w", i+1, err)
		}
		if why := oid.validForBER(); why != "" {
			return nil, fmt.Errorf("varbind %d: OID %s: %s", i+1, oid, why)
		}
		vbs[i] = reqVarbind{oid: oid, val: fromGosnmp(v)}
	}
	return vbs, nil
}

// fromGosnmp converts a decoded gosnmp value; anything it cannot represent
// becomes Null, which is what a GET carries anyway.
func fromGosnmp(v gosnmp.SnmpPDU) Value {
	switch v.Type {
	case gosnmp.Integer:
		if n, ok := v.Value.(int); ok {
			return Value{Type: gosnmp.Integer, Int: int64(n)}
		}
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Counter64, gosnmp.Uinteger32:
		return Value{Type: v.Type, Uint: gosnmp.ToBigInt(v.Value).Uint64()}
	case gosnmp.OctetString, gosnmp.Opaque, gosnmp.BitString:
		if b, ok := v.Value.([]byte); ok {
			return Value{Type: v.Type, Bytes: b}
		}
	case gosnmp.ObjectIdentifier:
		if s, ok := v.Value.(string); ok {
			if o, err := ParseOID(s); err == nil && o.validForBER() == "" {
				return Value{Type: v.Type, OID: o}
			}
		}
	case gosnmp.IPAddress:
		if s, ok := v.Value.(string); ok {
			if ip, err := netip.ParseAddr(s); err == nil && ip.Is4() {
				b := ip.As4()
				return Value{Type: v.Type, Bytes: b[:]}
			}
		}
	case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView:
		return Value{Type: v.Type}
	}
	return Value{Type: gosnmp.Null}
}

// response builds the answer to one request.
type response struct {
	a    *agent
	w    *worker
	req  *gosnmp.SnmpPacket
	vbs  []reqVarbind
	tbl  *table
	v1   bool
	now  time.Time
	comm []byte
}

// fits reports whether a varbind list of n bytes fits the size cap.
func (r *response) fits(n int) bool {
	return n+messageOverhead(r.comm, n) <= r.a.maxMsg
}

func (r *response) message(status, index int, vbl []byte) []byte {
	r.w.out = appendMessage(r.w.out[:0], int(r.req.Version), r.comm, int32(r.req.RequestID), status, index, vbl)
	return r.w.out
}

// appendMissing appends a varbind naming oid with an exception value.
func (r *response) appendMissing(vbl []byte, oid OID, typ gosnmp.Asn1BER) []byte {
	r.w.oidBuf = appendOID(r.w.oidBuf[:0], oid)
	vbl, r.w.scratch = appendVarbind(vbl, r.w.oidBuf, Value{Type: typ}, r.w.scratch)
	return vbl
}

// errorResponse echoes the request's varbinds with an error, as RFC 1157
// and RFC 3416 require for every error but v2c tooBig.
func (r *response) errorResponse(status, index int) []byte {
	vbl := r.w.vbl[:0]
	for _, vb := range r.vbs {
		r.w.oidBuf = appendOID(r.w.oidBuf[:0], vb.oid)
		vbl, r.w.scratch = appendVarbind(vbl, r.w.oidBuf, vb.val, r.w.scratch)
	}
	r.w.vbl = vbl
	return r.message(status, index, vbl)
}

// tooBig answers a GET/GETNEXT whose response would exceed the cap: v1
// echoes the request (RFC 1157 4.1.2), v2c sends no varbinds (RFC 3416 4.2.1).
func (r *response) tooBig() []byte {
	if r.v1 {
		return r.errorResponse(errTooBig, 0)
	}
	return r.message(errTooBig, 0, nil)
}

func (r *response) get() []byte {
	vbl := r.w.vbl[:0]
	defer func() { r.w.vbl = vbl }()
	for i, vb := range r.vbs {
		idx := r.tbl.get(vb.oid, r.v1)
		switch {
		case idx >= 0:
			vbl, r.w.scratch = r.tbl.appendEntry(vbl, idx, r.now, r.w.scratch)
		case r.v1:
			return r.errorResponse(errNoSuchName, i+1)
		default:
			vbl = r.appendMissing(vbl, vb.oid, r.tbl.missingKind(vb.oid))
		}
		if !r.fits(len(vbl)) {
			return r.tooBig()
		}
	}
	return r.message(errNoError, 0, vbl)
}

func (r *response) getNext() []byte {
	vbl := r.w.vbl[:0]
	defer func() { r.w.vbl = vbl }()
	for i, vb := range r.vbs {
		idx := r.tbl.next(vb.oid, r.v1)
		switch {
		case idx < len(r.tbl.entries):
			vbl, r.w.scratch = r.tbl.appendEntry(vbl, idx, r.now, r.w.scratch)
		case r.v1:
			return r.errorResponse(errNoSuchName, i+1)
		default:
			vbl = r.appendMissing(vbl, vb.oid, gosnmp.EndOfMibView)
		}
		if !r.fits(len(vbl)) {
			return r.tooBig()
		}
	}
	return r.message(errNoError, 0, vbl)
}

// getBulk follows RFC 3416 4.2.3: non-repeaters get one GETNEXT each, then
// max-repetitions rounds over the rest. Like net-snmp it stops early once
// every repeater has reached the end of the MIB, and it drops trailing
// varbinds instead of failing when the response would be too big.
// gosnmp decodes non-repeaters into a uint8, so values above 255 wrap;
// no poller sends that many.
func (r *response) getBulk() []byte {
	vbl := r.w.vbl[:0]
	defer func() { r.w.vbl = vbl }()
	n := min(int(r.req.NonRepeaters), len(r.vbs))
	full := false
	add := func(idx int, oid OID) {
		mark := len(vbl)
		if idx < len(r.tbl.entries) {
			vbl, r.w.scratch = r.tbl.appendEntry(vbl, idx, r.now, r.w.scratch)
		} else {
			vbl = r.appendMissing(vbl, oid, gosnmp.EndOfMibView)
		}
		if !r.fits(len(vbl)) {
			vbl, full = vbl[:mark], true
		}
	}
	for _, vb := range r.vbs[:n] {
		if add(r.tbl.next(vb.oid, false), vb.oid); full {
			return r.message(errNoError, 0, vbl)
		}
	}
	reps := r.vbs[n:]
	if len(reps) == 0 {
		return r.message(errNoError, 0, vbl)
	}
	pos := make([]int, len(reps))
	for j, vb := range reps {
		pos[j] = r.tbl.next(vb.oid, false)
	}
	end := len(r.tbl.entries)
	for rep := uint32(0); rep < r.req.MaxRepetitions; rep++ {
		ended := 0
		for j := range reps {
			if pos[j] >= end {
				ended++
				add(end, r.lastName(reps[j].oid))
			} else {
				add(pos[j], nil)
				pos[j]++
			}
			if full {
				return r.message(errNoError, 0, vbl)
			}
		}
		if ended == len(reps) {
			break
		}
	}
	return r.message(errNoError, 0, vbl)
}

// lastName is the name an ended repeater repeats (RFC 3416 4.2.3): the
// table's last entry when the walk ran off the end, or the requested OID
// when it started past it.
func (r *response) lastName(requested OID) OID {
	if len(r.tbl.entries) == 0 {
		return requested
	}
	lastOID := r.tbl.entries[len(r.tbl.entries)-1].oid
	if requested.Compare(lastOID) >= 0 {
		return requested
	}
	return lastOID
}

func (r *response) setRequest() []byte {
	if r.a.set != nil {
		if status, index := r.a.set(r.now, r.v1, r.vbs, r.tbl); status != errNoError {
			return r.errorResponse(status, index)
		}
		return r.errorResponse(errNoError, 0)
	}
	if len(r.vbs) == 0 {
		return r.errorResponse(errNoError, 0)
	}
	return r.errorResponse(readOnlyStatus(r.v1, r.tbl.get(r.vbs[0].oid, r.v1) >= 0), 1)
}

// readOnlyStatus is the answer to a SET on an object that cannot be written:
// v2c says notWritable; v1 says readOnly for an object that exists and
// noSuchName for one that does not (RFC 1157 4.1.5).
func readOnlyStatus(v1, exists bool) int {
	switch {
	case !v1:
		return errNotWritable
	case exists:
		return errReadOnly
	}
	return errNoSuchName
}
