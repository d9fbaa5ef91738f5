package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/nocagent/nocagent/agent"
	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/internal/testenv"
	"github.com/nocagent/nocagent/rules"
)

// exampleScrapeConfig is the documented scrape configuration; the live test
// runs Prometheus with it.
const exampleScrapeConfig = "../examples/prometheus.yml"

const pollInterval = time.Second

// demo is the simulated network and an agent polling it, with faults
// injected so that every panel has something to show: a device down, a link
// down (tickets, alerts, a status change), a CPU and a temperature alarm.
type demo struct {
	addr   string // agent HTTP address
	sim    *snmpsim.Simulator
	tokens map[string]string // tokens.json: role key → bearer token
}

// responseTarget is the response SLA of ACME's contract in the test: short,
// so that tickets nobody acknowledges breach it, and one held for the
// customer in its last fifth stays at risk, while the test runs.
const responseTarget = 30 * time.Second

func startDemo(t *testing.T) *demo {
	t.Helper()
	sim := snmpsim.New(snmpsim.Options{})
	t.Cleanup(func() { sim.Close() })
	devs, err := sim.AddDemoNetwork(context.Background(), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg, err := agent.DemoConfig(devs, "127.0.0.1:0", dir, pollInterval)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ServiceFile = filepath.Join(dir, "service.yaml")
	target := responseTarget.String()
	service := fmt.Sprintf("sla:\n  contracts:\n    ACME-2026-001:\n      response: {P1: %s, P2: %s, P3: %s, P4: %s}\n",
		target, target, target, target)
	if err := os.WriteFile(cfg.ServiceFile, []byte(service), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(ctx, cfg, agent.Options{Rules: rules.Default().WithMaxFor(time.Second)})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("agent Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("agent did not stop within 10s")
		}
	})
	d := &demo{sim: sim}
	eventually(t, 5*time.Second, "agent listening", func() bool { d.addr = a.Addr(); return d.addr != "" })
	b, err := os.ReadFile(a.TokensFile())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &d.tokens); err != nil {
		t.Fatalf("tokens file %s: %v", a.TokensFile(), err)
	}

	acc, ok := sim.Device("acme-acc-1")
	if !ok {
		t.Fatal("demo network lacks acme-acc-1")
	}
	for dev, f := range map[string]snmpsim.Fault{
		"acme-acc-1":  {Kind: snmpsim.FaultLinkDown, IfIndex: acc.UplinkIfIndex},
		"acme-fw-1":   {Kind: snmpsim.FaultCPU, Percent: 97},
		"acme-core-1": {Kind: snmpsim.FaultTemperature, Celsius: 85},
		"globex-fw-1": {Kind: snmpsim.FaultDown},
	} {
		if err := sim.InjectFault(dev, f); err != nil {
			t.Fatalf("inject %s into %s: %v", f.Kind, dev, err)
		}
	}
	return d
}

func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// exposedNames scrapes the agent's /metrics and returns every series name it
// serves: counters and gauges as they are, histograms and summaries with
// their _bucket, _sum and _count series.
func (d *demo) exposedNames() (map[string]bool, error) {
	resp, err := httpClient.Get("http://" + d.addr + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("scrape agent: %w", err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse agent /metrics: %w", err)
	}
	names := map[string]bool{}
	for name, f := range fams {
		if len(f.GetMetric()) == 0 {
			continue
		}
		names[name] = true
		switch f.GetType().String() {
		case "HISTOGRAM":
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case "SUMMARY":
			names[name+"_sum"], names[name+"_count"] = true, true
		}
	}
	return names, nil
}

// usedNames returns every metric name the dashboards select, with the first
// query that uses it.
func usedNames(t *testing.T, dashboards []jsonDashboard) map[string]string {
	t.Helper()
	used := map[string]string{}
	for _, d := range dashboards {
		for _, q := range d.queries(t) {
			names, _, err := parseQuery(q.expr)
			if err != nil {
				t.Fatalf("%s: %v", q.where, err)
			}
			for _, n := range names {
				if _, ok := used[n]; !ok {
					used[n] = q.where
				}
			}
		}
	}
	return used
}

// TestAgainstAgent runs the demo network and a real agent, checks that every
// metric the dashboards name is served, then runs a real Prometheus with
// the documented scrape configuration and asserts that every panel query
// and every variable returns data.
func TestAgainstAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an agent and Prometheus")
	}
	dashboards := loadDashboards(t)
	used := usedNames(t, dashboards)
	d := startDemo(t)
	// The service KPIs and SLA series need tickets that people worked.
	d.workTickets(t)
	t.Run("worked tickets show in the service KPIs", d.checkWorkedKPIs)

	// Alerts and tickets appear a few polls after the faults; wait until
	// every name is served, or the deadline, then report what is missing.
	var exposed map[string]bool
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		exposed, err = d.exposedNames()
		if err != nil {
			t.Fatal(err)
		}
		missing := 0
		for n := range used {
			if !exposed[n] {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Run("metric names exist", func(t *testing.T) {
		for n, where := range used {
			if !exposed[n] {
				t.Errorf("%s: metric %s is not in the agent's /metrics", where, n)
			}
		}
	})

	t.Run("queries return data from Prometheus", func(t *testing.T) {
		prom := startPrometheus(t, d.addr)
		// Rates need two samples in their window; wait for a few scrapes.
		eventually(t, 20*time.Second, "4 scrapes of the agent", func() bool {
			v, err := prom.query(`count_over_time(up{job="nocagent"}[1m])`)
			return err == nil && len(v) == 1 && v[0].value >= 4
		})
		// A series may still be a scrape away (a ticket opened just now):
		// each query is retried until one shared deadline.
		deadline := time.Now().Add(30 * time.Second)
		for _, db := range dashboards {
			for _, q := range db.queries(t) {
				t.Run(q.where, func(t *testing.T) {
					expr := q.expr
					if q.label != "" {
						// What Grafana's label_values(selector, label) lists.
						expr = "count by (" + q.label + ") (" + q.expr + ")"
					}
					expr, _ = substitute(expr)
					var got []sample
					var err error
					for {
						got, err = prom.query(expr)
						if err == nil && hasData(got, q.label) || time.Now().After(deadline) {
							break
						}
						time.Sleep(250 * time.Millisecond)
					}
					if err != nil {
						t.Fatalf("%s: %v", expr, err)
					}
					if !hasData(got, q.label) {
						t.Fatalf("%s returned no data: %+v", expr, got)
					}
				})
			}
		}
	})
}

// hasData reports whether a result holds a number (NaN is what Grafana
// shows as no data) and, for a variable, a non-empty label value.
func hasData(s []sample, label string) bool {
	for _, x := range s {
		if x.value == x.value && (label == "" || x.metric[label] != "") {
			return true
		}
	}
	return false
}

type prometheus struct {
	base string
}

// startPrometheus runs the Debian prometheus binary with
// examples/prometheus.yml, its intervals shortened and its target replaced
// by the test agent.
func startPrometheus(t *testing.T, target string) *prometheus {
	t.Helper()
	bin := testenv.Command(t, "prometheus", "prometheus")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	writeScrapeConfig(t, cfgPath, target)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var out lockedBuffer
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	p := &prometheus{base: "http://" + addr}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("prometheus exited: %v\n%s", err, out.String())
		default:
		}
		resp, err := httpClient.Get(p.base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready on %s after 20s\n%s", addr, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeScrapeConfig rewrites the documented config for the test: 1 s
// intervals and the agent as the only target of the nocagent job.
func writeScrapeConfig(t *testing.T, path, target string) {
	t.Helper()
	b, err := os.ReadFile(exampleScrapeConfig)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s: %v", exampleScrapeConfig, err)
	}
	global, _ := cfg["global"].(map[string]any)
	if global == nil {
		t.Fatalf("%s: no global section", exampleScrapeConfig)
	}
	global["scrape_interval"], global["scrape_timeout"], global["evaluation_interval"] = "1s", "1s", "1s"
	jobs, _ := cfg["scrape_configs"].([]any)
	found := false
	for _, j := range jobs {
		job, _ := j.(map[string]any)
		if job["job_name"] != "nocagent" {
			continue
		}
		found = true
		delete(job, "scrape_interval")
		delete(job, "scrape_timeout")
		sc, _ := job["static_configs"].([]any)
		if len(sc) == 0 {
			t.Fatalf("%s: job nocagent has no static_configs", exampleScrapeConfig)
		}
		first, _ := sc[0].(map[string]any)
		first["targets"] = []string{target}
		job["static_configs"] = []any{first}
	}
	if !found {
		t.Fatalf("%s: no job named nocagent", exampleScrapeConfig)
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

type sample struct {
	metric map[string]string
	value  float64
}

// query runs an instant query through the HTTP API.
func (p *prometheus) query(expr string) ([]sample, error) {
	resp, err := httpClient.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("query %q: read: %w", expr, err)
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("query %q: %w: %s", expr, err, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", expr, r.Error)
	}
	switch r.Data.ResultType {
	case "vector":
		var v []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			return nil, fmt.Errorf("query %q: vector: %w", expr, err)
		}
		out := make([]sample, 0, len(v))
		for _, x := range v {
			f, err := promValue(x.Value[1])
			if err != nil {
				return nil, fmt.Errorf("query %q: %w", expr, err)
			}
			out = append(out, sample{metric: x.Metric, value: f})
		}
		return out, nil
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			return nil, fmt.Errorf("query %q: scalar: %w", expr, err)
		}
		f, err := promValue(v[1])
		if err != nil {
			return nil, fmt.Errorf("query %q: %w", expr, err)
		}
		return []sample{{value: f}}, nil
	}
	return nil, fmt.Errorf("query %q: unexpected result type %q", expr, r.Data.ResultType)
}

func promValue(v any) (float64, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("sample value %v is not a string", v)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("sample value %q: %w", s, err)
	}
	return f, nil
}

// lockedBuffer collects a child process's output for failure messages.
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
