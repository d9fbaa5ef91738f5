package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oneDeviceConfig is a configuration with data_dir dataDir whose one
// device never answers (nothing listens on its port), for tests about the
// agent's state and configuration rather than polls.
func oneDeviceConfig(dataDir string) string {
	return fmt.Sprintf(`agent:
  listen: 127.0.0.1:0
  data_dir: %q
credentials:
  - {name: lab, version: 2c, community: public}
customers:
  - {id: acme, name: ACME, contract: C-1}
devices:
  - {name: sw1, address: "127.0.0.1:9", credential: lab, customer: acme, role: access}
`, dataDir)
}

// A maintenance window made through the API is stored before the API
// answers 201: SIGKILL right after does not lose it, and after the restart
// it is listed and in force.
func TestKillKeepsMaintenanceWindow(t *testing.T) {
	bin := buildNocagent(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "nocagent.yaml")
	os.WriteFile(cfg, []byte(oneDeviceConfig(dataDir)), 0o600)

	p := startNocagent(t, bin, cfg, dataDir)
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	window := fmt.Sprintf(`{"id":"chg-42","reason":"core upgrade","start":%q,"end":%q,"devices":["sw1"]}`,
		start.Format(time.RFC3339), start.Add(24*time.Hour).Format(time.RFC3339))
	req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/api/v1/maintenance", strings.NewReader(window))
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST maintenance: %d", resp.StatusCode)
	}
	p.kill(t)

	p = startNocagent(t, bin, cfg, dataDir)
	var got []struct {
		ID      string   `json:"id"`
		Reason  string   `json:"reason"`
		Devices []string `json:"devices"`
		Active  bool     `json:"active"`
	}
	p.getJSON(t, "/api/v1/maintenance", &got)
	if len(got) != 1 || got[0].ID != "chg-42" || got[0].Reason != "core upgrade" || !got[0].Active ||
		strings.Join(got[0].Devices, ",") != "sw1" {
		b, _ := json.Marshal(got)
		t.Fatalf("after SIGKILL and restart: %s", b)
	}
	// Deleted, it stays deleted across the next restart.
	req, _ = http.NewRequest(http.MethodDelete, "http://"+p.addr+"/api/v1/maintenance/chg-42", nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	if resp, err = apiClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	resp.Body.Close()
	p.stop(t)
	p = startNocagent(t, bin, cfg, dataDir)
	got = nil
	p.getJSON(t, "/api/v1/maintenance", &got)
	if len(got) != 0 {
		t.Fatalf("deleted window came back: %+v", got)
	}
}
