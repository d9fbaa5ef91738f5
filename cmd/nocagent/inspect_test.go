package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/internal/testenv"
	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/sqlite"
)

// inspectFixture writes a config for the simulated demo network (customers
// acme, contract ACME-2026-001, and globex) and returns its path, the data
// dir and the acme devices' serials.
func inspectFixture(t *testing.T) (cfgPath, dataDir string, serials map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sim := snmpsim.New(snmpsim.Options{})
	t.Cleanup(func() { _ = sim.Close() })
	devs, err := sim.AddDemoNetwork(ctx, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.InjectFault("acme-fw-1", snmpsim.Fault{Kind: snmpsim.FaultCPU, Percent: 97}); err != nil {
		t.Fatal(err)
	}
	where := map[string]snmpsim.DemoDevice{}
	for _, d := range snmpsim.DemoNetwork() {
		where[d.Name] = d
	}
	dir := t.TempDir()
	dataDir = filepath.Join(dir, "data")
	var b strings.Builder
	fmt.Fprintf(&b, "agent:\n  data_dir: %s\n  poll_timeout: 1s\n  retries: 1\n", dataDir)
	b.WriteString("credentials:\n  - {name: demo, version: \"2c\", community: public}\n")
	b.WriteString("customers:\n  - id: acme\n    name: ACME Manufacturing\n    contract: ACME-2026-001\n    contacts: [{name: Alice, email: alice@acme.example}]\n")
	b.WriteString("  - {id: globex, name: Globex Retail, contract: GLX-2026-007}\n")
	b.WriteString("sites:\n  - {id: acme-hq, customer: acme}\n  - {id: globex-branch, customer: globex}\n")
	b.WriteString("devices:\n")
	serials = map[string]string{}
	for _, d := range devs {
		w := where[d.Name]
		fmt.Fprintf(&b, "  - {name: %s, address: \"%s:%d\", credential: demo, customer: %s, site: %s, role: %s}\n", d.Name, d.Address, d.Port, w.Customer, w.Site, w.Role)
		if w.Customer == "acme" {
			serials[d.Name] = d.Serial
		}
	}
	cfgPath = filepath.Join(dir, "nocagent.yaml")
	if err := os.WriteFile(cfgPath, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, dataDir, serials
}

func runCmd(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	return cmd.ExecuteContext(ctx)
}

func TestInspectAndReportCommands(t *testing.T) {
	cfgPath, dataDir, serials := inspectFixture(t)

	// The ticket store the agent would have written: two acme tickets in
	// March 2026 (one P1) and a globex one.
	ctx := context.Background()
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(dataDir, "nocagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	svc, err := ticketing.New(store, ticketing.Options{Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []ticketing.Signal{
		{Fingerprint: "down:acme-acc-2", Category: "availability", Priority: "P1", Device: ticketing.DeviceContext{Name: "acme-acc-2", Customer: "acme", Contract: "ACME-2026-001"}},
		{Fingerprint: "cpu:acme-fw-1", Category: "performance", Priority: "P3", Device: ticketing.DeviceContext{Name: "acme-fw-1", Customer: "acme", Contract: "ACME-2026-001"}},
		{Fingerprint: "down:globex-fw-1", Category: "availability", Priority: "P1", Device: ticketing.DeviceContext{Name: "globex-fw-1", Customer: "globex", Contract: "GLX-2026-007"}},
	} {
		s.Firing, s.Rule, s.Summary = true, "r", s.Fingerprint
		if _, _, err := svc.Ingest(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(45 * time.Minute)
	if _, _, err := svc.Ingest(ctx, ticketing.Signal{Fingerprint: "down:acme-acc-2", Category: "availability", Device: ticketing.DeviceContext{Name: "acme-acc-2", Customer: "acme", Contract: "ACME-2026-001"}}); err != nil {
		t.Fatal(err)
	}
	now = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	want, err := svc.KPIs(ctx, ticketing.System, ticketing.KPIFilter{Customer: "acme", Contract: "ACME-2026-001", From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: now})
	if err != nil {
		t.Fatal(err)
	}
	store.Close()

	t.Run("inspect", func(t *testing.T) {
		var out bytes.Buffer
		html := filepath.Join(t.TempDir(), "inspection.html")
		if err := runCmd(t, newInspectCmd(&out), "--config", cfgPath, "--contract", "ACME-2026-001", "--out", html); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		text := out.String()
		if !regexp.MustCompile(`inspection ACME-2026-001-\d{8}T\d{6}Z: 7 devices, 0 critical, 1 major`).MatchString(text) ||
			!strings.Contains(text, "[major] CPU load high") || strings.Contains(text, "globex") {
			t.Errorf("inspect printed:\n%s", text)
		}
		page, err := os.ReadFile(html)
		if err != nil {
			t.Fatal(err)
		}
		for name, serial := range serials {
			if !strings.Contains(text, name) || !regexp.MustCompile(`data-device="`+name+`">.*?<td class="serial">`+serial+`</td>`).Match(page) {
				t.Errorf("device %s (serial %s) missing from the output or the report", name, serial)
			}
		}
		if !strings.Contains(string(page), "CPU load high") {
			t.Error("report lacks the firewall's CPU finding")
		}
		archived := regexp.MustCompile(`report: (\S+)`).FindStringSubmatch(text)
		if archived == nil || archived[1] != html {
			t.Errorf("report path line: %q", archived)
		}
	})

	t.Run("report", func(t *testing.T) {
		var out bytes.Buffer
		if err := runCmd(t, newReportCmd(&out), "--config", cfgPath, "--contract", "ACME-2026-001", "--month", "2026-03", "--lang", "zh-CN"); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		m := regexp.MustCompile(`report: (\S+)`).FindStringSubmatch(out.String())
		if m == nil || !strings.HasPrefix(m[1], filepath.Join(dataDir, "reports", "ACME-2026-001")) {
			t.Fatalf("report printed %q, want the archive path", out.String())
		}
		page, err := os.ReadFile(m[1])
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, kv := range regexp.MustCompile(`data-kpi="([a-z_]+)" data-value="([^"]*)"`).FindAllStringSubmatch(string(page), -1) {
			got[kv[1]] = kv[2]
		}
		if want.Tickets != 2 || got["tickets"] != "2" || got["major_faults"] != strconv.Itoa(want.MajorFaults) ||
			got["mttr_seconds"] != fmt.Sprint(want.MTTRSeconds) || got["mtta_seconds"] != fmt.Sprint(want.MTTASeconds) {
			t.Errorf("KPIs in the report %v, want those of the store %+v", got, want)
		}
		for name, serial := range serials {
			if !strings.Contains(string(page), serial) {
				t.Errorf("service report lacks %s's serial %s", name, serial)
			}
		}
		if !strings.Contains(string(page), "月度服务报告") || !strings.Contains(string(page), "down:acme-acc-2") || strings.Contains(string(page), "globex-fw-1") {
			t.Error("report is not the Chinese acme report with its P1 fault")
		}
	})

	t.Run("pdf", func(t *testing.T) {
		testenv.Command(t, "chromium", "chromium")
		pdf := filepath.Join(t.TempDir(), "march.pdf")
		if err := runCmd(t, newReportCmd(io.Discard), "--config", cfgPath, "--contract", "ACME-2026-001", "--month", "2026-03", "--out", pdf); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(pdf); err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Fatalf("no PDF at %s: %v", pdf, err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tt := range []struct {
			cmd  *cobra.Command
			args []string
			want string
		}{
			{newInspectCmd(io.Discard), []string{"--config", cfgPath, "--contract", "NOPE"}, `no contract "NOPE"`},
			{newInspectCmd(io.Discard), []string{"--config", cfgPath, "--contract", "ACME-2026-001", "--lang", "fr"}, `--lang "fr"`},
			{newReportCmd(io.Discard), []string{"--config", cfgPath, "--contract", "ACME-2026-001", "--month", "March"}, `--month "March"`},
			{newReportCmd(io.Discard), []string{"--config", cfgPath, "--contract", "ACME-2026-001"}, `"month" not set`},
		} {
			err := runCmd(t, tt.cmd, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
			}
		}
	})
}
