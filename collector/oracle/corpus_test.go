package oracle

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus.golden from this run")

// The corpus test: every LibreNMS recording of both corpora (the 40 of
// development and the 597 of the wide set) is served by collector/snmpsim,
// polled by the collector and scored against LibreNMS's values for the
// same file. testdata/corpus.golden holds every recording's verdict per
// field; the test fails when a verdict that passed now fails, when a
// total drops, and when a recording is not scored at all. Run with
// -update after an improvement to raise the bar.

const golden = "testdata/corpus.golden"

// allowed lists cells where LibreNMS is the one to doubt, by
// "recording field", with the reason. They count as passed; an entry for a
// cell that passes on its own fails the test, so the list stays true.
var allowed = map[string]string{
	// Memory: LibreNMS stores a vendor's kB or MB counters as bytes (the
	// percentage agrees; the totals are 1024 or 1048576 times too small).
	"cdata memory":             "CDATA OLT memory is in MB; LibreNMS keeps it as bytes",
	"raisecom-ros memory":      "RAISECOM-SYSTEM memory is in kB; LibreNMS keeps it as bytes",
	"zxa10_c320 memory":        "ZXAN card memory is in MB; LibreNMS keeps it as bytes",
	"powerconnect_3064 memory": "FASTPATH agentSwitchCpuProcessMem* are in kB; LibreNMS keeps them as bytes",
	"powerconnect_3080 memory": "FASTPATH agentSwitchCpuProcessMem* are in kB; LibreNMS keeps them as bytes",
	"powerconnect_3082 memory": "FASTPATH agentSwitchCpuProcessMem* are in kB; LibreNMS keeps them as bytes",
	"alaxala_ax2430s memory":   "AX memory sizes are kB (262144 = 256 MB); LibreNMS keeps them as bytes",
	"alaxala_ax3640s memory":   "AX memory sizes are kB (524288 = 512 MB); LibreNMS keeps them as bytes",
	"dlink_dgs-1510-28 memory": "dEntityExtMemUtil is in kB and LibreNMS also counts the flash as system memory",
	"f5os_f5os memory":         "LibreNMS reads platform used memory as free memory (54 % for 46 %)",
	// Model: LibreNMS's hardware is not the model.
	"dcn-software_s5750e model": "LibreNMS shows the hardware revision 1.0.1; sysDescr names the S5750E-16X-SI",
	"snr model":                 "LibreNMS shows the hardware revision 1.0.1; sysDescr names the SNR-S2990X-24FQ",
	"topvision model":           "LibreNMS shows the hardware version 2.2.4; the product is the CC8800D-E",
	"grandstream-sw model":      "the oracle's hardware was anonymised to <private>",
	"rutos model":               "LibreNMS shows the CPU family (Generic MIPS); the product code says RUT955",
	"rutos-rutx_rutx11 model":   "LibreNMS shows routerName, a name the user sets; the product code says RUTX11",
	"rutos-rutx_trb500 model":   "LibreNMS shows routerName, a name the user sets; the product code says TRB500",
	"ird model":                 "LibreNMS's placeholder for the CPU family (Generic ARM), not a model",
	"ironware_stack-temp model": "LibreNMS shows the MIB registration name snFastIronStackICX7650Switch; the unit is an ICX7650-48F",
	// Serial: not a serial number.
	"arista-mos_metamux48 serial": "LibreNMS reads snmpSetSerialNo, SNMPv2-MIB's lock counter, as the serial",
	// CPU: not a load percentage.
	"viptela_vedge1000 cpu":                 "LibreNMS shows 100 minus an idle OID the recording lacks",
	"arbos cpu":                             "deviceCpuLoadAvg5min is a load average in hundredths, not a percentage",
	"arbos_tms cpu":                         "deviceCpuLoadAvg5min is a load average in hundredths, not a percentage",
	"infinera-xtm_infinera-xtm-r33b-43 cpu": "sysinfoBoardLoadLoad1Min is a load average, not a percentage",
	"teldat_teldatm1 cpu":                   "the oracle's values (5/1/5) are not those of the recording (6/5/5); its poller section agrees with us",
	"teldat_teldatvdsl2 cpu":                "the oracle's values (5/1/5) are not those of the recording (10/36/24); its poller section agrees with us",
	// Temperature and fan: readings the recording does not hold, or that
	// LibreNMS scales wrongly.
	"sgos temperature":                            "the recording holds no BLUECOAT-SG-SENSOR-MIB rows (6 varbinds in all); the oracle's 19 readings (all 0) are not in it",
	"sgos fan":                                    "the recording holds no BLUECOAT-SG-SENSOR-MIB rows (6 varbinds in all); the oracle's 18 readings (all 0) are not in it",
	"powerconnect_3031 temperature":               "the recording holds 3 varbinds and no RADLAN environment table; the oracle's reading (0) is not in it",
	"edgeosolt_uisp-fiber temperature":            "LibreNMS divides the UFiber temperatures (37..44 °C) by 1000 and shows 0.037 °C",
	"microsens-g6 temperature":                    "informationTemperature says \"63.5C / 146.7F\"; LibreNMS converts 63.5 as if Fahrenheit (17.5 °C)",
	"loop-telecom_loop-am3440-ccpb-a temperature": "c1Temperature and dpwmTemperature are text (\" 61\\xa2XC\", \"47.000000 \\xa2XC\"); LibreNMS reads the first byte of their hex dump (20, 34)",
	// PSU: rows that are not power supply states.
	"infinera-groove psu": "the rows are cardMode (normal/regen) of the PSU cards, not a supply state, and the oracle's 0 is not the recording's 1",
	// Interfaces.
	"aos6 interfaces":            "one ifName holds binary bytes, rendered differently",
	"infinera-groove interfaces": "ifIndex 1001000003000 is outside IF-MIB's InterfaceIndex range (1..2147483647)",
	"bison interfaces":           "LibreNMS's ifName of the BISON-ROUTER-MIB ports is a status column ('0', '1'); its ifDescr holds the port names, which we read with the same octets on all 30",
}

type verdict byte // 'P' pass, 'F' fail, '-' not scored

func (r *Result) verdict(field string) verdict {
	c := r.Check(field)
	switch {
	case !c.Scored:
		return '-'
	case c.Pass, allowed[r.Name+" "+field] != "":
		return 'P'
	}
	return 'F'
}

func TestCorpus(t *testing.T) {
	dirs := map[string]string{"librenms": testenv.LibreNMS(t), "librenms-wide": testenv.LibreNMSWide(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	sim := snmpsim.New(snmpsim.Options{})
	defer sim.Close()
	profiles := collector.BuiltinProfiles()

	var recs []string
	for _, corpus := range []string{"librenms", "librenms-wide"} {
		files, err := filepath.Glob(filepath.Join(dirs[corpus], "snmpsim", "*.snmprec"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no recordings in %s: %v", dirs[corpus], err)
		}
		for _, f := range files {
			if !strings.Contains(filepath.Base(f), "@") { // VLAN context files belong to their device
				recs = append(recs, f)
			}
		}
	}
	results := make([]*Result, len(recs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, rec := range recs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			js := Oracle(rec)
			if js == "" {
				t.Errorf("%s: no oracle JSON beside it", rec)
				return
			}
			r, err := Score(ctx, sim, rec, js, profiles)
			if err != nil {
				t.Errorf("%s: %v", rec, err)
				return
			}
			results[i] = r
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	slices.SortFunc(results, func(a, b *Result) int { return strings.Compare(a.Name, b.Name) })
	t.Log("collector vs LibreNMS, devices passed/scored:\n" + summary(results))
	if *update {
		writeGolden(t, results)
		return
	}
	want, err := readGolden(golden)
	if err != nil {
		t.Fatalf("%v (go test ./collector/oracle -run TestCorpus -update creates it)", err)
	}
	before, after := map[string][2]int{}, map[string][2]int{}
	for _, r := range results {
		w, ok := want[r.Name]
		if !ok {
			t.Errorf("%s: not in %s: a recording that is not scored (run -update to add it)", r.Name, golden)
			continue
		}
		for i, f := range Fields {
			got := r.verdict(f)
			if w[i] == 'P' && got != 'P' {
				c := r.Check(f)
				t.Errorf("%s %s: passed before, now %c: want %q got %q", r.Name, f, got, c.Want, c.Got)
			}
			tally(before, f, w[i])
			tally(after, f, got)
		}
		delete(want, r.Name)
	}
	for n := range want {
		t.Errorf("%s: in %s but no longer scored", n, golden)
	}
	for _, r := range results {
		for _, f := range Fields {
			if why := allowed[r.Name+" "+f]; why != "" && r.Check(f).Pass {
				t.Errorf("%s %s passes on its own: remove it from allowed (%s)", r.Name, f, why)
			}
		}
	}
	for _, f := range Fields {
		if after[f][0] < before[f][0] {
			t.Errorf("%s: %d devices pass, golden has %d", f, after[f][0], before[f][0])
		}
	}
}

func tally(m map[string][2]int, f string, v verdict) {
	c := m[f]
	if v == 'P' {
		c[0]++
	}
	if v != '-' {
		c[1]++
	}
	m[f] = c
}

// summary is a table of passed/scored per LibreNMS OS and field, with the
// totals first.
func summary(results []*Result) string {
	byOS := map[string]map[string][2]int{}
	total := map[string][2]int{}
	for _, r := range results {
		os := r.OS
		if os == "" {
			os = "(oracle names no os)"
		}
		if byOS[os] == nil {
			byOS[os] = map[string][2]int{}
		}
		for _, f := range Fields {
			tally(byOS[os], f, r.verdict(f))
			tally(total, f, r.verdict(f))
		}
	}
	var b strings.Builder
	row := func(name string, m map[string][2]int) {
		fmt.Fprintf(&b, "%-24s", name)
		for _, f := range Fields {
			c := m[f]
			cell := "-"
			if c[1] > 0 {
				cell = fmt.Sprintf("%d/%d", c[0], c[1])
			}
			fmt.Fprintf(&b, " %11s", cell)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-24s", "os")
	for _, f := range Fields {
		fmt.Fprintf(&b, " %11s", f)
	}
	b.WriteString("\n")
	row(fmt.Sprintf("TOTAL (%d)", len(results)), total)
	fmt.Fprintf(&b, "%-24s", "percent")
	for _, f := range Fields {
		c := total[f]
		fmt.Fprintf(&b, " %10.1f%%", 100*float64(c[0])/float64(max(c[1], 1)))
	}
	b.WriteString("\n")
	oses := make([]string, 0, len(byOS))
	for os := range byOS {
		oses = append(oses, os)
	}
	slices.Sort(oses)
	for _, os := range oses {
		row(os, byOS[os])
	}
	return b.String()
}

func writeGolden(t *testing.T, results []*Result) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# Collector vs LibreNMS per recording: one letter per field, P pass, F fail, - not scored.\n")
	b.WriteString("# Fields: " + strings.Join(Fields, " ") + "\n")
	b.WriteString("# TestCorpus fails when a P becomes anything else; -update rewrites.\n")
	for _, r := range results {
		v := make([]byte, len(Fields))
		for i, f := range Fields {
			v[i] = byte(r.verdict(f))
		}
		fmt.Fprintf(&b, "%s %s\n", r.Name, v)
	}
	if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readGolden(path string) (map[string][]verdict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]verdict{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, v, ok := strings.Cut(l, " ")
		if !ok || len(v) != len(Fields) {
			return nil, fmt.Errorf("%s:%d: want NAME and %d verdict letters", path, line, len(Fields))
		}
		out[name] = []verdict(v)
	}
	return out, sc.Err()
}
