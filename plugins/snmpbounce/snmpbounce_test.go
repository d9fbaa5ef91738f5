package snmpbounce_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/plugins/snmpbounce"
)

const testConfig = `{"down_wait":"100ms","verify_timeout":"700ms","verify_interval":"50ms","snmp_timeout":"500ms","snmp_retries":0}`

// setWatcher is a slog handler that tells the test when snmpsim applied an
// ifAdminStatus SET on a device.
type setWatcher struct {
	mu    sync.Mutex
	onSet map[string]func()
	sets  map[string]int
}

func (w *setWatcher) Enabled(context.Context, slog.Level) bool { return true }
func (w *setWatcher) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *setWatcher) WithGroup(string) slog.Handler            { return w }
func (w *setWatcher) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "snmpsim: ifAdminStatus set" {
		return nil
	}
	var dev string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "device" {
			dev = a.Value.String()
		}
		return true
	})
	w.mu.Lock()
	w.sets[dev]++
	f := w.onSet[dev]
	delete(w.onSet, dev)
	w.mu.Unlock()
	if f != nil {
		// snmpsim logs under its lock: act after it is released.
		go f()
	}
	return nil
}

func (w *setWatcher) setsOn(dev string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sets[dev]
}

// whenSet runs f once, after the next SET on dev.
func (w *setWatcher) whenSet(dev string, f func()) {
	w.mu.Lock()
	w.onSet[dev] = f
	w.mu.Unlock()
}

type env struct {
	sim     *snmpsim.Simulator
	watch   *setWatcher
	devices map[string]snmpsim.DeviceInfo
}

func newEnv(t *testing.T) *env {
	t.Helper()
	w := &setWatcher{onSet: map[string]func(){}, sets: map[string]int{}}
	sim := snmpsim.New(snmpsim.Options{Logger: slog.New(w)})
	t.Cleanup(func() { sim.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	infos, err := sim.AddDemoNetwork(ctx, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{sim: sim, watch: w, devices: map[string]snmpsim.DeviceInfo{}}
	for _, d := range infos {
		e.devices[d.Name] = d
	}
	return e
}

func (e *env) device(name string) plugins.Device {
	d := e.devices[name]
	return plugins.Device{Name: d.Name, Address: fmt.Sprintf("%s:%d", d.Address, d.Port), CredentialRef: "demo-rw", Serial: d.Serial}
}

// adminStatus reads ifAdminStatus.ifIndex as an independent manager would.
func (e *env) adminStatus(t *testing.T, name string, ifIndex int) int {
	t.Helper()
	d := e.devices[name]
	g := &gosnmp.GoSNMP{Target: d.Address, Port: uint16(d.Port), Community: snmpsim.DemoCommunity, Version: gosnmp.Version2c,
		Timeout: time.Second, Retries: 1, MaxOids: gosnmp.MaxOids}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	pkt, err := g.Get([]string{fmt.Sprintf(".1.3.6.1.2.1.2.2.1.7.%d", ifIndex)})
	if err != nil {
		t.Fatal(err)
	}
	return int(gosnmp.ToBigInt(pkt.Variables[0].Value).Int64())
}

func newBouncer(t *testing.T) *snmpbounce.Bouncer {
	t.Helper()
	b := snmpbounce.New(func() time.Time { return time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC) })
	if err := b.Configure(context.Background(), []byte(testConfig)); err != nil {
		t.Fatal(err)
	}
	return b
}

func request(dev plugins.Device, params map[string]string) plugins.Request {
	return plugins.Request{
		Action: snmpbounce.Action, Device: dev, Ticket: plugins.Ticket{ID: "T-1", Category: "link"},
		Params: params, Secrets: snmpbounce.Secrets(inventory.Credential{Version: "2c", Community: snmpsim.DemoCommunity}),
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestRefusesWithoutTouchingTheDevice: the param checks refuse before any
// SNMP; the address points nowhere, so a request that went out would time
// out instead.
func TestRefusesWithoutTouchingTheDevice(t *testing.T) {
	b := newBouncer(t)
	dev := plugins.Device{Name: "acme-acc-1", Address: "127.0.0.1:9"}
	tests := []struct {
		name    string
		action  string
		params  map[string]string
		wantIs  error
		wantMsg string
	}{
		{"unknown action", "reboot", map[string]string{"if_index": "3", "port_role": "access"}, plugins.ErrInvalid, `offers only "bounce-interface", not "reboot"`},
		{"no ifIndex", "", map[string]string{"port_role": "access"}, plugins.ErrInvalid, `if_index "" is not a positive integer`},
		{"bad ifIndex", "", map[string]string{"if_index": "-3", "port_role": "access"}, plugins.ErrInvalid, `if_index "-3"`},
		{"role unknown", "", map[string]string{"if_index": "3"}, plugins.ErrRefused, "port_role is not known"},
		{"uplink role", "", map[string]string{"if_index": "1", "port_role": "uplink"}, plugins.ErrRefused, "is a uplink port; only [access user]"},
		{"trunk role", "", map[string]string{"if_index": "1", "port_role": "Trunk"}, plugins.ErrRefused, "is a trunk port"},
		{"the uplink ifIndex", "", map[string]string{"if_index": "1", "port_role": "access", "uplink_if_index": "1"}, plugins.ErrRefused, "is the device's uplink"},
		{"neighbour", "", map[string]string{"if_index": "3", "port_role": "access", "neighbor": "acme-dist-1"}, plugins.ErrRefused, "has neighbour acme-dist-1"},
		{"protected", "", map[string]string{"if_index": "3", "port_role": "access", "protected": "TRUE"}, plugins.ErrRefused, "is marked protected"},
		{"protected alias", "", map[string]string{"if_index": "3", "port_role": "access", "alias": "CEO desk [NO-BOUNCE]"}, plugins.ErrRefused, `contains protected marker "no-bounce"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := request(dev, tc.params)
			if tc.action != "" {
				req.Action = tc.action
			}
			start := time.Now()
			_, err := b.Plan(ctxT(t, 5*time.Second), req)
			if !errors.Is(err, tc.wantIs) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Plan error = %v, want %v containing %q", err, tc.wantIs, tc.wantMsg)
			}
			if time.Since(start) > 200*time.Millisecond {
				t.Error("refusal took long enough to have gone to the network")
			}
			plan := plugins.Plan{Action: req.Action, Device: dev, Params: tc.params, Secrets: req.Secrets}
			if _, err := b.Execute(ctxT(t, 5*time.Second), plan); !errors.Is(err, tc.wantIs) {
				t.Errorf("Execute error = %v, want %v", err, tc.wantIs)
			}
		})
	}
}

func TestRefusesFromLiveState(t *testing.T) {
	e := newEnv(t)
	b := newBouncer(t)
	dev := e.device("acme-acc-1")
	tests := []struct {
		name    string
		params  map[string]string
		wantMsg string
	}{
		// The agent's data says access, the device's ifAlias says uplink.
		{"live alias", map[string]string{"if_index": "1", "port_role": "access"}, `live ifAlias "uplink to acme-dist-1" contains protected marker "uplink"`},
		{"port up", map[string]string{"if_index": "2", "port_role": "user"}, "ifIndex 2 (Gi1/0/2) is up: nothing to repair"},
		{"admin down", map[string]string{"if_index": "20", "port_role": "access"}, "is administratively down(2)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.Plan(ctxT(t, 5*time.Second), request(dev, tc.params))
			if !errors.Is(err, plugins.ErrRefused) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Plan error = %v, want ErrRefused containing %q", err, tc.wantMsg)
			}
		})
	}
	if n := e.watch.setsOn("acme-acc-1"); n != 0 {
		t.Errorf("%d SETs reached the device during refusals", n)
	}
	// An unknown ifIndex is an error, not a plan.
	_, err := b.Plan(ctxT(t, 5*time.Second), request(dev, map[string]string{"if_index": "99", "port_role": "access"}))
	if err == nil || !strings.Contains(err.Error(), "ifIndex 99 does not exist") {
		t.Errorf("unknown ifIndex: error = %v", err)
	}
}

// TestBounceDoesNotClearACableFault: snmpsim's link-down fault is a cable
// fault: the bounce runs (two SETs, port admin up afterwards) but Verify
// reports the port still down.
func TestBounceDoesNotClearACableFault(t *testing.T) {
	e := newEnv(t)
	if err := e.sim.InjectFault("acme-acc-1", snmpsim.Fault{Kind: snmpsim.FaultLinkDown, IfIndex: 3}); err != nil {
		t.Fatal(err)
	}
	b := newBouncer(t)
	req := request(e.device("acme-acc-1"), map[string]string{"if_index": "3", "port_role": "user"})
	plan, err := b.Plan(ctxT(t, 5*time.Second), req)
	if err != nil {
		t.Fatal(err)
	}
	wantSteps := []string{
		"check acme-acc-1 (" + req.Device.Address + ") ifIndex 3 (Gi1/0/3) is still admin up / oper down (now admin up(1), oper down(2))",
		"SNMP SET IF-MIB::ifAdminStatus.3 = down(2) on acme-acc-1 (" + req.Device.Address + ")",
		"wait 100ms",
		"SNMP SET IF-MIB::ifAdminStatus.3 = up(1) on acme-acc-1 (" + req.Device.Address + ")",
		"verify: read IF-MIB::ifOperStatus.3 until up(1), at most 700ms",
	}
	if fmt.Sprint(plan.Steps) != fmt.Sprint(wantSteps) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(plan.Steps, "\n"), strings.Join(wantSteps, "\n"))
	}
	if err := plugins.CheckPlan(req, plan); err != nil {
		t.Errorf("plan breaks the contract: %v", err)
	}
	if n := e.watch.setsOn("acme-acc-1"); n != 0 {
		t.Fatalf("Plan wrote to the device (%d SETs): it must be a dry run", n)
	}

	plan.Secrets = req.Secrets
	res, err := b.Execute(ctxT(t, 5*time.Second), plan)
	if err != nil || !res.OK {
		t.Fatalf("Execute = %+v, %v", res, err)
	}
	wantEv := []string{
		"2025-03-01T10:00:00Z before: ifIndex 3 (Gi1/0/3) admin up(1), oper down(2)",
		"2025-03-01T10:00:00Z SET ifAdminStatus.3 = down(2): ok",
		"2025-03-01T10:00:00Z SET ifAdminStatus.3 = up(1): ok",
	}
	if fmt.Sprint(res.Evidence) != fmt.Sprint(wantEv) {
		t.Errorf("evidence = %q, want %q", res.Evidence, wantEv)
	}
	if n := e.watch.setsOn("acme-acc-1"); n != 2 {
		t.Errorf("device saw %d SETs, want 2", n)
	}
	if got := e.adminStatus(t, "acme-acc-1", 3); got != 1 {
		t.Errorf("ifAdminStatus.3 after the bounce = %d, want up(1)", got)
	}
	v, err := b.Verify(ctxT(t, 5*time.Second), plan)
	if err != nil || v.OK {
		t.Fatalf("Verify = %+v, %v; want not OK: the cable is still cut", v, err)
	}
	if last := v.Evidence[len(v.Evidence)-1]; last != "port not up within 700ms" {
		t.Errorf("last evidence = %q", last)
	}
	if len(v.Evidence) > 7 {
		t.Errorf("verify evidence not summarised: %d lines", len(v.Evidence))
	}
}

// TestBounceRepairsStuckPort runs the whole path through the host: the
// port is stuck down until shut (emulated by clearing the fault when the
// device applies the first SET), the bounce brings it back and Verify
// sees it up.
func TestBounceRepairsStuckPort(t *testing.T) {
	e := newEnv(t)
	if err := e.sim.InjectFault("acme-acc-2", snmpsim.Fault{Kind: snmpsim.FaultLinkDown, IfIndex: 4}); err != nil {
		t.Fatal(err)
	}
	e.watch.whenSet("acme-acc-2", func() { _ = e.sim.ClearFaults("acme-acc-2") })

	h, err := plugins.NewHost(ctxT(t, 10*time.Second), plugins.HostConfig{
		Builtins: []plugins.Base{snmpbounce.New(nil)},
		Configs:  map[string][]byte{snmpbounce.Name: []byte(testConfig)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	rem, err := h.Remediator(snmpbounce.Name)
	if err != nil {
		t.Fatal(err)
	}
	acts, err := rem.Actions(ctxT(t, time.Second))
	if err != nil || len(acts) != 1 || acts[0].Name != snmpbounce.Action || fmt.Sprint(acts[0].Categories) != "[link]" {
		t.Fatalf("Actions = %+v, %v", acts, err)
	}
	req := request(e.device("acme-acc-2"), map[string]string{"if_index": "4", "port_role": "user", "alias": "user: desk-04"})
	plan, err := rem.Plan(ctxT(t, 5*time.Second), req)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Params["if_name"] != "Gi1/0/4" || plan.Risk != plugins.RiskLow {
		t.Errorf("plan params %v risk %s", plan.Params, plan.Risk)
	}
	plan.Secrets = req.Secrets
	if res, err := rem.Execute(ctxT(t, 5*time.Second), plan); err != nil || !res.OK {
		t.Fatalf("Execute = %+v, %v", res, err)
	}
	v, err := rem.Verify(ctxT(t, 5*time.Second), plan)
	if err != nil || !v.OK {
		t.Fatalf("Verify = %+v, %v; want the port up", v, err)
	}
	if last := v.Evidence[len(v.Evidence)-1]; !strings.HasSuffix(last, "ifIndex 4 (Gi1/0/4) admin up(1), oper up(1)") {
		t.Errorf("verify evidence = %q", v.Evidence)
	}
}

func TestExecuteRechecksThePort(t *testing.T) {
	e := newEnv(t)
	if err := e.sim.InjectFault("acme-acc-3", snmpsim.Fault{Kind: snmpsim.FaultLinkDown, IfIndex: 5}); err != nil {
		t.Fatal(err)
	}
	b := newBouncer(t)
	req := request(e.device("acme-acc-3"), map[string]string{"if_index": "5", "port_role": "access"})
	plan, err := b.Plan(ctxT(t, 5*time.Second), req)
	if err != nil {
		t.Fatal(err)
	}
	// The port comes back on its own before the approval arrives.
	if err := e.sim.ClearFaults("acme-acc-3"); err != nil {
		t.Fatal(err)
	}
	plan.Secrets = req.Secrets
	_, err = b.Execute(ctxT(t, 5*time.Second), plan)
	if !errors.Is(err, plugins.ErrRefused) || !strings.Contains(err.Error(), "is up: nothing to repair") {
		t.Errorf("Execute error = %v, want a refusal: the port is up", err)
	}
	if n := e.watch.setsOn("acme-acc-3"); n != 0 {
		t.Errorf("device saw %d SETs", n)
	}
}

func TestWrongCredentialKeepsSecret(t *testing.T) {
	e := newEnv(t)
	b := newBouncer(t)
	req := request(e.device("acme-acc-1"), map[string]string{"if_index": "3", "port_role": "access"})
	req.Secrets = plugins.Secrets{"version": "2c", "community": "wrong-community-xyz"}
	start := time.Now()
	_, err := b.Plan(ctxT(t, 5*time.Second), req)
	if err == nil {
		t.Fatal("Plan with a wrong community succeeded")
	}
	if strings.Contains(err.Error(), "wrong-community-xyz") || !strings.Contains(err.Error(), "device acme-acc-1: snmp get ifIndex 3") {
		t.Errorf("error = %q", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %s with a 500ms timeout and no retries", took)
	}
	req.Secrets = plugins.Secrets{"version": "3", "username": "u", "auth_key": "authkey-secret", "auth_protocol": "ROT13"}
	_, err = b.Plan(ctxT(t, 5*time.Second), req)
	if !errors.Is(err, plugins.ErrInvalid) || !strings.Contains(err.Error(), `unknown auth_protocol "ROT13"`) || strings.Contains(err.Error(), "authkey-secret") {
		t.Errorf("bad v3 credential: error = %v", err)
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		cfg     string
		wantErr string
	}{
		{``, ""},
		{`{"down_wait":"5s","allowed_roles":["access"]}`, ""},
		{`{"down_wait":5}`, "want a duration string"},
		{`{"verify_interval":"0s"}`, "verify_interval and snmp_timeout must be > 0"},
		{`{"bogus":true}`, `unknown field "bogus"`},
	}
	for _, tc := range tests {
		err := snmpbounce.New(nil).Configure(context.Background(), []byte(tc.cfg))
		if (tc.wantErr == "") != (err == nil) || err != nil && (!strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, plugins.ErrInvalid)) {
			t.Errorf("Configure(%s) = %v, want %q", tc.cfg, err, tc.wantErr)
		}
	}
}

// TestServedOverGRPC: the built-in runs out of process through the same
// adapters (what `nocagent plugin serve snmp-bounce` does).
func TestServedOverGRPC(t *testing.T) {
	client, server := goplugin.TestPluginGRPCConn(t, false, plugins.PluginSet(newBouncer(t)))
	defer client.Close()
	defer server.Stop()
	raw, err := client.Dispense("nocagent")
	if err != nil {
		t.Fatal(err)
	}
	rem := raw.(*plugins.GRPCClient).Remediator()
	info, err := rem.Info(ctxT(t, time.Second))
	if err != nil || info.Name != snmpbounce.Name || info.Kind != plugins.KindRemediator {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	_, err = rem.Plan(ctxT(t, time.Second), request(plugins.Device{Name: "x", Address: "127.0.0.1:9"}, map[string]string{"if_index": "1", "port_role": "uplink"}))
	if !errors.Is(err, plugins.ErrRefused) {
		t.Errorf("refusal over gRPC: %v", err)
	}
}
