package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/plugins/snmpbounce"
)

func runPluginsCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, stderr bytes.Buffer
	cmd := newPluginsCmd(&out)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

func TestPluginsList(t *testing.T) {
	out, err := runPluginsCmd(t, "list")
	if err != nil {
		t.Fatalf("plugins list: %v\n%s", err, out)
	}
	want := regexp.MustCompile(`(?m)^NAME +KIND +VERSION +HEALTH +SOURCE +ERROR\ndevice-health +inspector +1\.0\.0 +ok +builtin *\njira +ticket_sink +1\.0\.0 +ok +builtin *\nsnmp-bounce +remediator +1\.0\.0 +ok +builtin *\nssh-command +remediator +1\.0\.0 +ok +builtin *$`)
	if !want.MatchString(out) {
		t.Errorf("output:\n%s", out)
	}

	// A directory holding something that is not a plugin: listed as
	// rejected with the reason, exit code 2.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cleanup.sh"), []byte("#!/bin/sh\necho cleaning\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err = runPluginsCmd(t, "list", "--dir", dir, "--json")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("error = %v, want exit code 2", err)
	}
	var st []plugins.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(st) != 5 || st[0].Name != "cleanup.sh" || st[0].Health != plugins.HealthRejected ||
		!strings.Contains(st[0].Error, "Unrecognized remote plugin message: cleaning") || st[3].Name != snmpbounce.Name {
		t.Errorf("list = %+v", st)
	}
}

func TestPluginServeUnknown(t *testing.T) {
	cmd := newPluginServeCmd()
	cmd.SetArgs([]string{"serve", "teleport"})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), `no built-in plugin "teleport" (have device-health, jira, snmp-bounce, ssh-command)`) {
		t.Errorf("error = %v", err)
	}
}

// TestPluginServeHelper is not a test: it is the body of the plugin
// process TestPluginServeOutOfProcess starts (this test binary, re-run).
func TestPluginServeHelper(t *testing.T) {
	name := os.Getenv("NOCAGENT_TEST_PLUGIN_SERVE")
	if name == "" {
		t.Skip("runs only as the plugin process of TestPluginServeOutOfProcess")
	}
	cmd := newPluginServeCmd()
	cmd.SetArgs([]string{"serve", name})
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestPluginServeOutOfProcess: `nocagent plugin serve snmp-bounce` is a
// working external plugin for the host.
func TestPluginServeOutOfProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\nexec %q -test.run '^TestPluginServeHelper$'\n", exe)
	if err := os.WriteFile(filepath.Join(dir, "nocagent-snmp-bounce"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := plugins.NewHost(ctx, plugins.HostConfig{Dir: dir, Env: []string{"NOCAGENT_TEST_PLUGIN_SERVE=" + snmpbounce.Name}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	st := h.List()
	if len(st) != 1 || st[0].Name != snmpbounce.Name || st[0].Kind != plugins.KindRemediator || st[0].Health != plugins.HealthOK {
		t.Fatalf("List = %+v", st)
	}
	rem, err := h.Remediator(snmpbounce.Name)
	if err != nil {
		t.Fatal(err)
	}
	acts, err := rem.Actions(ctx)
	if err != nil || len(acts) != 1 || acts[0].Name != snmpbounce.Action {
		t.Errorf("Actions = %+v, %v", acts, err)
	}
	_, err = rem.Plan(ctx, plugins.Request{Action: snmpbounce.Action, Device: plugins.Device{Name: "sw", Address: "127.0.0.1:9"},
		Params: map[string]string{"if_index": "1", "port_role": "uplink"}})
	if !errors.Is(err, plugins.ErrRefused) || !strings.Contains(err.Error(), "plugin snmp-bounce: Plan: refused: device sw ifIndex 1 is a uplink port") {
		t.Errorf("Plan error = %v", err)
	}
}
