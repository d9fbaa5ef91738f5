package oracle

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/internal/testenv"
	"github.com/nocagent/nocagent/inventory"
)

// debianDiffers lists recordings that Debian's snmpsim 0.4.5 serves
// differently from what the file says, by the start of the difference
// snapshotDiff reports, with the reason. Any other difference fails.
var debianDiffers = map[string]struct{ diff, why string }{
	"ios":        {"interface 503", "ifPhysAddress.503 is upper-case hex (4x|001DE58498D2), which snmpsim 0.4.5 serves empty"},
	"zxa10_c320": {"cpu", "the file is unsorted at line 2589 and snmpsim walks in file order, skipping the ZXAN card table"},
	"occamos_b6-316": {"interface 8", "ifPhysAddress.7 and .8 are recorded twice, the second time with a bad tag (4xx); " +
		"snmpsim serves .7's good line but not .8's, collector/snmpsim serves both good lines"},
}

// Debian's snmpsim (a third-party agent, Python) and the project's own
// collector/snmpsim serve every recording of both corpora; the collector
// must read the same device from both. A difference is a bug in one of
// the two agents or in how the collector copes with a real one.
func TestCorpusAgreesWithDebianSnmpsim(t *testing.T) {
	if testing.Short() {
		t.Skip("serves 637 recordings through a Python agent; not in -short")
	}
	bin := testenv.Command(t, "snmpsimd", "snmpsim")
	dirs := []string{filepath.Join(testenv.LibreNMS(t), "snmpsim"), filepath.Join(testenv.LibreNMSWide(t), "snmpsim")}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()

	var recs []string
	for _, d := range dirs {
		files, err := filepath.Glob(filepath.Join(d, "*.snmprec"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !strings.Contains(filepath.Base(f), "@") {
				recs = append(recs, f)
			}
		}
	}
	addr := startSnmpsimd(ctx, t, bin, dirs)
	sim := snmpsim.New(snmpsim.Options{})
	defer sim.Close()
	profiles := collector.BuiltinProfiles()

	var mu, slow sync.Mutex
	var diffs []string
	var wg sync.WaitGroup
	sem := make(chan struct{}, 3)
	for _, rec := range recs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			name := strings.TrimSuffix(filepath.Base(rec), ".snmprec")
			ours, err := Score(ctx, sim, rec, "", profiles)
			if err != nil {
				t.Errorf("%s on collector/snmpsim: %v", name, err)
				return
			}
			theirs, err := Poll(ctx, name, addr, name, "", profiles)
			d := ""
			if err == nil {
				d = snapshotDiff(ours.Snapshot, theirs.Snapshot)
			}
			if err != nil || d != "" && len(theirs.Snapshot.Errors) > 0 {
				// The Python agent is slow with large tables when the
				// machine is busy (CI runs packages side by side): a poll
				// that timed out there is asked again, alone and patient,
				// before it counts as a difference.
				slow.Lock()
				theirs, err = pollWith(ctx, name, addr, name, "", profiles, 3*time.Minute, 20*time.Second)
				slow.Unlock()
				if err != nil {
					t.Errorf("%s on Debian's snmpsimd: %v", name, err)
					return
				}
				d = snapshotDiff(ours.Snapshot, theirs.Snapshot)
			}
			if known, ok := debianDiffers[name]; ok {
				if !strings.HasPrefix(d, known.diff) {
					d = fmt.Sprintf("expected to differ at %s (%s), got %q", known.diff, known.why, d)
				} else {
					d = ""
				}
			}
			if d != "" {
				mu.Lock()
				diffs = append(diffs, name+": "+d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(diffs)
	for _, d := range diffs {
		t.Error(d)
	}
	t.Logf("%d recordings read alike from collector/snmpsim and Debian's snmpsimd, %d differ", len(recs)-len(diffs), len(diffs))
}

// snapshotDiff names the first field where two polls of one recording
// differ, or "".
func snapshotDiff(a, b *collector.Snapshot) string {
	type field struct {
		name string
		a, b any
	}
	fields := []field{
		{"model", a.Model, b.Model}, {"serial", a.Serial, b.Serial}, {"firmware", a.Firmware, b.Firmware},
		{"profile", a.Profile, b.Profile}, {"interfaces", len(a.Interfaces), len(b.Interfaces)},
		{"cpu", a.CPU, b.CPU}, {"memory", a.Memory, b.Memory}, {"sensors", len(a.Sensors), len(b.Sensors)},
		{"neighbors", a.Neighbors, b.Neighbors}, {"entities", len(a.Entities), len(b.Entities)},
	}
	for _, f := range fields {
		if fa, fb := fmt.Sprintf("%+v", f.a), fmt.Sprintf("%+v", f.b); fa != fb {
			return fmt.Sprintf("%s: collector/snmpsim %s, snmpsimd %s", f.name, abbrev(fa), abbrev(fb))
		}
	}
	for i := range a.Interfaces {
		x, y := a.Interfaces[i], b.Interfaces[i]
		x.Rates, y.Rates = nil, nil
		if x != y {
			return fmt.Sprintf("interface %d: collector/snmpsim %+v, snmpsimd %+v", x.Index, x, y)
		}
	}
	return ""
}

func abbrev(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// startSnmpsimd runs Debian's snmpsimd on a free loopback port over dirs
// (community = file name) and waits until it answers.
func startSnmpsimd(ctx context.Context, t *testing.T, bin string, dirs []string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	// snmpsimd drops root for an unprivileged user, who must be able to
	// write its index cache.
	cache, err := os.MkdirTemp("", "nocagent-snmpsimd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(cache) })
	if err := os.Chmod(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	args := []string{"--agent-udpv4-endpoint=" + addr, "--cache-dir=" + cache, "--logging-method=null"}
	for _, d := range dirs {
		args = append(args, "--data-dir="+d)
	}
	if os.Geteuid() == 0 {
		args = append(args, "--process-user=nobody", "--process-group=nogroup")
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start snmpsimd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// Indexing several hundred recordings takes snmpsimd a while.
	probe := strings.TrimSuffix(filepath.Base(mustGlob(t, filepath.Join(dirs[0], "*.snmprec"))), ".snmprec")
	cred := inventory.Credential{Name: "probe", Version: "2c", Community: probe}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		s, err := collector.Dial(ctx, addr, cred, collector.SessionOptions{Timeout: time.Second})
		if err == nil {
			_, err = s.Get(ctx, []string{".1.3.6.1.2.1.1.1.0"})
			s.Close()
			if err == nil {
				return addr
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("snmpsimd on %s did not answer within 3 minutes: %v\n%s", addr, err, out.String())
		}
		time.Sleep(time.Second)
	}
}

func mustGlob(t *testing.T, pattern string) string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil || len(m) == 0 {
		t.Fatalf("no %s", pattern)
	}
	return m[0]
}
