package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/agent"
	"github.com/nocagent/nocagent/collector/snmpsim"
)

// startAgent runs the demo network and an agent on it for a CLI test.
func startAgent(t *testing.T) (api, tokens string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sim := snmpsim.New(snmpsim.Options{})
	devs, err := sim.AddDemoNetwork(ctx, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg, err := agent.DemoConfig(devs, "127.0.0.1:0", dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(ctx, cfg, agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		sim.Close()
	})
	deadline := time.Now().Add(5 * time.Second)
	for a.Addr() == "" {
		if time.Now().After(deadline) {
			t.Fatal("agent did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "http://" + a.Addr(), filepath.Join(dir, "tokens.json")
}

func TestMaintenanceCLI(t *testing.T) {
	api, tokens := startAgent(t)
	auth := []string{"--api", api, "--token-file", tokens, "--role", "admin"}
	out, errOut, code := runCLI(t, append([]string{"maintenance", "add", "chg-1", "--device", "acme-core-1",
		"--start", "2026-01-01T00:00:00Z", "--end", "2099-01-01T00:00:00Z", "--reason", "IOS upgrade"}, auth...)...)
	if code != 0 || !strings.Contains(out, "chg-1 set") || !strings.Contains(out, "active now: true") {
		t.Fatalf("add: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = runCLI(t, append([]string{"maintenance", "list"}, auth...)...)
	if code != 0 || !strings.Contains(out, "chg-1") || !strings.Contains(out, "devices acme-core-1") || !strings.Contains(out, "IOS upgrade") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	_, errOut, code = runCLI(t, append([]string{"maintenance", "add", "bad", "--start", "tomorrow"}, auth...)...)
	if code != 2 || !strings.Contains(errOut, "--start") {
		t.Errorf("bad time: exit %d: %s", code, errOut)
	}
	_, errOut, code = runCLI(t, append([]string{"maintenance", "add", "noscope"}, auth...)...)
	if code == 0 {
		t.Errorf("a window without times or schedule was accepted: %s", errOut)
	}
	out, _, code = runCLI(t, append([]string{"maintenance", "remove", "chg-1"}, auth...)...)
	if code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("remove: exit %d %s", code, out)
	}
	_, errOut, code = runCLI(t, append([]string{"maintenance", "remove", "chg-1"}, auth...)...)
	if code == 0 || !strings.Contains(errOut, "not found") {
		t.Errorf("second remove: exit %d %s", code, errOut)
	}
	// A customer may not silence alerts.
	_, errOut, code = runCLI(t, "maintenance", "list", "--api", api, "--token-file", tokens, "--role", "customer:acme")
	if code == 0 || !strings.Contains(errOut, "forbidden") {
		t.Errorf("customer: exit %d %s", code, errOut)
	}
}
