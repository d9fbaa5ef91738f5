package snmpsim

import (
	"slices"
	"time"

	"github.com/gosnmp/gosnmp"
)

// entry is one object instance a device serves. Static values are encoded
// once (vb); values that change with time are computed per request (dyn).
type entry struct {
	oid    OID
	oidTLV []byte
	typ    gosnmp.Asn1BER
	vb     []byte                    // whole varbind TLV, when static
	dyn    func(now time.Time) Value // when the value depends on time
}

// table is an immutable, sorted view of a device's objects. Devices swap a
// new table in when their state changes, so readers never lock.
type table struct {
	entries []entry
	// nextV1[i] is the first index >= i that SNMPv1 may see: v1 has no
	// Counter64, so v1 agents skip those objects (RFC 3584 4.2.2.1).
	nextV1 []int32
}

func newStaticEntry(oid OID, v Value) entry {
	e := entry{oid: oid, oidTLV: appendOID(nil, oid), typ: v.Type}
	e.vb, _ = appendVarbind(nil, e.oidTLV, v, nil)
	return e
}

func newDynEntry(oid OID, typ gosnmp.Asn1BER, f func(time.Time) Value) entry {
	return entry{oid: oid, oidTLV: appendOID(nil, oid), typ: typ, dyn: f}
}

// newTable sorts entries (the last of equal OIDs wins) and indexes them.
func newTable(entries []entry) *table {
	slices.SortStableFunc(entries, func(a, b entry) int { return a.oid.Compare(b.oid) })
	out := entries[:0]
	for i, e := range entries {
		if i+1 < len(entries) && entries[i+1].oid.Compare(e.oid) == 0 {
			continue
		}
		out = append(out, e)
	}
	t := &table{entries: slices.Clip(out), nextV1: make([]int32, len(out)+1)}
	t.nextV1[len(out)] = int32(len(out))
	for i := len(out) - 1; i >= 0; i-- {
		if out[i].typ == gosnmp.Counter64 {
			t.nextV1[i] = t.nextV1[i+1]
		} else {
			t.nextV1[i] = int32(i)
		}
	}
	return t
}

func tableFromRecording(r *Recording) *table {
	es := make([]entry, len(r.Records))
	for i, rec := range r.Records {
		es[i] = newStaticEntry(rec.OID, rec.Value)
	}
	return newTable(es)
}

// search returns the index of the first entry >= oid and whether it is equal.
func (t *table) search(oid OID) (int, bool) {
	return slices.BinarySearchFunc(t.entries, oid, func(e entry, o OID) int { return e.oid.Compare(o) })
}

// visible maps index i to the first index >= i the version may see.
func (t *table) visible(i int, v1 bool) int {
	if v1 {
		return int(t.nextV1[i])
	}
	return i
}

// get returns the index of oid, or -1.
func (t *table) get(oid OID, v1 bool) int {
	i, ok := t.search(oid)
	if !ok || (v1 && t.entries[i].typ == gosnmp.Counter64) {
		return -1
	}
	return i
}

// next returns the index of the first visible entry after oid, or len(entries).
func (t *table) next(oid OID, v1 bool) int {
	i, ok := t.search(oid)
	if ok {
		i++
	}
	return t.visible(i, v1)
}

// missingKind picks noSuchInstance when the object (the OID's parent) has
// instances here and the OID is not itself a subtree of instances, and
// noSuchObject otherwise. Without MIB definitions this is a heuristic; for
// multi-arc table indexes it may say noSuchObject where a real agent says
// noSuchInstance. Pollers treat both as "absent".
func (t *table) missingKind(oid OID) gosnmp.Asn1BER {
	if len(oid) < 2 {
		return gosnmp.NoSuchObject
	}
	i, _ := t.search(oid)
	if i < len(t.entries) && t.entries[i].oid.HasPrefix(oid) {
		return gosnmp.NoSuchObject // names a subtree, not an instance
	}
	parent := oid[:len(oid)-1]
	j, _ := t.search(parent)
	if j < len(t.entries) && t.entries[j].oid.HasPrefix(parent) {
		return gosnmp.NoSuchInstance
	}
	return gosnmp.NoSuchObject
}

// appendEntry appends entry i's varbind.
func (t *table) appendEntry(b []byte, i int, now time.Time, scratch []byte) ([]byte, []byte) {
	e := &t.entries[i]
	if e.dyn == nil {
		return append(b, e.vb...), scratch
	}
	return appendVarbind(b, e.oidTLV, e.dyn(now), scratch)
}

// value returns entry i's current value (for tests and SET echo).
func (t *table) value(i int, now time.Time) Value {
	e := &t.entries[i]
	if e.dyn != nil {
		return e.dyn(now)
	}
	return decodeVarbindValue(e.vb)
}

// decodeVarbindValue decodes the value of a varbind this package encoded.
func decodeVarbindValue(vb []byte) Value {
	// SEQUENCE header, OID TLV, then the value TLV.
	p := skipHeader(vb)
	p = p[tlvLen(p):]
	tag := gosnmp.Asn1BER(p[0])
	content := skipHeader(p)
	switch tag {
	case gosnmp.Integer:
		var v int64
		if len(content) > 0 && content[0]&0x80 != 0 {
			v = -1
		}
		for _, c := range content {
			v = v<<8 | int64(c)
		}
		return Value{Type: tag, Int: v}
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Counter64:
		var v uint64
		for _, c := range content {
			v = v<<8 | uint64(c)
		}
		return Value{Type: tag, Uint: v}
	case gosnmp.ObjectIdentifier:
		var o OID
		var acc uint64
		for _, c := range content {
			acc = acc<<7 | uint64(c&0x7f)
			if c&0x80 == 0 {
				if o == nil {
					first := min(acc/40, 2)
					o = append(o, uint32(first), uint32(acc-first*40))
				} else {
					o = append(o, uint32(acc))
				}
				acc = 0
			}
		}
		return Value{Type: tag, OID: o}
	case gosnmp.Null:
		return Value{Type: tag}
	}
	return Value{Type: tag, Bytes: content}
}

// skipHeader returns the content of the TLV at the start of b.
func skipHeader(b []byte) []byte {
	if b[1] < 0x80 {
		return b[2 : 2+int(b[1])]
	}
	n := int(b[1] & 0x7f)
	l := 0
	for _, c := range b[2 : 2+n] {
		l = l<<8 | int(c)
	}
	return b[2+n : 2+n+l]
}

// tlvLen returns the total length of the TLV at the start of b.
func tlvLen(b []byte) int { return headerLen(b) + len(skipHeader(b)) }

func headerLen(b []byte) int {
	if b[1] < 0x80 {
		return 2
	}
	return 2 + int(b[1]&0x7f)
}
