package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// agent measures the whole agent, `nocagent run` with every module, the
// default rules, metrics and the ticket store, polling real device
// recordings served by `nocagent simulate` in a process of its own, and,
// in the same run, snmp_exporter scraping the same recordings for the ten
// interface columns, at the same interval.
//
//	polldriver agent -nocagent BIN -exporter BIN -duration 60s -interval 1s REC.snmprec...
func agent(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	nocagent := fs.String("nocagent", "", "nocagent binary")
	exporter := fs.String("exporter", "", "snmp_exporter binary (empty: skip it)")
	duration := fs.Duration("duration", 60*time.Second, "measured time per poller")
	interval := fs.Duration("interval", time.Second, "poll and scrape interval")
	copies := fs.Int("copies", 1, "serve each recording this many times, as devices of their own (for a denser profile)")
	cpuprofile := fs.String("cpuprofile", "", "write nocagent run's CPU profile here (its --cpuprofile)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	recs := fs.Args()
	if *nocagent == "" || len(recs) == 0 {
		return fmt.Errorf("agent: -nocagent and at least one recording are required")
	}
	work, err := os.MkdirTemp("", "nocagent-agent-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	recDir := filepath.Join(work, "recordings")
	if err := os.MkdirAll(recDir, 0o755); err != nil {
		return err
	}
	for _, r := range recs {
		abs, err := filepath.Abs(r)
		if err != nil {
			return err
		}
		for c := range *copies {
			name := filepath.Base(r)
			if *copies > 1 {
				name = strings.TrimSuffix(name, ".snmprec") + "_" + strconv.Itoa(c) + ".snmprec"
			}
			if err := os.Symlink(abs, filepath.Join(recDir, name)); err != nil {
				return err
			}
		}
	}

	control := freeTCP()
	sim := exec.CommandContext(ctx, *nocagent, "simulate", "--recordings", recDir, "--control", control, "--log-level", "error")
	sim.Stderr = os.Stderr
	if err := sim.Start(); err != nil {
		return fmt.Errorf("start simulator: %w", err)
	}
	defer stopProcess(sim)
	client := &http.Client{Timeout: 10 * time.Second}
	if err := waitHTTP(ctx, client, "http://"+control+"/api/v1/devices"); err != nil {
		return fmt.Errorf("simulator did not come up: %w", err)
	}
	var devs []struct {
		Name, Address, Community string
		Port                     int
	}
	if err := getJSON(ctx, client, "http://"+control+"/api/v1/devices", &devs); err != nil {
		return err
	}
	for i := range devs {
		if devs[i].Community == "" {
			devs[i].Community = devs[i].Name // the simulator's rule; its API keeps communities to itself
		}
	}

	listen := freeTCP()
	cfg := filepath.Join(work, "agent.yaml")
	if err := os.WriteFile(cfg, []byte(agentConfig(listen, filepath.Join(work, "data"), *interval, devs)), 0o600); err != nil {
		return err
	}
	runArgs := []string{"run", "-c", cfg, "--log-level", "error"}
	if *cpuprofile != "" {
		runArgs = append(runArgs, "--cpuprofile", *cpuprofile)
	}
	run := exec.CommandContext(ctx, *nocagent, runArgs...)
	run.Stderr = os.Stderr
	if err := run.Start(); err != nil {
		return fmt.Errorf("start nocagent run: %w", err)
	}
	defer stopProcess(run)
	if err := waitHTTP(ctx, client, "http://"+listen+"/metrics"); err != nil {
		return fmt.Errorf("nocagent run did not come up: %w", err)
	}
	// Warm up: first polls build tuning, profiles and rates.
	sleepCtx(ctx, 3**interval)
	polls0, err := pollsTotal(ctx, client, listen)
	if err != nil {
		return err
	}
	cpu0, start := procCPU(run.Process.Pid), time.Now()
	sleepCtx(ctx, *duration)
	cpu, wall := procCPU(run.Process.Pid)-cpu0, time.Since(start)
	polls1, err := pollsTotal(ctx, client, listen)
	if err != nil {
		return err
	}
	polls := polls1 - polls0
	stopProcess(run)
	if polls <= 0 {
		return fmt.Errorf("nocagent polled nothing in %s", *duration)
	}
	nocMs := float64(cpu.Microseconds()) / 1000 / polls

	exMs, scrapes := 0.0, 0
	if *exporter != "" {
		if exMs, scrapes, err = exporterPerScrape(ctx, work, *exporter, *duration, *interval, devs); err != nil {
			return err
		}
	}
	fmt.Printf("agent-bench: recordings=%d interval=%s nocagent_polls=%.0f nocagent_cpu_ms_per_poll=%.2f snmp_exporter_scrapes=%d snmp_exporter_cpu_ms_per_scrape=%.2f wall=%s\n",
		len(devs), *interval, polls, nocMs, scrapes, exMs, wall.Round(time.Second))
	return ctx.Err()
}

func agentConfig(listen, dataDir string, interval time.Duration, devs []struct {
	Name, Address, Community string
	Port                     int
}) string {
	var b strings.Builder
	fmt.Fprintf(&b, "agent:\n  listen: %s\n  data_dir: %s\n  poll_interval: %s\n  poll_timeout: %s\n  retries: 0\n",
		listen, dataDir, interval, min(interval/2, 2*time.Second))
	b.WriteString("credentials:\n")
	for i, d := range devs {
		fmt.Fprintf(&b, "  - name: c%d\n    version: 2c\n    community: %q\n", i, d.Community)
	}
	b.WriteString("devices:\n")
	for i, d := range devs {
		fmt.Fprintf(&b, "  - name: d%d-%s\n    address: %s:%d\n    credential: c%d\n    role: access\n",
			i, safeName(d.Name), d.Address, d.Port, i)
	}
	return b.String()
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func safeName(s string) string { return unsafeName.ReplaceAllString(s, "-") }

// exporterPerScrape has snmp_exporter scrape every device once per
// interval for the duration, with the ten interface columns (a module per
// device, since each recording has its own community), and returns its
// CPU per scrape.
func exporterPerScrape(ctx context.Context, work, bin string, duration, interval time.Duration, devs []struct {
	Name, Address, Community string
	Port                     int
}) (float64, int, error) {
	var b strings.Builder
	for i, d := range devs {
		fmt.Fprintf(&b, "m%d:\n  version: 2\n  auth:\n    community: %q\n  max_repetitions: 25\n  retries: 0\n  timeout: %s\n  walk:\n", i, d.Community, min(interval/2, 2*time.Second))
		for _, c := range ifColumns {
			fmt.Fprintf(&b, "  - %s\n", c[1])
		}
		b.WriteString("  metrics:\n")
		for _, c := range ifColumns {
			fmt.Fprintf(&b, "  - name: %s\n    oid: %s\n    type: %s\n    help: %s\n    indexes:\n    - labelname: ifIndex\n      type: gauge\n", c[0], c[1], c[2], c[0])
		}
	}
	cfg := filepath.Join(work, "snmp.yml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		return 0, 0, err
	}
	addr := freeTCP()
	cmd := exec.CommandContext(ctx, bin, "--config.file="+cfg, "--web.listen-address="+addr, "--log.level=error")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("start %s: %w", bin, err)
	}
	defer stopProcess(cmd)
	client := &http.Client{Timeout: 30 * time.Second}
	if err := waitHTTP(ctx, client, "http://"+addr+"/"); err != nil {
		return 0, 0, fmt.Errorf("snmp_exporter did not come up: %w", err)
	}
	cpu0 := procCPU(cmd.Process.Pid)
	var mu sync.Mutex
	scrapes := 0
	end := time.Now().Add(duration)
	var wg sync.WaitGroup
	for i, d := range devs {
		wg.Go(func() {
			t := time.NewTicker(interval)
			defer t.Stop()
			for time.Now().Before(end) && ctx.Err() == nil {
				u := fmt.Sprintf("http://%s/snmp?module=m%d&target=%s:%d", addr, i, d.Address, d.Port)
				if err := drain(ctx, client, u); err == nil {
					mu.Lock()
					scrapes++
					mu.Unlock()
				}
				select {
				case <-ctx.Done():
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
	cpu := procCPU(cmd.Process.Pid) - cpu0
	if scrapes == 0 {
		return 0, 0, fmt.Errorf("snmp_exporter answered no scrape")
	}
	return float64(cpu.Microseconds()) / 1000 / float64(scrapes), scrapes, nil
}

// ifColumns are the ten interface columns of the measurement: name, OID,
// snmp_exporter type.
var ifColumns = [][3]string{
	{"ifDescr", "1.3.6.1.2.1.2.2.1.2", "DisplayString"},
	{"ifType", "1.3.6.1.2.1.2.2.1.3", "gauge"},
	{"ifAdminStatus", "1.3.6.1.2.1.2.2.1.7", "gauge"},
	{"ifOperStatus", "1.3.6.1.2.1.2.2.1.8", "gauge"},
	{"ifInErrors", "1.3.6.1.2.1.2.2.1.14", "counter"},
	{"ifOutErrors", "1.3.6.1.2.1.2.2.1.20", "counter"},
	{"ifName", "1.3.6.1.2.1.31.1.1.1.1", "DisplayString"},
	{"ifHCInOctets", "1.3.6.1.2.1.31.1.1.1.6", "counter"},
	{"ifHCOutOctets", "1.3.6.1.2.1.31.1.1.1.10", "counter"},
	{"ifHighSpeed", "1.3.6.1.2.1.31.1.1.1.15", "gauge"},
}

// get fetches u and hands the body of a 200 answer to read.
func get(ctx context.Context, c *http.Client, u string, read func(io.Reader) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	return read(resp.Body)
}

func drain(ctx context.Context, c *http.Client, u string) error {
	return get(ctx, c, u, func(r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	})
}

func getJSON(ctx context.Context, c *http.Client, u string, v any) error {
	return get(ctx, c, u, func(r io.Reader) error { return json.NewDecoder(r).Decode(v) })
}

// pollsTotal sums nocagent_polls_total over its results.
func pollsTotal(ctx context.Context, c *http.Client, listen string) (float64, error) {
	total := 0.0
	err := get(ctx, c, "http://"+listen+"/metrics", func(r io.Reader) error {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "nocagent_polls_total{") {
				continue
			}
			if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
				total += v
			}
		}
		return sc.Err()
	})
	return total, err
}

func freeTCP() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func stopProcess(cmd *exec.Cmd) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
