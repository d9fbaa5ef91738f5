package plugins_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/plugins/builtin"
	"github.com/nocagent/nocagent/plugins/jira"
	"github.com/nocagent/nocagent/plugins/jira/jiratest"
)

// The test binary doubles as an external plugin: with servePluginEnv set
// to a built-in's name, TestMain serves it as `nocagent plugin serve NAME`
// does (builtin.New, then plugins.Serve). sinkModeEnv makes the served
// sink misbehave in Push and Pull: crash, hang or garbage; with
// sinkOnceEnv=FILE only while FILE exists (it is removed first), so the
// restarted plugin behaves.
const (
	servePluginEnv = "NOCAGENT_PLUGINS_TEST_SERVE"
	sinkModeEnv    = "NOCAGENT_PLUGINS_TEST_SINK_MODE"
	sinkOnceEnv    = "NOCAGENT_PLUGINS_TEST_SINK_ONCE"
)

func servePlugin(name string) {
	impl, ok := builtin.New(name)
	if !ok {
		fmt.Fprintf(os.Stderr, "no built-in plugin %q\n", name)
		os.Exit(1)
	}
	if mode := os.Getenv(sinkModeEnv); mode != "" {
		impl = &misbehavingSink{TicketSink: impl.(plugins.TicketSink), mode: mode, once: os.Getenv(sinkOnceEnv)}
	}
	plugins.Serve(impl)
}

type misbehavingSink struct {
	plugins.TicketSink
	mode, once string
}

func (s *misbehavingSink) now() bool {
	return s.once == "" || os.Remove(s.once) == nil
}

func (s *misbehavingSink) misbehave() {
	switch s.mode {
	case "crash":
		fmt.Fprintln(os.Stderr, "sink: crashing on purpose")
		os.Exit(3)
	case "hang":
		<-make(chan struct{}) // never answers, even when the deadline passes
	}
}

func (s *misbehavingSink) Push(ctx context.Context, t plugins.SinkTicket) (string, error) {
	if s.now() {
		s.misbehave()
		if s.mode == "garbage" {
			return "NOC-1\x00; DROP TABLE tickets", nil
		}
	}
	return s.TicketSink.Push(ctx, t)
}

func (s *misbehavingSink) Pull(ctx context.Context, since time.Time) ([]plugins.SinkChange, error) {
	if s.now() {
		s.misbehave()
		if s.mode == "garbage" {
			return []plugins.SinkChange{{TicketID: "T-1", ExternalID: "NOC-1", State: "resolved", At: since.Add(-time.Hour)}}, nil
		}
	}
	return s.TicketSink.Pull(ctx, since)
}

const (
	jiraEmail = "noc-bot@example.com"
	jiraToken = "ATATT3xFfGF0-host-test-token"
)

// jiraDir returns a plugin directory whose one executable runs this test
// binary as `plugin serve jira`, a fake Jira, and the host config that
// points the plugin at it.
func jiraDir(t *testing.T) (string, *jiratest.Fake, plugins.HostConfig) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\nexec %q\n", exe)
	if err := os.WriteFile(filepath.Join(dir, "nocagent-jira"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	fake := jiratest.New(t, "Basic "+base64.StdEncoding.EncodeToString([]byte(jiraEmail+":"+jiraToken)))
	cfg, _ := json.Marshal(map[string]any{"base_url": fake.URL, "project_key": "NOC", "request_timeout": "2s", "max_retries": 0,
		"auth": map[string]string{"email": jiraEmail, "api_token": jiraToken}})
	return dir, fake, plugins.HostConfig{
		Dir:           dir,
		Env:           []string{servePluginEnv + "=" + jira.Name},
		Configs:       map[string][]byte{jira.Name: cfg},
		ConfigSecrets: map[string]plugins.Secrets{jira.Name: {"api_token": jiraToken}},
	}
}

func hostSink(t *testing.T, h *plugins.Host) plugins.TicketSink {
	t.Helper()
	s, err := h.TicketSink(jira.Name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHostServesJiraOutOfProcess: the built-in jira sink, run as an
// external plugin, pushes and pulls through the host against a Jira.
func TestHostServesJiraOutOfProcess(t *testing.T) {
	dir, fake, cfg := jiraDir(t)
	var logs syncBuffer
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := newHost(t, cfg)
	if err != nil {
		t.Fatalf("NewHost: %v", err)
	}
	st := statusOf(t, h, jira.Name)
	want := plugins.Status{Name: jira.Name, Kind: plugins.KindTicketSink, Version: "1.0.0", APIVersions: []int{1},
		Source: filepath.Join(dir, "nocagent-jira"), Health: plugins.HealthOK}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Errorf("status = %+v, want %+v", st, want)
	}
	if got := h.Names(plugins.KindTicketSink); fmt.Sprint(got) != "[jira]" {
		t.Errorf("Names(ticket_sink) = %v", got)
	}
	if _, err := h.Inspector(jira.Name); !errors.Is(err, plugins.ErrNotFound) {
		t.Errorf("Inspector(jira) error = %v, want ErrNotFound", err)
	}
	sink := hostSink(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	tk := sinkTicket
	tk.ExternalID, tk.State, tk.Priority = "", "in_progress", "P1"
	key, err := sink.Push(ctx, tk)
	if err != nil || key != "NOC-1" {
		t.Fatalf("Push = %q, %v", key, err)
	}
	is := fake.Issue("NOC-1")
	if is.Status != "Work in progress" || is.Priority != "Highest" || is.Summary != "[T-42] Link down on acme-acc-1 Gi1/0/7" {
		t.Errorf("issue: status %q priority %q summary %q", is.Status, is.Priority, is.Summary)
	}
	for _, row := range []string{"||Contract|ACME-2025|", "||Site|Shanghai-1|", "||Model|C9300-48P|", "||Serial|FOC1234X0AB|"} {
		if !strings.Contains(is.Description, row) {
			t.Errorf("description lacks %q (device context lost on the way?):\n%s", row, is.Description)
		}
	}

	since := fake.Advance(30 * time.Second)
	at := fake.HumanMove("NOC-1", "Resolved")
	changes, err := sink.Pull(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].TicketID != "T-42" || changes[0].ExternalID != "NOC-1" || changes[0].State != "resolved" ||
		changes[0].Actor != "Li Wei" || !changes[0].At.Equal(at) {
		t.Errorf("Pull = %+v, want T-42 resolved by Li Wei at %v", changes, at)
	}

	// A transition the workflow does not offer: the key still comes back
	// with the error, and the plugin stays healthy.
	tk.ExternalID, tk.State = key, "cancelled" // Resolved offers no Cancel
	key, err = sink.Push(ctx, tk)
	if key != "NOC-1" || err == nil || !strings.Contains(err.Error(), `plugin jira: Push: ticket T-42: issue NOC-1: state cancelled maps to status "Canceled"`) {
		t.Errorf("Push = %q, %v; want the key and the workflow error", key, err)
	}
	if errors.Is(err, plugins.ErrPluginFailed) || statusOf(t, h, jira.Name).Health != plugins.HealthOK {
		t.Errorf("an ITSM-side failure took the plugin down: %v", err)
	}

	// Jira refusing the credentials: an answer, with the token nowhere.
	fake.SetAuth("Basic someone-else")
	_, err = sink.Push(ctx, tk)
	if err == nil || !strings.Contains(err.Error(), "answered 401") || errors.Is(err, plugins.ErrPluginFailed) {
		t.Errorf("Push with rejected credentials = %v", err)
	}
	if strings.Contains(err.Error()+logs.String(), jiraToken) {
		t.Errorf("token leaked:\n%v\n%s", err, logs.String())
	}
	if _, err := sink.Push(ctx, plugins.SinkTicket{ID: "has space"}); !errors.Is(err, plugins.ErrInvalid) {
		t.Errorf("Push of a bad id = %v, want ErrInvalid across the process boundary", err)
	}
}

// TestHostIsolatesFailingSink: an external sink that crashes, hangs or
// answers garbage fails the call, is down during its backoff and is back
// after it.
func TestHostIsolatesFailingSink(t *testing.T) {
	tests := []struct {
		mode    string
		pull    bool
		timeout time.Duration
		wantIs  []error
		wantMsg string
	}{
		{"crash", false, 5 * time.Second, []error{plugins.ErrPluginFailed}, "plugin jira: Push: crashed"},
		{"hang", true, 700 * time.Millisecond, []error{plugins.ErrPluginFailed, context.DeadlineExceeded}, "plugin jira: Pull: no answer within"},
		{"garbage", false, 5 * time.Second, []error{plugins.ErrPluginFailed, plugins.ErrMalformed}, "external id \"NOC-1\\x00; DROP TABLE tickets\" holds unprintable"},
		{"garbage", true, 5 * time.Second, []error{plugins.ErrPluginFailed, plugins.ErrMalformed}, "Pull: change 0 (ticket T-1) at 2025-03-01T09:00:00Z is not after since"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s pull=%v", tc.mode, tc.pull), func(t *testing.T) {
			t.Parallel()
			_, fake, cfg := jiraDir(t)
			once := filepath.Join(t.TempDir(), "once")
			if err := os.WriteFile(once, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			clk := newClock()
			cfg.Now, cfg.MinBackoff, cfg.MaxBackoff = clk.Now, 2*time.Second, time.Minute
			cfg.Env = append(cfg.Env, sinkModeEnv+"="+tc.mode, sinkOnceEnv+"="+once)
			h, err := newHost(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			sink := hostSink(t, h)
			since := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
			do := func(timeout time.Duration) error {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				if tc.pull {
					_, err := sink.Pull(ctx, since)
					return err
				}
				key, err := sink.Push(ctx, sinkTicket)
				if err != nil && key != "" {
					t.Errorf("failed Push returned key %q", key)
				}
				return err
			}
			start := time.Now()
			err = do(tc.timeout)
			if err == nil {
				t.Fatal("call succeeded, want a failure")
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
			st := statusOf(t, h, jira.Name)
			if st.Health != plugins.HealthDown || st.Error == "" || !st.NextStart.Equal(clk.Now().Add(2*time.Second)) {
				t.Errorf("status after failure = %+v, want down with an error and next start in 2s", st)
			}
			if err := do(5 * time.Second); !errors.Is(err, plugins.ErrUnavailable) {
				t.Errorf("call during backoff: %v, want ErrUnavailable", err)
			}
			clk.Advance(2 * time.Second)
			if err := do(5 * time.Second); err != nil {
				t.Fatalf("call after backoff: %v", err)
			}
			if st := statusOf(t, h, jira.Name); st.Health != plugins.HealthOK || st.Restarts != 1 {
				t.Errorf("status after restart = %+v, want ok with 1 restart", st)
			}
			if !tc.pull && fake.Issue("NOC-1").Key != "NOC-1" {
				t.Error("the restarted plugin did not create the issue")
			}
		})
	}
}

// TestBuiltinSinkIsolation: an in-process sink gets the same checks; a
// secret of its configuration never shows in an error.
func TestBuiltinSinkIsolation(t *testing.T) {
	const token = "itsm-token-0xDEADBEEF"
	since := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		push     func(context.Context, plugins.SinkTicket) (string, error)
		pull     func(context.Context, time.Time) ([]plugins.SinkChange, error)
		wantKey  string
		wantIs   []error
		wantNot  []error
		wantMsg  string
		wantDown bool
	}{
		{
			name: "panic in Push", wantDown: true,
			push:   func(context.Context, plugins.SinkTicket) (string, error) { panic("nil map") },
			wantIs: []error{plugins.ErrPluginFailed}, wantMsg: "plugin fake-itsm: Push: crashed, plugin stopped for restart: panic: nil map",
		},
		{
			name: "empty key", wantDown: true,
			push:   func(context.Context, plugins.SinkTicket) (string, error) { return "", nil },
			wantIs: []error{plugins.ErrPluginFailed, plugins.ErrMalformed}, wantMsg: `external id "" is empty`,
		},
		{
			name: "key with an error", wantKey: "ITSM-9",
			push: func(context.Context, plugins.SinkTicket) (string, error) {
				return "ITSM-9", errors.New("created, but the assignment group is unknown")
			},
			wantNot: []error{plugins.ErrPluginFailed}, wantMsg: "plugin fake-itsm: Push: created, but the assignment group is unknown",
		},
		{
			name: "token echoed",
			push: func(context.Context, plugins.SinkTicket) (string, error) {
				return "", fmt.Errorf("%w: login with token %s refused", plugins.ErrRefused, token)
			},
			wantIs: []error{plugins.ErrRefused}, wantNot: []error{plugins.ErrPluginFailed}, wantMsg: "login with token [redacted] refused",
		},
		{
			name: "changes out of order", wantDown: true,
			pull: func(_ context.Context, since time.Time) ([]plugins.SinkChange, error) {
				return []plugins.SinkChange{
					{TicketID: "T-1", ExternalID: "ITSM-1", State: "resolved", At: since.Add(2 * time.Minute)},
					{TicketID: "T-2", ExternalID: "ITSM-2", State: "resolved", At: since.Add(time.Minute)},
				}, nil
			},
			wantIs: []error{plugins.ErrMalformed}, wantMsg: "change 1 (ticket T-2) is older than the change before it",
		},
		{
			name: "change without ticket", wantDown: true,
			pull: func(_ context.Context, since time.Time) ([]plugins.SinkChange, error) {
				return []plugins.SinkChange{{ExternalID: "ITSM-1", State: "resolved", At: since.Add(time.Minute)}}, nil
			},
			wantIs: []error{plugins.ErrMalformed}, wantMsg: `change 0: ticket id "" is empty`,
		},
		{
			name: "state that is not a name", wantDown: true,
			pull: func(_ context.Context, since time.Time) ([]plugins.SinkChange, error) {
				return []plugins.SinkChange{{TicketID: "T-1", ExternalID: "ITSM-1", State: "Resolved (fixed)", At: since.Add(time.Minute)}}, nil
			},
			wantIs: []error{plugins.ErrMalformed}, wantMsg: `state "Resolved (fixed)" is not a state name`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := newFakeSink("fake-itsm")
			fake.set(tc.push, tc.pull)
			clk := newClock()
			h, err := newHost(t, plugins.HostConfig{Builtins: []plugins.Base{fake}, Now: clk.Now,
				Configs:       map[string][]byte{"fake-itsm": []byte(`{"token":"` + token + `"}`)},
				ConfigSecrets: map[string]plugins.Secrets{"fake-itsm": {"token": token}}})
			if err != nil {
				t.Fatal(err)
			}
			sink, err := h.TicketSink("fake-itsm")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if tc.pull != nil {
				_, err = sink.Pull(ctx, since)
			} else {
				var key string
				key, err = sink.Push(ctx, sinkTicket)
				if key != tc.wantKey {
					t.Errorf("key = %q, want %q", key, tc.wantKey)
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error = %v, want one containing %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("token in error %q", err)
			}
			for _, s := range tc.wantIs {
				if !errors.Is(err, s) {
					t.Errorf("error %q is not %v", err, s)
				}
			}
			for _, s := range tc.wantNot {
				if errors.Is(err, s) {
					t.Errorf("error %q is %v", err, s)
				}
			}
			if st := statusOf(t, h, "fake-itsm"); (st.Health == plugins.HealthDown) != tc.wantDown || st.Kind != plugins.KindTicketSink {
				t.Errorf("status = %+v, want a ticket_sink, down=%v", st, tc.wantDown)
			}
		})
	}
}
