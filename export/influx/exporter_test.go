package influx

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

const testToken = "s3cr3t-T0KEN-value"

// fakeInflux is an InfluxDB v2 write endpoint on loopback. status decides
// each request's answer; accepted lines are counted.
type fakeInflux struct {
	srv *httptest.Server

	mu       sync.Mutex
	status   func(n int) int // n: 1-based request number; 0 = 204
	requests int
	lines    map[string]int
	order    []string
	gzipped  bool
	auth     string
	query    string
}

func newFakeInflux(t *testing.T) *fakeInflux {
	t.Helper()
	f := &fakeInflux{lines: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeInflux) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/ping" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.URL.Path != "/api/v2/write" {
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	gz := r.Header.Get("Content-Encoding") == "gzip"
	if gz {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, "bad gzip", http.StatusBadRequest)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests++
	code := http.StatusNoContent
	if f.status != nil {
		if c := f.status(f.requests); c != 0 {
			code = c
		}
	}
	f.gzipped, f.auth, f.query = gz, r.Header.Get("Authorization"), r.URL.RawQuery
	if code == http.StatusNoContent {
		for _, ln := range strings.SplitAfter(string(data), "\n") {
			if ln != "" {
				f.lines[ln]++
				f.order = append(f.order, ln)
			}
		}
	}
	f.mu.Unlock()
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "0")
	}
	if code != http.StatusNoContent {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"code":"x","message":"status %d"}`, code)
		return
	}
	w.WriteHeader(code)
}

func (f *fakeInflux) setStatus(fn func(n int) int) {
	f.mu.Lock()
	f.status = fn
	f.mu.Unlock()
}

func (f *fakeInflux) received() (total int, dup int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.lines {
		total += n
		if n > 1 {
			dup += n - 1
		}
	}
	return total, dup
}

func (f *fakeInflux) count(line string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lines[line]
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testConfig(url, spool string) Config {
	return Config{URL: url, Org: "noc", Bucket: "metrics", Token: testToken,
		BatchSize: 50, FlushInterval: 20 * time.Millisecond, SpoolDir: spool,
		RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond, Timeout: 2 * time.Second}
}

type running struct {
	e    *Exporter
	logs *syncBuffer
	stop func()
}

// start creates an exporter and runs it until the test ends or stop.
func start(t *testing.T, cfg Config) *running {
	t.Helper()
	logs := &syncBuffer{}
	e, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return within 10s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return &running{e: e, logs: logs, stop: stop}
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metric reads one sample of the exporter's metrics.
func metric(t *testing.T, e *Exporter, name string, label ...string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(label) == 2 && !hasLabel(m, label[0], label[1]) {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s%v not found", name, label)
	return 0
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == k && lp.GetValue() == v {
			return true
		}
	}
	return false
}

// writeCycles writes n polls of one device starting at poll first; it
// returns the lines written.
func writeCycles(e *Exporter, dev string, base time.Time, first, n int) []string {
	var all []string
	for i := first; i < first+n; i++ {
		s := testSnap(dev, base.Add(time.Duration(i)*time.Second), i)
		e.Write(s, testLabels)
		all = append(all, Encode(s, testLabels)...)
	}
	return all
}

func assertAllOnce(t *testing.T, f *fakeInflux, lines []string) {
	t.Helper()
	for _, ln := range lines {
		if n := f.count(ln); n != 1 {
			t.Errorf("line received %d times, want once: %s", n, ln)
		}
	}
	if total, dup := f.received(); total != len(lines) || dup != 0 {
		t.Errorf("server holds %d lines (%d duplicates), want %d", total, dup, len(lines))
	}
}

func TestDeliversGzipBatches(t *testing.T) {
	f := newFakeInflux(t)
	now := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	cfg := testConfig(f.srv.URL, t.TempDir())
	logs := &syncBuffer{}
	e, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	lines := writeCycles(e, "r1", now, 0, 12) // 96 points: two batches of 50 at least
	drained(t, "all points delivered", e, f, len(lines))
	cancel()
	<-done
	assertAllOnce(t, f, lines)
	f.mu.Lock()
	if !f.gzipped {
		t.Error("body not gzip-compressed")
	}
	if f.auth != "Token "+testToken {
		t.Errorf("Authorization %q", f.auth)
	}
	for _, q := range []string{"org=noc", "bucket=metrics", "precision=ms"} {
		if !strings.Contains(f.query, q) {
			t.Errorf("write query %q lacks %s", f.query, q)
		}
	}
	if f.requests < 2 {
		t.Errorf("%d requests for %d points with batch size %d", f.requests, len(lines), cfg.BatchSize)
	}
	f.mu.Unlock()
	if got := metric(t, e, "nocagent_influx_points_written_total"); got != float64(len(lines)) {
		t.Errorf("points_written_total %v, want %d", got, len(lines))
	}
	if got := metric(t, e, "nocagent_influx_last_success_timestamp_seconds"); got != float64(now.Unix()) {
		t.Errorf("last_success %v, want %d", got, now.Unix())
	}
	if got := metric(t, e, "nocagent_influx_backlog_points"); got != 0 {
		t.Errorf("backlog %v after delivery", got)
	}
	// Every batch was accepted, so no segment is left behind.
	segs, _ := filepath.Glob(filepath.Join(cfg.SpoolDir, "*"+segExt))
	for _, s := range segs {
		if st, err := os.Stat(s); err == nil && st.Size() > 0 {
			t.Errorf("segment %s (%d bytes) left after full delivery", s, st.Size())
		}
	}
}

func TestRetriesTransientErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		kind   string
	}{
		{"unavailable", http.StatusServiceUnavailable, ErrKindServer},
		{"internal", http.StatusInternalServerError, ErrKindServer},
		{"throttled", http.StatusTooManyRequests, ErrKindThrottled},
		{"unauthorized", http.StatusUnauthorized, ErrKindAuth},
		{"forbidden", http.StatusForbidden, ErrKindAuth},
		{"bucket not found", http.StatusNotFound, ErrKindNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeInflux(t)
			f.setStatus(func(int) int { return tc.status })
			r := start(t, testConfig(f.srv.URL, t.TempDir()))
			lines := writeCycles(r.e, "r1", time.Unix(1700000000, 0), 0, 3)
			eventually(t, 5*time.Second, "three failed attempts", func() bool {
				return metric(t, r.e, "nocagent_influx_write_errors_total", "kind", tc.kind) >= 3
			})
			if up := metric(t, r.e, "nocagent_influx_up"); up != 0 {
				t.Errorf("up = %v while writes fail", up)
			}
			if b := metric(t, r.e, "nocagent_influx_backlog_points"); b != float64(len(lines)) {
				t.Errorf("backlog %v while failing, want %d", b, len(lines))
			}
			f.setStatus(nil) // the operator fixed it
			drained(t, "delivery after recovery", r.e, f, len(lines))
			r.stop()
			assertAllOnce(t, f, lines)
			for _, reason := range dropReasons {
				if d := metric(t, r.e, "nocagent_influx_dropped_points_total", "reason", reason); d != 0 {
					t.Errorf("dropped{%s} = %v", reason, d)
				}
			}
			if up := metric(t, r.e, "nocagent_influx_up"); up != 1 {
				t.Errorf("up = %v after recovery", up)
			}
			logs := r.logs.String()
			if !strings.Contains(logs, "kind="+tc.kind) || !strings.Contains(logs, "writes recovered") {
				t.Errorf("logs lack the failure kind or the recovery:\n%s", logs)
			}
			if strings.Contains(logs, testToken) {
				t.Errorf("token in logs:\n%s", logs)
			}
		})
	}
}

func TestRejectedBatchIsDroppedAndCounted(t *testing.T) {
	f := newFakeInflux(t)
	f.setStatus(func(n int) int {
		if n == 1 {
			return http.StatusBadRequest
		}
		return 0
	})
	cfg := testConfig(f.srv.URL, t.TempDir())
	cfg.FlushInterval = time.Hour // seal only on a full batch: the two writes below are separate batches
	cfg.BatchSize = 8
	r := start(t, cfg)
	first := writeCycles(r.e, "r1", time.Unix(1700000000, 0), 0, 1)
	eventually(t, 5*time.Second, "rejection", func() bool {
		return metric(t, r.e, "nocagent_influx_dropped_points_total", "reason", DropRejected) == float64(len(first))
	})
	second := writeCycles(r.e, "r1", time.Unix(1700000000, 0), 1, 1)
	drained(t, "second batch", r.e, f, len(second))
	assertAllOnce(t, f, second)
	if got := metric(t, r.e, "nocagent_influx_write_errors_total", "kind", ErrKindRejected); got != 1 {
		t.Errorf("write_errors{rejected} = %v, want 1", got)
	}
	if !strings.Contains(r.logs.String(), "rejected a batch") {
		t.Errorf("rejection not logged:\n%s", r.logs)
	}
}

// A server that never answers must not slow Write down: pollers call it.
func TestWriteNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	cfg := testConfig(srv.URL, "") // memory only: the buffer limit is the only bound
	cfg.MemoryBuffer = 2000
	cfg.Timeout = time.Hour
	r := start(t, cfg)
	snap := testSnap("r1", time.Unix(1700000000, 0), 1)
	perSnap := len(Encode(snap, testLabels))
	const n = 2000
	var worst time.Duration
	begin := time.Now()
	for i := range n {
		s := *snap
		s.Time = snap.Time.Add(time.Duration(i) * time.Second)
		t0 := time.Now()
		r.e.Write(&s, testLabels)
		worst = max(worst, time.Since(t0))
	}
	if total := time.Since(begin); total > 2*time.Second || worst > 200*time.Millisecond {
		t.Errorf("%d writes took %v, worst %v, against a hung server", n, total, worst)
	}
	// Memory stays bounded and what did not fit is counted, not silently lost.
	var backlog, dropped float64
	eventually(t, 5*time.Second, "sealer to settle", func() bool {
		backlog = metric(t, r.e, "nocagent_influx_backlog_points")
		dropped = metric(t, r.e, "nocagent_influx_dropped_points_total", "reason", DropMemoryFull)
		t.Logf("backlog %v dropped %v total %d", backlog, dropped, n*perSnap)
		return backlog+dropped == float64(n*perSnap)
	})
	if backlog > float64(2*cfg.MemoryBuffer+perSnap) || dropped == 0 {
		t.Errorf("backlog %v dropped %v for %d points and a buffer of %d", backlog, dropped, n*perSnap, cfg.MemoryBuffer)
	}
}

func TestCheck(t *testing.T) {
	ok := newFakeInflux(t)
	refuse := func(code int) string {
		f := newFakeInflux(t)
		f.setStatus(func(int) int { return code })
		return f.srv.URL
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name    string
		url     string
		wantErr []string // substrings; nil: no error
		is      error
	}{
		{"ok", ok.srv.URL, nil, nil},
		{"wrong token", refuse(http.StatusUnauthorized), []string{"token refused", `org "noc"`, `bucket "metrics"`, "check the token"}, ErrAuth},
		{"wrong bucket", refuse(http.StatusNotFound), []string{"not found", `bucket "metrics"`}, ErrNotFound},
		{"server down", closed.URL, []string{"ping", closed.URL, "check the URL"}, ErrUnreachable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(testConfig(tc.url, ""), Options{})
			if err != nil {
				t.Fatal(err)
			}
			err = e.Check(context.Background())
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Check succeeded, want an error")
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("token in error %q", err)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	good := testConfig("http://127.0.0.1:8086", "")
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no url", func(c *Config) { c.URL = "" }, "url is required"},
		{"bad scheme", func(c *Config) { c.URL = "ftp://x" }, "want http(s)"},
		{"no org", func(c *Config) { c.Org = "" }, "org is required"},
		{"no bucket", func(c *Config) { c.Bucket = "" }, "bucket is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			_, err := New(c, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want %q", err, tc.want)
			}
		})
	}
	// Printing or logging a config never shows the token.
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "influx", good)
	for _, s := range []string{fmt.Sprint(good), fmt.Sprintf("%+v", good), fmt.Sprintf("%#v", good), logs.String()} {
		if strings.Contains(s, testToken) {
			t.Errorf("token shown in %q", s)
		}
	}
	if !strings.Contains(logs.String(), `"token_set":true`) {
		t.Errorf("logged config does not say a token is set: %s", logs.String())
	}
}

func TestTokenFrom(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("  "+testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NOCAGENT_TEST_INFLUX_TOKEN", testToken)
	t.Setenv("NOCAGENT_TEST_EMPTY", "")
	tests := []struct {
		name, file, env string
		want, wantErr   string
	}{
		{"file wins", file, "NOCAGENT_TEST_EMPTY", testToken, ""},
		{"env", "", "NOCAGENT_TEST_INFLUX_TOKEN", testToken, ""},
		{"neither", "", "", "", ""},
		{"missing file", filepath.Join(dir, "nope"), "", "", "no such file"},
		{"empty file", empty, "", "", "empty"},
		{"empty env", "", "NOCAGENT_TEST_EMPTY", "", "NOCAGENT_TEST_EMPTY is unset or empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TokenFrom(tc.file, tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("TokenFrom: %v, want error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("TokenFrom = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestMetricsLint(t *testing.T) {
	e, err := New(testConfig("http://127.0.0.1:1", t.TempDir()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.CollectAndLint(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
	if n := testutil.CollectAndCount(e); n != 6+len(dropReasons)+len(errKinds) {
		t.Errorf("%d series, want %d", n, 6+len(dropReasons)+len(errKinds))
	}
}

// drained waits until the server holds n lines and the exporter has
// settled them all: a line the server stored but whose answer the exporter
// has not read yet would still be sent again after a stop.
func drained(t *testing.T, what string, e *Exporter, f *fakeInflux, n int) {
	t.Helper()
	eventually(t, 5*time.Second, what, func() bool {
		got, _ := f.received()
		p, _ := e.Backlog()
		return got >= n && p == 0
	})
}
