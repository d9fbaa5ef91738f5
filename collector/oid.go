package collector

import (
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"
)

// OIDs are kept in gosnmp's form, with a leading dot, so names in responses
// compare to them without any conversion.

// normOID returns oid with exactly one leading dot.
func normOID(oid string) string {
	if strings.HasPrefix(oid, ".") {
		return oid
	}
	return "." + oid
}

// under reports whether oid lies strictly inside the subtree root.
func under(oid, root string) bool {
	return len(oid) > len(root) && oid[len(root)] == '.' && strings.HasPrefix(oid, root)
}

// splitColumn cuts a table entry OID such as .1.3.6.1.2.1.2.2.1.10.7 into its
// column (10) and index ("7"). entry is the entry OID without a trailing dot.
// It allocates nothing: the index is a substring of oid.
func splitColumn(oid, entry string) (col int, index string, ok bool) {
	if !under(oid, entry) {
		return 0, "", false
	}
	rest := oid[len(entry)+1:]
	col, n, ok := parseArc(rest)
	if !ok || n >= len(rest) || rest[n] != '.' {
		return 0, "", false
	}
	return col, rest[n+1:], true
}

// parseArc parses the decimal arc at the start of s and returns it with the
// number of bytes it used.
func parseArc(s string) (v int, n int, ok bool) {
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		v = v*10 + int(s[n]-'0')
		if v > 1<<32 {
			return 0, 0, false
		}
		n++
	}
	return v, n, n > 0
}

// parseIndex1 parses an index made of exactly one arc.
func parseIndex1(index string) (int, bool) {
	v, n, ok := parseArc(index)
	if !ok || n != len(index) {
		return 0, false
	}
	return v, true
}

// indexArcs parses a multi-arc index into dst, reusing its storage.
func indexArcs(index string, dst []int) ([]int, bool) {
	dst = dst[:0]
	for len(index) > 0 {
		v, n, ok := parseArc(index)
		if !ok {
			return dst, false
		}
		dst = append(dst, v)
		index = index[n:]
		if len(index) > 0 {
			if index[0] != '.' || len(index) == 1 {
				return dst, false
			}
			index = index[1:]
		}
	}
	return dst, len(dst) > 0
}

// compareOID orders two dotted OIDs numerically, arc by arc.
func compareOID(a, b string) int {
	a = strings.TrimPrefix(a, ".")
	b = strings.TrimPrefix(b, ".")
	for a != "" && b != "" {
		x, n, _ := parseArc(a)
		y, m, _ := parseArc(b)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
		a = strings.TrimPrefix(a[n:], ".")
		b = strings.TrimPrefix(b[m:], ".")
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	default:
		return 1
	}
}

// absent reports whether a varbind carries no value: the agent's way of
// saying the object or instance does not exist, or the walk ran off the MIB.
func absent(pdu gosnmp.SnmpPDU) bool {
	switch pdu.Type {
	case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null:
		return true
	}
	return false
}

// pduBytes returns the raw bytes of an OCTET STRING.
func pduBytes(pdu gosnmp.SnmpPDU) []byte {
	switch v := pdu.Value.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return nil
}

// pduString returns an OCTET STRING as text, trimmed of the NULs and blanks
// some agents pad with. Binary values that are not UTF-8 come back as hex so
// they survive JSON.
func pduString(pdu gosnmp.SnmpPDU) string {
	var s string
	switch v := pdu.Value.(type) {
	case []byte:
		s = string(v)
	case string:
		s = v
	default:
		return ""
	}
	s = strings.Trim(s, " \t\r\n\x00")
	if !utf8.ValidString(s) {
		return hex.EncodeToString([]byte(s))
	}
	return s
}

// pduUint returns any numeric varbind as an unsigned value. Negative
// INTEGERs are read as their 32-bit two's complement, which is what agents
// that overflow an Integer32 size or speed mean.
func pduUint(pdu gosnmp.SnmpPDU) (uint64, bool) {
	switch v := pdu.Value.(type) {
	case uint64:
		return v, true
	case uint:
		return uint64(v), true
	case uint32:
		return uint64(v), true
	case int:
		if v < 0 {
			return uint64(uint32(int32(v))), true
		}
		return uint64(v), true
	case int64:
		if v < 0 {
			return uint64(uint32(int32(v))), true
		}
		return uint64(v), true
	}
	return 0, false
}

// pduInt returns a numeric varbind as a signed value.
func pduInt(pdu gosnmp.SnmpPDU) (int64, bool) {
	switch v := pdu.Value.(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case uint:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint64:
		if v > 1<<63-1 {
			return 0, false
		}
		return int64(v), true
	}
	return 0, false
}

// formatMAC renders 6 (or 8) raw bytes as aa:bb:cc:dd:ee:ff.
func formatMAC(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	const digits = "0123456789abcdef"
	out := make([]byte, 0, len(b)*3-1)
	for i, c := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, digits[c>>4], digits[c&0xf])
	}
	return string(out)
}

// printable reports whether b is plain text worth showing as a string.
func printable(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' {
			return false
		}
	}
	return true
}
