package sshcmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/plugins/sshcmd"
)

var fixedNow = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// baseConfig is the configuration the tests start from; hostKeys is the
// host_keys (or known_hosts) part.
func baseConfig(extra map[string]any) []byte {
	cfg := map[string]any{
		"username":        "netops",
		"command_timeout": "300ms",
		"connect_timeout": "2s",
		"params": map[string]any{
			"interface": map[string]any{"type": "interface", "max_len": 32, "description": "interface name, e.g. Gi1/0/1"},
			"vlan":      map[string]any{"type": "vlan", "optional": true},
		},
		"actions": map[string]any{
			"clear-counters": "clear counters {{.Interface}}",
			"show-and-clear": []string{"show interfaces {{.Interface}}", "clear counters {{.Interface}}"},
			"bounce-port": map[string]any{
				"mode": "shell", "risk": "high", "categories": []string{"link"},
				"commands": []string{"configure terminal", "interface {{.Interface}}", "shutdown", "no shutdown", "end", "exit"},
				"verify":   map[string]any{"command": "show interfaces {{.Interface}} status", "expect": `(?m)\bconnected\b`, "attempts": 2, "interval": "20ms"},
			},
		},
	}
	for k, v := range extra {
		cfg[k] = v
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(err)
	}
	return b
}

type fixture struct {
	srv  *sshServer
	r    *sshcmd.Remediator
	logs *bytes.Buffer
	dev  plugins.Device
	sec  plugins.Secrets
}

// newFixture starts a device and a remediator that pins its host key.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := newSSHServer(t)
	f := &fixture{srv: srv, logs: &bytes.Buffer{},
		dev: plugins.Device{Name: "sw-acc-1", Address: srv.addr, CredentialRef: "ssh-netops"},
		sec: plugins.Secrets{"password": srv.password}}
	f.r = sshcmd.New(sshcmd.Options{Logger: slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Now: func() time.Time { return fixedNow }})
	f.configure(t, map[string]any{"host_keys": map[string]string{"sw-acc-1": hostFP(srv)}})
	return f
}

func hostFP(s *sshServer) string { return sshFingerprint(s.hostKey.PublicKey()) }

func (f *fixture) configure(t *testing.T, extra map[string]any) {
	t.Helper()
	if err := f.r.Configure(context.Background(), baseConfig(extra)); err != nil {
		t.Fatalf("Configure: %v", err)
	}
}

func (f *fixture) plan(t *testing.T, action string, params map[string]string) plugins.Plan {
	t.Helper()
	p, err := f.r.Plan(ctx(t), plugins.Request{Action: action, Device: f.dev, Ticket: plugins.Ticket{ID: "NOC-000042"}, Params: params, Secrets: f.sec})
	if err != nil {
		t.Fatalf("Plan %s: %v", action, err)
	}
	p.Secrets = f.sec
	return p
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestConfigureRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"unknown field", `{"actoins":{}}`, "unknown field"},
		{"undeclared param", `{"params":{},"actions":{"a":"clear counters {{.Interface}}"}}`, "declared params"},
		{"unknown type", `{"params":{"x":{"type":"ipv9"}}}`, `unknown type "ipv9"`},
		{"no pattern", `{"params":{"x":{}}}`, "needs a type"},
		{"bad pattern", `{"params":{"x":{"pattern":"("}}}`, "pattern"},
		{"multi-line command", `{"actions":{"a":"show version\nreload"}}`, "more than one line"},
		{"empty command", `{"actions":{"a":[" "]}}`, "empty command"},
		{"bad mode", `{"actions":{"a":{"commands":["show version"],"mode":"telnet"}}}`, "mode"},
		{"bad risk", `{"actions":{"a":{"commands":["show version"],"risk":"none"}}}`, "risk"},
		{"bad expect", `{"actions":{"a":{"commands":["x"],"verify":{"command":"show","expect":"("}}}}`, "expect"},
		{"bad action name", `{"actions":{"Bounce Port":"x"}}`, "bad action name"},
		{"bad fingerprint", `{"host_keys":{"sw1":"aa:bb:cc"}}`, "SHA256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sshcmd.New(sshcmd.Options{}).Configure(context.Background(), []byte(tt.config))
			if !errors.Is(err, plugins.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Configure(%s) = %v, want ErrInvalid containing %q", tt.config, err, tt.want)
			}
		})
	}
}

func TestUnconfiguredOffersNothing(t *testing.T) {
	r := sshcmd.New(sshcmd.Options{})
	if err := r.Configure(context.Background(), nil); err != nil {
		t.Fatalf("Configure(nil): %v", err)
	}
	acts, err := r.Actions(context.Background())
	if err != nil || len(acts) != 0 {
		t.Fatalf("Actions = %v, %v; want none", acts, err)
	}
	info, _ := r.Info(context.Background())
	if err := plugins.CheckInfo(info); err != nil || info.Name != "ssh-command" {
		t.Fatalf("Info %+v: %v", info, err)
	}
}

func TestActions(t *testing.T) {
	f := newFixture(t)
	acts, err := f.r.Actions(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := plugins.CheckActions(acts); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range acts {
		names = append(names, a.Name)
	}
	if want := []string{"bounce-port", "clear-counters", "show-and-clear"}; !slices.Equal(names, want) {
		t.Fatalf("actions %v, want %v", names, want)
	}
	bp := acts[0]
	if !slices.Equal(bp.Categories, []string{"link"}) || len(bp.Params) != 1 || bp.Params[0].Name != "interface" || !bp.Params[0].Required {
		t.Fatalf("bounce-port spec %+v: want category link and one required param interface (vlan is not used)", bp)
	}
}

func TestPlanRendersExactCommands(t *testing.T) {
	f := newFixture(t)
	p := f.plan(t, "bounce-port", map[string]string{"interface": "Gi1/0/7", "if_index": "10107"})
	want := []string{
		"connect over SSH to sw-acc-1 (" + f.srv.addr + ") with credential ssh-netops; host key must match pinned fingerprint " + hostFP(f.srv),
		"shell on sw-acc-1: configure terminal",
		"shell on sw-acc-1: interface Gi1/0/7",
		"shell on sw-acc-1: shutdown",
		"shell on sw-acc-1: no shutdown",
		"shell on sw-acc-1: end",
		"shell on sw-acc-1: exit",
		`verify: run "show interfaces Gi1/0/7 status" until its output matches /(?m)\bconnected\b/ (at most 2 attempts, 20ms apart)`,
	}
	if !slices.Equal(p.Steps, want) {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(p.Steps, "\n"), strings.Join(want, "\n"))
	}
	req := plugins.Request{Action: "bounce-port", Device: f.dev, Ticket: plugins.Ticket{ID: "NOC-000042"}}
	if err := plugins.CheckPlan(req, p); err != nil || p.Risk != plugins.RiskHigh {
		t.Fatalf("CheckPlan: %v, risk %s", err, p.Risk)
	}
	if conns, _, _, _ := f.srv.got(); conns != 0 {
		t.Fatalf("Plan connected to the device %d times; it is a dry run", conns)
	}
}

func TestBadParamsRefusedBeforeConnecting(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{"command separator", "Gi1/0/1; reload", "forbidden character"},
		{"newline", "Gi1/0/1\nreload", "forbidden character"},
		{"substitution", "$(reload)", "forbidden character"},
		{"pipe", "Gi1/0/1 | redirect tftp://x", "forbidden character"},
		{"not an interface", "reload", "not a valid interface"},
		{"space then command", "Gi1/0/1 reload", "not a valid interface"},
		{"too long", "GigabitEthernet" + strings.Repeat("1/", 20) + "1", "at most 32"},
		{"missing", "", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := plugins.Request{Action: "clear-counters", Device: f.dev, Params: map[string]string{"interface": tt.value}, Secrets: f.sec}
			_, err := f.r.Plan(ctx(t), req)
			if !errors.Is(err, plugins.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Plan(interface=%q) = %v, want ErrInvalid containing %q", tt.value, err, tt.want)
			}
			// A plan tampered with after approval is checked again.
			good := f.plan(t, "clear-counters", map[string]string{"interface": "Gi1/0/1"})
			good.Params = map[string]string{"interface": tt.value}
			if _, err := f.r.Execute(ctx(t), good); !errors.Is(err, plugins.ErrInvalid) {
				t.Fatalf("Execute(interface=%q) = %v, want ErrInvalid", tt.value, err)
			}
		})
	}
	if conns, _, cmds, _ := f.srv.got(); conns != 0 || len(cmds) != 0 {
		t.Fatalf("device saw %d connections and commands %q; want none", conns, cmds)
	}
	if _, err := f.r.Plan(ctx(t), plugins.Request{Action: "reload", Device: f.dev}); !errors.Is(err, plugins.ErrInvalid) {
		t.Fatalf("unknown action: %v, want ErrInvalid", err)
	}
}

func TestExecuteExec(t *testing.T) {
	f := newFixture(t)
	f.srv.replies["show interfaces Gi1/0/1"] = "GigabitEthernet1/0/1 is up, line protocol is up\n  5 input errors\n"
	f.srv.noExitStatus = true // as on many network OSes
	p := f.plan(t, "show-and-clear", map[string]string{"interface": "Gi1/0/1"})
	res, err := f.r.Execute(ctx(t), p)
	if err != nil || !res.OK {
		t.Fatalf("Execute = %+v, %v", res, err)
	}
	_, logins, cmds, sessions := f.srv.got()
	if want := []string{"show interfaces Gi1/0/1", "clear counters Gi1/0/1"}; !slices.Equal(cmds, want) || logins != 1 {
		t.Fatalf("device ran %q in %d logins, want %q in one", cmds, logins, want)
	}
	if !slices.Equal(sessions, []string{"exec", "exec"}) {
		t.Fatalf("sessions %v, want one exec channel per command", sessions)
	}
	if len(res.Evidence) != 2 || !strings.HasPrefix(res.Evidence[0], "2025-03-01T10:00:00Z exec on sw-acc-1: show interfaces Gi1/0/1: ok") ||
		!strings.Contains(res.Evidence[0], "5 input errors") {
		t.Fatalf("evidence %q", res.Evidence)
	}
	if !strings.Contains(res.Output, "sw-acc-1# clear counters Gi1/0/1") || plugins.CheckResult(res) != nil {
		t.Fatalf("output %q", res.Output)
	}
}

func TestExecuteWithPrivateKey(t *testing.T) {
	f := newFixture(t)
	f.sec = plugins.Secrets{"username": "netops", "private_key": f.srv.newClientKey(t)}
	res, err := f.r.Execute(ctx(t), f.plan(t, "clear-counters", map[string]string{"interface": "Te1/1/4.100"}))
	if err != nil || !res.OK {
		t.Fatalf("Execute = %+v, %v", res, err)
	}
	if _, _, cmds, _ := f.srv.got(); !slices.Equal(cmds, []string{"clear counters Te1/1/4.100"}) {
		t.Fatalf("commands %q", cmds)
	}
	f.sec = plugins.Secrets{"private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----\n"}
	_, err = f.r.Execute(ctx(t), f.plan(t, "clear-counters", map[string]string{"interface": "Gi1/0/1"}))
	if !errors.Is(err, plugins.ErrInvalid) || strings.Contains(err.Error(), "not a key") {
		t.Fatalf("bad key: %v; want ErrInvalid that does not quote the key", err)
	}
}

func TestExecuteShell(t *testing.T) {
	f := newFixture(t)
	res, err := f.r.Execute(ctx(t), f.plan(t, "bounce-port", map[string]string{"interface": "Gi1/0/7"}))
	if err != nil || !res.OK {
		t.Fatalf("Execute = %+v, %v", res, err)
	}
	_, _, cmds, sessions := f.srv.got()
	want := []string{"configure terminal", "interface Gi1/0/7", "shutdown", "no shutdown", "end", "exit"}
	if !slices.Equal(cmds, want) || !slices.Equal(sessions, []string{"shell"}) {
		t.Fatalf("device got %q in sessions %v; want %q in one shell", cmds, sessions, want)
	}
	if !strings.Contains(res.Evidence[0], "sw1#no shutdown") {
		t.Fatalf("evidence lacks the device's echo: %q", res.Evidence)
	}
}

func TestExecuteFailures(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*sshServer)
		want  string
		ran   []string
	}{
		{"timeout", func(s *sshServer) { s.hang["show interfaces Gi1/0/1"] = true }, "timed out after 300ms",
			[]string{"show interfaces Gi1/0/1"}},
		{"exit status", func(s *sshServer) { s.exits["show interfaces Gi1/0/1"] = 1 }, "exit status 1",
			[]string{"show interfaces Gi1/0/1"}},
		{"cli error", func(s *sshServer) {
			s.replies["clear counters Gi1/0/1"] = "              ^\n% Invalid input detected at '^' marker.\n"
		}, `device reported an error: "% Invalid"`, []string{"show interfaces Gi1/0/1", "clear counters Gi1/0/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.setup(f.srv)
			start := time.Now()
			res, err := f.r.Execute(ctx(t), f.plan(t, "show-and-clear", map[string]string{"interface": "Gi1/0/1"}))
			if err != nil {
				t.Fatalf("Execute error %v; want a failed Result with evidence", err)
			}
			if res.OK || !strings.Contains(res.Output, tt.want) || !strings.Contains(strings.Join(res.Evidence, "\n"), "FAILED: "+strings.SplitN(tt.want, ":", 2)[0]) {
				t.Fatalf("Result %+v; want not OK mentioning %q", res, tt.want)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("took %s", took)
			}
			if _, _, cmds, _ := f.srv.got(); !slices.Equal(cmds, tt.ran) {
				t.Fatalf("device ran %q, want %q (stop at the first failure)", cmds, tt.ran)
			}
		})
	}
}

func TestHostKeyVerification(t *testing.T) {
	dir := t.TempDir()
	other := newSigner(t).PublicKey()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name   string
		config func(*sshServer) map[string]any
		want   string // "" means it connects
	}{
		{"pinned ok", func(s *sshServer) map[string]any {
			return map[string]any{"host_keys": map[string]string{"sw-acc-1": hostFP(s)}}
		}, ""},
		{"pinned by address", func(s *sshServer) map[string]any {
			return map[string]any{"host_keys": map[string]string{s.addr: hostFP(s)}}
		}, ""},
		{"pinned mismatch", func(s *sshServer) map[string]any {
			return map[string]any{"host_keys": map[string]string{"sw-acc-1": sshFingerprint(other)}}
		}, "pinned " + sshFingerprint(other) + ": refusing to connect"},
		{"known_hosts ok", func(s *sshServer) map[string]any {
			return map[string]any{"known_hosts": []string{write("ok", s.knownHostsLine(s.hostKey.PublicKey()))}}
		}, ""},
		{"known_hosts unknown host", func(s *sshServer) map[string]any {
			return map[string]any{"known_hosts": []string{write("unknown", "[127.0.0.2]:22 "+strings.TrimSpace(string(marshalAuthorized(other))))}}
		}, "is unknown"},
		{"known_hosts changed key", func(s *sshServer) map[string]any {
			return map[string]any{"known_hosts": []string{write("changed", s.knownHostsLine(other))}}
		}, "CHANGED"},
		{"nothing configured", func(*sshServer) map[string]any { return map[string]any{} }, "without verifying the host key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.configure(t, tt.config(f.srv))
			req := plugins.Request{Action: "clear-counters", Device: f.dev, Params: map[string]string{"interface": "Gi1/0/1"}, Secrets: f.sec}
			p, err := f.r.Plan(ctx(t), req)
			if err == nil {
				p.Secrets = f.sec
				var res plugins.Result
				res, err = f.r.Execute(ctx(t), p)
				if err == nil && !res.OK {
					t.Fatalf("Execute: %+v", res)
				}
			}
			_, logins, cmds, _ := f.srv.got()
			if tt.want == "" {
				if err != nil || len(cmds) != 1 {
					t.Fatalf("Execute: %v; commands %q", err, cmds)
				}
				return
			}
			if !errors.Is(err, plugins.ErrRefused) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want ErrRefused containing %q", err, tt.want)
			}
			if logins != 0 || len(cmds) != 0 {
				t.Fatalf("a refused host key still led to %d logins and commands %q", logins, cmds)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Run("matches on the second attempt", func(t *testing.T) {
		f := newFixture(t)
		cmd := "show interfaces Gi1/0/7 status"
		// The port comes up after the first read.
		f.srv.sequence[cmd] = []string{"Gi1/0/7  notconnect   10  auto auto\n", "Gi1/0/7  connected    10  a-full a-1000\n"}
		p := f.plan(t, "bounce-port", map[string]string{"interface": "Gi1/0/7"})
		v, err := f.r.Verify(ctx(t), p)
		if err != nil || plugins.CheckVerification(v) != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !v.OK || len(v.Evidence) != 2 || !strings.Contains(v.Evidence[0], "does not match") || !strings.Contains(v.Evidence[1], "connected    10") {
			t.Fatalf("Verify = %+v", v)
		}
	})
	t.Run("never matches", func(t *testing.T) {
		f := newFixture(t)
		f.srv.replies["show interfaces Gi1/0/7 status"] = "Gi1/0/7  notconnect\n"
		v, err := f.r.Verify(ctx(t), f.plan(t, "bounce-port", map[string]string{"interface": "Gi1/0/7"}))
		if err != nil || v.OK || len(v.Evidence) != 2 {
			t.Fatalf("Verify = %+v, %v; want not OK after 2 attempts", v, err)
		}
	})
	t.Run("no verify command", func(t *testing.T) {
		f := newFixture(t)
		v, err := f.r.Verify(ctx(t), f.plan(t, "clear-counters", map[string]string{"interface": "Gi1/0/7"}))
		if err != nil || v.OK || !strings.Contains(v.Evidence[0], "no verify command") {
			t.Fatalf("Verify = %+v, %v; want unverified", v, err)
		}
		if conns, _, _, _ := f.srv.got(); conns != 0 {
			t.Fatal("connected although there is nothing to verify")
		}
	})
}

func TestStalePlanRefused(t *testing.T) {
	f := newFixture(t)
	p := f.plan(t, "clear-counters", map[string]string{"interface": "Gi1/0/1"})
	cfg := baseConfig(map[string]any{"host_keys": map[string]string{"sw-acc-1": hostFP(f.srv)}})
	cfg = bytes.Replace(cfg, []byte(`"clear counters {{.Interface}}"`), []byte(`"clear counters {{.Interface}} all"`), 1)
	if err := f.r.Configure(ctx(t), cfg); err != nil {
		t.Fatal(err)
	}
	_, err := f.r.Execute(ctx(t), p)
	if !errors.Is(err, plugins.ErrRefused) || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("Execute of a stale plan: %v, want ErrRefused (stale)", err)
	}
	if conns, _, _, _ := f.srv.got(); conns != 0 {
		t.Fatal("connected for a stale plan")
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	f := newFixture(t)
	f.srv.replies["show interfaces Gi1/0/1"] = "up\n"
	// Good password: logs and result must not show it.
	res, err := f.r.Execute(ctx(t), f.plan(t, "show-and-clear", map[string]string{"interface": "Gi1/0/1"}))
	if err != nil || !res.OK {
		t.Fatalf("Execute: %+v %v", res, err)
	}
	// Wrong password: the error must not show what was tried.
	wrong := "Wr0ng-Pa55-" + "xyzzy"
	f.sec = plugins.Secrets{"password": wrong}
	_, err = f.r.Execute(ctx(t), f.plan(t, "clear-counters", map[string]string{"interface": "Gi1/0/1"}))
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") || !strings.Contains(err.Error(), "ssh-netops") {
		t.Fatalf("wrong password: %v; want an auth error naming the credential", err)
	}
	all, _ := json.Marshal(res)
	text := err.Error() + f.logs.String() + string(all) + res.Output + strings.Join(res.Evidence, "")
	for _, secret := range []string{f.srv.password, wrong} {
		if strings.Contains(text, secret) {
			t.Fatalf("secret %q leaked into errors, logs or results:\n%s", secret, text)
		}
	}
	if !strings.Contains(f.logs.String(), `"command":"clear counters Gi1/0/1"`) {
		t.Fatalf("commands are not logged: %s", f.logs.String())
	}
}

// TestThroughHost runs the built-in through the plugin host, as the agent
// does: config by name, plan checked by the host, errors scrubbed.
func TestThroughHost(t *testing.T) {
	srv := newSSHServer(t)
	h, err := plugins.NewHost(ctx(t), plugins.HostConfig{
		Builtins: []plugins.Base{sshcmd.New(sshcmd.Options{})},
		Configs:  map[string][]byte{sshcmd.Name: baseConfig(map[string]any{"host_keys": map[string]string{"sw-acc-1": hostFP(srv)}})},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	r, err := h.Remediator(sshcmd.Name)
	if err != nil {
		t.Fatal(err)
	}
	dev := plugins.Device{Name: "sw-acc-1", Address: srv.addr}
	sec := plugins.Secrets{"password": srv.password}
	p, err := r.Plan(ctx(t), plugins.Request{Action: "clear-counters", Device: dev, Ticket: plugins.Ticket{ID: "NOC-1"}, Params: map[string]string{"interface": "Gi1/0/3"}, Secrets: sec})
	if err != nil {
		t.Fatal(err)
	}
	p.Secrets = sec
	if res, err := r.Execute(ctx(t), p); err != nil || !res.OK {
		t.Fatalf("Execute via host: %+v %v", res, err)
	}
	if _, _, cmds, _ := srv.got(); !slices.Equal(cmds, []string{"clear counters Gi1/0/3"}) {
		t.Fatalf("commands %q", cmds)
	}
}
