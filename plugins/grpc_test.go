package plugins_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/nocagent/nocagent/plugins"
)

// fakeRemediator is a Remediator whose behaviour each test sets; it
// records what reached it.
type fakeRemediator struct {
	info    plugins.Info
	actions []plugins.ActionSpec
	plan    func(ctx context.Context, req plugins.Request) (plugins.Plan, error)
	execute func(ctx context.Context, p plugins.Plan) (plugins.Result, error)
	verify  func(ctx context.Context, p plugins.Plan) (plugins.Verification, error)

	mu     sync.Mutex
	config []byte
	calls  []string
}

func (f *fakeRemediator) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeRemediator) Info(context.Context) (plugins.Info, error) { return f.info, nil }
func (f *fakeRemediator) Configure(_ context.Context, c []byte) error {
	f.mu.Lock()
	f.config = c
	f.mu.Unlock()
	return nil
}
func (f *fakeRemediator) Actions(context.Context) ([]plugins.ActionSpec, error) {
	return f.actions, nil
}
func (f *fakeRemediator) Plan(ctx context.Context, r plugins.Request) (plugins.Plan, error) {
	f.record("plan community=" + r.Secrets["community"])
	f.mu.Lock()
	plan := f.plan
	f.mu.Unlock()
	return plan(ctx, r)
}
func (f *fakeRemediator) Execute(ctx context.Context, p plugins.Plan) (plugins.Result, error) {
	f.record("execute community=" + p.Secrets["community"])
	return f.execute(ctx, p)
}
func (f *fakeRemediator) Verify(ctx context.Context, p plugins.Plan) (plugins.Verification, error) {
	f.record("verify community=" + p.Secrets["community"])
	return f.verify(ctx, p)
}

// echoPlan answers a request with a well-formed plan for it.
func echoPlan(_ context.Context, r plugins.Request) (plugins.Plan, error) {
	return plugins.Plan{Action: r.Action, Device: r.Device, Ticket: r.Ticket, Params: r.Params,
		Steps: []string{"set ifAdminStatus.5 down", "set ifAdminStatus.5 up"}, Risk: plugins.RiskLow}, nil
}

func newFake(name string) *fakeRemediator {
	return &fakeRemediator{
		info: plugins.Info{Name: name, Kind: plugins.KindRemediator, Version: "1.2.3", APIVersions: []int{1}, ConfigSchema: []byte(`{"type":"object"}`)},
		actions: []plugins.ActionSpec{{Name: "bounce", Categories: []string{"link"}, Description: "bounce a port",
			Params: []plugins.ParamSpec{{Name: "if_index", Description: "ifIndex", Required: true}}}},
		plan: echoPlan,
		execute: func(context.Context, plugins.Plan) (plugins.Result, error) {
			return plugins.Result{OK: true, Output: "done", Evidence: []string{"ifAdminStatus.5 = up"}}, nil
		},
		verify: func(context.Context, plugins.Plan) (plugins.Verification, error) {
			return plugins.Verification{OK: true, Evidence: []string{"ifOperStatus.5 = up"}}, nil
		},
	}
}

var testReq = plugins.Request{
	Action:  "bounce",
	Device:  plugins.Device{Name: "acme-acc-1", Address: "127.0.0.1:1161", CredentialRef: "acme-v2c", Vendor: "Cisco", Serial: "FCW1"},
	Ticket:  plugins.Ticket{ID: "T-42", Title: "link down", Category: "link", Severity: "major", Rule: "if_down"},
	Params:  map[string]string{"if_index": "5", "port_role": "access"},
	Secrets: plugins.Secrets{"community": "private-rw"},
}

func TestGRPCRemediatorRoundTrip(t *testing.T) {
	fake := newFake("fake")
	client, server := goplugin.TestPluginGRPCConn(t, false, plugins.PluginSet(fake))
	defer client.Close()
	defer server.Stop()
	raw, err := client.Dispense("nocagent")
	if err != nil {
		t.Fatal(err)
	}
	rem := raw.(*plugins.GRPCClient).Remediator()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	info, err := rem.Info(ctx)
	if err != nil || !reflect.DeepEqual(info, fake.info) {
		t.Errorf("Info = %+v, %v; want %+v", info, err, fake.info)
	}
	if err := rem.Configure(ctx, []byte(`{"wait":"1s"}`)); err != nil || string(fake.config) != `{"wait":"1s"}` {
		t.Errorf("Configure: err %v, plugin got %q", err, fake.config)
	}
	acts, err := rem.Actions(ctx)
	if err != nil || !reflect.DeepEqual(acts, fake.actions) {
		t.Errorf("Actions = %+v, %v", acts, err)
	}
	plan, err := rem.Plan(ctx, testReq)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := echoPlan(ctx, testReq)
	if !reflect.DeepEqual(plan, want) {
		t.Errorf("Plan = %+v, want %+v", plan, want)
	}
	if plan.Secrets != nil {
		t.Error("the plan came back with secrets: they must travel only host to plugin")
	}
	plan.Secrets = testReq.Secrets
	res, err := rem.Execute(ctx, plan)
	if err != nil || !res.OK || res.Output != "done" || res.Evidence[0] != "ifAdminStatus.5 = up" {
		t.Errorf("Execute = %+v, %v", res, err)
	}
	v, err := rem.Verify(ctx, plan)
	if err != nil || !v.OK || v.Evidence[0] != "ifOperStatus.5 = up" {
		t.Errorf("Verify = %+v, %v", v, err)
	}
	wantCalls := []string{"plan community=private-rw", "execute community=private-rw", "verify community=private-rw"}
	if !reflect.DeepEqual(fake.calls, wantCalls) {
		t.Errorf("plugin saw %q, want %q", fake.calls, wantCalls)
	}
}

func TestGRPCErrorsCrossTheBoundary(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantIs  error
		wantMsg string
	}{
		{"refused", fmt.Errorf("%w: ifIndex 1 is an uplink", plugins.ErrRefused), plugins.ErrRefused, "refused: ifIndex 1 is an uplink"},
		{"invalid", fmt.Errorf("%w: if_index missing", plugins.ErrInvalid), plugins.ErrInvalid, "invalid request: if_index missing"},
		{"ordinary", errors.New("snmp get 127.0.0.1: timeout"), nil, "snmp get 127.0.0.1: timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake("fake")
			fake.plan = func(context.Context, plugins.Request) (plugins.Plan, error) { return plugins.Plan{}, tc.err }
			client, server := goplugin.TestPluginGRPCConn(t, false, plugins.PluginSet(fake))
			defer client.Close()
			defer server.Stop()
			raw, err := client.Dispense("nocagent")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = raw.(*plugins.GRPCClient).Remediator().Plan(ctx, testReq)
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error = %v, want one containing %q", err, tc.wantMsg)
			}
			for _, sentinel := range []error{plugins.ErrRefused, plugins.ErrInvalid} {
				if got := errors.Is(err, sentinel); got != (sentinel == tc.wantIs) {
					t.Errorf("errors.Is(%v, %v) = %v", err, sentinel, got)
				}
			}
		})
	}
}

// TestBuiltinIsolation: built-in plugins go through the same isolation as
// external ones.
func TestBuiltinIsolation(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	other := testReq.Device
	other.Name = "globex-sw-1"
	tests := []struct {
		name     string
		plan     func(ctx context.Context, req plugins.Request) (plugins.Plan, error)
		wantIs   []error
		wantNot  []error
		wantMsg  string
		wantDown bool
	}{
		{
			name: "refusal is an answer",
			plan: func(context.Context, plugins.Request) (plugins.Plan, error) {
				return plugins.Plan{}, fmt.Errorf("%w: uplink", plugins.ErrRefused)
			},
			wantIs: []error{plugins.ErrRefused}, wantNot: []error{plugins.ErrPluginFailed}, wantMsg: "plugin fake: Plan: refused: uplink",
		},
		{
			name: "panic", wantDown: true,
			plan:   func(context.Context, plugins.Request) (plugins.Plan, error) { panic("nil map") },
			wantIs: []error{plugins.ErrPluginFailed}, wantMsg: "plugin fake: Plan: crashed, plugin stopped for restart: panic: nil map",
		},
		{
			name: "hang", wantDown: true,
			plan: func(context.Context, plugins.Request) (plugins.Plan, error) {
				<-release // ignores its context, as a stuck plugin would
				return plugins.Plan{}, nil
			},
			wantIs: []error{plugins.ErrPluginFailed, context.DeadlineExceeded}, wantMsg: "plugin fake: Plan: no answer within",
		},
		{
			name: "plan for another device", wantDown: true,
			plan: func(ctx context.Context, r plugins.Request) (plugins.Plan, error) {
				p, err := echoPlan(ctx, r)
				p.Device = other
				return p, err
			},
			wantIs:  []error{plugins.ErrPluginFailed, plugins.ErrMalformed},
			wantMsg: "asked for device acme-acc-1 (127.0.0.1:1161), got a plan for globex-sw-1",
		},
		{
			name: "plan without steps", wantDown: true,
			plan: func(ctx context.Context, r plugins.Request) (plugins.Plan, error) {
				p, err := echoPlan(ctx, r)
				p.Steps = nil
				return p, err
			},
			wantIs: []error{plugins.ErrMalformed}, wantMsg: "Plan: 0 steps",
		},
		{
			name: "secret echoed in an error",
			plan: func(_ context.Context, r plugins.Request) (plugins.Plan, error) {
				return plugins.Plan{}, fmt.Errorf("login with %s failed", r.Secrets["community"])
			},
			wantNot: []error{plugins.ErrPluginFailed}, wantMsg: "plugin fake: Plan: login with [redacted] failed",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := newFake("fake")
			fake.plan = tc.plan
			clk := newClock()
			h, err := newHost(t, plugins.HostConfig{Builtins: []plugins.Base{fake}, Now: clk.Now,
				Configs: map[string][]byte{"fake": []byte(`{"x":1}`)}})
			if err != nil {
				t.Fatal(err)
			}
			fake.mu.Lock()
			config := fake.config
			fake.mu.Unlock()
			if string(config) != `{"x":1}` {
				t.Errorf("built-in configured with %q", config)
			}
			rem, err := h.Remediator("fake")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err = rem.Plan(ctx, testReq)
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error = %v, want one containing %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), "private-rw") {
				t.Errorf("secret in error %q", err)
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
			st := statusOf(t, h, "fake")
			if (st.Health == plugins.HealthDown) != tc.wantDown {
				t.Errorf("health = %s, want down=%v", st.Health, tc.wantDown)
			}
			if tc.wantDown {
				// Back after the backoff: Info and Configure again.
				fake.mu.Lock()
				fake.plan = echoPlan
				fake.mu.Unlock()
				clk.Advance(time.Second)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if _, err := rem.Plan(ctx, testReq); err != nil {
					t.Errorf("after restart: %v", err)
				}
				if st := statusOf(t, h, "fake"); st.Health != plugins.HealthOK || st.Restarts != 1 {
					t.Errorf("after restart status = %+v", st)
				}
			}
		})
	}
}

func TestHostRejectsBadBuiltins(t *testing.T) {
	noName := newFake("")
	badAPI := newFake("old")
	badAPI.info.APIVersions = []int{0}
	badKind := newFake("weird")
	badKind.info.Kind = "exporter"
	h, err := newHost(t, plugins.HostConfig{Builtins: []plugins.Base{newFake("dup"), newFake("dup"), noName, badAPI, badKind}})
	if err == nil {
		t.Fatal("NewHost accepted bad built-ins")
	}
	for _, want := range []string{
		"plugin dup (builtin) rejected: name already used by builtin",
		`Info: name "" must be`,
		"plugin old speaks API versions [0], this host speaks 1",
		`kind "exporter" is not one of`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if got := h.Names(plugins.KindRemediator); !reflect.DeepEqual(got, []string{"dup"}) {
		t.Errorf("loaded remediators = %v, want [dup]", got)
	}
	var rejected int
	for _, s := range h.List() {
		if s.Health == plugins.HealthRejected {
			rejected++
		}
	}
	if rejected != 4 {
		t.Errorf("List has %d rejected, want 4: %+v", rejected, h.List())
	}
}
