package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Dir is where the rendered dashboards live, relative to this package.
const Dir = "json"

// FileName is the file a dashboard is rendered to: its uid, so the file and
// Grafana's URL name the same thing.
func FileName(d Dashboard) string { return d.UID + ".json" }

// Render returns every dashboard as indented Grafana JSON, keyed by file
// name. The output is deterministic: the same definitions give the same
// bytes.
func Render() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, d := range All() {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		// PromQL and Grafana's ${...} are easier to review without \u003c.
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("render dashboard %s: %w", d.UID, err)
		}
		name := FileName(d)
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("render dashboard %s: uid used twice", d.UID)
		}
		out[name] = b.Bytes()
	}
	return out, nil
}
