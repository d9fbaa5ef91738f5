// Command polldriver measures nocagent's poller against Prometheus'
// snmp_exporter on the same simulated devices. bench/poll.sh builds and
// runs it; it is not part of the product.
//
//	polldriver run -devices N -duration 120s -exporter /usr/bin/prometheus-snmp-exporter
//	polldriver sim -devices N        (started by run, in its own process)
//	polldriver snmpyml               (prints the snmp_exporter module)
//
// run starts the simulator as a child process so that its CPU is counted
// apart, polls every device with collector.Scheduler at a 60 s interval for
// the duration, measuring its own CPU (getrusage) and peak RSS, then has
// snmp_exporter scrape the same devices as many times, measuring the
// exporter's CPU from /proc/PID/stat.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/inventory"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: polldriver run|sim|snmpyml|agent [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "run":
		err = run(ctx, os.Args[2:])
	case "sim":
		err = sim(ctx, os.Args[2:])
	case "agent":
		err = agent(ctx, os.Args[2:])
	case "snmpyml":
		_, err = io.WriteString(os.Stdout, snmpYML(25))
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "polldriver:", err)
		os.Exit(1)
	}
}

// listenAddr spreads devices over 127.77.0.0/16, one address each, as
// devices of a real network would be; every 127/8 address is loopback on
// Linux, so no aliases are needed.
func listenAddr(i int) string {
	return fmt.Sprintf("127.77.%d.%d:0", i/250, i%250+1)
}

// sim serves the devices and prints one target (host:port) per line, then
// "ready", and serves until stdin closes.
func sim(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	devices := fs.Int("devices", 500, "simulated 48-port switches")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s := snmpsim.New(snmpsim.Options{})
	defer s.Close()
	infos, err := s.AddBenchSwitches(ctx, *devices, listenAddr)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	for _, in := range infos {
		fmt.Fprintf(w, "%s\n", net.JoinHostPort(in.Address, strconv.Itoa(in.Port)))
	}
	fmt.Fprintln(w, "ready")
	if err := w.Flush(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}

type runFlags struct {
	devices    int
	duration   time.Duration
	interval   time.Duration
	workers    int
	exporter   string
	concurrent int
	cpuProfile string
	memProfile string
	workDir    string
}

func run(ctx context.Context, args []string) error {
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.IntVar(&f.devices, "devices", 500, "simulated 48-port switches")
	fs.DurationVar(&f.duration, "duration", 120*time.Second, "how long nocagent polls")
	fs.DurationVar(&f.interval, "interval", 60*time.Second, "poll interval per device")
	fs.IntVar(&f.workers, "workers", 16, "nocagent poll workers")
	fs.StringVar(&f.exporter, "exporter", "/usr/bin/prometheus-snmp-exporter", "snmp_exporter binary; empty skips it")
	fs.IntVar(&f.concurrent, "scrapers", 8, "concurrent scrapes sent to snmp_exporter")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the nocagent phase here")
	fs.StringVar(&f.memProfile, "memprofile", "", "write an allocation profile of the nocagent phase here")
	fs.StringVar(&f.workDir, "workdir", os.TempDir(), "where snmp.yml is written")
	if err := fs.Parse(args); err != nil {
		return err
	}

	simProc, targets, err := startSim(ctx, f.devices)
	if err != nil {
		return err
	}
	defer simProc.stop()
	simStart := procCPU(simProc.cmd.Process.Pid)

	na, err := pollNocagent(ctx, f, targets)
	if err != nil {
		return err
	}
	simAfterNA := procCPU(simProc.cmd.Process.Pid)
	na.simCPU = simAfterNA - simStart

	var ex result
	ex.name = "snmp_exporter"
	if f.exporter != "" {
		ex, err = scrapeExporter(ctx, f, targets, na.polls)
		if err != nil {
			return err
		}
		ex.simCPU = procCPU(simProc.cmd.Process.Pid) - simAfterNA
	}
	report(os.Stdout, f, na, ex)
	return nil
}

type simProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

func (p *simProcess) stop() {
	p.stdin.Close()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

func startSim(ctx context.Context, devices int) (*simProcess, []string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, self, "sim", "-devices", strconv.Itoa(devices))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start simulator: %w", err)
	}
	p := &simProcess{cmd: cmd, stdin: stdin}
	var targets []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if sc.Text() == "ready" {
			return p, targets, nil
		}
		targets = append(targets, sc.Text())
	}
	p.stop()
	return nil, nil, fmt.Errorf("simulator ended before it was ready (%d devices started): %v", len(targets), sc.Err())
}

// result is one poller's figures.
type result struct {
	name            string
	polls, missed   int
	varbinds        uint64
	cpu             time.Duration
	peakRSSKiB      int64
	baseRSSKiB      int64
	simCPU          time.Duration
	wall            time.Duration
	overruns, fails int
}

func (r result) cpuPer1k() float64 {
	if r.polls == 0 {
		return 0
	}
	return r.cpu.Seconds() / float64(r.polls) * 1000
}

func (r result) varbindsPerCPU() float64 {
	if r.cpu <= 0 {
		return 0
	}
	return float64(r.varbinds) / r.cpu.Seconds()
}

func pollNocagent(ctx context.Context, f runFlags, addrs []string) (result, error) {
	r := result{name: "nocagent"}
	targets := make([]collector.Target, len(addrs))
	cred := inventory.Credential{Name: "bench", Version: "2c", Community: snmpsim.DemoCommunity}
	for i, a := range addrs {
		targets[i] = collector.Target{
			Device:     inventory.Device{Name: fmt.Sprintf("bench-sw-%05d", i), Address: a},
			Credential: cred, Interval: f.interval,
		}
	}
	var emitted, failed atomic.Int64
	sched := collector.NewScheduler(collector.SchedulerOptions{
		Workers: f.workers,
		Logger:  slog.New(slog.DiscardHandler),
		Session: collector.SessionOptions{Tuning: collector.NewTuningCache()},
	}, func(s *collector.Snapshot) {
		emitted.Add(1)
		if !s.Reachable || len(s.Errors) > 0 || len(s.Interfaces) != 48 {
			if failed.Add(1) <= 3 {
				fmt.Fprintf(os.Stderr, "nocagent: poll of %s: reachable=%v interfaces=%d errors=%v\n",
					s.Device, s.Reachable, len(s.Interfaces), s.Errors)
			}
		}
	})

	runtime.GC()
	r.baseRSSKiB = currentRSSKiB()
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return r, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return r, err
		}
		defer pprof.StopCPUProfile()
	}
	if f.memProfile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	wire0, cpu0, start := collector.ReadWireStats(), selfCPU(), time.Now()
	pctx, cancel := context.WithTimeout(ctx, f.duration)
	defer cancel()
	if err := sched.Run(pctx, targets); err != nil {
		return r, err
	}
	r.cpu, r.wall = selfCPU()-cpu0, time.Since(start)
	r.varbinds = collector.ReadWireStats().Varbinds - wire0.Varbinds
	r.peakRSSKiB = peakRSSKiB()
	if f.memProfile != "" {
		mf, err := os.Create(f.memProfile)
		if err != nil {
			return r, err
		}
		defer mf.Close()
		if err := pprof.Lookup("allocs").WriteTo(mf, 0); err != nil {
			return r, err
		}
	}
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	// Every device falls due at least floor(duration/interval) times; a
	// device polled fewer times, or skipped for an overrun, missed polls.
	floor := int(f.duration / f.interval)
	for _, st := range sched.Stats() {
		r.polls += st.Polls
		r.overruns += st.Overruns
		r.missed += st.Overruns + max(0, floor-st.Polls)
	}
	r.fails = int(failed.Load())
	r.missed += r.fails
	// Polls started but cut by the end of the run are not counted as done.
	r.polls = int(emitted.Load())
	return r, nil
}

func scrapeExporter(ctx context.Context, f runFlags, targets []string, polls int) (result, error) {
	r := result{name: "snmp_exporter"}
	if polls <= 0 {
		polls = len(targets)
	}
	cfg := f.workDir + "/nocagent-bench-snmp.yml"
	if err := os.WriteFile(cfg, []byte(snmpYML(25)), 0o644); err != nil {
		return r, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return r, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, f.exporter, "--config.file="+cfg, "--web.listen-address="+addr, "--log.level=error")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("start %s: %w", f.exporter, err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: f.concurrent}}
	if err := waitHTTP(ctx, client, "http://"+addr+"/"); err != nil {
		return r, fmt.Errorf("snmp_exporter did not come up: %w", err)
	}
	pid := cmd.Process.Pid
	cpu0, start := procCPU(pid), time.Now()
	var (
		next           atomic.Int64
		pdus, failures atomic.Int64
		wg             sync.WaitGroup
		firstErr       sync.Once
	)
	for range f.concurrent {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= polls || ctx.Err() != nil {
					return
				}
				u := "http://" + addr + "/snmp?module=nocagent&target=" + targets[i%len(targets)]
				n, err := scrape(ctx, client, u)
				if err != nil {
					failures.Add(1)
					firstErr.Do(func() { fmt.Fprintf(os.Stderr, "snmp_exporter: %s: %v\n", u, err) })
					continue
				}
				pdus.Add(n)
			}
		})
	}
	wg.Wait()
	r.cpu, r.wall = procCPU(pid)-cpu0, time.Since(start)
	r.polls, r.varbinds = polls, uint64(pdus.Load())
	r.fails = int(failures.Load())
	r.missed = r.fails
	r.peakRSSKiB = procStatusKiB(pid, "VmHWM:")
	return r, ctx.Err()
}

// scrape fetches one target and returns the varbinds the exporter says it
// received (snmp_scrape_pdus_returned).
func scrape(ctx context.Context, c *http.Client, u string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, body)
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, "snmp_scrape_pdus_returned "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("snmp_scrape_pdus_returned %q: %w", v, err)
			}
			if n < 1000 {
				return int64(n), fmt.Errorf("only %v varbinds returned", n)
			}
			return int64(n), nil
		}
	}
	return 0, errors.New("no snmp_scrape_pdus_returned in the answer")
}

func waitHTTP(ctx context.Context, c *http.Client, u string) error {
	var err error
	for range 100 {
		var resp *http.Response
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if resp, err = c.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return err
}

func report(w io.Writer, f runFlags, na, ex result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "poller\tdevice polls\tvarbinds/poll\tCPU s\tCPU s/1k polls\tvarbinds/CPU s\tpeak RSS MiB\tRSS KiB/device\tmissed\tfailed\tsimulator CPU s\twall s\t\n")
	for _, r := range []result{na, ex} {
		if r.polls == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.2f\t%.3f\t%.0f\t%.1f\t%.1f\t%d\t%d\t%.2f\t%.1f\t\n",
			r.name, r.polls, float64(r.varbinds)/float64(r.polls), r.cpu.Seconds(), r.cpuPer1k(), r.varbindsPerCPU(),
			float64(r.peakRSSKiB)/1024, float64(r.peakRSSKiB)/float64(f.devices), r.missed, r.fails,
			r.simCPU.Seconds(), r.wall.Seconds())
	}
	tw.Flush()
	fmt.Fprintf(w, "nocagent: %d devices, %s interval, %s; RSS before polling %.1f MiB; %d overruns\n",
		f.devices, f.interval, f.duration, float64(na.baseRSSKiB)/1024, na.overruns)
	ratio := 0.0
	if na.cpuPer1k() > 0 {
		ratio = ex.cpuPer1k() / na.cpuPer1k()
	}
	fmt.Fprintf(w, "poll-bench: devices=%d nocagent_cpu_s_per_1k=%.3f snmp_exporter_cpu_s_per_1k=%.3f ratio=%.2f varbinds_per_cpu_s=%.0f rss_kib_per_device=%.1f missed=%d\n",
		f.devices, na.cpuPer1k(), ex.cpuPer1k(), ratio, na.varbindsPerCPU(),
		float64(na.peakRSSKiB)/float64(f.devices), na.missed)
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSKiB is the process's high-water resident set (ru_maxrss is in
// KiB on Linux).
func peakRSSKiB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss
}

func currentRSSKiB() int64 { return procStatusKiB(os.Getpid(), "VmRSS:") }

// procCPU is utime+stime of pid from /proc/PID/stat, in clock ticks of
// 1/100 s (USER_HZ on Linux).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which may hold spaces, in parentheses.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func procStatusKiB(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// column is one table column nocagent walks, described for snmp_exporter.
type column struct {
	name, oid, typ string
	indexes        []string
}

// benchColumns are the OIDs nocagent's poller reads from a bench switch
// (collector/decode.go: systemOIDs, interfaceRoots, entityRoots,
// sensorRoots, hostResourcesRoots, lldpRoots, cdpRoots), so both pollers
// fetch the same varbinds. The report prints varbinds/poll for each: a
// gap between them means this list has drifted from the collector's.
func benchColumns() (gets []column, walks []column) {
	sys := "1.3.6.1.2.1.1."
	for i, n := range []string{"sysDescr", "sysObjectID", "sysUpTime", "sysContact", "sysName", "sysLocation"} {
		typ := "DisplayString"
		if n == "sysUpTime" {
			typ = "gauge"
		}
		gets = append(gets, column{name: n, oid: sys + strconv.Itoa(i+1) + ".0", typ: typ})
	}
	add := func(entry string, idx []string, cols map[int][2]string) {
		for c := 1; c <= 30; c++ {
			if nt, ok := cols[c]; ok {
				walks = append(walks, column{name: nt[0], oid: entry + "." + strconv.Itoa(c), typ: nt[1], indexes: idx})
			}
		}
	}
	ifIdx := []string{"ifIndex"}
	add("1.3.6.1.2.1.2.2.1", ifIdx, map[int][2]string{
		2: {"ifDescr", "DisplayString"}, 3: {"ifType", "gauge"}, 5: {"ifSpeed", "gauge"},
		6: {"ifPhysAddress", "PhysAddress48"}, 7: {"ifAdminStatus", "gauge"}, 8: {"ifOperStatus", "gauge"},
		10: {"ifInOctets", "counter"}, 11: {"ifInUcastPkts", "counter"}, 13: {"ifInDiscards", "counter"},
		14: {"ifInErrors", "counter"}, 16: {"ifOutOctets", "counter"}, 17: {"ifOutUcastPkts", "counter"},
		19: {"ifOutDiscards", "counter"}, 20: {"ifOutErrors", "counter"},
	})
	add("1.3.6.1.2.1.31.1.1.1", ifIdx, map[int][2]string{
		1: {"ifName", "DisplayString"}, 6: {"ifHCInOctets", "counter"}, 7: {"ifHCInUcastPkts", "counter"},
		10: {"ifHCOutOctets", "counter"}, 11: {"ifHCOutUcastPkts", "counter"}, 15: {"ifHighSpeed", "gauge"},
		18: {"ifAlias", "DisplayString"},
	})
	ent := []string{"entPhysicalIndex"}
	add("1.3.6.1.2.1.47.1.1.1.1", ent, map[int][2]string{
		2: {"entPhysicalDescr", "DisplayString"}, 4: {"entPhysicalContainedIn", "gauge"}, 5: {"entPhysicalClass", "gauge"},
		7: {"entPhysicalName", "DisplayString"}, 11: {"entPhysicalSerialNum", "DisplayString"}, 13: {"entPhysicalModelName", "DisplayString"},
	})
	add("1.3.6.1.2.1.99.1.1.1", ent, map[int][2]string{
		1: {"entPhySensorType", "gauge"}, 2: {"entPhySensorScale", "gauge"}, 3: {"entPhySensorPrecision", "gauge"},
		4: {"entPhySensorValue", "gauge"}, 5: {"entPhySensorOperStatus", "gauge"},
	})
	add("1.3.6.1.2.1.25.3.3.1", []string{"hrDeviceIndex"}, map[int][2]string{2: {"hrProcessorLoad", "gauge"}})
	add("1.3.6.1.2.1.25.2.3.1", []string{"hrStorageIndex"}, map[int][2]string{
		2: {"hrStorageType", "DisplayString"}, 3: {"hrStorageDescr", "DisplayString"}, 4: {"hrStorageAllocationUnits", "gauge"},
		5: {"hrStorageSize", "gauge"}, 6: {"hrStorageUsed", "gauge"},
	})
	add("1.0.8802.1.1.2.1.3.7.1", []string{"lldpLocPortNum"}, map[int][2]string{
		2: {"lldpLocPortIdSubtype", "gauge"}, 3: {"lldpLocPortId", "DisplayString"}, 4: {"lldpLocPortDesc", "DisplayString"},
	})
	rem := []string{"lldpRemTimeMark", "lldpRemLocalPortNum", "lldpRemIndex"}
	add("1.0.8802.1.1.2.1.4.1.1", rem, map[int][2]string{
		4: {"lldpRemChassisIdSubtype", "gauge"}, 5: {"lldpRemChassisId", "OctetString"}, 6: {"lldpRemPortIdSubtype", "gauge"},
		7: {"lldpRemPortId", "OctetString"}, 8: {"lldpRemPortDesc", "DisplayString"}, 9: {"lldpRemSysName", "DisplayString"},
	})
	add("1.0.8802.1.1.2.1.4.2.1", rem, map[int][2]string{3: {"lldpRemManAddrIfSubtype", "gauge"}})
	cdp := []string{"cdpCacheIfIndex", "cdpCacheDeviceIndex"}
	add("1.3.6.1.4.1.9.9.23.1.2.1.1", cdp, map[int][2]string{
		3: {"cdpCacheAddressType", "gauge"}, 4: {"cdpCacheAddress", "OctetString"},
		6: {"cdpCacheDeviceId", "DisplayString"}, 7: {"cdpCacheDevicePort", "DisplayString"},
	})
	return gets, walks
}

// snmpYML is the snmp_exporter 0.21 module "nocagent" (version and auth
// sit inside the module in that release).
func snmpYML(maxReps int) string {
	gets, walks := benchColumns()
	var b strings.Builder
	fmt.Fprintf(&b, "# Generated by bench/polldriver: the OIDs nocagent polls.\nnocagent:\n  version: 2\n  auth:\n    community: %s\n  max_repetitions: %d\n  retries: 0\n  timeout: 2s\n",
		snmpsim.DemoCommunity, maxReps)
	b.WriteString("  get:\n")
	for _, c := range gets {
		fmt.Fprintf(&b, "  - %s\n", c.oid)
	}
	b.WriteString("  walk:\n")
	for _, c := range walks {
		fmt.Fprintf(&b, "  - %s\n", c.oid)
	}
	b.WriteString("  metrics:\n")
	for _, c := range append(gets, walks...) {
		// Scalars are named without their .0 instance, as the generator does.
		oid := strings.TrimSuffix(c.oid, ".0")
		fmt.Fprintf(&b, "  - name: %s\n    oid: %s\n    type: %s\n    help: %s\n", c.name, oid, c.typ, oid)
		if len(c.indexes) > 0 {
			b.WriteString("    indexes:\n")
			for _, ix := range c.indexes {
				fmt.Fprintf(&b, "    - labelname: %s\n      type: gauge\n", ix)
			}
		}
	}
	return b.String()
}
