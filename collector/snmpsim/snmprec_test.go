package snmpsim

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// testdataDir locates the LibreNMS recordings: $NOCAGENT_TESTDATA, or
// ../shared/testdata/librenms beside the repository root.
func testdataDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("NOCAGENT_TESTDATA"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "testdata", "librenms")
			if _, err := os.Stat(d); err == nil {
				return d
			}
			break
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("LibreNMS recordings not found: set NOCAGENT_TESTDATA or put them in ../shared/testdata/librenms")
	}
	t.Skip("LibreNMS recordings not found (they come from LibreNMS's tests/snmpsim); set NOCAGENT_TESTDATA")
	return ""
}

func recordingPath(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(testdataDir(t), "snmpsim", name+".snmprec")
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		name string
		line string
		oid  string
		want Value
	}{
		{"integer", "1.3.6.1.2.1.2.2.1.8.1|2|1", "1.3.6.1.2.1.2.2.1.8.1", Value{Type: gosnmp.Integer, Int: 1}},
		{"negative integer", "1.3.6.1.4.1.1.0|2|-2147483648", "1.3.6.1.4.1.1.0", Value{Type: gosnmp.Integer, Int: -2147483648}},
		{"string", "1.3.6.1.2.1.1.5.0|4|<private>", "1.3.6.1.2.1.1.5.0", Value{Type: gosnmp.OctetString, Bytes: []byte("<private>")}},
		{"empty string", "1.3.6.1.2.1.31.1.1.1.18.1|4|", "1.3.6.1.2.1.31.1.1.1.18.1", Value{Type: gosnmp.OctetString, Bytes: []byte{}}},
		{"pipe inside value", "1.3.6.1.2.1.1.1.0|4|a|b|c", "1.3.6.1.2.1.1.1.0", Value{Type: gosnmp.OctetString, Bytes: []byte("a|b|c")}},
		{"raw control bytes", "1.3.6.1.2.1.1.1.0|4|a\x0bb\x0c", "1.3.6.1.2.1.1.1.0", Value{Type: gosnmp.OctetString, Bytes: []byte("a\x0bb\x0c")}},
		{"hex lower", "1.3.6.1.2.1.2.2.1.6.1|4x|ac7e8a19bf01", "1.3.6.1.2.1.2.2.1.6.1", Value{Type: gosnmp.OctetString, Bytes: []byte{0xac, 0x7e, 0x8a, 0x19, 0xbf, 0x01}}},
		{"hex upper with CRLF inside", "1.3.6.1.2.1.1.1.0|4x|410D0A42", "1.3.6.1.2.1.1.1.0", Value{Type: gosnmp.OctetString, Bytes: []byte("A\r\nB")}},
		{"escaped", `1.3.6.1.4.1.1.0|4e|\x04\x88_\xaa\xda0\\\'\"\n\t\101\q`, "1.3.6.1.4.1.1.0", Value{Type: gosnmp.OctetString, Bytes: []byte("\x04\x88_\xaa\xda0\\'\"\n\tA\\q")}},
		{"null", "1.3.6.1.2.1.17.2.1.0|5|", "1.3.6.1.2.1.17.2.1.0", Value{Type: gosnmp.Null}},
		{"oid", "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9.1.1208", "1.3.6.1.2.1.1.2.0", Value{Type: gosnmp.ObjectIdentifier, OID: OID{1, 3, 6, 1, 4, 1, 9, 1, 1208}}},
		{"null oid", "1.3.6.1.2.1.1.2.0|6|0.0", "1.3.6.1.2.1.1.2.0", Value{Type: gosnmp.ObjectIdentifier, OID: OID{0, 0}}},
		{"ip", "1.3.6.1.2.1.4.20.1.1.10.0.0.1|64|10.0.0.1", "1.3.6.1.2.1.4.20.1.1.10.0.0.1", Value{Type: gosnmp.IPAddress, Bytes: []byte{10, 0, 0, 1}}},
		{"ip hex", "1.3.6.1.4.1.1.0|64x|0AFC0002", "1.3.6.1.4.1.1.0", Value{Type: gosnmp.IPAddress, Bytes: []byte{10, 252, 0, 2}}},
		{"ip escaped", `1.3.6.1.4.1.1.0|64e|\xc0\xa8\x00\x01`, "1.3.6.1.4.1.1.0", Value{Type: gosnmp.IPAddress, Bytes: []byte{192, 168, 0, 1}}},
		{"counter32 max", "1.3.6.1.2.1.2.2.1.10.1|65|4294967295", "1.3.6.1.2.1.2.2.1.10.1", Value{Type: gosnmp.Counter32, Uint: 4294967295}},
		{"gauge32", "1.3.6.1.2.1.31.1.1.1.15.1|66|1000", "1.3.6.1.2.1.31.1.1.1.15.1", Value{Type: gosnmp.Gauge32, Uint: 1000}},
		{"timeticks", "1.3.6.1.2.1.1.3.0|67|105699212", "1.3.6.1.2.1.1.3.0", Value{Type: gosnmp.TimeTicks, Uint: 105699212}},
		{"opaque", "1.3.6.1.4.1.2021.10.1.6.1|68|Float: 0.080000", "1.3.6.1.4.1.2021.10.1.6.1", Value{Type: gosnmp.Opaque, Bytes: []byte("Float: 0.080000")}},
		{"opaque hex", "1.3.6.1.4.1.2021.10.1.6.1|68x|09050339452b30", "1.3.6.1.4.1.2021.10.1.6.1", Value{Type: gosnmp.Opaque, Bytes: []byte{0x09, 0x05, 0x03, 0x39, 0x45, 0x2b, 0x30}}},
		{"counter64 max", "1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615", "1.3.6.1.2.1.31.1.1.1.6.1", Value{Type: gosnmp.Counter64, Uint: 18446744073709551615}},
		{"crlf stripped", "1.3.6.1.2.1.1.5.0|4|sw1\r", "1.3.6.1.2.1.1.5.0", Value{Type: gosnmp.OctetString, Bytes: []byte("sw1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Parse("t.snmprec", []byte(tt.line+"\n"))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(rec.Records) != 1 {
				t.Fatalf("got %d records, want 1", len(rec.Records))
			}
			got := rec.Records[0]
			if got.OID.String() != tt.oid {
				t.Errorf("OID = %s, want %s", got.OID, tt.oid)
			}
			if !valuesEqual(got.Value, tt.want) {
				t.Errorf("value = %+v, want %+v", got.Value, tt.want)
			}
			// The encoder must round-trip what the parser produced.
			vb := newStaticEntry(got.OID, got.Value).vb
			if back := decodeVarbindValue(vb); !valuesEqual(back, tt.want) {
				t.Errorf("BER round trip = %+v, want %+v", back, tt.want)
			}
		})
	}
}

func valuesEqual(a, b Value) bool {
	return a.Type == b.Type && a.Int == b.Int && a.Uint == b.Uint && bytes.Equal(a.Bytes, b.Bytes) && slices.Equal(a.OID, b.OID)
}

func TestParseErrors(t *testing.T) {
	const fatal, badValue = true, false
	tests := []struct {
		name, data, want string
		fatal            bool // the whole file fails; otherwise the line lands in Invalid
	}{
		{"no separator", "1.3.6.1.2.1.1.1.0\n", `bad.snmprec:1: expected OID|TAG|VALUE, found no '|'`, fatal},
		{"one separator", "1.3.6.1.2.1.1.1.0|4\n", `bad.snmprec:1: expected OID|TAG|VALUE, found only one '|'`, fatal},
		{"line number counts comments and blanks", "# c\n\n1.3.6.1.2.1.1.1.0|4|ok\nx|4|y\n", `bad.snmprec:4: invalid OID "x": OID arc "x" is not a number in 0..4294967295`, fatal},
		{"sanitised oid", "10.xx.xx.100|4|a\n", `bad.snmprec:1: invalid OID "10.xx.xx.100": OID arc "xx" is not a number in 0..4294967295`, fatal},
		{"oid first arc", "7.1|2|1\n", `bad.snmprec:1: invalid OID "7.1": the first OID arc must be 0, 1 or 2`, fatal},
		{"oid too short", "1|2|1\n", `bad.snmprec:1: invalid OID "1": an OID needs at least two arcs`, fatal},
		{"arc overflow", "1.3.4294967296|2|1\n", `bad.snmprec:1: invalid OID "1.3.4294967296": OID arc "4294967296" is not a number in 0..4294967295`, fatal},
		{"unknown tag", "1.3.6.1.4.1.1.0|40|5\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: unknown tag "40"`, badValue},
		{"double suffix tag", "1.3.6.1.4.1.1.0|4xx|00\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: unknown tag "4xx"`, badValue},
		{"hex suffix on integer", "1.3.6.1.4.1.1.0|2x|00\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: unknown tag "2x"`, badValue},
		{"variation module", "1.3.6.1.4.1.1.0|4:numeric|1\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: unknown tag "4:numeric"`, badValue},
		{"bad integer", "1.3.6.1.4.1.1.0|2|abc\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: tag 2: invalid INTEGER "abc" (want a signed 32-bit decimal)`, badValue},
		{"integer out of range", "1.3.6.1.4.1.1.0|2|2147483648\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: tag 2: invalid INTEGER "2147483648" (want a signed 32-bit decimal)`, badValue},
		{"odd hex", "1.3.6.1.4.1.1.0|4x|abc\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: tag 4x: invalid hex "abc"`, badValue},
		{"non hex", "1.3.6.1.4.1.1.0|4x|zz\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: tag 4x: invalid hex "zz"`, badValue},
		{"bad escape", `1.3.6.1.4.1.1.0|4e|\xZ1` + "\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: tag 4e: invalid \x escape at byte 0`, badValue},
		{"trailing backslash", `1.3.6.1.4.1.1.0|4e|ab\` + "\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: tag 4e: trailing '\' at byte 2`, badValue},
		{"null with value", "1.3.6.1.4.1.1.0|5|x\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: tag 5: NULL takes no value, found "x"`, badValue},
		{"bad oid value", "1.3.6.1.2.1.1.2.0|6|<private>\n", `bad.snmprec:1: OID 1.3.6.1.2.1.1.2.0: tag 6: invalid OBJECT IDENTIFIER "<private>": OID arc "<private>" is not a number in 0..4294967295`, badValue},
		{"bad ip", "1.3.6.1.4.1.1.0|64|10.0.0\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: tag 64: invalid IpAddress "10.0.0" (want a dotted quad)`, badValue},
		{"short hex ip", "1.3.6.1.4.1.1.0|64x|0a0b\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: tag 64x: IpAddress must be 4 bytes, found 2`, badValue},
		{"negative counter", "1.3.6.1.4.1.1.0|65|-1\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: tag 65: invalid Counter32 "-1" (want an unsigned 32-bit decimal)`, badValue},
		{"gauge overflow", "1.3.6.1.4.1.1.0|66|4294967296\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: tag 66: invalid Gauge32 "4294967296" (want an unsigned 32-bit decimal)`, badValue},
		{"timeticks text", "1.3.6.1.4.1.1.0|67|(123) 0:00:01.23\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: tag 67: invalid TimeTicks "(123) 0:00:01.23" (want an unsigned 32-bit decimal)`, badValue},
		{"counter64 overflow", "1.3.6.1.4.1.1.0|70|18446744073709551616\n", `bad.snmprec:1: OID 1.3.6.1.4.1.1.0: tag 70: invalid Counter64 "18446744073709551616" (want an unsigned 64-bit decimal)`, badValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Parse("bad.snmprec", []byte(tt.data))
			if !tt.fatal {
				if err != nil {
					t.Fatalf("Parse: %v, want the bad value listed in Invalid", err)
				}
				if len(rec.Invalid) != 1 || rec.Invalid[0].Error() != tt.want {
					t.Fatalf("Invalid = %v\nwant      [%s]", rec.Invalid, tt.want)
				}
				if len(rec.Records) != 0 {
					t.Errorf("a bad value was kept as a record: %+v", rec.Records)
				}
				return
			}
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if err.Error() != tt.want {
				t.Errorf("error = %s\nwant    %s", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error is %T, want *ParseError", err)
			}
		})
	}
}

func TestParseOrderDuplicatesAndComments(t *testing.T) {
	data := strings.Join([]string{
		"1.3.6.1.2.1.2.2.1.2.10|4|ten",
		" # a comment with a leading space",
		"",
		"1.3.6.1.2.1.2.2.1.2.9|4|nine",
		"   ",
		"1.3.6.1.2.1.2.2.1.2|4|column",
		"1.3.6.1.2.1.2.2.1.2.10|4|ten again",
		"1.0.8802.1.1.2.1.3.3.0|4|lldp",
		"1.3.6.1.2.1.2.2.1.2.9|4|nine again\r",
	}, "\n") // no final newline
	rec, err := Parse("order.snmprec", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rec.Records {
		got = append(got, r.OID.String()+"="+string(r.Value.Bytes))
	}
	want := []string{
		"1.0.8802.1.1.2.1.3.3.0=lldp",
		"1.3.6.1.2.1.2.2.1.2=column",
		"1.3.6.1.2.1.2.2.1.2.9=nine again",
		"1.3.6.1.2.1.2.2.1.2.10=ten again",
	}
	if !slices.Equal(got, want) {
		t.Errorf("records =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rec.Records[2].Line != 9 {
		t.Errorf("nine again comes from line %d, want 9", rec.Records[2].Line)
	}
	if v, ok := rec.Get(mustOID("1.3.6.1.2.1.2.2.1.2.10")); !ok || string(v.Bytes) != "ten again" {
		t.Errorf("Get = %q, %v", v.Bytes, ok)
	}
	if _, ok := rec.Get(mustOID("1.3.6.1.2.1.2.2.1.2.11")); ok {
		t.Error("Get found an OID that is not recorded")
	}
}

// TestParseAllRecordings parses every recording of the development set and
// checks facts the README states about them.
func TestParseAllRecordings(t *testing.T) {
	dir := filepath.Join(testdataDir(t), "snmpsim")
	files, err := filepath.Glob(filepath.Join(dir, "*.snmprec"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 54 {
		t.Fatalf("found %d recordings in %s, want 54", len(files), dir)
	}
	for _, f := range files {
		rec, err := ParseFile(context.Background(), f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(rec.Records) == 0 {
			t.Errorf("%s: no records", f)
		}
		// The only undecodable values in this set are LibreNMS's sanitised ones.
		for _, bad := range rec.Invalid {
			if !strings.Contains(bad.Msg, "XXYYZZ") && !strings.Contains(bad.Msg, "<private>") {
				t.Errorf("unexpected invalid value: %v", bad)
			}
		}
		if !slices.IsSortedFunc(rec.Records, func(a, b Record) int { return a.OID.Compare(b.OID) }) {
			t.Errorf("%s: records not sorted", f)
		}
	}
	// zxr10_5928 repeats its 1010 OIDs twice: duplicates collapse.
	rec, err := ParseFile(context.Background(), filepath.Join(dir, "zxr10_5928.snmprec"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Records) != 1010 {
		t.Errorf("zxr10_5928: %d unique OIDs, want 1010", len(rec.Records))
	}
	// The ios_2960x sysDescr is hex with CRLF inside.
	rec, err = ParseFile(context.Background(), filepath.Join(dir, "ios_2960x.snmprec"))
	if err != nil {
		t.Fatal(err)
	}
	descr, _ := rec.Get(mustOID("1.3.6.1.2.1.1.1.0"))
	if !bytes.Contains(descr.Bytes, []byte("\r\n")) || !bytes.HasPrefix(descr.Bytes, []byte("Cisco IOS Software")) {
		t.Errorf("ios_2960x sysDescr = %q", descr.Bytes)
	}
	serial, _ := rec.Get(mustOID("1.3.6.1.2.1.47.1.1.1.1.11.1001"))
	if string(serial.Bytes) != "FCW1929B68S" {
		t.Errorf("ios_2960x serial = %q, want FCW1929B68S", serial.Bytes)
	}
}

func TestParseFileErrorNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.snmprec")
	if err := os.WriteFile(path, []byte("1.3.6.1.2.1.1.1.0|4|ok\n1.3.6.1.2.1.1.3.0|67\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ParseFile(context.Background(), path)
	want := `broken.snmprec:2: expected OID|TAG|VALUE, found only one '|'`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	if _, err := ParseFile(context.Background(), filepath.Join(t.TempDir(), "missing.snmprec")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error = %v, want os.ErrNotExist", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("1.3.6.1.2.1.1.1.0|4|hello\n1.3.6.1.2.1.1.3.0|67|5\n"))
	f.Add([]byte("1.3.6.1.2.1.1.1.0|4x|410D0A\r\n# c\n\n1.3.6.1.2.1.1.2.0|6|0.0\n"))
	f.Add([]byte(`1.3.6.1.4.1.1.0|4e|\x04\x88_\n\101` + "\n1.3.6.1.4.1.2.0|70|18446744073709551615\n"))
	f.Add([]byte("1.3.6.1.4.1.1.0|64x|0afc0002\n1.3.6.1.4.1.1.0|5|\n1.3|2|-1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := Parse("fuzz.snmprec", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("error %v is not a ParseError with a line", err)
			}
			return
		}
		for i, r := range rec.Records {
			if i > 0 && rec.Records[i-1].OID.Compare(r.OID) >= 0 {
				t.Fatalf("records not strictly increasing at %d", i)
			}
			// Every parsed record must encode and decode back to itself.
			if back := decodeVarbindValue(newStaticEntry(r.OID, r.Value).vb); !valuesEqual(back, r.Value) &&
				!(r.Value.Type == gosnmp.OctetString && len(r.Value.Bytes) == 0 && len(back.Bytes) == 0) {
				t.Fatalf("record %s: BER round trip %+v != %+v", r.OID, back, r.Value)
			}
		}
	})
}

func TestParseBadLineLeavesEarlierGoodOne(t *testing.T) {
	// A real recording (occamos_b6-316) repeats OIDs with a bad 4xx tag
	// after a good 4x line: the good value is served.
	for _, data := range []string{
		"1.3.6.1.2.1.2.2.1.6.8|4x|3a32\n1.3.6.1.2.1.2.2.1.6.8|4xx|3a33\n",
		"1.3.6.1.2.1.2.2.1.6.8|4xx|3a33\n1.3.6.1.2.1.2.2.1.6.8|4x|3a32\n",
	} {
		rec, err := Parse("dup.snmprec", []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Records) != 1 || string(rec.Records[0].Value.Bytes) != "\x3a\x32" || len(rec.Invalid) != 1 {
			t.Errorf("%q: records %+v invalid %v, want the good line served and the bad one listed", data, rec.Records, rec.Invalid)
		}
	}
}
