package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runRules(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newRulesCmd(&out)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.Execute()
	return out.String(), err
}

func TestRulesCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(`groups:
  - name: mine
    rules:
      - name: cpu_core
        scope: cpu
        condition: "cpu.percent > threshold"
        clear: "cpu.percent < threshold - 10"
        threshold: 80
        severity: major
        category: performance
        overrides:
          - match: {device: noisy1}
            threshold: 95
`), 0o600)
	dup := filepath.Join(dir, "dup.yaml")
	os.WriteFile(dup, []byte("groups:\n  - name: x\n    rules:\n      - name: cpu_high\n        scope: cpu\n        condition: \"cpu.percent > 1\"\n        severity: minor\n        category: performance\n"), 0o600)

	tests := []struct {
		name  string
		args  []string
		fail  bool
		wants []string
	}{
		{"good", []string{"check", good}, false, []string{"good.yaml: ok (1 rules in 1 groups, 0 maintenance windows)"}},
		{"clear and unknown metric", []string{"check", "../../rules/testdata/bad/bad_clear.yaml"}, true, []string{
			"bad_clear.yaml:7: rule \"same\": clear: identical to the condition",
			"bad_clear.yaml:14: rule \"above\": clear: cpu.percent < 95 clears above the fire threshold of cpu.percent > 90",
			"bad_clear.yaml:21: rule \"never\": clear: memory.percent < 10 and memory.percent > 20 can never both be true",
			"bad_clear.yaml:36: rule \"unknown_metric\": condition: iface has no field in_errors_rate",
		}},
		{"clashes with the default pack", []string{"check", good, dup}, true, []string{
			"good.yaml: ok", `dup.yaml:4: rule "cpu_high": already defined at default.yaml:`,
		}},
		{"missing file", []string{"check", filepath.Join(dir, "nope.yaml")}, true, []string{"no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runRules(t, tt.args...)
			var ee *exitError
			if tt.fail != (err != nil) || (err != nil && (!errors.As(err, &ee) || ee.code != 1)) {
				t.Fatalf("err = %v, want failure %v with exit 1\n%s", err, tt.fail, out)
			}
			for _, w := range tt.wants {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestRulesTest(t *testing.T) {
	out, err := runRules(t, "test", "../../rules/default_test.yaml")
	if err != nil {
		t.Fatalf("default pack tests: %v\n%s", err, out)
	}
	if strings.Contains(out, "FAIL") || strings.Count(out, "PASS ") < 10 {
		t.Errorf("default pack tests:\n%s", out)
	}

	out, err = runRules(t, "test", "../../rules/testdata/ruletest/failing.yaml")
	if err == nil || err.Error() != "1 tests failed" {
		t.Fatalf("failing file: err %v\n%s", err, out)
	}
	for _, w := range []string{
		"FAIL ../../rules/testdata/ruletest/failing.yaml: wrong expectations",
		`  at 1m0s: rule cpu_high device sw1 instance "cpu0": expected firing, is not`,
		`  at 3m0s: rule cpu_high device sw1 instance "cpu0": severity major, want critical`,
		"PASS ../../rules/testdata/ruletest/failing.yaml: right expectations",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}

	out, err = runRules(t, "test", "../../rules/testdata/ruletest/malformed.yaml")
	if err == nil || !strings.Contains(out, `malformed.yaml:3: test "unknown field in a series": device sw1: series "cpu[cpu0].percnt": unknown field "percnt"`) {
		t.Errorf("malformed file: err %v\n%s", err, out)
	}
}
