package collector

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/internal/testenv"
	"github.com/nocagent/nocagent/inventory"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// The oracle: every LibreNMS recording is served by snmpsim, polled by the
// collector, and compared with what LibreNMS derived from the same
// recording (data/NAME.json). Counts of matches per recording and field are
// kept in testdata/oracle.golden; a count that drops fails the test, so a
// change that breaks a device that used to read right cannot land quietly.
// Run with -update after an improvement to raise the bar.

const oracleGolden = "testdata/oracle.golden"

var oracleFields = []string{"serial", "model", "ifname", "counters", "cpu", "memory"}

// score is matched/total for one field of one recording.
type score struct{ matched, total int }

// librenmsDump is the part of a LibreNMS test JSON the oracle reads.
type librenmsDump struct {
	OS struct {
		Discovery struct {
			Devices []struct {
				Serial   *string `json:"serial"`
				Hardware *string `json:"hardware"`
			} `json:"devices"`
		} `json:"discovery"`
	} `json:"os"`
	Ports struct {
		Poller json.RawMessage `json:"poller"` // an object, or the string "matches discovery"
	} `json:"ports"`
	Processors struct {
		Discovery struct {
			Processors []struct {
				Usage float64 `json:"processor_usage"`
			} `json:"processors"`
		} `json:"discovery"`
	} `json:"processors"`
	Mempools struct {
		Discovery struct {
			Mempools []lnmsMempool `json:"mempools"`
		} `json:"discovery"`
	} `json:"mempools"`
}

type lnmsMempool struct {
	Class   string  `json:"mempool_class"`
	Used    float64 `json:"mempool_used"`
	Total   float64 `json:"mempool_total"`
	Perc    float64 `json:"mempool_perc"`
	PercOID *string `json:"mempool_perc_oid"`
	UsedOID *string `json:"mempool_used_oid"`
	FreeOID *string `json:"mempool_free_oid"`
}

type lnmsPort struct {
	IfIndex int     `json:"ifIndex"`
	IfName  *string `json:"ifName"`
	IfDescr *string `json:"ifDescr"`
	// The counters, HC values where the device has them.
	Counters map[string]*float64 `json:"-"`
}

var oracleCounters = []string{
	"ifInOctets", "ifOutOctets", "ifInUcastPkts", "ifOutUcastPkts",
	"ifInErrors", "ifOutErrors", "ifInDiscards", "ifOutDiscards",
}

func (p *lnmsPort) UnmarshalJSON(b []byte) error {
	type plain lnmsPort
	if err := json.Unmarshal(b, (*plain)(p)); err != nil {
		return err
	}
	var all map[string]*float64
	// Non-numeric fields fail this decode field by field; decode into
	// json.RawMessage first to keep only the counters.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	all = map[string]*float64{}
	for _, c := range oracleCounters {
		var v *float64
		if r, ok := raw[c]; ok {
			if err := json.Unmarshal(r, &v); err != nil {
				return fmt.Errorf("%s: %w", c, err)
			}
		}
		all[c] = v
	}
	p.Counters = all
	return nil
}

// oracleAllowed lists where the collector and LibreNMS disagree and
// LibreNMS is the one to doubt, with the reason. The table marks these
// cells with "*"; they still count in the totals.
var oracleAllowed = map[string]string{
	// LibreNMS shows entPhysicalDescr; the collector keeps
	// entPhysicalModelName, the orderable part number on the label
	// (JL679A, FP1ZZ5654001A), which is what an RMA needs.
	"arubaos-cx_10.10 model":            "part number, not description",
	"cumulus_edgecore-as4610-54p model": "part number, not description",
	// LibreNMS translates sysObjectID through its MIB files
	// (ciscoASR1002F, "EdgeRouter Pro 8-Port", "FortiGate 60F"); the
	// recordings carry no model object at all (edgeos, iosxe) or name the
	// model FGT_60F.
	"iosxe model":               "sysObjectID name, no model in the recording",
	"edgeos model":              "sysObjectID name, no model in the recording",
	"fortigate_60fospfv3 model": "FGT_60F from ENTITY-MIB vs FortiGate 60F from sysObjectID",
	// "ASR9K Series" is the family from sysDescr; ENTITY-MIB says ASR-9001.
	"iosxr_asr9001 model": "family, not model",
	// "amd64" is the CPU architecture, not a model.
	"pfsense model": "architecture, not model",
	// bsnmpd's "Real Memory Metrics" size is active+wired pages;
	// LibreNMS swaps in hrMemorySize as the total. Not done yet (see the
	// collector's notes).
	"pfsense memory": "bsnmpd total is not RAM size",
	// LibreNMS adds TiMOS router interfaces (TIMETRA-VRTR-MIB) to the
	// port list; they are not in IF-MIB, which is what the collector reads.
	"timos_ixr ifname":   "ports from TIMETRA-VRTR-MIB, not IF-MIB",
	"timos_ixr counters": "ports from TIMETRA-VRTR-MIB, not IF-MIB",
	// One ifName holds binary junk after a newline, rendered differently.
	"aos6 ifname": "binary bytes in one ifName",
	// LibreNMS counts the data plane's "Packet Descriptors" hrStorage row
	// (type other) as system memory; it is a packet buffer pool.
	"panos_5220 memory": "packet descriptor pool is not system memory",
}

func TestOracleLibreNMS(t *testing.T) {
	dir := testenv.LibreNMS(t)
	jsons, err := filepath.Glob(filepath.Join(dir, "data", "*.json"))
	if err != nil || len(jsons) == 0 {
		t.Fatalf("no LibreNMS JSON in %s: %v", dir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	sim := snmpsim.New(snmpsim.Options{})
	defer sim.Close()

	results := make(map[string]map[string]score, len(jsons))
	var mu sync.Mutex
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, js := range jsons {
		name := strings.TrimSuffix(filepath.Base(js), ".json")
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := oracleOne(ctx, sim, dir, name)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			mu.Lock()
			results[name] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	slices.Sort(names)

	var b strings.Builder
	fmt.Fprintf(&b, "%-30s", "recording")
	for _, f := range oracleFields {
		fmt.Fprintf(&b, " %12s", f)
	}
	b.WriteString("\n")
	totals := map[string]score{}
	for _, n := range names {
		fmt.Fprintf(&b, "%-30s", n)
		for _, f := range oracleFields {
			s := results[n][f]
			mark := ""
			if _, ok := oracleAllowed[n+" "+f]; ok && s.matched < s.total {
				mark = "*"
			}
			fmt.Fprintf(&b, " %12s", fmt.Sprintf("%d/%d%s", s.matched, s.total, mark))
			tot := totals[f]
			tot.matched += s.matched
			tot.total += s.total
			totals[f] = tot
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-30s", "TOTAL")
	for _, f := range oracleFields {
		s := totals[f]
		fmt.Fprintf(&b, " %12s", fmt.Sprintf("%d/%d", s.matched, s.total))
	}
	b.WriteString("\n(* LibreNMS differs for a reason given in oracleAllowed)\n")
	t.Log("collector vs LibreNMS, matched/total per field:\n" + b.String())

	if *update {
		writeOracleGolden(t, names, results)
		return
	}
	golden, err := readOracleGolden(oracleGolden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestOracleLibreNMS -update to create it)", err)
	}
	for _, n := range names {
		for _, f := range oracleFields {
			want, ok := golden[n+" "+f]
			if !ok {
				continue // a new recording: nothing to hold it to yet
			}
			if got := results[n][f]; got.matched < want.matched {
				t.Errorf("%s %s: %d/%d match LibreNMS, golden has %d/%d: a device that used to read right no longer does",
					n, f, got.matched, got.total, want.matched, want.total)
			}
		}
	}
}

func oracleOne(ctx context.Context, sim *snmpsim.Simulator, dir, name string) (map[string]score, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "data", name+".json"))
	if err != nil {
		return nil, err
	}
	var lnms librenmsDump
	if err := json.Unmarshal(raw, &lnms); err != nil {
		return nil, fmt.Errorf("data/%s.json: %w", name, err)
	}
	var ports []lnmsPort
	if len(lnms.Ports.Poller) > 0 && lnms.Ports.Poller[0] == '{' {
		var pp struct {
			Ports []lnmsPort `json:"ports"`
		}
		if err := json.Unmarshal(lnms.Ports.Poller, &pp); err != nil {
			return nil, fmt.Errorf("data/%s.json ports.poller: %w", name, err)
		}
		ports = pp.Ports
	}

	info, err := sim.AddRecording(ctx, filepath.Join(dir, "snmpsim", name+".snmprec"), "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cred := inventory.Credential{Name: "oracle", Version: "2c", Community: info.Community}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	target := fmt.Sprintf("%s:%d", info.Address, info.Port)
	snap := Poll(pctx, target, cred, PollOptions{Session: SessionOptions{Timeout: 2 * time.Second, Retries: 1}})
	if !snap.Reachable {
		return nil, fmt.Errorf("poll %s: unreachable: %v", target, snap.Errors)
	}
	return compareOracle(snap, &lnms, ports), nil
}

// compareOracle scores one poll against LibreNMS. Where LibreNMS has no
// value (null), the field does not count.
func compareOracle(snap *Snapshot, lnms *librenmsDump, ports []lnmsPort) map[string]score {
	r := map[string]score{}
	if devs := lnms.OS.Discovery.Devices; len(devs) > 0 {
		d := devs[0]
		if d.Serial != nil && *d.Serial != "" {
			r["serial"] = score{btoi(strings.TrimSpace(snap.Serial) == strings.TrimSpace(*d.Serial)), 1}
		}
		if d.Hardware != nil && *d.Hardware != "" {
			r["model"] = score{btoi(sameModel(snap.Model, *d.Hardware)), 1}
		}
	}

	byIndex := make(map[int]Interface, len(snap.Interfaces))
	for _, it := range snap.Interfaces {
		byIndex[it.Index] = it
	}
	var names, counters score
	for _, p := range ports {
		it, ok := byIndex[p.IfIndex]
		want := ""
		switch {
		case p.IfName != nil && *p.IfName != "":
			want = *p.IfName
		case p.IfDescr != nil:
			want = *p.IfDescr
		}
		names.total++
		if ok && it.Name == want {
			names.matched++
		}
		got := map[string]uint64{}
		if ok {
			got = map[string]uint64{
				"ifInOctets": it.InOctets, "ifOutOctets": it.OutOctets,
				"ifInUcastPkts": it.InUcastPkts, "ifOutUcastPkts": it.OutUcastPkts,
				"ifInErrors": it.InErrors, "ifOutErrors": it.OutErrors,
				"ifInDiscards": it.InDiscards, "ifOutDiscards": it.OutDiscards,
			}
		}
		for _, c := range oracleCounters {
			v := p.Counters[c]
			if v == nil {
				continue
			}
			counters.total++
			if g, has := got[c]; has && float64(g) == *v {
				counters.matched++
			}
		}
	}
	r["ifname"], r["counters"] = names, counters

	var cpu score
	used := make([]bool, len(snap.CPU))
	for _, p := range lnms.Processors.Discovery.Processors {
		cpu.total++
		for i, c := range snap.CPU {
			if !used[i] && math.Round(c.Percent) == p.Usage {
				used[i] = true
				cpu.matched++
				break
			}
		}
	}
	r["cpu"] = cpu

	var mem score
	var ours []Memory
	for _, m := range snap.Memory {
		if m.Class == "system" || m.Class == "" {
			ours = append(ours, m)
		}
	}
	usedMem := make([]bool, len(ours))
	for _, m := range lnms.Mempools.Discovery.Mempools {
		if m.Class != "system" {
			continue
		}
		mem.total++
		for i, o := range ours {
			if !usedMem[i] && sameMemory(o, m) {
				usedMem[i] = true
				mem.matched++
				break
			}
		}
	}
	r["memory"] = mem
	return r
}

// sameMemory compares a pool in bytes where both sides have bytes, else
// in whole percent. LibreNMS stores a percent-only pool as used=perc,
// total=100, which are not bytes. A tolerance of 0.1% of the total covers
// pools LibreNMS derives from a whole percentage and a size.
func sameMemory(o Memory, m lnmsMempool) bool {
	percentOnly := m.PercOID != nil && m.UsedOID == nil && m.FreeOID == nil && m.Total == 100
	if percentOnly || o.TotalBytes == 0 {
		return math.Round(o.Percent) == m.Perc
	}
	tol := math.Max(1, m.Total*0.001)
	return math.Abs(float64(o.TotalBytes)-m.Total) <= tol && math.Abs(float64(o.UsedBytes)-m.Used) <= tol
}

// sameModel accepts the model when one names the other: LibreNMS often
// decorates it ("Juniper MX5-T Internet Backbone Router", "HP J9146A ...")
// or adds a revision ("T1600G-28TS 3.0").
func sameModel(ours, theirs string) bool {
	norm := func(s string) string {
		s = strings.ToLower(s)
		return strings.NewReplacer(" ", "", "-", "", "_", "").Replace(s)
	}
	a, b := norm(ours), norm(theirs)
	if a == "" || b == "" {
		return false
	}
	return strings.Contains(a, b) || strings.Contains(b, a)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func writeOracleGolden(t *testing.T, names []string, results map[string]map[string]score) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# Collector vs LibreNMS: matched/total per recording and field.\n")
	b.WriteString("# TestOracleLibreNMS fails when a matched count drops; -update rewrites.\n")
	for _, n := range names {
		for _, f := range oracleFields {
			s := results[n][f]
			fmt.Fprintf(&b, "%s %s %d/%d\n", n, f, s.matched, s.total)
		}
	}
	if err := os.MkdirAll(filepath.Dir(oracleGolden), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(oracleGolden, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readOracleGolden(path string) (map[string]score, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]score{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		fs := strings.Fields(l)
		if len(fs) != 3 {
			return nil, fmt.Errorf("%s:%d: want NAME FIELD M/T", path, line)
		}
		m, tot, ok := strings.Cut(fs[2], "/")
		mi, err1 := strconv.Atoi(m)
		ti, err2 := strconv.Atoi(tot)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s:%d: bad count %q", path, line, fs[2])
		}
		out[fs[0]+" "+fs[1]] = score{mi, ti}
	}
	return out, sc.Err()
}
