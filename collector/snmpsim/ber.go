package snmpsim

// Responses are BER-encoded here rather than with gosnmp's
// SnmpPacket.MarshalMsg, for reasons measured against gosnmp v1.47.0:
//   - it writes the community length as a single byte, so a community of 128
//     bytes or more yields a malformed packet;
//   - ErrorIndex is a uint8, so a v1 error on varbind 256+ cannot be reported;
//   - it re-parses every OID string and allocates several buffers per varbind;
//     as a benchmark load generator we pre-encode each recorded varbind once
//     and a response becomes a copy of those bytes;
//   - capping the response size (tooBig, GETBULK truncation) needs the encoded
//     size as varbinds are added, which MarshalMsg only gives for the whole.
// Requests are still decoded with gosnmp.

import (
	"github.com/gosnmp/gosnmp"
)

// BER tags for the SNMPv2 exception values (RFC 3416), which carry no content.
const (
	tagNoSuchObject   = 0x80
	tagNoSuchInstance = 0x81
	tagEndOfMibView   = 0x82
)

func appendLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n <= 0xff:
		return append(b, 0x81, byte(n))
	case n <= 0xffff:
		return append(b, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func lengthLen(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case n <= 0xffffff:
		return 4
	}
	return 5
}

func appendTLV(b []byte, tag byte, content []byte) []byte {
	b = append(b, tag)
	b = appendLength(b, len(content))
	return append(b, content...)
}

// appendInt encodes a two's complement INTEGER in the fewest bytes.
func appendInt(b []byte, tag byte, v int64) []byte {
	n := 1
	for n < 8 {
		// Stop once the remaining high bytes are pure sign extension.
		shifted := v >> (8*n - 1)
		if shifted == 0 || shifted == -1 {
			break
		}
		n++
	}
	b = append(b, tag, byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// appendUint encodes an unsigned application type (Counter32, Gauge32,
// TimeTicks, Counter64), with a leading zero byte when the top bit is set.
func appendUint(b []byte, tag byte, v uint64) []byte {
	n := 1
	for n < 8 && v>>(8*n) != 0 {
		n++
	}
	pad := v>>(8*n-1)&1 == 1
	l := n
	if pad {
		l++
	}
	b = append(b, tag, byte(l))
	if pad {
		b = append(b, 0)
	}
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

func base128Len(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func appendBase128(b []byte, v uint64) []byte {
	n := base128Len(v)
	for i := n - 1; i >= 0; i-- {
		c := byte(v>>(7*i)) & 0x7f
		if i > 0 {
			c |= 0x80
		}
		b = append(b, c)
	}
	return b
}

// appendOID encodes an OBJECT IDENTIFIER TLV. The caller has checked the
// OID with validForBER.
func appendOID(b []byte, o OID) []byte {
	first := uint64(o[0])*40 + uint64(o[1])
	n := base128Len(first)
	for _, a := range o[2:] {
		n += base128Len(uint64(a))
	}
	b = append(b, byte(gosnmp.ObjectIdentifier))
	b = appendLength(b, n)
	b = appendBase128(b, first)
	for _, a := range o[2:] {
		b = appendBase128(b, uint64(a))
	}
	return b
}

// appendValue encodes v as a TLV.
func appendValue(b []byte, v Value) []byte {
	switch v.Type {
	case gosnmp.Integer:
		return appendInt(b, byte(v.Type), v.Int)
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Counter64, gosnmp.Uinteger32:
		return appendUint(b, byte(v.Type), v.Uint)
	case gosnmp.OctetString, gosnmp.Opaque, gosnmp.IPAddress, gosnmp.BitString:
		return appendTLV(b, byte(v.Type), v.Bytes)
	case gosnmp.ObjectIdentifier:
		if v.OID.validForBER() != "" {
			return appendOID(b, OID{0, 0})
		}
		return appendOID(b, v.OID)
	case gosnmp.NoSuchObject:
		return append(b, tagNoSuchObject, 0)
	case gosnmp.NoSuchInstance:
		return append(b, tagNoSuchInstance, 0)
	case gosnmp.EndOfMibView:
		return append(b, tagEndOfMibView, 0)
	}
	return append(b, byte(gosnmp.Null), 0)
}

// appendVarbind encodes SEQUENCE { name, value } from an already encoded
// OID TLV and a value; scratch is reused to avoid an allocation.
func appendVarbind(b, oidTLV []byte, v Value, scratch []byte) ([]byte, []byte) {
	scratch = appendValue(scratch[:0], v)
	b = append(b, 0x30)
	b = appendLength(b, len(oidTLV)+len(scratch))
	b = append(b, oidTLV...)
	return append(b, scratch...), scratch
}

// appendMessage writes a whole SNMPv1/v2c Response message around an
// encoded varbind list body (the varbinds, without their SEQUENCE header).
func appendMessage(b []byte, version int, community []byte, reqID int32, errStatus, errIndex int, vbl []byte) []byte {
	var hdr [48]byte
	pdu := hdr[:0]
	pdu = appendInt(pdu, byte(gosnmp.Integer), int64(reqID))
	pdu = appendInt(pdu, byte(gosnmp.Integer), int64(errStatus))
	pdu = appendInt(pdu, byte(gosnmp.Integer), int64(errIndex))
	vblLen := 1 + lengthLen(len(vbl)) + len(vbl)
	pduLen := len(pdu) + vblLen
	ver := []byte{byte(gosnmp.Integer), 1, byte(version)}
	msgLen := len(ver) + 1 + lengthLen(len(community)) + len(community) + 1 + lengthLen(pduLen) + pduLen

	b = append(b, 0x30)
	b = appendLength(b, msgLen)
	b = append(b, ver...)
	b = appendTLV(b, byte(gosnmp.OctetString), community)
	b = append(b, byte(gosnmp.GetResponse))
	b = appendLength(b, pduLen)
	b = append(b, pdu...)
	b = append(b, 0x30)
	b = appendLength(b, len(vbl))
	return append(b, vbl...)
}

// messageOverhead is an upper bound on appendMessage's bytes besides the
// varbinds, used to keep responses under the size cap.
func messageOverhead(community []byte, vblLen int) int {
	return 1 + 5 + 3 + 1 + lengthLen(len(community)) + len(community) + 1 + 5 + 3*6 + 1 + lengthLen(vblLen)
}
