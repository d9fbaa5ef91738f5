package snmpsim

import (
	"errors"
	"slices"
	"strconv"
	"strings"
)

// OID is a numeric object identifier. Comparing OIDs with [slices.Compare]
// gives SNMP's lexicographic order (a prefix sorts before its children).
type OID []uint32

// ParseOID parses a dotted decimal OID; a leading dot is accepted because
// gosnmp and net-snmp print OIDs that way.
func ParseOID(s string) (OID, error) {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return nil, errors.New("empty OID")
	}
	oid := make(OID, 0, strings.Count(s, ".")+1)
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.ParseUint(part, 10, 32)
		if err != nil {
			return nil, errors.New("OID arc " + strconv.Quote(part) + " is not a number in 0..4294967295")
		}
		oid = append(oid, uint32(n))
	}
	return oid, nil
}

// String prints the OID dotted, without a leading dot (the snmprec form).
func (o OID) String() string {
	b := make([]byte, 0, len(o)*4)
	for i, n := range o {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(n), 10)
	}
	return string(b)
}

// Compare orders OIDs the way SNMP GETNEXT walks them.
func (o OID) Compare(p OID) int { return slices.Compare(o, p) }

// HasPrefix reports whether p is a prefix of o (or equal to it).
func (o OID) HasPrefix(p OID) bool {
	return len(o) >= len(p) && slices.Equal(o[:len(p)], p)
}

// validForBER reports why the OID cannot be BER-encoded, or "" when it can:
// BER packs the first two arcs into one number (X.690 8.19.4).
func (o OID) validForBER() string {
	switch {
	case len(o) < 2:
		return "an OID needs at least two arcs"
	case o[0] > 2:
		return "the first OID arc must be 0, 1 or 2"
	case o[0] < 2 && o[1] >= 40:
		return "the second OID arc must be below 40 when the first is 0 or 1"
	case o[0] == 2 && o[1] > 0xffffffff-80:
		return "the second OID arc is too large"
	}
	return ""
}

// mustOID is for OIDs written in this package's source.
func mustOID(s string) OID {
	o, err := ParseOID(s)
	if err != nil {
		panic(err)
	}
	return o
}

// child returns o followed by arcs, in a new slice.
func (o OID) child(arcs ...uint32) OID {
	c := make(OID, 0, len(o)+len(arcs))
	c = append(c, o...)
	return append(c, arcs...)
}
