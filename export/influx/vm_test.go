package influx

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nocagent/nocagent/internal/testenv"
)

// victoria is a VictoriaMetrics process: a real server speaking the
// InfluxDB v2 write API.
type victoria struct {
	bin, dir, addr string
	cmd            *exec.Cmd
	done           chan struct{}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startVictoria runs VictoriaMetrics on addr with its data in dir and waits
// until /health answers.
func startVictoria(t *testing.T, bin, dir, addr string) *victoria {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(dir, "..", filepath.Base(dir)+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	v := &victoria{bin: bin, dir: dir, addr: addr, done: make(chan struct{})}
	v.cmd = exec.Command(bin, "-storageDataPath="+dir, "-httpListenAddr="+addr,
		"-retentionPeriod=1d", "-search.latencyOffset=0s", "-loggerLevel=WARN")
	v.cmd.Stdout, v.cmd.Stderr = logf, logf
	if err := v.cmd.Start(); err != nil {
		t.Fatalf("start victoria-metrics: %v", err)
	}
	go func() { v.cmd.Wait(); close(v.done) }()
	t.Cleanup(v.stop)
	c := http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := c.Get("http://" + addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return v
			}
		}
		select {
		case <-v.done:
			t.Fatalf("victoria-metrics exited at start; log in %s", logf.Name())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("victoria-metrics not healthy on %s after 15s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the server gracefully, so that what it accepted is on disk.
func (v *victoria) stop() {
	select {
	case <-v.done:
		return
	default:
	}
	_ = v.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-v.done:
	case <-time.After(15 * time.Second):
		_ = v.cmd.Process.Kill()
		<-v.done
	}
}

type vmSeries struct {
	Metric     map[string]string `json:"metric"`
	Values     []float64         `json:"values"`
	Timestamps []int64           `json:"timestamps"`
}

func (s vmSeries) key() string {
	keys := make([]string, 0, len(s.Metric))
	for k, v := range s.Metric {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// export returns the raw samples of every series matching the selector.
func (v *victoria) export(t *testing.T, match string) []vmSeries {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.PostForm("http://"+v.addr+"/api/v1/export", url.Values{"match[]": {match}, "start": {"0"}})
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: HTTP %d", resp.StatusCode)
	}
	var out []vmSeries
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var s vmSeries
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("export: %v", err)
	}
	return out
}

// fieldCount is how many series (fields) one snapshot of testSnap makes.
func fieldCount(t *testing.T, lines []string) int {
	t.Helper()
	n := 0
	for _, m := range parse(t, lines) {
		n += len(m.FieldList())
	}
	return n
}

// waitSamples polls the server until every series of dev has want samples
// (at most a bounded time: ingestion takes 1-3 s to show), then checks
// there are exactly that many series with exactly want distinct samples.
func (v *victoria) waitSamples(t *testing.T, dev string, series, want int, wantTS []int64) {
	t.Helper()
	var got []vmSeries
	deadline := time.Now().Add(20 * time.Second)
	for {
		got = v.export(t, fmt.Sprintf(`{device=%q}`, dev))
		ok := len(got) == series
		for _, s := range got {
			ok = ok && len(s.Timestamps) >= want
		}
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(got) != series {
		t.Fatalf("%d series for %s, want %d", len(got), dev, series)
	}
	for _, s := range got {
		ts := slices.Clone(s.Timestamps)
		slices.Sort(ts)
		if !slices.Equal(ts, wantTS) {
			t.Errorf("%s: %d samples at %v, want each of %v exactly once", s.Metric["__name__"], len(ts), ts, wantTS)
		}
	}
}

func vmConfig(addr, spool string) Config {
	c := testConfig("http://"+addr, spool)
	c.Token = "" // VictoriaMetrics has no authentication
	c.FlushInterval = 50 * time.Millisecond
	c.RetryMin, c.RetryMax = 50*time.Millisecond, 200*time.Millisecond
	return c
}

func TestVictoriaSchema(t *testing.T) {
	bin := testenv.Command(t, "victoria-metrics", "victoria-metrics")
	v := startVictoria(t, bin, t.TempDir(), freeAddr(t))
	r := start(t, vmConfig(v.addr, t.TempDir()))
	if err := r.e.Check(t.Context()); err != nil {
		t.Fatalf("Check against VictoriaMetrics: %v", err)
	}
	ts := time.Now().Add(-time.Hour).Truncate(time.Second)
	s := testSnap("edge-1", ts, 4)
	r.e.Write(s, testLabels)
	// Query only once the rows are searchable (1-2 s after they were
	// accepted): a query that finds a new series missing makes
	// VictoriaMetrics cache the miss for ~10 s, which only slows the test.
	eventually(t, 10*time.Second, "delivery", func() bool { p, _ := r.e.Backlog(); return p == 0 })
	time.Sleep(2 * time.Second)
	n := fieldCount(t, Encode(s, testLabels))
	v.waitSamples(t, "edge-1", n, 1, []int64{ts.UnixMilli()})

	got := map[string]vmSeries{}
	for _, sr := range v.export(t, `{device="edge-1"}`) {
		if _, ok := sr.Metric["db"]; ok {
			t.Errorf("unexpected db label on %v", sr.Metric)
		}
		got[sr.Metric["__name__"]+"|"+sr.Metric["interface"]+sr.Metric["sensor"]] = sr
	}
	common := map[string]string{"device": "edge-1", "customer": "acme", "site": "hq", "role": "edge"}
	tests := []struct {
		key    string
		labels map[string]string
		value  float64
	}{
		{"device_up|", map[string]string{"vendor": "cisco", "model": "ISR4451-X/K9", "serial": "FOC1234X0AB"}, 1},
		{"device_poll_seconds|", nil, 0.25},
		{"device_uptime_seconds|", nil, 1000 + 4*60},
		{"interface_in_octets|Gi0/0/0", map[string]string{"ifindex": "1", "alias": "uplink to isp, circuit=42"}, 1000 + 4*125000},
		{"interface_out_octets|Gi0/0/0", nil, 2000 + 4*250000},
		{"interface_in_bps|Gi0/0/0", nil, 16666.5},
		{"interface_util_percent|Gi0/0/0", nil, 0.0033333},
		{"interface_in_errors_per_sec|Gi0/0/0", nil, 0.25},
		{"interface_oper_up|Gi0/0/1", map[string]string{"ifindex": "2"}, 0},
		{"interface_admin_up|Gi0/0/1", nil, 1},
		{"interface_speed_bps|Gi0/0/1", nil, 1e8},
		{"cpu_usage_percent|", map[string]string{"cpu": "0"}, 16.5},
		{"memory_used_bytes|", map[string]string{"pool": "Processor"}, 512 << 20},
		{"memory_total_bytes|", nil, 2 << 30},
		{"sensor_value|Inlet 1", map[string]string{"class": "temperature", "unit": "celsius"}, 31},
		{"sensor_ok|Fan 1", map[string]string{"class": "fan"}, 0},
	}
	for _, tc := range tests {
		sr, ok := got[tc.key]
		if !ok {
			t.Errorf("series %s missing", tc.key)
			continue
		}
		for k, want := range common {
			if sr.Metric[k] != want {
				t.Errorf("%s: label %s=%q, want %q", tc.key, k, sr.Metric[k], want)
			}
		}
		for k, want := range tc.labels {
			if sr.Metric[k] != want {
				t.Errorf("%s: label %s=%q, want %q", tc.key, k, sr.Metric[k], want)
			}
		}
		if len(sr.Values) != 1 || sr.Values[0] != tc.value {
			t.Errorf("%s = %v, want %v", tc.key, sr.Values, tc.value)
		}
	}
	if _, ok := got["interface_in_bps|Gi0/0/1"]; ok {
		t.Error("interface without rates has an in_bps series")
	}
	if _, ok := got["sensor_ok|PSU 2"]; ok {
		t.Error("sensor of unknown status has an ok series")
	}
}

// pollCycles writes polls [first, first+n) of dev, one per interval, like
// the scheduler would, and returns their timestamps in milliseconds.
func pollCycles(r *running, dev string, base time.Time, first, n int, interval time.Duration) []int64 {
	var ts []int64
	for i := first; i < first+n; i++ {
		writeCycles(r.e, dev, base, i, 1)
		ts = append(ts, base.Add(time.Duration(i)*time.Second).UnixMilli())
		time.Sleep(interval)
	}
	return ts
}

func TestVictoriaOutageLosesNothing(t *testing.T) {
	bin := testenv.Command(t, "victoria-metrics", "victoria-metrics")
	data, addr := t.TempDir(), freeAddr(t)
	v := startVictoria(t, bin, data, addr)
	r := start(t, vmConfig(addr, t.TempDir()))
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	const interval = 100 * time.Millisecond

	ts := pollCycles(r, "core-1", base, 0, 3, interval)
	eventually(t, 10*time.Second, "delivery before the outage", func() bool { p, _ := r.e.Backlog(); return p == 0 })

	v.stop()
	ts = append(ts, pollCycles(r, "core-1", base, 3, 6, interval)...)
	if metric(t, r.e, "nocagent_influx_write_errors_total", "kind", ErrKindNetwork) == 0 {
		t.Error("no network error counted during the outage")
	}
	if p, _ := r.e.Backlog(); p == 0 {
		t.Error("backlog empty during the outage")
	}
	if up := metric(t, r.e, "nocagent_influx_up"); up != 0 {
		t.Errorf("nocagent_influx_up = %v during the outage", up)
	}

	v = startVictoria(t, bin, data, addr)
	ts = append(ts, pollCycles(r, "core-1", base, 9, 3, interval)...)
	eventually(t, 10*time.Second, "backlog drained", func() bool { p, _ := r.e.Backlog(); return p == 0 })
	n := fieldCount(t, Encode(testSnap("core-1", base, 0), testLabels))
	v.waitSamples(t, "core-1", n, len(ts), ts)
	for _, reason := range dropReasons {
		if d := metric(t, r.e, "nocagent_influx_dropped_points_total", "reason", reason); d != 0 {
			t.Errorf("dropped{%s} = %v", reason, d)
		}
	}
}

func TestVictoriaAgentRestartDuringOutage(t *testing.T) {
	bin := testenv.Command(t, "victoria-metrics", "victoria-metrics")
	data, addr, spool := t.TempDir(), freeAddr(t), t.TempDir()
	v := startVictoria(t, bin, data, addr)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	const interval = 100 * time.Millisecond

	r1 := start(t, vmConfig(addr, spool))
	ts := pollCycles(r1, "dist-1", base, 0, 2, interval)
	eventually(t, 10*time.Second, "delivery before the outage", func() bool { p, _ := r1.e.Backlog(); return p == 0 })
	v.stop()
	ts = append(ts, pollCycles(r1, "dist-1", base, 2, 3, interval)...)
	r1.stop() // the agent restarts mid-outage

	r2 := start(t, vmConfig(addr, spool))
	if p, _ := r2.e.Backlog(); p == 0 {
		t.Fatal("the new exporter found nothing in the spool")
	}
	ts = append(ts, pollCycles(r2, "dist-1", base, 5, 2, interval)...)
	v = startVictoria(t, bin, data, addr)
	ts = append(ts, pollCycles(r2, "dist-1", base, 7, 2, interval)...)
	eventually(t, 10*time.Second, "backlog drained", func() bool { p, _ := r2.e.Backlog(); return p == 0 })
	n := fieldCount(t, Encode(testSnap("dist-1", base, 0), testLabels))
	v.waitSamples(t, "dist-1", n, len(ts), ts)
}
