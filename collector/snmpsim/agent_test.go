package snmpsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// testRecording is small enough to reason about every answer.
const testRecording = `1.3.6.1.2.1.1.1.0|4|Test device
1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9.1.1
1.3.6.1.2.1.1.3.0|67|12345
1.3.6.1.2.1.2.2.1.2.1|4|Gi0/1
1.3.6.1.2.1.2.2.1.2.2|4|Gi0/2
1.3.6.1.2.1.2.2.1.8.1|2|1
1.3.6.1.2.1.2.2.1.8.2|2|2
1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615
1.3.6.1.2.1.31.1.1.1.6.2|70|5
1.3.6.1.2.1.31.1.1.1.18.1|4x|75706C696E6B
1.3.6.1.4.1.9.9.1.0|65|4294967295
1.3.6.1.4.1.9.9.2.0|64|10.0.0.1
1.3.6.1.4.1.9.9.3.0|66|7
1.3.6.1.4.1.9.9.4.0|2|-42
`

const testContext = "1.3.6.1.2.1.17.1.1.0|4x|0011223344AA\n"

func startTestRecording(t *testing.T, tweak func(*Simulator)) (*Simulator, DeviceInfo) {
	t.Helper()
	dir := t.TempDir()
	for name, data := range map[string]string{"testdev.snmprec": testRecording, "testdev@vlan5.snmprec": testContext} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sim := New(Options{})
	if tweak != nil {
		tweak(sim)
	}
	t.Cleanup(func() { sim.Close() })
	info, err := sim.AddRecording(context.Background(), filepath.Join(dir, "testdev.snmprec"), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return sim, info
}

func newClient(t testing.TB, info DeviceInfo, community string, version gosnmp.SnmpVersion, timeout time.Duration) *gosnmp.GoSNMP {
	t.Helper()
	c := &gosnmp.GoSNMP{
		Target: info.Address, Port: uint16(info.Port), Community: community, Version: version,
		Timeout: timeout, Retries: 0, MaxOids: 100, MaxRepetitions: 25,
	}
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Conn.Close() })
	return c
}

// vbString renders a varbind compactly for comparisons.
func vbString(p gosnmp.SnmpPDU) string {
	switch p.Type {
	case gosnmp.OctetString:
		return fmt.Sprintf("%s=%q", p.Name, p.Value)
	case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null:
		return p.Name + "=" + p.Type.String()
	}
	return fmt.Sprintf("%s=%s:%v", p.Name, p.Type, p.Value)
}

func vbStrings(ps []gosnmp.SnmpPDU) string {
	var out []string
	for _, p := range ps {
		out = append(out, vbString(p))
	}
	return strings.Join(out, "\n")
}

type pduCase struct {
	name      string
	version   gosnmp.SnmpVersion
	oids      []string
	wantErr   gosnmp.SNMPError
	wantIndex uint8
	want      []string
}

func TestGet(t *testing.T) {
	_, info := startTestRecording(t, nil)
	tests := []pduCase{
		{"v2c values", gosnmp.Version2c, []string{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.31.1.1.1.6.1", ".1.3.6.1.4.1.9.9.2.0", ".1.3.6.1.4.1.9.9.4.0"}, 0, 0, []string{
			`.1.3.6.1.2.1.1.1.0="Test device"`,
			`.1.3.6.1.2.1.31.1.1.1.6.1=Counter64:18446744073709551615`,
			`.1.3.6.1.4.1.9.9.2.0=IPAddress:10.0.0.1`,
			`.1.3.6.1.4.1.9.9.4.0=Integer:-42`,
		}},
		{"v2c absent", gosnmp.Version2c, []string{".1.3.6.1.2.1.2.2.1.2.3", ".1.3.6.1.2.1.1.9.0", ".1.3.6.1.9.9.9.0", ".1.3.6.1.2.1.2.2.1.2"}, 0, 0, []string{
			".1.3.6.1.2.1.2.2.1.2.3=NoSuchInstance", // ifDescr exists, instance 3 does not
			".1.3.6.1.2.1.1.9.0=NoSuchObject",
			".1.3.6.1.9.9.9.0=NoSuchObject",
			".1.3.6.1.2.1.2.2.1.2=NoSuchObject", // a column, not an instance
		}},
		{"v1 value", gosnmp.Version1, []string{".1.3.6.1.2.1.1.3.0", ".1.3.6.1.4.1.9.9.1.0"}, 0, 0, []string{
			".1.3.6.1.2.1.1.3.0=TimeTicks:12345",
			".1.3.6.1.4.1.9.9.1.0=Counter32:4294967295",
		}},
		{"v1 absent echoes the request", gosnmp.Version1, []string{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.2.2.1.2.3"}, gosnmp.NoSuchName, 2, []string{
			".1.3.6.1.2.1.1.1.0=Null", ".1.3.6.1.2.1.2.2.1.2.3=Null",
		}},
		{"v1 hides Counter64", gosnmp.Version1, []string{".1.3.6.1.2.1.31.1.1.1.6.1"}, gosnmp.NoSuchName, 1, []string{
			".1.3.6.1.2.1.31.1.1.1.6.1=Null",
		}},
	}
	runPDUCases(t, info, tests, func(c *gosnmp.GoSNMP, oids []string) (*gosnmp.SnmpPacket, error) { return c.Get(oids) })
}

func TestGetNext(t *testing.T) {
	_, info := startTestRecording(t, nil)
	tests := []pduCase{
		{"v2c next", gosnmp.Version2c, []string{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.2.2.1.8.2", ".1.3"}, 0, 0, []string{
			`.1.3.6.1.2.1.1.2.0=ObjectIdentifier:.1.3.6.1.4.1.9.1.1`,
			`.1.3.6.1.2.1.31.1.1.1.6.1=Counter64:18446744073709551615`,
			`.1.3.6.1.2.1.1.1.0="Test device"`,
		}},
		{"v2c past the end", gosnmp.Version2c, []string{".1.3.6.1.4.1.9.9.4.0", ".2.1"}, 0, 0, []string{
			".1.3.6.1.4.1.9.9.4.0=EndOfMibView", ".2.1=EndOfMibView",
		}},
		{"v1 skips Counter64", gosnmp.Version1, []string{".1.3.6.1.2.1.2.2.1.8.2"}, 0, 0, []string{
			`.1.3.6.1.2.1.31.1.1.1.18.1="uplink"`,
		}},
		{"v1 past the end", gosnmp.Version1, []string{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.4.1.9.9.4.0"}, gosnmp.NoSuchName, 2, []string{
			".1.3.6.1.2.1.1.1.0=Null", ".1.3.6.1.4.1.9.9.4.0=Null",
		}},
	}
	runPDUCases(t, info, tests, func(c *gosnmp.GoSNMP, oids []string) (*gosnmp.SnmpPacket, error) { return c.GetNext(oids) })
}

func runPDUCases(t *testing.T, info DeviceInfo, tests []pduCase, do func(*gosnmp.GoSNMP, []string) (*gosnmp.SnmpPacket, error)) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, info, "testdev", tt.version, 2*time.Second)
			resp, err := do(c, tt.oids)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Error != tt.wantErr || resp.ErrorIndex != tt.wantIndex {
				t.Errorf("error-status %v index %d, want %v index %d", resp.Error, resp.ErrorIndex, tt.wantErr, tt.wantIndex)
			}
			if got, want := vbStrings(resp.Variables), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("varbinds:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestGetBulk(t *testing.T) {
	_, info := startTestRecording(t, nil)
	tests := []struct {
		name         string
		oids         []string
		nonRepeaters uint8
		maxReps      uint32
		want         []string
	}{
		{"non-repeaters and repeaters", []string{".1.3.6.1.2.1.1", ".1.3.6.1.2.1.2.2.1.2", ".1.3.6.1.4.1.9.9.3.0"}, 1, 3, []string{
			`.1.3.6.1.2.1.1.1.0="Test device"`,
			`.1.3.6.1.2.1.2.2.1.2.1="Gi0/1"`,
			`.1.3.6.1.4.1.9.9.4.0=Integer:-42`,
			`.1.3.6.1.2.1.2.2.1.2.2="Gi0/2"`,
			`.1.3.6.1.4.1.9.9.4.0=EndOfMibView`,
			`.1.3.6.1.2.1.2.2.1.8.1=Integer:1`,
			`.1.3.6.1.4.1.9.9.4.0=EndOfMibView`,
		}},
		{"stops once every repeater ended", []string{".1.3.6.1.4.1.9.9.3.0"}, 0, 10, []string{
			`.1.3.6.1.4.1.9.9.4.0=Integer:-42`,
			`.1.3.6.1.4.1.9.9.4.0=EndOfMibView`,
		}},
		{"non-repeaters beyond the varbinds", []string{".1.3.6.1.2.1.1.2.0", ".1.3.6.1.2.1.1.3.0"}, 5, 10, []string{
			`.1.3.6.1.2.1.1.3.0=TimeTicks:12345`,
			`.1.3.6.1.2.1.2.2.1.2.1="Gi0/1"`,
		}},
		{"zero max-repetitions", []string{".1.3.6.1.2.1.1.2.0", ".1.3.6.1.2.1.1.3.0"}, 1, 0, []string{
			`.1.3.6.1.2.1.1.3.0=TimeTicks:12345`,
		}},
	}
	c := newClient(t, info, "public", gosnmp.Version2c, 2*time.Second)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.GetBulk(tt.oids, tt.nonRepeaters, tt.maxReps)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Error != gosnmp.NoError {
				t.Errorf("error-status %v", resp.Error)
			}
			if got, want := vbStrings(resp.Variables), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("varbinds:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestSetOnRecording(t *testing.T) {
	_, info := startTestRecording(t, nil)
	tests := []struct {
		name      string
		version   gosnmp.SnmpVersion
		oid       string
		wantErr   gosnmp.SNMPError
		wantValue string
	}{
		{"v2c not writable", gosnmp.Version2c, ".1.3.6.1.2.1.1.1.0", gosnmp.NotWritable, "new"},
		{"v2c absent", gosnmp.Version2c, ".1.3.6.1.2.1.1.9.0", gosnmp.NotWritable, "new"},
		{"v1 read only", gosnmp.Version1, ".1.3.6.1.2.1.1.1.0", gosnmp.ReadOnly, "new"},
		{"v1 absent", gosnmp.Version1, ".1.3.6.1.2.1.1.9.0", gosnmp.NoSuchName, "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, info, "testdev", tt.version, 2*time.Second)
			resp, err := c.Set([]gosnmp.SnmpPDU{{Name: tt.oid, Type: gosnmp.OctetString, Value: []byte(tt.wantValue)}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Error != tt.wantErr || resp.ErrorIndex != 1 {
				t.Errorf("error-status %v index %d, want %v index 1", resp.Error, resp.ErrorIndex, tt.wantErr)
			}
			if len(resp.Variables) != 1 || !bytes.Equal(resp.Variables[0].Value.([]byte), []byte(tt.wantValue)) {
				t.Errorf("varbinds not echoed: %s", vbStrings(resp.Variables))
			}
			// Nothing changed.
			get, err := c.Get([]string{".1.3.6.1.2.1.1.1.0"})
			if err != nil {
				t.Fatal(err)
			}
			if v := string(get.Variables[0].Value.([]byte)); v != "Test device" {
				t.Errorf("sysDescr became %q", v)
			}
		})
	}
}

func TestCommunities(t *testing.T) {
	sim, info := startTestRecording(t, nil)
	if info.Community != "testdev" || info.Kind != KindRecording || info.Name != "testdev" || info.Address != "127.0.0.1" || info.Port == 0 {
		t.Errorf("DeviceInfo = %+v", info)
	}
	bridge := ".1.3.6.1.2.1.17.1.1.0"
	tests := []struct {
		community string
		want      string
	}{
		{"testdev", bridge + "=NoSuchObject"},
		{"public", bridge + "=NoSuchObject"},
		{"testdev@vlan5", bridge + `="\x00\x11\"3D\xaa"`},
	}
	for _, tt := range tests {
		t.Run(tt.community, func(t *testing.T) {
			c := newClient(t, info, tt.community, gosnmp.Version2c, 2*time.Second)
			resp, err := c.Get([]string{bridge})
			if err != nil {
				t.Fatal(err)
			}
			if got := vbStrings(resp.Variables); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}

	t.Run("wrong community gets no answer", func(t *testing.T) {
		before, _ := sim.Stats("testdev")
		c := newClient(t, info, "private", gosnmp.Version2c, 300*time.Millisecond)
		if _, err := c.Get([]string{".1.3.6.1.2.1.1.1.0"}); err == nil {
			t.Fatal("a request with a wrong community was answered")
		}
		var after Stats
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if after, _ = sim.Stats("testdev"); after.BadCommunity > before.BadCommunity {
				break
			}
		}
		if after.BadCommunity != before.BadCommunity+1 {
			t.Errorf("BadCommunity went from %d to %d, want +1", before.BadCommunity, after.BadCommunity)
		}
	})
}

func TestGarbagePacketsAreDropped(t *testing.T) {
	sim, info := startTestRecording(t, nil)
	valid := func(version byte, pdu byte) []byte {
		// GetRequest for 1.3.6.1.2.1.1.1.0, community "testdev".
		body := []byte{0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00,
			0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00}
		msg := append([]byte{0x02, 0x01, version, 0x04, 0x07}, "testdev"...)
		msg = append(msg, pdu, byte(len(body)))
		msg = append(msg, body...)
		return append([]byte{0x30, byte(len(msg))}, msg...)
	}
	good := valid(1, 0xa0)
	packets := map[string][]byte{
		"empty":         {},
		"random":        []byte("\xde\xad\xbe\xef not snmp at all"),
		"truncated":     good[:len(good)-5],
		"bad length":    append([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, good[2:]...),
		"snmpv3":        valid(3, 0xa0),
		"unknown pdu":   valid(1, 0xa8), // Report
		"v1 getbulk":    valid(0, 0xa5),
		"trailing junk": append(append([]byte{}, good...), 0, 0, 0),
	}
	conn, err := net.Dial("udp", net.JoinHostPort(info.Address, strconv.Itoa(info.Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for name, p := range packets {
		if _, err := conn.Write(p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// The hand-built packet itself is fine: the agent answers it.
	if _, err := conn.Write(good); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no answer to a valid packet after garbage: %v", err)
	}
	resp, err := (&gosnmp.GoSNMP{}).SnmpDecodePacket(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	if got := vbStrings(resp.Variables); got != `.1.3.6.1.2.1.1.1.0="Test device"` {
		t.Errorf("answer = %s", got)
	}
	// And a gosnmp client still works.
	c := newClient(t, info, "testdev", gosnmp.Version2c, 2*time.Second)
	if _, err := c.Get([]string{".1.3.6.1.2.1.1.1.0"}); err != nil {
		t.Fatal(err)
	}
	// The agent counts a response after its write returns, which can be
	// after the client has read it: wait, boundedly, for the count.
	var st Stats
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if st, _ = sim.Stats("testdev"); st.Responses >= 2 {
			break
		}
	}
	if st.Malformed != uint64(len(packets)) {
		t.Errorf("Malformed = %d, want %d (stats %+v)", st.Malformed, len(packets), st)
	}
	if st.Requests != uint64(len(packets))+2 || st.Responses != 2 {
		t.Errorf("stats = %+v, want %d requests and 2 responses", st, len(packets)+2)
	}
}

func TestResponseSizeCap(t *testing.T) {
	const limit = 200
	_, info := startTestRecording(t, func(s *Simulator) { s.maxMsg = limit })
	many := make([]string, 12)
	for i := range many {
		many[i] = ".1.3.6.1.2.1.1.1.0"
	}

	t.Run("v2c GETBULK is truncated", func(t *testing.T) {
		c := newClient(t, info, "testdev", gosnmp.Version2c, 2*time.Second)
		resp, err := c.GetBulk([]string{".1.3"}, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Error != gosnmp.NoError || len(resp.Variables) == 0 || len(resp.Variables) >= 14 {
			t.Fatalf("error %v with %d varbinds, want a truncated success", resp.Error, len(resp.Variables))
		}
		if resp.Variables[0].Name != ".1.3.6.1.2.1.1.1.0" {
			t.Errorf("first varbind %s", resp.Variables[0].Name)
		}
		raw, err := resp.MarshalMsg()
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > limit {
			t.Errorf("response is %d bytes, cap %d", len(raw), limit)
		}
	})
	t.Run("v2c GET is tooBig without varbinds", func(t *testing.T) {
		c := newClient(t, info, "testdev", gosnmp.Version2c, 2*time.Second)
		resp, err := c.Get(many)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Error != gosnmp.TooBig || len(resp.Variables) != 0 {
			t.Errorf("error %v with %d varbinds, want tooBig and none", resp.Error, len(resp.Variables))
		}
	})
	t.Run("v1 GETNEXT is tooBig echoing the request", func(t *testing.T) {
		c := newClient(t, info, "testdev", gosnmp.Version1, 2*time.Second)
		resp, err := c.GetNext(many)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Error != gosnmp.TooBig || len(resp.Variables) != len(many) {
			t.Errorf("error %v with %d varbinds, want tooBig echoing %d", resp.Error, len(resp.Variables), len(many))
		}
	})
}

func TestAddRecordingErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.snmprec", testRecording)
	ctxFile := write("good@vlan1.snmprec", testContext)
	bad := write("bad.snmprec", "1.3.6.1.2.1.1.1.0\n")
	other := write("notes.txt", testRecording)

	sim := New(Options{})
	defer sim.Close()
	ctx := context.Background()
	if _, err := sim.AddRecording(ctx, good, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, listen, want string
	}{
		{"context file", ctxFile, "127.0.0.1:0", "this is a context file; add good.snmprec instead"},
		{"not snmprec", other, "127.0.0.1:0", "file name must end in .snmprec"},
		{"malformed", bad, "127.0.0.1:0", "bad.snmprec:1: expected OID|TAG|VALUE"},
		{"duplicate", good, "127.0.0.1:0", "device good already exists"},
		{"missing", filepath.Join(dir, "gone.snmprec"), "127.0.0.1:0", "no such file"},
		{"bad listen", write("other.snmprec", testRecording), "127.0.0.1:notaport", "device other: listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sim.AddRecording(ctx, tt.path, tt.listen)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if n := len(sim.Devices()); n != 1 {
		t.Errorf("%d devices after failed adds, want 1", n)
	}
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.AddRecording(ctx, write("late.snmprec", testRecording), "127.0.0.1:0"); !errors.Is(err, ErrClosed) {
		t.Errorf("add after Close: %v, want ErrClosed", err)
	}
}

// pduMatches compares what gosnmp decoded with what the file says.
func pduMatches(p gosnmp.SnmpPDU, v Value) bool {
	if p.Type != v.Type {
		return false
	}
	switch v.Type {
	case gosnmp.Integer:
		n, ok := p.Value.(int)
		return ok && int64(n) == v.Int
	case gosnmp.OctetString:
		b, ok := p.Value.([]byte)
		return ok && bytes.Equal(b, v.Bytes)
	case gosnmp.ObjectIdentifier:
		return p.Value == "."+v.OID.String()
	case gosnmp.IPAddress:
		return p.Value == net.IP(v.Bytes).String()
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Counter64:
		return gosnmp.ToBigInt(p.Value).Uint64() == v.Uint
	case gosnmp.Null:
		return true
	}
	return false
}

// TestWalkRecordings walks real recordings with gosnmp and compares every
// varbind with the file.
func TestWalkRecordings(t *testing.T) {
	tests := []struct {
		name    string
		version gosnmp.SnmpVersion
	}{
		{"ios_2960x", gosnmp.Version2c},
		{"arubaos-cx_10.10", gosnmp.Version1}, // v1: every object but Counter64
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := recordingPath(t, tt.name)
			rec, err := ParseFile(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			sim := New(Options{})
			defer sim.Close()
			info, err := sim.AddRecording(context.Background(), path, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(t, info, tt.name, tt.version, 2*time.Second)
			// gosnmp cannot send the one-arc OID .1, so walk the two
			// subtrees the recordings use (LLDP-MIB sits under 1.0).
			var got []gosnmp.SnmpPDU
			for _, root := range []string{".1.0", ".1.3"} {
				var part []gosnmp.SnmpPDU
				if tt.version == gosnmp.Version1 {
					part, err = c.WalkAll(root)
				} else {
					part, err = c.BulkWalkAll(root)
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, part...)
			}
			want := rec.Records
			if tt.version == gosnmp.Version1 {
				want = nil
				for _, r := range rec.Records {
					if r.Value.Type != gosnmp.Counter64 {
						want = append(want, r)
					}
				}
			}
			if len(got) != len(want) {
				t.Errorf("walk returned %d varbinds, the file has %d", len(got), len(want))
			}
			for i := range min(len(got), len(want)) {
				if got[i].Name != "."+want[i].OID.String() || !pduMatches(got[i], want[i].Value) {
					t.Fatalf("varbind %d: got %s, file line %d has %s = %+v", i, vbString(got[i]), want[i].Line, want[i].OID, want[i].Value)
				}
			}
		})
	}
}

func TestAddRecordingDir(t *testing.T) {
	dir := filepath.Join(testdataDir(t), "snmpsim")
	sim := New(Options{})
	defer sim.Close()
	infos, err := sim.AddRecordingDir(context.Background(), dir, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 40 {
		t.Fatalf("started %d devices, want the 40 base recordings", len(infos))
	}
	devs := sim.Devices()
	ports := map[int]bool{}
	for i, d := range devs {
		if i > 0 && devs[i-1].Name >= d.Name {
			t.Errorf("Devices not sorted: %s before %s", devs[i-1].Name, d.Name)
		}
		if ports[d.Port] {
			t.Errorf("port %d used twice", d.Port)
		}
		ports[d.Port] = true
	}
	if _, ok := sim.Device("ios_c3560@10"); ok {
		t.Error("a context file became a device")
	}
	// Each device answers with its own recording.
	for _, name := range []string{"junos_mx5t-isis", "panos_5220", "ios_c3560"} {
		info, _ := sim.Device(name)
		rec, err := ParseFile(context.Background(), filepath.Join(dir, name+".snmprec"))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := rec.Get(mustOID("1.3.6.1.2.1.1.2.0"))
		resp, err := newClient(t, info, name, gosnmp.Version2c, 2*time.Second).Get([]string{".1.3.6.1.2.1.1.2.0"})
		if err != nil {
			t.Fatal(err)
		}
		if !pduMatches(resp.Variables[0], want) {
			t.Errorf("%s sysObjectID = %s, want %s", name, vbString(resp.Variables[0]), want.OID)
		}
	}
	// Cisco community indexing: ios_c3560@10 holds VLAN 10's BRIDGE-MIB.
	info, _ := sim.Device("ios_c3560")
	resp, err := newClient(t, info, "ios_c3560@10", gosnmp.Version2c, 2*time.Second).BulkWalkAll(".1.3.6.1.2.1.17")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ParseFile(context.Background(), filepath.Join(dir, "ios_c3560@10.snmprec"))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp) != len(rec.Records) || len(resp) == 0 {
		t.Errorf("VLAN 10 context walk: %d varbinds, file has %d", len(resp), len(rec.Records))
	}
}

func TestFaultsOnRecording(t *testing.T) {
	sim, info := startTestRecording(t, nil)
	c := newClient(t, info, "testdev", gosnmp.Version2c, 300*time.Millisecond)
	oper := []string{".1.3.6.1.2.1.2.2.1.8.1"}
	if err := sim.InjectFault("testdev", Fault{Kind: FaultLinkDown, IfIndex: 1}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(oper)
	if err != nil {
		t.Fatal(err)
	}
	if got := vbString(resp.Variables[0]); got != ".1.3.6.1.2.1.2.2.1.8.1=Integer:2" {
		t.Errorf("after link-down: %s", got)
	}
	for _, f := range []Fault{{Kind: FaultCPU, Percent: 50}, {Kind: FaultLinkDown, IfIndex: 9}} {
		if err := sim.InjectFault("testdev", f); !errors.Is(err, ErrInvalidFault) {
			t.Errorf("InjectFault(%+v) = %v, want ErrInvalidFault", f, err)
		}
	}
	if err := sim.InjectFault("testdev", Fault{Kind: FaultDown}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(oper); err == nil {
		t.Error("a down device answered")
	}
	if err := sim.ClearFaults("testdev"); err != nil {
		t.Fatal(err)
	}
	resp, err = c.Get(oper)
	if err != nil {
		t.Fatal(err)
	}
	if got := vbString(resp.Variables[0]); got != ".1.3.6.1.2.1.2.2.1.8.1=Integer:1" {
		t.Errorf("after clearing: %s", got)
	}
	if info, _ := sim.Device("testdev"); len(info.Faults) != 0 || info.Faults == nil {
		t.Errorf("Faults = %#v, want an empty list", info.Faults)
	}
}

// FuzzHandlePacket feeds arbitrary datagrams to the agent: it must never
// panic, and whatever it answers must be a response gosnmp can decode.
func FuzzHandlePacket(f *testing.F) {
	for _, p := range []gosnmp.SnmpPacket{
		{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetRequest, Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.Null}}},
		{Version: gosnmp.Version1, Community: "public", PDUType: gosnmp.GetNextRequest, Variables: []gosnmp.SnmpPDU{{Name: ".1.3", Type: gosnmp.Null}}},
		{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetBulkRequest, NonRepeaters: 1, MaxRepetitions: 9,
			Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1", Type: gosnmp.Null}, {Name: ".1.3.6.1.2.1.2", Type: gosnmp.Null}}},
		{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.SetRequest, Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.2.2.1.7.1", Type: gosnmp.Integer, Value: 2}}},
	} {
		b, err := p.MarshalMsg()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	rec, err := Parse("fuzz.snmprec", []byte(testRecording))
	if err != nil {
		f.Fatal(err)
	}
	a := &agent{name: "fuzz", log: slog.New(slog.DiscardHandler), now: time.Now, maxMsg: 1500}
	v := views{"public": tableFromRecording(rec)}
	a.views.Store(&v)
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		resp := a.handle(&worker{}, pkt, from)
		if resp == nil {
			return
		}
		if len(resp) > a.maxMsg {
			t.Fatalf("response of %d bytes exceeds the %d cap", len(resp), a.maxMsg)
		}
		got, err := (&gosnmp.GoSNMP{}).SnmpDecodePacket(resp)
		if err != nil {
			t.Fatalf("response does not decode: %v", err)
		}
		if got.PDUType != gosnmp.GetResponse {
			t.Fatalf("response PDU %v", got.PDUType)
		}
	})
}

// TestLoopbackAliases serves devices on other 127/8 addresses, which need
// no setup on Linux.
func TestLoopbackAliases(t *testing.T) {
	sim, _, _ := startDemo(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "alias.snmprec")
	if err := os.WriteFile(path, []byte(testRecording), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := sim.AddRecording(context.Background(), path, "127.0.0.2:0")
	if err != nil {
		t.Skipf("loopback alias 127.0.0.2 unavailable here: %v", err)
	}
	if info.Address != "127.0.0.2" {
		t.Errorf("Address = %s", info.Address)
	}
	resp, err := newClient(t, info, "alias", gosnmp.Version2c, 2*time.Second).Get([]string{".1.3.6.1.2.1.1.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := vbString(resp.Variables[0]); got != `.1.3.6.1.2.1.1.1.0="Test device"` {
		t.Errorf("got %s", got)
	}
	if _, err := sim.AddDemoNetwork(context.Background(), "127.0.0.3"); err == nil {
		t.Error("a second demo network started")
	}
}
