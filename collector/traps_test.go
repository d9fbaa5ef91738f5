package collector

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/nocagent/nocagent/inventory"
)

// Secrets the tests put in the inventory; none may reach a log.
const (
	trapCommunity = "tr4p-s3cret"
	trapV1Comm    = "v1-s3cret"
	trapUser      = "trapper"
	trapAuthKey   = "auth-k3y-s3cret"
	trapPrivKey   = "priv-k3y-s3cret"
)

func trapInventory(swAddr string) *inventory.Config {
	return &inventory.Config{
		Credentials: []inventory.Credential{
			{Name: "v2", Version: "2c", Community: trapCommunity},
			{Name: "v1", Version: "1", Community: trapV1Comm},
			{Name: "v3", Version: "3", Username: trapUser, SecurityLevel: "authPriv", AuthProtocol: "SHA", AuthKey: trapAuthKey, PrivProtocol: "AES", PrivKey: trapPrivKey},
		},
		Devices: []inventory.Device{
			{Name: "sw1", Address: swAddr, Credential: "v2", Role: "access"},
			{Name: "host-named", Address: "switch.example.net:161", Credential: "v2", Role: "access"},
		},
	}
}

type trapHarness struct {
	r      *TrapReceiver
	port   uint16
	events chan TrapEvent
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startTraps(t *testing.T, cfg *inventory.Config) *trapHarness {
	t.Helper()
	h := &trapHarness{events: make(chan TrapEvent, 64), logs: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	r, err := ListenTraps(ctx, "127.0.0.1:0", cfg, TrapOptions{
		OnEvent: func(e TrapEvent) { h.events <- e },
		Logger:  log,
		Now:     func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	h.port = uint16(r.Addr().(*net.UDPAddr).Port)
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
		for _, s := range []string{trapCommunity, trapV1Comm, trapAuthKey, trapPrivKey, "wrong-community", "wrong-auth-key"} {
			if strings.Contains(h.logs.String(), s) {
				t.Errorf("a secret (%q) reached the log:\n%s", s, h.logs.String())
			}
		}
		if strings.Contains(h.logs.String(), "panic") {
			t.Errorf("the decoder panicked:\n%s", h.logs.String())
		}
	})
	return h
}

func (h *trapHarness) next(t *testing.T) TrapEvent {
	t.Helper()
	select {
	case e := <-h.events:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no trap event within 5s")
	}
	return TrapEvent{}
}

// none asserts that no event arrives: a later valid trap proves the
// earlier datagram was handled (one socket, handled in order).
func (h *trapHarness) none(t *testing.T) {
	t.Helper()
	send(t, h, v2Sender(trapCommunity, ""), gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{trapOID("1.3.6.1.6.3.1.1.5.1")}})
	if e := h.next(t); e.Kind != TrapColdStart {
		t.Fatalf("got %+v, want only the coldStart sent as a marker", e)
	}
}

func v2Sender(community, local string) *gosnmp.GoSNMP {
	return &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: community, LocalAddr: local}
}

func v1Sender(community string) *gosnmp.GoSNMP {
	return &gosnmp.GoSNMP{Version: gosnmp.Version1, Community: community}
}

func v3Sender(authKey string, engineID string) *gosnmp.GoSNMP {
	return &gosnmp.GoSNMP{
		Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.AuthPriv,
		SecurityParameters: &gosnmp.UsmSecurityParameters{
			UserName: trapUser, AuthenticationProtocol: gosnmp.SHA, AuthenticationPassphrase: authKey,
			PrivacyProtocol: gosnmp.AES, PrivacyPassphrase: trapPrivKey,
			AuthoritativeEngineID: engineID, AuthoritativeEngineBoots: 1, AuthoritativeEngineTime: 1,
		},
	}
}

func send(t *testing.T, h *trapHarness, g *gosnmp.GoSNMP, trap gosnmp.SnmpTrap) {
	t.Helper()
	g.Target, g.Port = "127.0.0.1", h.port
	g.Timeout, g.Retries = 2*time.Second, 1
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	if _, err := g.SendTrap(trap); err != nil {
		t.Fatalf("SendTrap: %v", err)
	}
}

func trapOID(oid string) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: "1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: oid}
}

func TestTrapsOverUDP(t *testing.T) {
	h := startTraps(t, trapInventory("127.0.0.1"))
	uptime := gosnmp.SnmpPDU{Name: "1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(12345)}
	tests := []struct {
		name   string
		sender *gosnmp.GoSNMP
		trap   gosnmp.SnmpTrap
		want   TrapEvent
	}{
		{
			name:   "v2c linkDown",
			sender: v2Sender(trapCommunity, ""),
			trap: gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{uptime, trapOID("1.3.6.1.6.3.1.1.5.3"),
				{Name: "1.3.6.1.2.1.2.2.1.1.7", Type: gosnmp.Integer, Value: 7},
				{Name: "1.3.6.1.2.1.2.2.1.7.7", Type: gosnmp.Integer, Value: 1},
				{Name: "1.3.6.1.2.1.2.2.1.8.7", Type: gosnmp.Integer, Value: 2},
				{Name: "1.3.6.1.2.1.31.1.1.1.1.7", Type: gosnmp.OctetString, Value: "Gi1/0/7"}}},
			want: TrapEvent{Source: "127.0.0.1", Device: "sw1", Kind: TrapLinkDown, TrapOID: ".1.3.6.1.6.3.1.1.5.3", IfIndex: 7, Version: "2c",
				Varbinds: []string{"1.3.6.1.2.1.2.2.1.1.7=7", "1.3.6.1.2.1.2.2.1.7.7=1", "1.3.6.1.2.1.2.2.1.8.7=2", "1.3.6.1.2.1.31.1.1.1.1.7=Gi1/0/7"}},
		},
		{
			name:   "v2c linkUp names the port by ifOperStatus only",
			sender: v2Sender(trapCommunity, ""),
			trap:   gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{trapOID("1.3.6.1.6.3.1.1.5.4"), {Name: "1.3.6.1.2.1.2.2.1.8.12", Type: gosnmp.Integer, Value: 1}}},
			want: TrapEvent{Source: "127.0.0.1", Device: "sw1", Kind: TrapLinkUp, TrapOID: ".1.3.6.1.6.3.1.1.5.4", IfIndex: 12, Version: "2c",
				Varbinds: []string{"1.3.6.1.2.1.2.2.1.8.12=1"}},
		},
		{
			name:   "v2c vendor trap keeps the enterprise",
			sender: v2Sender(trapCommunity, ""),
			trap: gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{trapOID("1.3.6.1.4.1.2636.4.1.1"),
				{Name: "1.3.6.1.4.1.2636.3.1.13.1.5.2.1.0.0", Type: gosnmp.OctetString, Value: "PEM 0"}}},
			want: TrapEvent{Source: "127.0.0.1", Device: "sw1", Kind: TrapVendor, TrapOID: ".1.3.6.1.4.1.2636.4.1.1", Enterprise: ".1.3.6.1.4.1.2636.4.1", Version: "2c",
				Varbinds: []string{"1.3.6.1.4.1.2636.3.1.13.1.5.2.1.0.0=PEM 0"}},
		},
		{
			name:   "v2c inform is acknowledged",
			sender: v2Sender(trapCommunity, ""),
			trap:   gosnmp.SnmpTrap{IsInform: true, Variables: []gosnmp.SnmpPDU{trapOID("1.3.6.1.6.3.1.1.5.5")}},
			want:   TrapEvent{Source: "127.0.0.1", Device: "sw1", Kind: TrapAuthFailure, TrapOID: ".1.3.6.1.6.3.1.1.5.5", Version: "2c", Inform: true, Varbinds: []string{}},
		},
		{
			name:   "v1 generic linkUp",
			sender: v1Sender(trapV1Comm),
			trap: gosnmp.SnmpTrap{Enterprise: "1.3.6.1.4.1.9.1.516", AgentAddress: "127.0.0.1", GenericTrap: 3, Timestamp: 300,
				Variables: []gosnmp.SnmpPDU{{Name: "1.3.6.1.2.1.2.2.1.1.3", Type: gosnmp.Integer, Value: 3}}},
			want: TrapEvent{Source: "127.0.0.1", Device: "sw1", Kind: TrapLinkUp, TrapOID: ".1.3.6.1.6.3.1.1.5.4", IfIndex: 3, Version: "1",
				Varbinds: []string{"1.3.6.1.2.1.2.2.1.1.3=3"}},
		},
		{
			name:   "v1 enterprise-specific",
			sender: v1Sender(trapV1Comm),
			trap: gosnmp.SnmpTrap{Enterprise: "1.3.6.1.4.1.9.9.41.2", AgentAddress: "127.0.0.1", GenericTrap: 6, SpecificTrap: 1,
				Variables: []gosnmp.SnmpPDU{{Name: "1.3.6.1.4.1.9.9.41.1.2.3.1.5.7", Type: gosnmp.OctetString, Value: "%LINK-3-UPDOWN"}}},
			want: TrapEvent{Source: "127.0.0.1", Device: "sw1", Kind: TrapVendor, TrapOID: ".1.3.6.1.4.1.9.9.41.2.0.1", Enterprise: ".1.3.6.1.4.1.9.9.41.2", Version: "1",
				Varbinds: []string{"1.3.6.1.4.1.9.9.41.1.2.3.1.5.7=%LINK-3-UPDOWN"}},
		},
		{
			name:   "v3 authPriv trap",
			sender: v3Sender(trapAuthKey, "\x80\x00\x1f\x88\x04sender-1"),
			trap:   gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{trapOID("1.3.6.1.6.3.1.1.5.2")}},
			want:   TrapEvent{Source: "127.0.0.1", Device: "sw1", Kind: TrapWarmStart, TrapOID: ".1.3.6.1.6.3.1.1.5.2", Version: "3", Varbinds: []string{}},
		},
		{
			// The sender discovers the receiver's engine ID first.
			name:   "v3 inform",
			sender: v3Sender(trapAuthKey, ""),
			trap:   gosnmp.SnmpTrap{IsInform: true, Variables: []gosnmp.SnmpPDU{trapOID("1.3.6.1.6.3.1.1.5.3"), {Name: "1.3.6.1.2.1.2.2.1.1.4", Type: gosnmp.Integer, Value: 4}}},
			want: TrapEvent{Source: "127.0.0.1", Device: "sw1", Kind: TrapLinkDown, TrapOID: ".1.3.6.1.6.3.1.1.5.3", IfIndex: 4, Version: "3", Inform: true,
				Varbinds: []string{"1.3.6.1.2.1.2.2.1.1.4=4"}},
		},
		{
			name:   "unknown source",
			sender: v2Sender(trapCommunity, "127.0.0.3:0"),
			trap:   gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{trapOID("1.3.6.1.6.3.1.1.5.1")}},
			want:   TrapEvent{Source: "127.0.0.3", Device: "", Kind: TrapColdStart, TrapOID: ".1.3.6.1.6.3.1.1.5.1", Version: "2c", Varbinds: []string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send(t, h, tt.sender, tt.trap)
			got := h.next(t)
			tt.want.Time = got.Time
			if !got.Time.Equal(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)) {
				t.Errorf("Time = %v, want the injected now", got.Time)
			}
			if !equalEvents(got, tt.want) {
				t.Errorf("event\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	st := h.r.Stats()
	wantRecv := map[string]uint64{TrapLinkDown: 2, TrapLinkUp: 2, TrapVendor: 2, TrapAuthFailure: 1, TrapWarmStart: 1, TrapColdStart: 1}
	if !mapsEqual(st.Received, wantRecv) || st.UnknownSource != 1 || st.InformsAcked != 2 || st.Malformed != 0 || st.Rejected != 0 {
		t.Errorf("stats = %+v, want received %v, 1 unknown source, 2 informs acked", st, wantRecv)
	}
}

func TestTrapsRejectedAndMalformed(t *testing.T) {
	h := startTraps(t, trapInventory("127.0.0.1:161"))
	coldStart := gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{trapOID("1.3.6.1.6.3.1.1.5.1")}}

	send(t, h, v2Sender("wrong-community", ""), coldStart)
	send(t, h, v1Sender("wrong-community"), gosnmp.SnmpTrap{Enterprise: "1.3.6.1.4.1.9", AgentAddress: "127.0.0.1", GenericTrap: 0})
	send(t, h, v3Sender("wrong-auth-key", "\x80\x00\x1f\x88\x04sender-1"), coldStart)
	h.none(t)

	// Garbage and non-trap PDUs straight onto the socket.
	get, err := (&gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: trapCommunity}).MkSnmpPacket(gosnmp.GetRequest, []gosnmp.SnmpPDU{{Name: "1.3.6.1.2.1.1.1.0", Type: gosnmp.Null}}, 0, 0).MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(h.port)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	junk := [][]byte{{}, {0x30}, []byte("hello, not snmp"), {0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, {0x30, 0x03, 0x02, 0x01, 0x01}, get}
	for _, b := range junk {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	h.none(t)

	st := h.r.Stats()
	// The empty datagram counts too: something arrived that is no trap.
	if st.Rejected != 3 || st.Malformed != uint64(len(junk)) || st.Received[TrapColdStart] != 2 {
		t.Errorf("stats = %+v, want 3 rejected, %d malformed, 2 coldStart markers", st, len(junk))
	}
}

// Every prefix of a real trap, fed to the decoder, is counted as malformed
// and none crashes it.
func TestTrapTruncated(t *testing.T) {
	h := startTraps(t, trapInventory("127.0.0.1"))
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: trapCommunity}
	pkt := g.MkSnmpPacket(gosnmp.SNMPv2Trap, []gosnmp.SnmpPDU{
		{Name: "1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(5)}, trapOID("1.3.6.1.6.3.1.1.5.3"),
		{Name: "1.3.6.1.2.1.2.2.1.1.2", Type: gosnmp.Integer, Value: 2}}, 0, 0)
	full, err := pkt.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	for n := range len(full) {
		h.r.handle(slices.Clone(full[:n]), from)
	}
	h.r.handle(full, from)
	if e := h.next(t); e.Kind != TrapLinkDown || e.IfIndex != 2 {
		t.Errorf("full packet: %+v", e)
	}
	select {
	case e := <-h.events:
		t.Errorf("a truncated packet became an event: %+v", e)
	default:
	}
	if st := h.r.Stats(); st.Malformed+st.Rejected != uint64(len(full)) {
		t.Errorf("stats = %+v, want all %d prefixes refused", st, len(full))
	}
}

func TestTrapSetInventory(t *testing.T) {
	h := startTraps(t, trapInventory("127.0.0.9"))
	coldStart := gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{trapOID("1.3.6.1.6.3.1.1.5.1")}}
	send(t, h, v2Sender(trapCommunity, ""), coldStart)
	if e := h.next(t); e.Device != "" {
		t.Errorf("before reload: device %q, want none", e.Device)
	}
	if err := h.r.SetInventory(trapInventory("127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	send(t, h, v2Sender(trapCommunity, ""), coldStart)
	if e := h.next(t); e.Device != "sw1" {
		t.Errorf("after reload: device %q, want sw1", e.Device)
	}
}

func TestPeekSNMPVersion(t *testing.T) {
	tests := []struct {
		b    []byte
		want int
	}{
		{[]byte{0x30, 0x03, 0x02, 0x01, 0x00}, 0},
		{[]byte{0x30, 0x03, 0x02, 0x01, 0x01}, 1},
		{[]byte{0x30, 0x81, 0x03, 0x02, 0x01, 0x03}, 3},
		{[]byte{0x30, 0x03, 0x04, 0x01, 0x01}, -1},
		{[]byte{0x30, 0x84}, -1},
		{[]byte{0x31, 0x03, 0x02, 0x01, 0x01}, -1},
		{nil, -1},
	}
	for _, tt := range tests {
		if got := peekSNMPVersion(tt.b); got != tt.want {
			t.Errorf("peekSNMPVersion(% x) = %d, want %d", tt.b, got, tt.want)
		}
	}
}

func TestTrapEnterprise(t *testing.T) {
	for oid, want := range map[string]string{
		".1.3.6.1.4.1.9.9.41.2.0.1": ".1.3.6.1.4.1.9.9.41.2", // RFC 3584 form
		".1.3.6.1.4.1.2636.4.1.1":   ".1.3.6.1.4.1.2636.4.1",
		"":                          "",
	} {
		if got := trapEnterprise(oid); got != want {
			t.Errorf("trapEnterprise(%q) = %q, want %q", oid, got, want)
		}
	}
}

func equalEvents(a, b TrapEvent) bool {
	return a.Time.Equal(b.Time) && a.Source == b.Source && a.Device == b.Device && a.Kind == b.Kind &&
		a.TrapOID == b.TrapOID && a.Enterprise == b.Enterprise && a.IfIndex == b.IfIndex &&
		slices.Equal(a.Varbinds, b.Varbinds) && a.Version == b.Version && a.Inform == b.Inform
}

func mapsEqual(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
