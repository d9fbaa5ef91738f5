package collector

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/nocagent/nocagent/inventory"
)

// Credentials the test snmpd knows. The secrets are test-only.
var (
	snmpdV2c = inventory.Credential{Name: "lab-v2c", Version: "2c", Community: "public"}
	snmpdV1  = inventory.Credential{Name: "lab-v1", Version: "1", Community: "public"}
	snmpdV3  = inventory.Credential{
		Name: "lab-v3", Version: "3", Username: "u", SecurityLevel: "authPriv",
		AuthProtocol: "SHA", AuthKey: "authpass123", PrivProtocol: "AES", PrivKey: "privpass123",
	}
)

// snmpdConf is the agent's configuration. net-snmp computes hrProcessorLoad
// only once it has a minute of history, too slow for a test, so one
// instance is pinned with override; everything else is the agent's own.
const snmpdConf = `rocommunity public 127.0.0.1
createUser u SHA "authpass123" AES "privpass123"
rouser u priv
createUser md5des MD5 "authpass123" DES "privpass123"
rouser md5des priv
createUser sha224 SHA-224 "authpass123"
rouser sha224 auth
createUser sha256aes256 SHA-256 "authpass123" AES-256 "privpass123"
rouser sha256aes256 priv
createUser sha384aes SHA-384 "authpass123" AES "privpass123"
rouser sha384aes priv
createUser sha512aes192 SHA-512 "authpass123" AES-192 "privpass123"
rouser sha512aes192 priv
override .1.3.6.1.2.1.25.3.3.1.2.196608 integer 42
`

// lockedBuffer collects snmpd's output for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startSnmpd runs net-snmp's snmpd on a free loopback port until the test
// ends and returns its address once it answers. Without snmpd it skips,
// unless CI is set.
func startSnmpd(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("snmpd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/snmpd"); serr == nil {
			bin = "/usr/sbin/snmpd"
		} else if os.Getenv("CI") == "" {
			t.Skip("snmpd not installed (apt-get install snmpd snmp); set CI to make this a failure")
		} else {
			t.Fatalf("snmpd not found: %v", err)
		}
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "snmpd.conf")
	if err := os.WriteFile(conf, []byte(snmpdConf), 0o600); err != nil {
		t.Fatal(err)
	}
	// The port is free when we look; another process could take it before
	// snmpd binds, so try a few.
	for attempt := 0; attempt < 3; attempt++ {
		addr := freeUDPAddr(t)
		var out lockedBuffer
		cmd := exec.Command(bin, "-f", "-Lo", "-C", "-c", conf, "udp:"+addr)
		cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+filepath.Join(dir, "persist"), "MIBS=")
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start snmpd: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		if waitAnswer(addr, exited) {
			t.Cleanup(stop)
			return addr
		}
		stop()
		t.Logf("snmpd on %s did not answer (attempt %d); output:\n%s", addr, attempt+1, lastLines(out.String(), 20))
	}
	t.Fatal("snmpd never answered")
	return ""
}

func freeUDPAddr(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// waitAnswer polls sysUpTime for up to 5 s, or until snmpd exits.
func waitAnswer(addr string, exited <-chan struct{}) bool {
	host, port, _ := SplitTarget(addr)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		g := &gosnmp.GoSNMP{Target: host, Port: port, Community: "public", Version: gosnmp.Version2c,
			Timeout: 200 * time.Millisecond, Retries: 0}
		if g.Connect() == nil {
			_, err := g.Get([]string{oidSysUpTime})
			g.Close()
			if err == nil {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// memTotal reads MemTotal from /proc/meminfo in bytes, the figure net-snmp
// reports as "Physical memory".
func memTotal(t *testing.T) uint64 {
	t.Helper()
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		t.Skipf("no /proc/meminfo: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb * 1024
		}
	}
	t.Fatal("MemTotal not in /proc/meminfo")
	return 0
}

func TestPollSnmpd(t *testing.T) {
	addr := startSnmpd(t)
	host, _ := os.Hostname()
	opts := PollOptions{Session: SessionOptions{Timeout: time.Second, Retries: 1}}
	var v2 *Snapshot
	for _, cred := range []inventory.Credential{snmpdV2c, snmpdV3, snmpdV1} {
		t.Run(cred.Name, func(t *testing.T) {
			snap := Poll(testCtx(t), addr, cred, opts)
			if !snap.Reachable || len(snap.Errors) != 0 {
				t.Fatalf("reachable %v, errors %q", snap.Reachable, snap.Errors)
			}
			if snap.System.Name != host || !strings.HasPrefix(snap.System.ObjectID, "1.3.6.1.4.1.8072.") ||
				snap.System.UptimeSeconds <= 0 {
				t.Errorf("system = %+v, want name %q and a net-snmp object ID", snap.System, host)
			}
			if snap.Vendor != "net-snmp" || snap.OS != "linux" {
				t.Errorf("vendor %q os %q", snap.Vendor, snap.OS)
			}
			var lo *Interface
			for i := range snap.Interfaces {
				if snap.Interfaces[i].Name == "lo" {
					lo = &snap.Interfaces[i]
				}
			}
			if lo == nil {
				t.Fatalf("no lo among %d interfaces", len(snap.Interfaces))
			}
			if lo.Type != "softwareLoopback" || lo.OperStatus != "up" || lo.AdminStatus != "up" || lo.InOctets == 0 {
				t.Errorf("lo = %+v", *lo)
			}
			if cred.Version != "1" && !lo.HC {
				t.Errorf("lo has no HC counters over SNMPv%s", cred.Version)
			}
			if len(snap.CPU) == 0 || snap.CPU[0] != (CPU{Name: "cpu196608", Percent: 42}) {
				t.Errorf("cpu = %+v, want cpu196608 at 42%%", snap.CPU)
			}
			var ram *Memory
			for i := range snap.Memory {
				if snap.Memory[i].Name == "Physical memory" {
					ram = &snap.Memory[i]
				}
			}
			if ram == nil {
				t.Fatalf("no Physical memory in %+v", snap.Memory)
			}
			if mt := memTotal(t); ram.TotalBytes != mt || ram.UsedBytes == 0 || ram.UsedBytes > ram.TotalBytes {
				t.Errorf("RAM = %+v, want total %d from /proc/meminfo", *ram, mt)
			}
			if snap.PDUs < 6 || snap.PDUs > 40 {
				t.Errorf("PDUs = %d", snap.PDUs)
			}
			if v2 == nil {
				v2 = snap
			} else if len(snap.Interfaces) != len(v2.Interfaces) || len(snap.Memory) != len(v2.Memory) {
				t.Errorf("%d interfaces %d memories, v2c saw %d %d", len(snap.Interfaces), len(snap.Memory), len(v2.Interfaces), len(v2.Memory))
			}
		})
	}
}

// Every USM protocol net-snmp and gosnmp both speak, against the real
// agent: AES-192/256 here are the Blumenthal key extension net-snmp uses.
func TestSnmpdV3Protocols(t *testing.T) {
	addr := startSnmpd(t)
	tests := []struct{ user, level, auth, priv string }{
		{"md5des", "authPriv", "MD5", "DES"},
		{"sha224", "authNoPriv", "SHA224", ""},
		{"sha256aes256", "authPriv", "SHA256", "AES256"},
		{"sha384aes", "authPriv", "SHA384", "AES"},
		{"sha512aes192", "authPriv", "SHA512", "AES192"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			cred := inventory.Credential{Name: tt.user, Version: "3", Username: tt.user, SecurityLevel: tt.level,
				AuthProtocol: tt.auth, AuthKey: "authpass123", PrivProtocol: tt.priv}
			if tt.priv != "" {
				cred.PrivKey = "privpass123"
			}
			snap := Poll(testCtx(t), addr, cred, PollOptions{Session: SessionOptions{Timeout: time.Second, Retries: 1}})
			if !snap.Reachable || len(snap.Errors) != 0 || len(snap.Interfaces) == 0 {
				t.Fatalf("reachable %v, errors %q, %d interfaces", snap.Reachable, snap.Errors, len(snap.Interfaces))
			}
		})
	}
}

// A context the agent does not serve gets a hint that names it: the
// context name really goes out in the request.
func TestSnmpdUnknownContext(t *testing.T) {
	addr := startSnmpd(t)
	c := snmpdV3
	c.ContextName = "vlan-999"
	snap := Poll(testCtx(t), addr, c, PollOptions{Session: SessionOptions{Timeout: 500 * time.Millisecond}})
	if snap.Reachable || len(snap.Errors) != 1 || !strings.Contains(snap.Errors[0], `context "vlan-999"`) {
		t.Fatalf("reachable %v, errors %q", snap.Reachable, snap.Errors)
	}
	if strings.Contains(snap.Errors[0], "privpass123") {
		t.Error("hint leaks the key")
	}
	c.ContextName = ""
	if snap := Poll(testCtx(t), addr, c, PollOptions{Session: SessionOptions{Timeout: time.Second}}); !snap.Reachable {
		t.Errorf("default context: %q", snap.Errors)
	}
}

func TestSnmpdCredentialHints(t *testing.T) {
	addr := startSnmpd(t)
	modify := func(f func(*inventory.Credential)) inventory.Credential {
		c := snmpdV3
		c.Name = "v3-bad"
		f(&c)
		return c
	}
	tests := []struct {
		name string
		cred inventory.Credential
		want string
	}{
		{"wrong auth key", modify(func(c *inventory.Credential) { c.AuthKey = "wrongpass99" }),
			`authentication failed on ` + addr + `: check auth_protocol and auth_key of credential "v3-bad"`},
		{"wrong auth protocol", modify(func(c *inventory.Credential) { c.AuthProtocol = "MD5" }),
			`authentication failed on ` + addr + `: check auth_protocol and auth_key of credential "v3-bad"`},
		{"wrong priv key", modify(func(c *inventory.Credential) { c.PrivKey = "wrongpriv99" }),
			`no answer from ` + addr + ` to encrypted requests although it answered SNMPv3 discovery: check priv_protocol and priv_key of credential "v3-bad"`},
		{"unknown user", modify(func(c *inventory.Credential) { c.Username = "nobody" }),
			`unknown user on ` + addr + `: check username of credential "v3-bad"`},
		{"wrong community", inventory.Credential{Name: "v2-bad", Version: "2c", Community: "private"},
			`no answer from ` + addr + ` within 300ms (check address, port, community/credentials and ACLs)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := Poll(testCtx(t), addr, tt.cred, PollOptions{Session: SessionOptions{Timeout: 300 * time.Millisecond}})
			if snap.Reachable || len(snap.Errors) != 1 {
				t.Fatalf("reachable %v errors %q", snap.Reachable, snap.Errors)
			}
			if got := strings.TrimPrefix(snap.Errors[0], "system: "); got != tt.want {
				t.Errorf("error\n got %q\nwant %q", got, tt.want)
			}
			for _, secret := range []string{tt.cred.AuthKey, tt.cred.PrivKey, tt.cred.Community} {
				if secret != "" && strings.Contains(snap.Errors[0], secret) {
					t.Errorf("error reveals a secret: %q", snap.Errors[0])
				}
			}
		})
	}
}

func TestSessionHintOnClosedPort(t *testing.T) {
	addr := freeUDPAddr(t) // nothing listens: the kernel answers port unreachable
	s, err := Dial(testCtx(t), addr, snmpdV2c, SessionOptions{Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Get(testCtx(t), []string{oidSysName})
	want := addr + " refused the request (port unreachable: is an SNMP agent listening on that port?)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("hint does not wrap the cause: %#v", err)
	}
}

func TestDialRejectsBadCredentials(t *testing.T) {
	for _, tt := range []struct {
		cred inventory.Credential
		want string
	}{
		{inventory.Credential{Name: "x", Version: "4"}, `credential "x": unsupported SNMP version "4"`},
		{inventory.Credential{Name: "x", Version: "3", Username: "u", SecurityLevel: "authPriv", AuthProtocol: "SHA3", AuthKey: "k1234567", PrivProtocol: "AES", PrivKey: "p1234567"},
			`credential "x": unknown auth_protocol "SHA3"`},
		{inventory.Credential{Name: "x", Version: "3", Username: "u", SecurityLevel: "authPriv", AuthProtocol: "SHA", AuthKey: "k1234567", PrivProtocol: "3DES", PrivKey: "p1234567"},
			`credential "x": unknown priv_protocol "3DES"`},
		{inventory.Credential{Name: "x", Version: "3", Username: "u", SecurityLevel: "paranoid"}, `credential "x": unknown security_level "paranoid"`},
	} {
		_, err := Dial(context.Background(), "127.0.0.1:161", tt.cred, SessionOptions{})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Dial(%+v) = %v, want %q", tt.cred.Redacted(), err, tt.want)
		}
	}
	for _, tt := range []struct{ in, host, port string }{
		{"10.0.0.1", "10.0.0.1", "161"}, {"10.0.0.1:1161", "10.0.0.1", "1161"},
		{"[::1]:162", "::1", "162"}, {"::1", "::1", "161"}, {"sw1.example.net", "sw1.example.net", "161"},
	} {
		h, p, err := SplitTarget(tt.in)
		if err != nil || h != tt.host || fmt.Sprint(p) != tt.port {
			t.Errorf("SplitTarget(%q) = %q %d %v", tt.in, h, p, err)
		}
	}
	if _, _, err := SplitTarget("10.0.0.1:99999"); err == nil {
		t.Error("port 99999 accepted")
	}
}
