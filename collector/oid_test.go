package collector

import (
	"testing"

	"github.com/gosnmp/gosnmp"
)

func TestSplitColumn(t *testing.T) {
	tests := []struct {
		oid, entry string
		col        int
		index      string
		ok         bool
	}{
		{".1.3.6.1.2.1.2.2.1.10.7", oidIfEntry, 10, "7", true},
		{".1.3.6.1.2.1.2.2.1.2.1000001", oidIfEntry, 2, "1000001", true},
		{".1.0.8802.1.1.2.1.4.1.1.9.0.513.3", oidLldpRemEntry, 9, "0.513.3", true},
		{".1.3.6.1.2.1.2.2.1.10", oidIfEntry, 0, "", false},    // column without index
		{".1.3.6.1.2.1.2.2.10.7", oidIfEntry, 0, "", false},    // another table
		{".1.3.6.1.2.1.2.2.11.10.7", oidIfEntry, 0, "", false}, // prefix of a longer arc
		{".1.3.6.1.2.1.2.2.1.x.7", oidIfEntry, 0, "", false},
	}
	for _, tt := range tests {
		col, index, ok := splitColumn(tt.oid, tt.entry)
		if col != tt.col || index != tt.index || ok != tt.ok {
			t.Errorf("splitColumn(%s) = %d %q %v, want %d %q %v", tt.oid, col, index, ok, tt.col, tt.index, tt.ok)
		}
	}
}

func TestParseIndex(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		ok   bool
	}{{"7", 7, true}, {"0", 0, true}, {"", 0, false}, {"7.1", 0, false}, {"a", 0, false}, {"99999999999", 0, false}} {
		got, ok := parseIndex1(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseIndex1(%q) = %d %v, want %d %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	arcs, ok := indexArcs("0.513.3.1.4.10.0.0.1", nil)
	if !ok || len(arcs) != 9 || arcs[1] != 513 || arcs[8] != 1 {
		t.Errorf("indexArcs = %v %v", arcs, ok)
	}
	for _, bad := range []string{"", "1..2", "1.", ".1", "1.a"} {
		if _, ok := indexArcs(bad, nil); ok {
			t.Errorf("indexArcs(%q) ok, want failure", bad)
		}
	}
}

func TestCompareOID(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{".1.3.6.1.2", ".1.3.6.1.10", -1}, // numeric, not lexical
		{"1.3.6.1.2.1", ".1.3.6.1.2.1", 0},
		{".1.3.6", ".1.3.6.1", -1},
		{".1.3.6.1.2.1.2.2.1.10.100", ".1.3.6.1.2.1.2.2.1.10.99", 1},
	} {
		if got := compareOID(tt.a, tt.b); got != tt.want {
			t.Errorf("compareOID(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestValueHelpers(t *testing.T) {
	if got := formatMAC([]byte{0x00, 0x1b, 0xAA, 0xff, 0x10, 0x02}); got != "00:1b:aa:ff:10:02" {
		t.Errorf("formatMAC = %q", got)
	}
	if got := formatMAC(nil); got != "" {
		t.Errorf("formatMAC(nil) = %q", got)
	}
	for _, tt := range []struct {
		v    any
		want uint64
		ok   bool
	}{
		{uint(5), 5, true}, {uint64(1) << 40, 1 << 40, true}, {uint32(7), 7, true},
		{-1, 4294967295, true}, // Integer32 overflowed by the agent
		{[]byte("x"), 0, false},
	} {
		got, ok := pduUint(gosnmp.SnmpPDU{Value: tt.v})
		if got != tt.want || ok != tt.ok {
			t.Errorf("pduUint(%v) = %d %v, want %d %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
	if got := pduString(vStr("1.1", "  Gi0/1\x00\x00")); got != "Gi0/1" {
		t.Errorf("pduString trims padding: %q", got)
	}
	if got := pduString(vHex("1.1", "ff00fe")); got != "ff00fe" {
		t.Errorf("pduString of binary = %q, want hex", got)
	}
}
