package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGHUP reloads the configuration: a broken file is refused and the
// running configuration stays (the process lives on, the metric says 0);
// a good one is put in force without a restart.
func TestSIGHUPReload(t *testing.T) {
	bin := buildNocagent(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "nocagent.yaml")
	base := oneDeviceConfig(dataDir)
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(base)
	p := startNocagent(t, bin, cfg, dataDir)
	devices := func() int {
		var devs []struct{ Name string }
		p.getJSON(t, "/api/v1/devices", &devs)
		return len(devs)
	}
	metric := func(name string) string {
		_, body := p.get(t, "/metrics", "")
		for _, l := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(l, name+" ") {
				return strings.TrimPrefix(l, name+" ")
			}
		}
		return ""
	}
	hup := func() {
		t.Helper()
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	if got := metric("nocagent_config_last_reload_successful"); got != "1" {
		t.Fatalf("reload metric at start = %q, want 1", got)
	}

	write(base + "  - {name: sw2, address: \"127.0.0.1:9\", credential: nope, role: access}\n")
	hup()
	waitUntil(t, 10*time.Second, "the refused reload to be reported", func() bool {
		return metric("nocagent_config_last_reload_successful") == "0"
	})
	if n := devices(); n != 1 {
		t.Errorf("after a refused reload: %d devices, want the running 1", n)
	}
	if !strings.Contains(p.log.tail(4000), "configuration reload refused") {
		t.Errorf("the refusal is not logged:\n%s", p.log.tail(2000))
	}

	write(base + "  - {name: sw2, address: \"127.0.0.1:10\", credential: lab, customer: acme, role: access}\n")
	hup()
	waitUntil(t, 10*time.Second, "the second device after a good reload", func() bool { return devices() == 2 })
	if got := metric("nocagent_config_last_reload_successful"); got != "1" {
		t.Errorf("reload metric after a good reload = %q, want 1", got)
	}
	if code, _ := p.get(t, "/healthz", ""); code != http.StatusOK {
		t.Errorf("healthz after reloads: %d", code)
	}
	p.stop(t)
}
