package collector

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// fuzzTables are the table entries and groups the decoders read.
var fuzzTables = []string{
	".1.3.6.1.2.1.1",              // system
	".1.3.6.1.2.1.2.2.1",          // ifEntry
	".1.3.6.1.2.1.31.1.1.1",       // ifXEntry
	".1.3.6.1.2.1.47.1.1.1.1",     // entPhysicalEntry
	".1.3.6.1.2.1.25.3.3.1",       // hrProcessorEntry
	".1.3.6.1.2.1.25.2.3.1",       // hrStorageEntry
	".1.3.6.1.2.1.99.1.1.1",       // entPhySensorEntry
	".1.0.8802.1.1.2.1.4.1.1",     // lldpRemEntry
	".1.0.8802.1.1.2.1.3.7.1",     // lldpLocPortEntry
	".1.3.6.1.4.1.9.9.23.1.2.1.1", // cdpCacheEntry
	".1.3.6.1.2.1.15.3.1",         // bgpPeerEntry
}

var fuzzTypes = []gosnmp.Asn1BER{gosnmp.Integer, gosnmp.OctetString, gosnmp.Counter32, gosnmp.Counter64,
	gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.ObjectIdentifier, gosnmp.IPAddress, gosnmp.Null,
	gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Opaque}

// pdusFrom turns fuzz bytes into varbinds under the decoders' tables: a
// device that answers with anything, of any type, at any index.
func pdusFrom(data []byte) []gosnmp.SnmpPDU {
	var pdus []gosnmp.SnmpPDU
	for len(data) >= 6 && len(pdus) < 512 {
		table := fuzzTables[int(data[0])%len(fuzzTables)]
		col := int(data[1] % 40)
		typ := fuzzTypes[int(data[2])%len(fuzzTypes)]
		nIdx := int(data[3]%3) + 1
		vlen := int(data[4] % 24)
		data = data[5:]
		var b strings.Builder
		b.WriteString(table + "." + strconv.Itoa(col))
		for i := 0; i < nIdx && len(data) > 0; i++ {
			b.WriteString("." + strconv.Itoa(int(data[0])))
			data = data[1:]
		}
		vlen = min(vlen, len(data))
		raw := data[:vlen]
		data = data[vlen:]
		var n uint64
		for _, c := range raw {
			n = n<<8 | uint64(c)
		}
		var v any
		switch typ {
		case gosnmp.OctetString, gosnmp.Opaque:
			v = append([]byte(nil), raw...)
		case gosnmp.Integer:
			v = int(int64(n))
		case gosnmp.Counter64:
			v = n
		case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks:
			v = uint(uint32(n))
		case gosnmp.ObjectIdentifier:
			v = ".1.3.6.1.4.1." + strconv.FormatUint(n%100000, 10)
		case gosnmp.IPAddress:
			v = netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String()
		}
		pdus = append(pdus, gosnmp.SnmpPDU{Name: b.String(), Type: typ, Value: v})
	}
	return pdus
}

// FuzzDecoders feeds every decoder whatever a broken or hostile agent might
// send; none may panic.
func FuzzDecoders(f *testing.F) {
	f.Add([]byte{1, 2, 1, 0, 4, 7, 'e', 't', 'h', '0'})
	f.Add([]byte{3, 16, 2, 1, 1, 9, 1, 5, 1, 1, 1, 1, 1, 1})
	f.Add([]byte{7, 9, 1, 2, 3, 0, 4, 5, 'x', 'y', 'z', 'q', 'r'})
	f.Fuzz(func(t *testing.T, data []byte) {
		pdus := pdusFrom(data)
		decodeSystem(pdus)
		ifs := decodeInterfaces(pdus)
		ents, _, _, _ := decodeEntities(pdus)
		decodeCPU(pdus)
		decodeStorage(pdus)
		decodeSensors(pdus, ents)
		decodeLLDP(pdus, ifs)
		decodeCDP(pdus, ifs)
		decodeBGP(pdus)
	})
}

// captureTrap returns the datagram g sends for trap, caught on a local
// socket instead of a receiver.
func captureTrap(f *testing.F, g *gosnmp.GoSNMP, trap gosnmp.SnmpTrap) []byte {
	f.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer pc.Close()
	g.Target, g.Port = "127.0.0.1", uint16(pc.LocalAddr().(*net.UDPAddr).Port)
	g.Timeout, g.Retries, g.Logger = time.Second, 0, gosnmp.Logger{}
	if err := g.Connect(); err != nil {
		f.Fatal(err)
	}
	defer g.Conn.Close()
	if _, err := g.SendTrap(trap); err != nil {
		f.Fatalf("SendTrap: %v", err)
	}
	buf := make([]byte, 65535)
	_ = pc.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		f.Fatalf("capture trap: %v", err)
	}
	return buf[:n]
}

// FuzzTrapPacket: the trap port accepts any datagram from anyone; the
// receiver must count garbage, never fall over. It calls process, not
// handle: handle recovers from a panic (the receiver must survive one in
// production), which would hide a decoder panic from the fuzzer.
func FuzzTrapPacket(f *testing.F) {
	r, err := ListenTraps(context.Background(), "127.0.0.1:0", trapInventory("127.0.0.1:161"), TrapOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { r.Close() })
	good := gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: trapCommunity, PDUType: gosnmp.SNMPv2Trap,
		Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(5)},
			{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.6.3.1.1.5.3"}}}
	if b, err := good.MarshalMsg(); err == nil {
		f.Add(b)
	}
	linkDown := gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{trapOID(".1.3.6.1.6.3.1.1.5.3"),
		{Name: ".1.3.6.1.2.1.2.2.1.1.3", Type: gosnmp.Integer, Value: 3}}}
	f.Add(captureTrap(f, v3Sender(trapAuthKey, "\x80\x00\x1f\x88\x04sender-1"), linkDown))
	f.Add(captureTrap(f, v3Sender("wrong-auth-key", "\x80\x00\x1f\x88\x04sender-1"), linkDown))
	f.Add(captureTrap(f, v1Sender(trapV1Comm), gosnmp.SnmpTrap{Enterprise: ".1.3.6.1.4.1.9", AgentAddress: "127.0.0.1",
		GenericTrap: 2, Variables: linkDown.Variables[1:]}))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Add([]byte{})
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	f.Fuzz(func(t *testing.T, msg []byte) {
		r.process(msg, from)
	})
}
