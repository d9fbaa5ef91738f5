package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/internal/testenv"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = run(ctx, args, &o, &e)
	return o.String(), e.String(), code
}

func TestCheckConfig(t *testing.T) {
	// The example names secret files under /etc/nocagent and an influx
	// token in the environment: a user provides them, and so does this test.
	example, err := os.ReadFile("../../examples/nocagent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"itsm.secret", "smtp.pass", "wecom.url"} {
		body := "s3cret-for-the-test\n"
		if f == "wecom.url" {
			body = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=test\n"
		}
		os.WriteFile(filepath.Join(dir, f), []byte(body), 0o600)
	}
	service, _ := os.ReadFile("../../examples/service.yaml")
	os.WriteFile(filepath.Join(dir, "service.yaml"), service, 0o600)
	cfgPath := filepath.Join(dir, "nocagent.yaml")
	os.WriteFile(cfgPath, []byte(strings.ReplaceAll(string(example), "/etc/nocagent/", dir+"/")), 0o600)
	t.Setenv("NOCAGENT_INFLUX_TOKEN", "token-for-the-test")
	out, _, code := runCLI(t, "check-config", cfgPath)
	if code != 0 || !strings.Contains(out, ": ok (") {
		t.Fatalf("example config: exit %d\n%s", code, out)
	}
	// As shipped, the missing secret files are named, every one.
	out, _, _ = runCLI(t, "check-config", "../../examples/nocagent.yaml")
	for _, want := range []string{"itsm.secret", "smtp.pass", "wecom.url"} {
		if !strings.Contains(out, want) {
			t.Errorf("check-config of the shipped example does not name %s:\n%s", want, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("agent:\n  listen: 127.0.0.1:9310\n  bogus: 1\ndevices:\n  - name: sw1\n    address: 127.0.0.1\n    credential: nope\n    role: access\n"), 0o600)
	out, errOut, code := runCLI(t, "check-config", bad)
	if code != 1 {
		t.Fatalf("bad config: exit %d, want 1", code)
	}
	for _, want := range []string{"bad.yaml:3:3: agent.bogus", "bad.yaml:7:5: devices[0].credential"} {
		if !strings.Contains(out, want) {
			t.Errorf("check-config output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "is not valid") {
		t.Errorf("stderr = %q", errOut)
	}
	// run refuses to start on the same file.
	if _, _, code := runCLI(t, "run", "--config", bad); code != 2 {
		t.Errorf("run on a bad config: exit %d, want 2", code)
	}
}

// librenmsJSON is the part of a LibreNMS expected-result JSON this test reads.
type librenmsJSON struct {
	OS struct {
		Discovery struct {
			Devices []struct {
				SysObjectID string `json:"sysObjectID"`
			} `json:"devices"`
		} `json:"discovery"`
	} `json:"os"`
}

// TestPollRecordings serves every real-device recording with snmpsim and
// polls it with `nocagent poll --json`: each must answer, decode without
// error and report the sysObjectID LibreNMS saw.
func TestPollRecordings(t *testing.T) {
	dir := testenv.LibreNMS(t)
	files, err := filepath.Glob(filepath.Join(dir, "snmpsim", "*.snmprec"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings in %s: %v", dir, err)
	}
	sim := snmpsim.New(snmpsim.Options{})
	defer sim.Close()
	var rows []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".snmprec")
		if strings.Contains(name, "@") {
			continue // VLAN context of another recording
		}
		t.Run(name, func(t *testing.T) {
			info, err := sim.AddRecording(context.Background(), f, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			out, errOut, code := runCLI(t, "poll", fmt.Sprintf("%s:%d", info.Address, info.Port), "--community", info.Community, "--json")
			if code != 0 {
				t.Fatalf("poll exit %d: %s\n%s", code, errOut, out)
			}
			var s collector.Snapshot
			if err := json.Unmarshal([]byte(out), &s); err != nil {
				t.Fatalf("poll --json output: %v", err)
			}
			if !s.Reachable || len(s.Errors) > 0 {
				t.Errorf("reachable=%v errors=%q", s.Reachable, s.Errors)
			}
			var o librenmsJSON
			if b, err := os.ReadFile(filepath.Join(dir, "data", name+".json")); err == nil && json.Unmarshal(b, &o) == nil && len(o.OS.Discovery.Devices) == 1 {
				if want := strings.TrimPrefix(o.OS.Discovery.Devices[0].SysObjectID, "."); s.System.ObjectID != want {
					t.Errorf("sysObjectID = %q, LibreNMS saw %q", s.System.ObjectID, want)
				}
			}
			rows = append(rows, fmt.Sprintf("%-30s %-10s %-6s if=%-4d ent=%-4d cpu=%d mem=%d sens=%-3d nbr=%-3d pdus=%-4d serial=%s", name, s.Vendor, s.OS,
				len(s.Interfaces), len(s.Entities), len(s.CPU), len(s.Memory), len(s.Sensors), len(s.Neighbors), s.PDUs, s.Serial))
		})
	}
	sort.Strings(rows)
	t.Logf("%d recordings polled:\n%s", len(rows), strings.Join(rows, "\n"))
}
