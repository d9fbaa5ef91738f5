package collector

import (
	"context"
	"encoding/hex"
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Varbind constructors for canned data, typed as gosnmp decodes them.
func vStr(oid, s string) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: normOID(oid), Type: gosnmp.OctetString, Value: []byte(s)}
}
func vHex(oid, h string) gosnmp.SnmpPDU {
	b, err := hex.DecodeString(h)
	if err != nil {
		panic(err)
	}
	return gosnmp.SnmpPDU{Name: normOID(oid), Type: gosnmp.OctetString, Value: b}
}
func vInt(oid string, n int) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: normOID(oid), Type: gosnmp.Integer, Value: n}
}
func vC32(oid string, n uint) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: normOID(oid), Type: gosnmp.Counter32, Value: n}
}
func vGauge(oid string, n uint) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: normOID(oid), Type: gosnmp.Gauge32, Value: n}
}
func vC64(oid string, n uint64) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: normOID(oid), Type: gosnmp.Counter64, Value: n}
}
func vTicks(oid string, n uint32) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: normOID(oid), Type: gosnmp.TimeTicks, Value: n}
}
func vOID(oid, v string) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: normOID(oid), Type: gosnmp.ObjectIdentifier, Value: normOID(v)}
}

// fakeAgent answers GET, GETNEXT and GETBULK from a sorted table with the
// semantics of RFC 3416 (or RFC 1157 when v1), so the walker and the poll
// can be tested without a network. It counts the requests it gets.
type fakeAgent struct {
	mu          sync.Mutex
	pdus        []gosnmp.SnmpPDU
	pos         map[string]int // name → position in pdus
	v1          bool
	maxVarbinds int   // cut responses to this many varbinds; 0: no limit
	tooBigAbove int   // answer tooBig when a response would exceed this; 0: never
	err         error // returned by every request when set
	requests    int
	varbinds    int // varbinds requested in all requests
}

func newFakeAgent(pdus ...gosnmp.SnmpPDU) *fakeAgent {
	a := &fakeAgent{}
	for _, p := range pdus {
		p.Name = normOID(p.Name)
		a.pdus = append(a.pdus, p)
	}
	slices.SortStableFunc(a.pdus, func(x, y gosnmp.SnmpPDU) int { return compareOID(x.Name, y.Name) })
	// Last one wins on duplicates.
	a.pdus = slices.CompactFunc(a.pdus, func(x, y gosnmp.SnmpPDU) bool { return x.Name == y.Name })
	a.pos = make(map[string]int, len(a.pdus))
	for i, p := range a.pdus {
		a.pos[p.Name] = i
	}
	return a
}

// count returns the requests and varbinds the agent has seen.
func (a *fakeAgent) count() (requests, varbinds int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests, a.varbinds
}

func (a *fakeAgent) lookup(oid string) (gosnmp.SnmpPDU, bool) {
	i, ok := slices.BinarySearchFunc(a.pdus, oid, func(p gosnmp.SnmpPDU, o string) int { return compareOID(p.Name, o) })
	if !ok {
		return gosnmp.SnmpPDU{}, false
	}
	return a.pdus[i], true
}

func (a *fakeAgent) next(oid string) (gosnmp.SnmpPDU, bool) {
	if i, ok := a.pos[oid]; ok { // the common case in a walk, kept cheap for benchmarks
		if i+1 < len(a.pdus) {
			return a.pdus[i+1], true
		}
		return gosnmp.SnmpPDU{}, false
	}
	i, ok := slices.BinarySearchFunc(a.pdus, oid, func(p gosnmp.SnmpPDU, o string) int { return compareOID(p.Name, o) })
	if ok {
		i++
	}
	if i >= len(a.pdus) {
		return gosnmp.SnmpPDU{}, false
	}
	return a.pdus[i], true
}

func (a *fakeAgent) request(ctx context.Context, kind gosnmp.PDUType, oids []string, maxReps uint32) (*gosnmp.SnmpPacket, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	a.varbinds += len(oids)
	if a.err != nil {
		return nil, a.err
	}
	return a.respond(kind, oids, maxReps), nil
}

func (a *fakeAgent) respond(kind gosnmp.PDUType, oids []string, maxReps uint32) *gosnmp.SnmpPacket {
	pkt := &gosnmp.SnmpPacket{PDUType: gosnmp.GetResponse}
	echo := func() {
		for _, o := range oids {
			pkt.Variables = append(pkt.Variables, gosnmp.SnmpPDU{Name: o, Type: gosnmp.Null})
		}
	}
	switch kind {
	case gosnmp.GetRequest, gosnmp.GetNextRequest:
		for i, o := range oids {
			var p gosnmp.SnmpPDU
			var ok bool
			if kind == gosnmp.GetRequest {
				p, ok = a.lookup(o)
			} else {
				p, ok = a.next(o)
			}
			switch {
			case ok:
			case a.v1:
				pkt.Error, pkt.ErrorIndex, pkt.Variables = gosnmp.NoSuchName, uint8(i+1), nil
				echo()
				return pkt
			case kind == gosnmp.GetRequest:
				p = gosnmp.SnmpPDU{Name: o, Type: gosnmp.NoSuchObject}
			default:
				p = gosnmp.SnmpPDU{Name: o, Type: gosnmp.EndOfMibView}
			}
			pkt.Variables = append(pkt.Variables, p)
		}
	case gosnmp.GetBulkRequest:
		cur := slices.Clone(oids)
		for range maxReps {
			for c := range cur {
				p, ok := a.next(cur[c])
				if !ok {
					p = gosnmp.SnmpPDU{Name: cur[c], Type: gosnmp.EndOfMibView}
				}
				cur[c] = p.Name
				pkt.Variables = append(pkt.Variables, p)
			}
		}
	}
	if a.tooBigAbove > 0 && len(pkt.Variables) > a.tooBigAbove {
		pkt.Error, pkt.Variables = gosnmp.TooBig, nil
		echo()
		return pkt
	}
	if a.maxVarbinds > 0 && len(pkt.Variables) > a.maxVarbinds {
		pkt.Variables = pkt.Variables[:a.maxVarbinds]
	}
	return pkt
}

// serveUDP answers SNMPv2c requests for community on a loopback port with
// a's data, through gosnmp's own encoder, until the test ends. It returns
// host:port.
func serveUDP(t testing.TB, a *fakeAgent, community string) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: community, Target: "127.0.0.1", Port: 161}
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return // closed at cleanup
			}
			req, err := dec.SnmpDecodePacket(buf[:n])
			if err != nil || req.Community != community {
				continue // like a real agent: drop what it cannot accept
			}
			oids := make([]string, len(req.Variables))
			for i, v := range req.Variables {
				oids[i] = v.Name
			}
			a.mu.Lock()
			a.requests++
			a.varbinds += len(oids)
			resp := a.respond(req.PDUType, oids, req.MaxRepetitions)
			a.mu.Unlock()
			resp.Version, resp.Community, resp.RequestID = gosnmp.Version2c, community, req.RequestID
			out, err := resp.MarshalMsg()
			if err != nil {
				t.Errorf("fake agent: marshal: %v", err)
				continue
			}
			_, _ = conn.WriteTo(out, from)
		}
	}()
	return conn.LocalAddr().String()
}

// blackhole returns a loopback address that reads and drops every request,
// like a device behind an ACL.
func blackhole(t testing.TB) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := conn.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return conn.LocalAddr().String()
}

var errFakeDown = errors.New("fake agent down")

// testCtx is a context bounded well below the test timeout.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
