package snmpsim

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/gosnmp/gosnmp"
)

// Value is one SNMP value. Type says which field holds it:
//   - Integer: Int
//   - Counter32, Gauge32, TimeTicks, Counter64: Uint
//   - OctetString, Opaque, IPAddress (4 bytes): Bytes
//   - ObjectIdentifier: OID
//   - Null: nothing
type Value struct {
	Type  gosnmp.Asn1BER
	Int   int64
	Uint  uint64
	Bytes []byte
	OID   OID
}

// Record is one line of a recording.
type Record struct {
	OID   OID
	Value Value
	Line  int // 1-based line in the file the value came from
}

// Recording is a parsed .snmprec file: records sorted by OID, one per OID.
type Recording struct {
	Name    string
	Records []Record
	// Invalid lists lines that are well formed (OID|TAG|VALUE) but whose
	// tag is unknown or whose value cannot be decoded. LibreNMS sanitises some values
	// this way (4x|58AC78XXYYZZ in iosxe, 64|<private> in nxos_n3k-3064pq);
	// snmpsim cannot serve them either. They are left out of Records, so the
	// agent answers as if they had not been recorded.
	Invalid []*ParseError
}

// ParseError is a malformed line. Error() reads "file:line: what is wrong".
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ParseFile reads and parses one .snmprec file; errors name the file.
func ParseFile(ctx context.Context, path string) (*Recording, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read recording %s: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read recording: %w", err)
	}
	return Parse(filepath.Base(path), data)
}

// Parse parses the snmprec format described in the LibreNMS testdata
// README: OID|TAG|VALUE per line, split on the first two '|' only. name is
// used in error messages. Records come back sorted numerically by OID; when an
// OID repeats, the last line wins, as in snmpsim. A line without two '|' or
// with a bad OID is an error; an unknown tag or a value that cannot be
// decoded is listed in Recording.Invalid.
func Parse(name string, data []byte) (*Recording, error) {
	recs := make([]Record, 0, bytes.Count(data, []byte{'\n'})+1)
	var invalid []*ParseError
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		// Only '\n' splits lines: raw \x0b or \x0c bytes inside |4| values are data.
		line = bytes.TrimSuffix(line, []byte{'\r'})
		trimmed := bytes.TrimLeft(line, " \t")
		if len(trimmed) == 0 || trimmed[0] == '#' {
			continue
		}
		rec, msg, badValue := parseLine(line)
		if badValue {
			// An earlier good line for the same OID, if any, is served.
			invalid = append(invalid, &ParseError{File: name, Line: lineNo, Msg: msg})
			continue
		}
		if msg != "" {
			return nil, &ParseError{File: name, Line: lineNo, Msg: msg}
		}
		rec.Line = lineNo
		recs = append(recs, rec)
	}
	// Stable sort keeps file order among equal OIDs so the last one can win.
	slices.SortStableFunc(recs, func(a, b Record) int { return a.OID.Compare(b.OID) })
	out := recs[:0]
	for i, r := range recs {
		if i+1 < len(recs) && recs[i+1].OID.Compare(r.OID) == 0 {
			continue
		}
		out = append(out, r)
	}
	return &Recording{Name: name, Records: slices.Clip(out), Invalid: invalid}, nil
}

// Get returns the value recorded for oid.
func (r *Recording) Get(oid OID) (Value, bool) {
	i, ok := slices.BinarySearchFunc(r.Records, oid, func(rec Record, o OID) int { return rec.OID.Compare(o) })
	if !ok {
		return Value{}, false
	}
	return r.Records[i].Value, true
}

// parseLine returns the record, or what is wrong and whether only the
// value is (badValue).
func parseLine(line []byte) (rec Record, msg string, badValue bool) {
	oidText, rest, ok := bytes.Cut(line, []byte{'|'})
	if !ok {
		return Record{}, "expected OID|TAG|VALUE, found no '|'", false
	}
	tag, val, ok := bytes.Cut(rest, []byte{'|'})
	if !ok {
		return Record{}, "expected OID|TAG|VALUE, found only one '|'", false
	}
	oid, err := ParseOID(string(oidText))
	if err != nil {
		return Record{}, fmt.Sprintf("invalid OID %q: %v", oidText, err), false
	}
	if why := oid.validForBER(); why != "" {
		return Record{}, fmt.Sprintf("invalid OID %q: %s", oidText, why), false
	}
	if !knownTag(string(tag)) {
		// A line with a tag we cannot serve (a double suffix in a real
		// recording, a variation module) costs that OID, not the file.
		return Record{}, fmt.Sprintf("OID %s: unknown tag %q", oidText, tag), true
	}
	v, msg := parseValue(string(tag), val)
	if msg != "" {
		return Record{}, fmt.Sprintf("OID %s: %s", oidText, msg), true
	}
	return Record{OID: oid, Value: v}, "", false
}

// knownTag lists the snmprec tags this parser understands.
func knownTag(tag string) bool {
	switch tag {
	case "2", "4", "4x", "4e", "5", "6", "64", "64x", "64e", "65", "66", "67", "68", "68x", "70":
		return true
	}
	return false
}

func parseValue(tag string, val []byte) (Value, string) {
	base, enc := tag, byte(0)
	if n := len(tag); n > 1 && (tag[n-1] == 'x' || tag[n-1] == 'e') {
		base, enc = tag[:n-1], tag[n-1]
	}
	raw := val
	switch enc {
	case 'x':
		b, err := hex.DecodeString(string(val)) // accepts both letter cases
		if err != nil {
			return Value{}, fmt.Sprintf("tag %s: invalid hex %q", tag, abbrev(val))
		}
		raw = b
	case 'e':
		b, err := unescapePython(val)
		if err != nil {
			return Value{}, fmt.Sprintf("tag %s: %v", tag, err)
		}
		raw = b
	}
	// Encoded forms exist only for types whose value is a byte string.
	if enc != 0 && base != "4" && base != "64" && base != "68" {
		return Value{}, fmt.Sprintf("unknown tag %q", tag)
	}
	switch base {
	case "2":
		n, err := strconv.ParseInt(string(val), 10, 32)
		if err != nil {
			return Value{}, fmt.Sprintf("tag 2: invalid INTEGER %q (want a signed 32-bit decimal)", abbrev(val))
		}
		return Value{Type: gosnmp.Integer, Int: n}, ""
	case "4":
		return Value{Type: gosnmp.OctetString, Bytes: bytes.Clone(raw)}, ""
	case "5":
		if len(val) != 0 {
			return Value{}, fmt.Sprintf("tag 5: NULL takes no value, found %q", abbrev(val))
		}
		return Value{Type: gosnmp.Null}, ""
	case "6":
		o, err := ParseOID(string(val))
		if err != nil {
			return Value{}, fmt.Sprintf("tag 6: invalid OBJECT IDENTIFIER %q: %v", abbrev(val), err)
		}
		if why := o.validForBER(); why != "" {
			return Value{}, fmt.Sprintf("tag 6: invalid OBJECT IDENTIFIER %q: %s", abbrev(val), why)
		}
		return Value{Type: gosnmp.ObjectIdentifier, OID: o}, ""
	case "64":
		if enc == 0 {
			a, err := netip.ParseAddr(string(val))
			if err != nil || !a.Is4() {
				return Value{}, fmt.Sprintf("tag 64: invalid IpAddress %q (want a dotted quad)", abbrev(val))
			}
			b := a.As4()
			raw = b[:]
		}
		if len(raw) != 4 {
			return Value{}, fmt.Sprintf("tag %s: IpAddress must be 4 bytes, found %d", tag, len(raw))
		}
		return Value{Type: gosnmp.IPAddress, Bytes: bytes.Clone(raw)}, ""
	case "65", "66", "67":
		n, err := strconv.ParseUint(string(val), 10, 32)
		if err != nil {
			return Value{}, fmt.Sprintf("tag %s: invalid %s %q (want an unsigned 32-bit decimal)", tag, typeName(base), abbrev(val))
		}
		t := gosnmp.TimeTicks
		switch base {
		case "65":
			t = gosnmp.Counter32
		case "66":
			t = gosnmp.Gauge32
		}
		return Value{Type: t, Uint: n}, ""
	case "68":
		return Value{Type: gosnmp.Opaque, Bytes: bytes.Clone(raw)}, ""
	case "70":
		n, err := strconv.ParseUint(string(val), 10, 64)
		if err != nil {
			return Value{}, fmt.Sprintf("tag 70: invalid Counter64 %q (want an unsigned 64-bit decimal)", abbrev(val))
		}
		return Value{Type: gosnmp.Counter64, Uint: n}, ""
	}
	return Value{}, fmt.Sprintf("unknown tag %q", tag)
}

func typeName(tag string) string {
	switch tag {
	case "65":
		return "Counter32"
	case "66":
		return "Gauge32"
	}
	return "TimeTicks"
}

// abbrev keeps error messages short when a bad value is a long blob.
func abbrev(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// unescapePython decodes the escapes snmpsim's "e" tags use (Python's
// escape_decode on bytes): \\ \' \" \a \b \f \n \r \t \v, \xNN and octal
// \o to \ooo. Any other escape is kept as written, as Python does.
func unescapePython(s []byte) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 >= len(s) {
			return nil, fmt.Errorf("trailing '\\' at byte %d", i)
		}
		i++
		switch e := s[i]; e {
		case '\\', '\'', '"':
			out = append(out, e)
		case 'a':
			out = append(out, '\a')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case 'x':
			if i+2 >= len(s) {
				return nil, fmt.Errorf("invalid \\x escape at byte %d", i-1)
			}
			b, err := hex.DecodeString(string(s[i+1 : i+3]))
			if err != nil {
				return nil, fmt.Errorf("invalid \\x escape at byte %d", i-1)
			}
			out = append(out, b[0])
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			n, j := 0, i
			for ; j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7'; j++ {
				n = n*8 + int(s[j]-'0')
			}
			out = append(out, byte(n)) // Python also truncates \400..\777 to a byte
			i = j - 1
		default:
			out = append(out, '\\', e)
		}
	}
	return out, nil
}
