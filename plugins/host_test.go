package plugins_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/plugins"
)

// The example plugin is built once per test binary; each test links it
// into its own plugin directory.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	// Re-run by a test as a plugin process: serve and exit.
	if name := os.Getenv(servePluginEnv); name != "" {
		servePlugin(name)
		os.Exit(0)
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// helloDir returns a fresh plugin directory holding hello-inspector.
func helloDir(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "nocagent-plugins-")
		if buildErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(buildDir, "hello-inspector"), "./examples/hello-inspector")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build hello-inspector: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, "hello-inspector")
	if err := os.Link(filepath.Join(buildDir, "hello-inspector"), dst); err != nil {
		copyFile(t, filepath.Join(buildDir, "hello-inspector"), dst)
	}
	return dir
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// clock is a settable now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer collects log output from several goroutines.
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

func newHost(t *testing.T, cfg plugins.HostConfig) (*plugins.Host, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 10 * time.Second
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = time.Second
	}
	h, err := plugins.NewHost(ctx, cfg)
	t.Cleanup(func() { h.Close() })
	return h, err
}

func inspect(t *testing.T, h *plugins.Host, timeout time.Duration, req plugins.InspectRequest) ([]plugins.Finding, error) {
	t.Helper()
	in, err := h.Inspector("hello-inspector")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return in.Inspect(ctx, req)
}

func statusOf(t *testing.T, h *plugins.Host, name string) plugins.Status {
	t.Helper()
	for _, s := range h.List() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("plugin %s not in List: %+v", name, h.List())
	return plugins.Status{}
}

var acc1 = plugins.Device{Name: "acme-acc-1", Address: "127.0.0.1:16100", Serial: "FCW2233ABCD"}

func TestHostLoadsExternalInspector(t *testing.T) {
	dir := helloDir(t)
	h, err := newHost(t, plugins.HostConfig{
		Dir:     dir,
		Configs: map[string][]byte{"hello-inspector": []byte(`{"greeting":"ni hao","min_uptime_seconds":3600}`)},
	})
	if err != nil {
		t.Fatalf("NewHost: %v", err)
	}
	st := statusOf(t, h, "hello-inspector")
	want := plugins.Status{Name: "hello-inspector", Kind: plugins.KindInspector, Version: "0.1.0", APIVersions: []int{1},
		Source: filepath.Join(dir, "hello-inspector"), Health: plugins.HealthOK}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Errorf("status = %+v, want %+v", st, want)
	}
	if got := h.Names(plugins.KindInspector); fmt.Sprint(got) != "[hello-inspector]" {
		t.Errorf("Names(inspector) = %v", got)
	}
	if _, err := h.Remediator("hello-inspector"); !errors.Is(err, plugins.ErrNotFound) {
		t.Errorf("Remediator(hello-inspector) error = %v, want ErrNotFound", err)
	}

	tests := []struct {
		name     string
		snapshot string
		want     []string // severity: title
	}{
		{"no snapshot", "", []string{"info: ni hao, acme-acc-1"}},
		{"long uptime", `{"uptime_seconds": 90000}`, []string{"info: ni hao, acme-acc-1"}},
		{"rebooted", `{"uptime_seconds": 120}`, []string{"info: ni hao, acme-acc-1", "warning: device rebooted recently"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := inspect(t, h, 5*time.Second, plugins.InspectRequest{Device: acc1, Snapshot: json.RawMessage(tc.snapshot)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.Severity+": "+f.Title)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("findings = %q, want %q", got, tc.want)
			}
			if fs[0].Evidence[0] != "serial FCW2233ABCD" {
				t.Errorf("evidence = %q", fs[0].Evidence)
			}
		})
	}

	// A refusal from the plugin (bad snapshot) is an answer, not a fault.
	_, err = inspect(t, h, 5*time.Second, plugins.InspectRequest{Device: acc1, Snapshot: json.RawMessage(`{nope`)})
	if !errors.Is(err, plugins.ErrInvalid) || errors.Is(err, plugins.ErrPluginFailed) {
		t.Errorf("bad snapshot: error = %v, want ErrInvalid and not ErrPluginFailed", err)
	}
	if st := statusOf(t, h, "hello-inspector"); st.Health != plugins.HealthOK {
		t.Errorf("after an invalid request health = %s, want ok", st.Health)
	}
}

// TestHostIsolatesFailingPlugin: a plugin that crashes, hangs or answers
// garbage fails the call with a clear error, stays down during its backoff
// and comes back on the first call after it; the host goes on.
func TestHostIsolatesFailingPlugin(t *testing.T) {
	tests := []struct {
		mode    string
		timeout time.Duration
		wantIs  []error
		wantMsg string
	}{
		{"crash", 5 * time.Second, []error{plugins.ErrPluginFailed}, "plugin hello-inspector: Inspect: crashed"},
		{"hang", 700 * time.Millisecond, []error{plugins.ErrPluginFailed, context.DeadlineExceeded}, "plugin hello-inspector: Inspect: no answer within"},
		{"garbage", 5 * time.Second, []error{plugins.ErrPluginFailed, plugins.ErrMalformed}, `severity "apocalyptic" is not one of`},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			dir := helloDir(t)
			once := filepath.Join(t.TempDir(), "once")
			if err := os.WriteFile(once, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			clk := newClock()
			h, err := newHost(t, plugins.HostConfig{
				Dir: dir, Now: clk.Now, MinBackoff: 2 * time.Second, MaxBackoff: time.Minute,
				Env: []string{"HELLO_INSPECTOR_MODE=" + tc.mode, "HELLO_INSPECTOR_ONCE=" + once},
			})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = inspect(t, h, tc.timeout, plugins.InspectRequest{Device: acc1})
			if err == nil {
				t.Fatal("Inspect succeeded, want a failure")
			}
			if took := time.Since(start); took > tc.timeout+time.Second {
				t.Errorf("failing call took %s, want about its deadline %s at most", took, tc.timeout)
			}
			for _, target := range tc.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("error %q does not match %v", err, target)
				}
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
			st := statusOf(t, h, "hello-inspector")
			if st.Health != plugins.HealthDown || st.Error == "" || !st.NextStart.Equal(clk.Now().Add(2*time.Second)) {
				t.Errorf("status after failure = %+v, want down with an error and next start in 2s", st)
			}

			// During the backoff the call fails fast without touching the plugin.
			_, err = inspect(t, h, 5*time.Second, plugins.InspectRequest{Device: acc1})
			if !errors.Is(err, plugins.ErrUnavailable) || !strings.Contains(err.Error(), "next restart in 2s") {
				t.Errorf("call during backoff: error = %v, want ErrUnavailable naming the wait", err)
			}

			clk.Advance(2 * time.Second)
			fs, err := inspect(t, h, 5*time.Second, plugins.InspectRequest{Device: acc1})
			if err != nil {
				t.Fatalf("call after backoff: %v", err)
			}
			if len(fs) != 1 || fs[0].Title != "hello, acme-acc-1" {
				t.Errorf("findings after restart = %+v", fs)
			}
			st = statusOf(t, h, "hello-inspector")
			if st.Health != plugins.HealthOK || st.Restarts != 1 {
				t.Errorf("status after restart = %+v, want ok with 1 restart", st)
			}
		})
	}
}

func TestHostBackoffDoubles(t *testing.T) {
	dir := helloDir(t)
	clk := newClock()
	// Crash on every call: each failure doubles the wait, up to the cap.
	h, err := newHost(t, plugins.HostConfig{
		Dir: dir, Now: clk.Now, MinBackoff: time.Second, MaxBackoff: 3 * time.Second,
		Env: []string{"HELLO_INSPECTOR_MODE=crash"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		if _, err := inspect(t, h, 5*time.Second, plugins.InspectRequest{Device: acc1}); !errors.Is(err, plugins.ErrPluginFailed) {
			t.Fatalf("call %d: error = %v, want ErrPluginFailed", i, err)
		}
		st := statusOf(t, h, "hello-inspector")
		if got := st.NextStart.Sub(clk.Now()); got != want {
			t.Errorf("after failure %d: backoff %s, want %s", i+1, got, want)
		}
		clk.Advance(want)
	}
}

func TestHostRejectsBadBinaries(t *testing.T) {
	tests := []struct {
		name    string
		mode    string // HELLO_INSPECTOR_MODE; "" with script
		script  string // instead of hello-inspector
		wantMsg []string
	}{
		{name: "not a plugin", mode: "not-a-plugin", wantMsg: []string{"hello-inspector", "Unrecognized remote plugin message: hello, world"}},
		{name: "wrong protocol version", mode: "protocol-version", wantMsg: []string{"hello-inspector", "incompatible API version", "Plugin version: 99"}},
		{name: "wrong API version", mode: "api-version", wantMsg: []string{"hello-inspector", "speaks API versions [99], this host speaks 1"}},
		{name: "shell script", script: "#!/bin/sh\necho 'I am a backup job'\n", wantMsg: []string{"backup.sh", "Unrecognized remote plugin message: I am a backup job"}},
		{name: "exits at once", script: "#!/bin/sh\nexit 0\n", wantMsg: []string{"backup.sh", "Failed to read any lines from plugin's stdout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var dir string
			if tc.script != "" {
				dir = t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "backup.sh"), []byte(tc.script), 0o755); err != nil {
					t.Fatal(err)
				}
			} else {
				dir = helloDir(t)
			}
			// Not executable: ignored, not rejected.
			if err := os.WriteFile(filepath.Join(dir, "README.txt"), []byte("notes"), 0o644); err != nil {
				t.Fatal(err)
			}
			h, err := newHost(t, plugins.HostConfig{Dir: dir, StartTimeout: 5 * time.Second, Env: []string{"HELLO_INSPECTOR_MODE=" + tc.mode}})
			if err == nil {
				t.Fatal("NewHost accepted the binary")
			}
			for _, w := range tc.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			list := h.List()
			if len(list) != 1 || list[0].Health != plugins.HealthRejected || list[0].Error == "" {
				t.Errorf("List = %+v, want the one binary, rejected with its error", list)
			}
			if got := h.Names(plugins.KindInspector); len(got) != 0 {
				t.Errorf("rejected plugin is dispensable: %v", got)
			}
		})
	}
}

func TestHostKeepsSecretsOutOfErrorsAndLogs(t *testing.T) {
	dir := helloDir(t)
	var logs syncBuffer
	h, err := newHost(t, plugins.HostConfig{
		Dir: dir, Env: []string{"HELLO_INSPECTOR_MODE=echo-secret"},
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cr3t-community"
	_, err = inspect(t, h, 5*time.Second, plugins.InspectRequest{Device: acc1, Secrets: plugins.Secrets{"community": secret}})
	if err == nil {
		t.Fatal("echo-secret Inspect succeeded")
	}
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "with community [redacted]") {
		t.Errorf("error = %q, want the community redacted", err)
	}
	// The plugin's log line arrives asynchronously through its stderr.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "got community") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, "got community [redacted]") {
		t.Errorf("plugin log line missing or not redacted:\n%s", out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("secret in logs:\n%s", out)
	}
}

func TestSecretsNeverFormat(t *testing.T) {
	const secret = "hunter2-private"
	req := plugins.Request{Action: "bounce", Device: acc1, Secrets: plugins.Secrets{"community": secret}}
	plan := plugins.Plan{Action: "bounce", Device: acc1, Secrets: req.Secrets}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "req", req, "secrets", req.Secrets, "plan", plan)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "req", req, "secrets", req.Secrets)
	j1, _ := json.Marshal(req)
	j2, _ := json.Marshal(plan)
	j3, _ := json.Marshal(req.Secrets)
	outs := map[string]string{
		"%v": fmt.Sprintf("%v", req), "%+v": fmt.Sprintf("%+v", req), "%#v": fmt.Sprintf("%#v", req),
		"%s": fmt.Sprintf("%s", req.Secrets), "%q": fmt.Sprintf("%q", req.Secrets), "plan %+v": fmt.Sprintf("%+v", plan),
		"error": fmt.Errorf("plan %v failed", plan).Error(),
		"slog":  logs.String(), "json req": string(j1), "json plan": string(j2), "json secrets": string(j3),
	}
	for what, out := range outs {
		if strings.Contains(out, secret) {
			t.Errorf("%s shows the secret: %s", what, out)
		}
	}
	if !strings.Contains(outs["%+v"], "[redacted]") || string(j3) != `"[redacted]"` {
		t.Errorf("redaction marker missing: %s / %s", outs["%+v"], j3)
	}
	if req.Secrets["community"] != secret {
		t.Error("the plugin cannot read the secret by key")
	}
}

var _ io.Writer = (*syncBuffer)(nil)
