package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
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
	now := time.Now().UTC()
	out, errOut, code := runCLI(t, append([]string{"maintenance", "add", "chg-1", "--device", "acme-core-1",
		"--start", now.Add(-time.Minute).Format(time.RFC3339), "--end", now.Add(2 * time.Hour).Format(time.RFC3339), "--reason", "IOS upgrade"}, auth...)...)
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

// An on-site visit from the shell: a phoned-in ticket, the mode with an
// appointment, arrival and the service report.
func TestTicketsOnSiteCLI(t *testing.T) {
	api, tokens := startAgent(t)
	b, _ := os.ReadFile(tokens)
	var toks map[string]string
	json.Unmarshal(b, &toks)
	body := `{"customer":"acme","contact":"Alice Chen, +86 21 5555 0101","device":"acme-acc-3","symptom":"printers on floor 2 offline",` +
		`"channel":"phone","category":"hardware","priority":"P3"}`
	req, _ := http.NewRequest("POST", api+"/api/v1/tickets", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+toks["engineer"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tk struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&tk)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || tk.ID == "" {
		t.Fatalf("manual intake: %d", resp.StatusCode)
	}
	auth := []string{"--api", api, "--token-file", tokens, "--role", "engineer"}
	// The agent is a real process on the wall clock, and an appointment must
	// lie after the ticket opened: take tomorrow, in the customer's zone.
	appointment := time.Now().Add(24 * time.Hour).Truncate(time.Minute).In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)
	steps := [][]string{
		{"tickets", "mode", tk.ID, "--mode", "on_site", "--appointment", appointment},
		{"tickets", "arrive", tk.ID},
		{"tickets", "report", tk.ID, "--work", "replaced PSU", "--parts", "PWR-C1-350WAC", "--signed-by", "Alice Chen"},
	}
	for _, st := range steps {
		if out, errOut, code := runCLI(t, append(st, auth...)...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", st[:2], code, out, errOut)
		}
	}
	out, _, code := runCLI(t, append([]string{"tickets", "show", tk.ID, "--json"}, auth...)...)
	if code != 0 || !strings.Contains(out, `"on_site"`) || !strings.Contains(out, "PWR-C1-350WAC") || !strings.Contains(out, "in_progress") {
		t.Errorf("ticket after the visit:\n%s", out)
	}
	_, errOut, code := runCLI(t, append([]string{"tickets", "mode", tk.ID, "--mode", "on_site", "--appointment", "tomorrow"}, auth...)...)
	if code != 2 || !strings.Contains(errOut, "--appointment") {
		t.Errorf("bad appointment: exit %d %s", code, errOut)
	}
}
