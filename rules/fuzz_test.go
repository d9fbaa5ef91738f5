package rules

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// evalAll runs every rule of rs over a reachable and an unreachable
// snapshot: whatever compiled must evaluate without a panic.
func evalAll(t *testing.T, rs *RuleSet) {
	t.Helper()
	e := NewEngine(rs, Options{})
	for _, reachable := range []bool{true, false} {
		e.Evaluate(t0, snapshot(reachable), target)
	}
}

// checkParsed: Parse returns a rule set or an error, never both or neither.
func checkParsed(t *testing.T, rs *RuleSet, err error) {
	t.Helper()
	switch {
	case err == nil && rs == nil:
		t.Fatal("Parse returned neither rules nor an error")
	case err != nil && rs != nil:
		t.Fatalf("Parse returned rules and an error: %v", err)
	case err != nil && err.Error() == "":
		t.Fatal("Parse returned an empty error")
	}
}

// FuzzParse feeds the rule file parser any bytes; it must answer with rules
// or an error, and rules it accepts must evaluate.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bad/*.yaml")
	seeds = append(seeds, "default.yaml", "testdata/mechanics.yaml")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("groups: []"))
	f.Add([]byte("groups:\n  - name: g\n    rules: [{name: r}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse("fuzz.yaml", data)
		checkParsed(t, rs, err)
		if err == nil {
			evalAll(t, rs)
		}
	})
}

// FuzzCondition feeds the expression compiler any condition, clear
// condition and summary template in a rule of every scope.
func FuzzCondition(f *testing.F) {
	f.Add("device", "not device.reachable", "", "{{.Device}} is unreachable")
	f.Add("interface", "iface.admin_status == 'up' && iface.oper_status in ['down', 'lowerLayerDown']", "", "{{.Instance}}")
	f.Add("cpu", "cpu.percent > 90", "cpu.percent < 80", "{{.Value}}")
	f.Add("interface", "iface.in_octets / 0 > 1", "", "{{with .Labels.ifAlias}}{{.}}{{end}}")
	f.Add("device", "len(device.name) > 1 ? 1 : 'x'", "", "{{.Device")
	f.Add("sensor", `sensor.value > 1e308 * 10 && sensor.name matches "("`, "", "{{template \"x\"}}")
	f.Fuzz(func(t *testing.T, scope, cond, clear, summary string) {
		r := map[string]any{"name": "r", "scope": scope, "condition": cond, "for": "0s",
			"severity": "major", "category": "link", "summary": summary}
		if clear != "" {
			r["clear"] = clear
		}
		data, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "g", "rules": []any{r}}}})
		if err != nil {
			t.Skip("not representable in YAML")
		}
		rs, err := Parse("fuzz.yaml", data)
		checkParsed(t, rs, err)
		if err == nil {
			evalAll(t, rs)
		}
	})
}
