package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkConfigBase is a valid configuration; each case below breaks one
// thing that inventory validation alone cannot see.
const checkConfigBase = `agent:
  listen: 127.0.0.1:0
  data_dir: ./data
credentials:
  - name: lab
    version: 2c
    community: public
customers:
  - id: acme
    name: ACME
    contract: C-1
devices:
  - name: sw1
    address: 127.0.0.1:16100
    credential: lab
    customer: acme
    role: access
`

func TestCheckConfigSeesWhatRunLoads(t *testing.T) {
	cases := []struct {
		name  string
		extra string            // appended to checkConfigBase
		files map[string]string // written beside the config
		want  string            // in check-config's output
	}{
		{"missing secret file", "notifiers:\n  - name: hook\n    kind: webhook\n    url: https://itsm.example.com/h\n    secret_file: ./nope.secret\n",
			nil, "notifier hook: webhook secret"},
		{"broken service file", "service_file: service.yaml\n",
			map[string]string{"service.yaml": "sla:\n  P1: [oops\n"}, "service file"},
		{"unknown service setting", "service_file: service.yaml\n",
			map[string]string{"service.yaml": "no_such_setting: 1\n"}, "no_such_setting"},
		{"broken rule file", "rules: [mine.yaml]\n",
			map[string]string{"mine.yaml": "rules:\n  - name: x\n    when: 'cpu.percent >'\n"}, "mine.yaml"},
		{"duplicate device", "  - name: sw1-again\n    address: 127.0.0.1:16100\n    credential: lab\n    role: access\n",
			nil, `also device "sw1"`},
		{"broken vendor profile", "", map[string]string{"profiles/x.yaml": "name: [x\n"}, "vendor profiles"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfgText := checkConfigBase + tc.extra
			if _, ok := tc.files["profiles/x.yaml"]; ok {
				cfgText = strings.Replace(cfgText, "  data_dir: ./data\n", "  data_dir: ./data\n  profiles_dir: profiles\n", 1)
			}
			for name, body := range tc.files {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, "nocagent.yaml")
			if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
				t.Fatal(err)
			}
			out, _, code := runCLI(t, "check-config", path)
			if code != 1 || !strings.Contains(out, tc.want) {
				t.Fatalf("check-config: exit %d, want 1 and %q in:\n%s", code, tc.want, out)
			}
			jsonOut, _, code := runCLI(t, "check-config", "--json", path)
			var rep struct {
				OK       bool
				Problems []struct{ Message string }
			}
			if err := json.Unmarshal([]byte(jsonOut), &rep); err != nil || code != 1 || rep.OK || len(rep.Problems) == 0 {
				t.Fatalf("check-config --json: exit %d, err %v:\n%s", code, err, jsonOut)
			}
			// What check-config refuses, run refuses too.
			if _, _, code := runCLI(t, "run", "--config", path); code == 0 {
				t.Errorf("run accepted a configuration check-config refused")
			}
		})
	}
}

func TestCheckConfigOKIsJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nocagent.yaml")
	os.WriteFile(path, []byte(checkConfigBase), 0o600)
	out, _, code := runCLI(t, "check-config", "--json", path)
	var rep struct {
		OK      bool
		Devices int
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || !rep.OK || rep.Devices != 1 {
		t.Fatalf("exit %d, err %v:\n%s", code, err, out)
	}
}
