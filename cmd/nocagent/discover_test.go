package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/internal/testenv"
	"github.com/nocagent/nocagent/inventory"
)

// runDiscover runs the discover command as main would, without needing it
// registered on the root.
func runDiscover(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := newDiscoverCmd(&o, &e)
	cmd.SetArgs(args)
	cmd.SetOut(&o)
	cmd.SetErr(&e)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
		fmt.Fprintln(&e, "nocagent:", err)
	default:
		code = 1
		fmt.Fprintln(&e, "nocagent:", err)
	}
	return o.String(), e.String(), code
}

// discoverSims serves two recordings on one port of two loopback
// addresses.
func discoverSims(t *testing.T) int {
	t.Helper()
	dir := filepath.Join(testenv.LibreNMS(t), "snmpsim")
	for range 10 {
		sim := snmpsim.New(snmpsim.Options{})
		info, err := sim.AddRecording(context.Background(), filepath.Join(dir, "ios_2960x.snmprec"), "127.0.0.2:0")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sim.AddRecording(context.Background(), filepath.Join(dir, "fortigate_60fospfv3.snmprec"), fmt.Sprintf("127.0.0.3:%d", info.Port)); err == nil {
			t.Cleanup(func() { sim.Close() })
			return info.Port
		}
		sim.Close()
	}
	t.Fatal("no port free on both loopback addresses after 10 tries")
	return 0
}

const discoverConfig = `agent:
  listen: 127.0.0.1:9310
credentials:
  - name: lab
    version: 2c
    community: public
devices:
  - name: already-known
    address: 127.0.0.2:%d
    credential: lab
    role: core
`

func TestDiscoverCommand(t *testing.T) {
	port := discoverSims(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "nocagent.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, discoverConfig, port), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"127.0.0.0/29", "--credential", "lab", "--config", cfgPath, "--out", cfgPath, "--port", fmt.Sprint(port), "--timeout", "500ms"}

	out, errOut, code := runDiscover(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "] 6/6\n") || !strings.Contains(errOut, "\r[") {
		t.Errorf("no progress bar on stderr: %q", errOut)
	}
	for _, want := range []string{"cisco", "known", "fortinet", "FGT60FTK12345678", "firewall", "added private", "2 devices answered, 1 added"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	cfg, err := inventory.Load(cfgPath)
	if err != nil {
		t.Fatalf("merged config does not load: %v", err)
	}
	if len(cfg.Devices) != 2 || cfg.Devices[0].Name != "already-known" || cfg.Devices[1].Name != "private" ||
		cfg.Devices[1].Address != fmt.Sprintf("127.0.0.3:%d", port) || cfg.Devices[1].Role != "firewall" || cfg.Devices[1].Credential != "lab" {
		t.Errorf("devices after merge = %+v", cfg.Devices)
	}
	if st, _ := os.Stat(cfgPath); st.Mode().Perm() != 0o600 {
		t.Errorf("config mode = %v, want 0600 kept (it holds secrets)", st.Mode().Perm())
	}
	before, _ := os.ReadFile(cfgPath)
	// Twice adds nothing and leaves the file as it was.
	if out, errOut, code := runDiscover(t, append(args, "--no-progress")...); code != 0 || !strings.Contains(out, "0 added") || errOut != "" {
		t.Errorf("second run: exit %d\n%s%s", code, out, errOut)
	}
	if after, _ := os.ReadFile(cfgPath); !bytes.Equal(before, after) {
		t.Errorf("second run changed the file:\n%s", after)
	}

	// A new --out gets a devices-only list.
	frag := filepath.Join(dir, "found.yaml")
	if _, errOut, code := runDiscover(t, "127.0.0.3", "--credential", "lab", "--config", cfgPath, "--out", frag, "--port", fmt.Sprint(port), "--no-progress"); code != 0 {
		t.Fatalf("fragment: exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(frag); !strings.HasPrefix(string(b), "devices:\n  # discovered: fortinet, fortios, FGT_60F, serial FGT60FTK12345678, role guessed: firewall\n  - name: private\n") {
		t.Errorf("fragment:\n%s", b)
	}
	// The community never reaches the output.
	if strings.Contains(out+errOut, "public") {
		t.Errorf("output shows the community:\n%s%s", out, errOut)
	}
}

func TestDiscoverCommandRefuses(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "nocagent.yaml")
	os.WriteFile(cfgPath, fmt.Appendf(nil, discoverConfig, 161), 0o600)
	out := filepath.Join(dir, "out.yaml")
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"10.1.2.0/24", "--credential", "lab", "--config", cfgPath, "--out", out}, 2, "10.1.2.0/24 is not a loopback range (127.0.0.0/8 or ::1); scanning other networks needs --allow-non-loopback"},
		{[]string{"127.0.0.0/8", "--credential", "lab", "--config", cfgPath, "--out", out}, 2, "more than the limit of 65536 (a /16 of IPv4): split the range"},
		{[]string{"127.0.0.1", "--credential", "nope", "--config", cfgPath, "--out", out}, 2, `credential "nope" is not in`},
		{[]string{"127.0.0.1", "--credential", "lab", "--config", filepath.Join(dir, "missing.yaml"), "--out", out}, 2, "missing.yaml is not valid"},
		{[]string{"127.0.0.1", "--config", cfgPath, "--out", out}, 1, `required flag(s) "credential" not set`},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			_, errOut, code := runDiscover(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d with %q", code, errOut, tt.code, tt.msg)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused run wrote %s", out)
			}
		})
	}
}

func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	p := progressBar(&b)
	for i := 1; i <= 256; i++ {
		p(i, 256)
	}
	s := b.String()
	if !strings.HasSuffix(s, "\r["+strings.Repeat("=", 30)+"] 256/256\n") {
		t.Errorf("last frame: %q", s[max(0, len(s)-60):])
	}
	// Redrawn when the bar grows, not on every address.
	if n := strings.Count(s, "\r"); n > 31 || n < 30 {
		t.Errorf("%d frames for 256 addresses, want one per step of the bar", n)
	}
}
