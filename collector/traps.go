package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/nocagent/nocagent/inventory"
	"golang.org/x/time/rate"
)

// Trap kinds. Generic traps (RFC 3418 / RFC 1215) have their own kind;
// everything else is TrapVendor with the enterprise OID kept.
const (
	TrapColdStart       = "coldStart"
	TrapWarmStart       = "warmStart"
	TrapLinkDown        = "linkDown"
	TrapLinkUp          = "linkUp"
	TrapAuthFailure     = "authenticationFailure"
	TrapEGPNeighborLoss = "egpNeighborLoss"
	TrapVendor          = "vendor"
	// BGP4-MIB's bgpBackwardTransition and bgpEstablished, with the peer in
	// TrapEvent.BGPPeer.
	TrapBGPDown = "bgpBackwardTransition"
	TrapBGPUp   = "bgpEstablished"
)

// genericTraps is indexed by the v1 generic-trap number and by the last
// arc of snmpTraps (1.3.6.1.6.3.1.1.5.N) minus one.
var genericTraps = [...]string{TrapColdStart, TrapWarmStart, TrapLinkDown, TrapLinkUp, TrapAuthFailure, TrapEGPNeighborLoss}

const (
	trapOIDSnmpTraps      = ".1.3.6.1.6.3.1.1.5"
	trapOIDSnmpTrapOID    = ".1.3.6.1.6.3.1.1.4.1.0"
	trapOIDEnterprise     = ".1.3.6.1.6.3.1.1.4.3.0"
	trapOIDSysUpTime      = ".1.3.6.1.2.1.1.3.0"
	trapOIDIfIndex        = ".1.3.6.1.2.1.2.2.1.1"
	trapOIDIfEntry        = ".1.3.6.1.2.1.2.2.1"
	trapOIDIfXEntry       = ".1.3.6.1.2.1.31.1.1.1"
	trapOIDUnknownEngines = ".1.3.6.1.6.3.15.1.1.4.0" // usmStatsUnknownEngineIDs
)

// Summary bounds: a trap is an event, not a data dump.
const (
	maxTrapVarbinds = 16
	maxTrapValueLen = 128
	maxTrapDatagram = 65535
)

// TrapEvent is one trap or inform as the rule engine sees it.
type TrapEvent struct {
	Time time.Time `json:"time"`
	// Source is the sender's IP address (the UDP source).
	Source string `json:"source"`
	// Device is the inventory device whose address is Source (or, for v1,
	// the trap's agent-addr); "" when none.
	Device string `json:"device"`
	Kind   string `json:"kind"`
	// TrapOID is snmpTrapOID.0, or for v1 the equivalent RFC 3584 OID.
	TrapOID string `json:"trap_oid"`
	// Enterprise is the vendor's OID for vendor traps, "" otherwise.
	Enterprise string `json:"enterprise,omitempty"`
	// IfIndex is the interface of a linkUp/linkDown, 0 when not given.
	IfIndex int `json:"if_index,omitempty"`
	// BGPPeer is the peer address of a BGP notification.
	BGPPeer string `json:"bgp_peer,omitempty"`
	// Varbinds are "oid=value", without sysUpTime and snmpTrapOID, at most
	// 16, values cut at 128 characters.
	Varbinds []string `json:"varbinds"`
	Version  string   `json:"version"` // 1, 2c or 3
	Inform   bool     `json:"inform,omitempty"`
}

// TrapStats are the receiver's counters since it started.
type TrapStats struct {
	// Received counts accepted traps and informs by kind.
	Received map[string]uint64
	// UnknownSource counts accepted traps from no inventory device.
	UnknownSource uint64
	// Rejected counts traps with an unknown community or SNMPv3 user, or
	// failing authentication or decryption.
	Rejected uint64
	// Malformed counts datagrams that are not SNMP traps.
	Malformed uint64
	// InformsAcked counts responses sent to informs.
	InformsAcked uint64
	// RateLimited counts accepted traps dropped because their device sent
	// more than TrapOptions allow.
	RateLimited uint64
}

// TrapOptions configure a TrapReceiver.
type TrapOptions struct {
	// OnEvent receives every accepted trap, on the receiver's goroutine:
	// it must not block (hand the event to a buffered channel).
	OnEvent func(TrapEvent)
	// EngineID is the receiver's SNMPv3 engine ID, which senders of v3
	// informs discover; empty means a fixed ID derived from "nocagent".
	EngineID string
	Logger   *slog.Logger
	Now      func() time.Time // nil = time.Now
	// PerDevice and Burst bound the traps handed to OnEvent per sending
	// device (token bucket; traps from no inventory device share one), so
	// that one device's storm cannot crowd out the others'. Zero: 20/s,
	// bursts of 100.
	PerDevice rate.Limit
	Burst     int
}

// TrapReceiver receives SNMP traps and informs on one UDP socket.
//
// It reads the socket itself and decodes with gosnmp's UnmarshalTrap rather
// than running gosnmp's TrapListener: the listener reports bad datagrams
// only to its logger (they must be counted here), and its Close races
// with a Listen still starting.
type TrapReceiver struct {
	conn     *net.UDPConn
	opts     TrapOptions
	log      *slog.Logger
	now      func() time.Time
	engineID string
	started  time.Time

	idx atomic.Pointer[trapIndex]

	mu       sync.Mutex
	received map[string]uint64
	unknown, rejected, malformed, acked,
	unknownEngine, limited uint64
	limits map[string]*rate.Limiter // by device, under mu

	closeOnce sync.Once
	done      chan struct{}
}

// trapIndex is what the inventory says about trap senders, swapped whole
// on reload.
type trapIndex struct {
	byAddr      map[netip.Addr]string
	communities map[string]bool
	v3          *gosnmp.GoSNMP // nil without v3 credentials
}

// ListenTraps binds addr (host:port, UDP) and returns a receiver that
// accepts traps from the communities and SNMPv3 users of cfg's
// credentials. Call Serve to handle them.
func ListenTraps(ctx context.Context, addr string, cfg *inventory.Config, opts TrapOptions) (*TrapReceiver, error) {
	if opts.PerDevice <= 0 {
		opts.PerDevice, opts.Burst = 20, 100
	}
	r := &TrapReceiver{opts: opts, log: opts.Logger, now: opts.Now, engineID: opts.EngineID, received: map[string]uint64{},
		limits: map[string]*rate.Limiter{}, done: make(chan struct{})}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.engineID == "" {
		// RFC 3411 SnmpEngineID, text format (4) under enterprise 0.
		r.engineID = "\x80\x00\x00\x00\x04nocagent"
	}
	if err := r.SetInventory(cfg); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("trap receiver: listen on %s: %w", addr, err)
	}
	r.conn = pc.(*net.UDPConn)
	r.started = r.now()
	return r, nil
}

// SetInventory replaces the devices and credentials traps are checked
// against; safe while Serve runs.
func (r *TrapReceiver) SetInventory(cfg *inventory.Config) error {
	ix := &trapIndex{byAddr: map[netip.Addr]string{}, communities: map[string]bool{}}
	for _, d := range cfg.Devices {
		host, _, err := SplitTarget(d.Address)
		if err != nil {
			continue
		}
		if a, err := netip.ParseAddr(host); err == nil {
			ix.byAddr[a.Unmap()] = d.Name
		}
	}
	var table *gosnmp.SnmpV3SecurityParametersTable
	for _, cr := range cfg.Credentials {
		if strings.ToLower(cr.Version) != inventory.SNMPv3 {
			if cr.Community != "" {
				ix.communities[cr.Community] = true
			}
			continue
		}
		g := &gosnmp.GoSNMP{}
		if err := applyCredential(g, cr); err != nil {
			return fmt.Errorf("trap receiver: %w", err)
		}
		if table == nil {
			table = gosnmp.NewSnmpV3SecurityParametersTable(gosnmp.Logger{})
		}
		if err := table.Add(cr.Username, g.SecurityParameters); err != nil {
			return fmt.Errorf("trap receiver: credential %q: %w", cr.Name, err)
		}
	}
	if table != nil {
		ix.v3 = &gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, Logger: gosnmp.Logger{}}
		ix.v3.SetTrapSecurityParametersTable(table)
	}
	r.idx.Store(ix)
	return nil
}

// Addr is the address the receiver listens on.
func (r *TrapReceiver) Addr() net.Addr { return r.conn.LocalAddr() }

// Close stops Serve and releases the socket.
func (r *TrapReceiver) Close() error {
	var err error
	r.closeOnce.Do(func() {
		close(r.done)
		err = r.conn.Close()
	})
	return err
}

// Serve handles datagrams until ctx ends or Close is called; it returns
// nil then, or the socket's error.
func (r *TrapReceiver) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { r.Close() })
	defer stop()
	buf := make([]byte, maxTrapDatagram)
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case <-r.done:
				return nil
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("trap receiver %s: %w", r.conn.LocalAddr(), err)
		}
		r.handle(buf[:n], from)
	}
}

// handle decodes one datagram; nothing in it may panic the receiver: a
// panic in the decoder is counted as malformed. The fuzz test calls
// process, which does not recover, so it sees such a panic.
func (r *TrapReceiver) handle(msg []byte, from netip.AddrPort) {
	defer func() {
		if p := recover(); p != nil {
			r.count(&r.malformed)
			r.log.Debug("trap: datagram crashed the decoder", "source", from.Addr().String(), "panic", fmt.Sprint(p))
		}
	}()
	r.process(msg, from)
}

// unmarshalV3Trap is gosnmp's UnmarshalTrap with one known panic turned
// into an error: gosnmp v1.47.0's getTrapIdentifier dereferences the
// packet's security parameters, nil when the message ends, or names a
// security model other than USM, before them (found by FuzzTrapPacket).
// Only this library call is guarded; a panic in our own decoding still
// reaches the fuzzer through process.
func unmarshalV3Trap(g *gosnmp.GoSNMP, msg []byte) (pkt *gosnmp.SnmpPacket, err error) {
	defer func() {
		if p := recover(); p != nil {
			pkt, err = nil, fmt.Errorf("gosnmp could not decode the SNMPv3 header (it panicked: %v)", p)
		}
	}()
	return g.UnmarshalTrap(msg, true)
}

// process decodes one datagram and passes on the trap it holds.
func (r *TrapReceiver) process(msg []byte, from netip.AddrPort) {
	ix := r.idx.Load()
	version := peekSNMPVersion(msg)
	var (
		pkt *gosnmp.SnmpPacket
		err error
	)
	switch version {
	case int(gosnmp.Version1), int(gosnmp.Version2c):
		pkt, err = (&gosnmp.GoSNMP{Version: gosnmp.SnmpVersion(version), Logger: gosnmp.Logger{}}).UnmarshalTrap(msg, false)
		if err == nil && !ix.communities[pkt.Community] {
			r.count(&r.rejected)
			// The community itself is a secret, even a wrong one.
			r.log.Debug("trap: unknown community", "source", from.Addr().String())
			return
		}
	case int(gosnmp.Version3):
		if r.answerDiscovery(msg, from) {
			return
		}
		if ix.v3 == nil {
			r.count(&r.rejected)
			r.log.Debug("trap: SNMPv3 trap but no SNMPv3 credential", "source", from.Addr().String())
			return
		}
		// UnmarshalTrap decrypts in place; keep msg intact for the log.
		pkt, err = unmarshalV3Trap(ix.v3, append([]byte(nil), msg...))
		if err != nil {
			r.count(&r.rejected)
			r.log.Debug("trap: SNMPv3 trap rejected: unknown user or bad keys", "source", from.Addr().String(), "err", err)
			return
		}
	default:
		err = errors.New("not an SNMP message")
	}
	if err == nil && pkt.PDUType != gosnmp.Trap && pkt.PDUType != gosnmp.SNMPv2Trap && pkt.PDUType != gosnmp.InformRequest {
		err = fmt.Errorf("PDU type %v is not a trap or inform", pkt.PDUType)
	}
	if err != nil {
		r.count(&r.malformed)
		r.log.Debug("trap: malformed datagram", "source", from.Addr().String(), "bytes", len(msg), "err", err)
		return
	}
	ev := decodeTrap(pkt, from.Addr().Unmap(), ix.byAddr, r.now())
	r.mu.Lock()
	r.received[ev.Kind]++
	if ev.Device == "" {
		r.unknown++
	}
	allowed := r.allowLocked(ev.Device, ev.Time)
	if !allowed {
		r.limited++
	}
	r.mu.Unlock()
	if pkt.PDUType == gosnmp.InformRequest {
		r.ack(pkt, from)
	}
	r.log.Debug("trap received", "source", ev.Source, "device", ev.Device, "kind", ev.Kind, "trap_oid", ev.TrapOID)
	if allowed && r.opts.OnEvent != nil {
		r.opts.OnEvent(ev)
	}
}

// ack answers an inform with the same varbinds, as RFC 3416 4.2.7 asks.
func (r *TrapReceiver) ack(pkt *gosnmp.SnmpPacket, to netip.AddrPort) {
	resp := *pkt
	resp.PDUType = gosnmp.GetResponse
	resp.Error, resp.ErrorIndex = gosnmp.NoError, 0
	resp.MsgFlags &^= gosnmp.Reportable
	b, err := resp.MarshalMsg()
	if err == nil {
		_, err = r.conn.WriteToUDPAddrPort(b, to)
	}
	if err != nil {
		r.log.Debug("trap: inform response not sent", "source", to.Addr().String(), "err", err)
		return
	}
	r.count(&r.acked)
}

// answerDiscovery replies to an SNMPv3 engine discovery probe, which the
// sender of a v3 inform sends first, with the receiver's engine ID. It
// reports whether msg was such a probe.
func (r *TrapReceiver) answerDiscovery(msg []byte, from netip.AddrPort) bool {
	probe := &gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel,
		SecurityParameters: &gosnmp.UsmSecurityParameters{}, Logger: gosnmp.Logger{}}
	p, err := probe.UnmarshalTrap(append([]byte(nil), msg...), true)
	if err != nil || p.PDUType != gosnmp.GetRequest || len(p.Variables) != 0 || p.MsgFlags&gosnmp.AuthPriv != gosnmp.NoAuthNoPriv {
		return false
	}
	usm, ok := p.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if !ok || usm.UserName != "" || usm.AuthoritativeEngineID != "" {
		return false
	}
	n := r.count(&r.unknownEngine)
	rep := *p
	rep.PDUType = gosnmp.Report
	rep.MsgFlags = gosnmp.NoAuthNoPriv
	rep.ContextEngineID = r.engineID
	rep.SecurityParameters = &gosnmp.UsmSecurityParameters{
		AuthoritativeEngineID:    r.engineID,
		AuthoritativeEngineBoots: 1,
		AuthoritativeEngineTime:  uint32(max(r.now().Sub(r.started), 0) / time.Second),
		Logger:                   gosnmp.Logger{},
	}
	rep.Variables = []gosnmp.SnmpPDU{{Name: trapOIDUnknownEngines, Type: gosnmp.Counter32, Value: uint32(n)}}
	b, err := rep.MarshalMsg()
	if err == nil {
		_, err = r.conn.WriteToUDPAddrPort(b, from)
	}
	if err != nil {
		r.log.Debug("trap: engine discovery report not sent", "source", from.Addr().String(), "err", err)
	}
	return true
}

func (r *TrapReceiver) count(c *uint64) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	*c++
	return *c
}

// Stats returns a copy of the counters.
func (r *TrapReceiver) Stats() TrapStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := TrapStats{Received: make(map[string]uint64, len(r.received)), UnknownSource: r.unknown,
		Rejected: r.rejected, Malformed: r.malformed, InformsAcked: r.acked, RateLimited: r.limited}
	for k, v := range r.received {
		s.Received[k] = v
	}
	return s
}

// allowLocked takes one token from device's bucket; r.mu is held.
func (r *TrapReceiver) allowLocked(device string, at time.Time) bool {
	lim := r.limits[device]
	if lim == nil {
		lim = rate.NewLimiter(r.opts.PerDevice, r.opts.Burst)
		r.limits[device] = lim
	}
	return lim.AllowN(at, 1)
}

// peekSNMPVersion reads the version of an SNMP message without decoding
// the rest: SEQUENCE { INTEGER version, ... }; -1 when it is not one.
func peekSNMPVersion(b []byte) int {
	if len(b) < 2 || b[0] != 0x30 {
		return -1
	}
	i := 2
	if b[1]&0x80 != 0 {
		i += int(b[1] & 0x7f)
	}
	if i+3 > len(b) || b[i] != 0x02 || b[i+1] != 1 {
		return -1
	}
	return int(b[i+2])
}

// decodeTrap turns a decoded trap into an event. It is pure.
func decodeTrap(pkt *gosnmp.SnmpPacket, src netip.Addr, byAddr map[netip.Addr]string, now time.Time) TrapEvent {
	ev := TrapEvent{Time: now, Source: src.String(), Device: byAddr[src], Varbinds: []string{}, Inform: pkt.PDUType == gosnmp.InformRequest}
	switch pkt.Version {
	case gosnmp.Version1:
		ev.Version = inventory.SNMPv1
	case gosnmp.Version2c:
		ev.Version = inventory.SNMPv2c
	default:
		ev.Version = inventory.SNMPv3
	}
	vars := pkt.Variables
	if pkt.PDUType == gosnmp.Trap {
		// A v1 trap relayed by a proxy comes from the proxy; its
		// agent-addr still names the device.
		if a, err := netip.ParseAddr(pkt.AgentAddress); err == nil && ev.Device == "" {
			ev.Device = byAddr[a.Unmap()]
		}
		ent := normOID(pkt.Enterprise)
		if g := pkt.GenericTrap; g >= 0 && g < len(genericTraps) {
			ev.Kind = genericTraps[g]
			ev.TrapOID = trapOIDSnmpTraps + "." + strconv.Itoa(g+1)
		} else {
			// RFC 3584 3.1: enterprise.0.specific.
			ev.Kind, ev.Enterprise = TrapVendor, ent
			ev.TrapOID = ent + ".0." + strconv.Itoa(pkt.SpecificTrap)
		}
	} else {
		var enterprise string
		rest := vars[:0:0]
		for _, v := range vars {
			switch normOID(v.Name) {
			case trapOIDSnmpTrapOID:
				if s, ok := v.Value.(string); ok {
					ev.TrapOID = normOID(s)
				}
				continue
			case trapOIDEnterprise:
				if s, ok := v.Value.(string); ok {
					enterprise = normOID(s)
				}
				continue
			case trapOIDSysUpTime:
				continue
			}
			rest = append(rest, v)
		}
		vars = rest
		ev.Kind = TrapVendor
		if n, ok := strings.CutPrefix(ev.TrapOID, trapOIDSnmpTraps+"."); ok {
			if i, err := strconv.Atoi(n); err == nil && i >= 1 && i <= len(genericTraps) {
				ev.Kind = genericTraps[i-1]
			}
		}
		if ev.Kind == TrapVendor {
			ev.Enterprise = enterprise
			if ev.Enterprise == "" {
				ev.Enterprise = trapEnterprise(ev.TrapOID)
			}
		}
	}
	for _, v := range vars {
		name := normOID(v.Name)
		if (ev.Kind == TrapLinkDown || ev.Kind == TrapLinkUp) && ev.IfIndex == 0 {
			ev.IfIndex = trapIfIndex(name, v)
		}
		if len(ev.Varbinds) < maxTrapVarbinds {
			ev.Varbinds = append(ev.Varbinds, strings.TrimPrefix(name, ".")+"="+trapValue(v))
		}
	}
	return Classify(ev)
}

// Classify names what a decoded trap means beyond its generic kind: BGP4-
// MIB peer transitions, with the peer's address.
func Classify(ev TrapEvent) TrapEvent {
	switch oid := strings.TrimPrefix(ev.TrapOID, "."); {
	case bgpDownTraps[oid]:
		ev.Kind, ev.BGPPeer = TrapBGPDown, bgpPeer(ev.Varbinds)
	case bgpUpTraps[oid]:
		ev.Kind, ev.BGPPeer = TrapBGPUp, bgpPeer(ev.Varbinds)
	}
	return ev
}

// BGP4-MIB notifications: RFC 4273 (bgp.0.N), RFC 1657 (bgpTraps = bgp.7,
// bgp.7.N) and an RFC 1657 SNMPv1 trap translated per RFC 3584 (bgp.7.0.N).
var (
	bgpUpTraps   = map[string]bool{"1.3.6.1.2.1.15.0.1": true, "1.3.6.1.2.1.15.7.1": true, "1.3.6.1.2.1.15.7.0.1": true}
	bgpDownTraps = map[string]bool{"1.3.6.1.2.1.15.0.2": true, "1.3.6.1.2.1.15.7.2": true, "1.3.6.1.2.1.15.7.0.2": true}
)

const oidBGPPeerEntry = "1.3.6.1.2.1.15.3.1."

// bgpPeer finds the peer address in a BGP notification: its varbinds are
// bgpPeerTable columns indexed by the remote address.
func bgpPeer(varbinds []string) string {
	for _, vb := range varbinds {
		oid, _, _ := strings.Cut(vb, "=")
		rest, ok := strings.CutPrefix(strings.TrimPrefix(oid, "."), oidBGPPeerEntry)
		if !ok {
			continue
		}
		if _, addr, ok := strings.Cut(rest, "."); ok && strings.Count(addr, ".") == 3 {
			return addr
		}
	}
	return "unknown peer"
}

// trapEnterprise derives the enterprise of a v2 trap OID, reversing RFC
// 3584's enterprise.0.specific mapping where it applies.
func trapEnterprise(oid string) string {
	i := strings.LastIndexByte(oid, '.')
	if i <= 0 {
		return oid
	}
	ent := oid[:i]
	if strings.HasSuffix(ent, ".0") {
		ent = ent[:len(ent)-2]
	}
	return ent
}

// trapIfIndex finds the interface in a link trap varbind: ifIndex's value,
// or the instance of an ifTable/ifXTable column (ifAdminStatus.N, ...).
func trapIfIndex(name string, v gosnmp.SnmpPDU) int {
	if under(name, trapOIDIfIndex) {
		if n, ok := pduInt(v); ok && n > 0 {
			return int(n)
		}
	}
	for _, entry := range []string{trapOIDIfEntry, trapOIDIfXEntry} {
		if _, index, ok := splitColumn(name, entry); ok {
			if n, ok := parseIndex1(index); ok && n > 0 {
				return n
			}
		}
	}
	return 0
}

// trapValue renders a varbind value for the event summary.
func trapValue(v gosnmp.SnmpPDU) string {
	var s string
	switch v.Type {
	case gosnmp.OctetString:
		b := pduBytes(v)
		if printable(b) {
			s = string(b)
		} else {
			s = formatMAC(b)
		}
	case gosnmp.ObjectIdentifier:
		s, _ = v.Value.(string)
		s = strings.TrimPrefix(s, ".")
	case gosnmp.IPAddress:
		s, _ = v.Value.(string)
	case gosnmp.Null, gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView:
		s = ""
	default:
		if n, ok := pduInt(v); ok {
			s = strconv.FormatInt(n, 10)
		} else if u, ok := pduUint(v); ok {
			s = strconv.FormatUint(u, 10)
		} else {
			s = fmt.Sprint(v.Value)
		}
	}
	if len(s) > maxTrapValueLen {
		s = s[:maxTrapValueLen]
	}
	return s
}
