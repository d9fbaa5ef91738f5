package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// duration reads an optional duration like 2m; null or absent is 0.
func (p *parser) duration(m map[string]*yaml.Node, key, what string) time.Duration {
	v, ok := m[key]
	if !ok || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
		return 0
	}
	if v.Kind != yaml.ScalarNode {
		p.errorf(v, nil, "%s: %s: want a duration like 2m, got %s", what, key, kindName(v))
		return 0
	}
	d, err := time.ParseDuration(v.Value)
	switch {
	case err != nil:
		p.errorf(v, err, "%s: %s: %v", what, key, err)
	case d < 0:
		p.errorf(v, nil, "%s: %s: %q is negative", what, key, v.Value)
	}
	return d
}

// missingData reads "hold", "resolve", "fire" or "fire after 10m".
func (p *parser) missingData(v *yaml.Node, what string) MissingData {
	bad := func() MissingData {
		p.errorf(v, nil, "%s: missing_data: want hold, resolve, fire or \"fire after DURATION\", got %s", what, kindName(v))
		return MissingData{}
	}
	if v.Kind != yaml.ScalarNode {
		return bad()
	}
	f := strings.Fields(v.Value)
	switch {
	case len(f) == 1 && (f[0] == MissingHold || f[0] == MissingResolve || f[0] == MissingFire):
		return MissingData{Policy: f[0]}
	case len(f) == 3 && f[0] == MissingFire && f[1] == "after":
		d, err := time.ParseDuration(f[2])
		if err != nil || d < 0 {
			return bad()
		}
		return MissingData{Policy: MissingFire, After: d}
	}
	return bad()
}

// flapping reads "off" (or false) or a mapping of changes, window, quiet;
// a field left out takes DefaultFlapping's value.
func (p *parser) flapping(v *yaml.Node, what string) *Flapping {
	what += ": flapping"
	if v.Kind == yaml.ScalarNode && (v.Value == "off" || v.Value == "false") {
		return &Flapping{Disabled: true}
	}
	if v.Kind != yaml.MappingNode {
		p.errorf(v, nil, "%s: want off or a mapping of changes, window, quiet, got %s", what, kindName(v))
		return nil
	}
	m := p.fields(v, what, "changes", "window", "quiet")
	f := DefaultFlapping
	if n, ok := m["changes"]; ok {
		if err := n.Decode(&f.Changes); err != nil || f.Changes < 1 {
			p.errorf(n, nil, "%s: changes: want a whole number of at least 1, got %s", what, kindName(n))
		}
	}
	if _, ok := m["window"]; ok {
		f.Window = p.duration(m, "window", what)
	}
	if _, ok := m["quiet"]; ok {
		f.Quiet = p.duration(m, "quiet", what)
	}
	if f.Window <= 0 {
		p.errorf(v, nil, "%s: window: must be positive", what)
	}
	return &f
}

var matchFields = []string{"role", "customer", "site", "device", "tag"}

func (p *parser) overrides(v *yaml.Node, what string) []Override {
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, nil, "%s: overrides: want a list, got %s", what, kindName(v))
		return nil
	}
	var out []Override
	for i, n := range v.Content {
		w := fmt.Sprintf("%s: overrides[%d]", what, i)
		m := p.fields(n, w, "match", "threshold", "for", "severity", "disabled")
		if m == nil {
			continue
		}
		o := Override{Source: p.source(n)}
		mn, ok := m["match"]
		if !ok {
			p.errorf(n, nil, "%s: missing field \"match\"", w)
			continue
		}
		mm := p.fields(mn, w+": match", matchFields...)
		if mm == nil {
			continue
		}
		o.Match = Match{
			Role: p.str(mm, "role", w), Customer: p.str(mm, "customer", w), Site: p.str(mm, "site", w),
			Device: p.str(mm, "device", w), Tag: p.str(mm, "tag", w),
		}
		if o.Match.empty() {
			p.errorf(mn, nil, "%s: match: name at least one of %s", w, strings.Join(matchFields, ", "))
		}
		if t, ok := m["threshold"]; ok {
			var f float64
			if err := t.Decode(&f); err != nil || t.Kind != yaml.ScalarNode {
				p.errorf(t, nil, "%s: threshold: want a number, got %s", w, kindName(t))
			}
			o.Threshold = &f
		}
		if _, ok := m["for"]; ok {
			d := p.duration(m, "for", w)
			o.For = &d
		}
		if s, ok := m["severity"]; ok {
			o.Severity = p.str(m, "severity", w)
			if !slices.Contains(severities, o.Severity) {
				p.errorf(s, nil, "%s: severity: %q is not one of %s", w, o.Severity, strings.Join(severities, ", "))
			}
		}
		if d, ok := m["disabled"]; ok {
			var b bool
			if err := d.Decode(&b); err != nil {
				p.errorf(d, nil, "%s: disabled: want true or false, got %s", w, kindName(d))
			}
			o.Disabled = &b
		}
		if o.Threshold == nil && o.For == nil && o.Severity == "" && o.Disabled == nil {
			p.errorf(n, nil, "%s: changes nothing: set threshold, for, severity or disabled", w)
		}
		out = append(out, o)
	}
	return out
}

var maintenanceFields = []string{"id", "reason", "start", "end", "schedule", "duration", "devices", "sites", "customers", "tags", "everything"}

func (p *parser) maintenance(v *yaml.Node) []Maintenance {
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, nil, "maintenance: want a list, got %s", kindName(v))
		return nil
	}
	var out []Maintenance
	ids := map[string]int{}
	for i, n := range v.Content {
		w := fmt.Sprintf("maintenance[%d]", i)
		m := p.fields(n, w, maintenanceFields...)
		if m == nil {
			continue
		}
		mw := Maintenance{ID: p.str(m, "id", w), Reason: p.str(m, "reason", w), Schedule: p.str(m, "schedule", w)}
		if mw.ID != "" {
			w = fmt.Sprintf("maintenance %q", mw.ID)
			if first, dup := ids[mw.ID]; dup {
				p.errorf(m["id"], nil, "%s: already defined at line %d", w, first)
			}
			ids[mw.ID] = n.Line
		}
		for _, k := range []struct {
			key string
			dst *time.Time
		}{{"start", &mw.Start}, {"end", &mw.End}} {
			if t, ok := m[k.key]; ok {
				if err := t.Decode(k.dst); err != nil {
					p.errorf(t, err, "%s: %s: want a time like 2025-03-01T22:00:00Z, got %s", w, k.key, kindName(t))
				}
			}
		}
		mw.Duration = p.duration(m, "duration", w)
		for _, k := range []struct {
			key string
			dst *[]string
		}{{"devices", &mw.Devices}, {"sites", &mw.Sites}, {"customers", &mw.Customers}, {"tags", &mw.Tags}} {
			if l, ok := m[k.key]; ok {
				if err := l.Decode(k.dst); err != nil || l.Kind != yaml.SequenceNode {
					p.errorf(l, nil, "%s: %s: want a list of names, got %s", w, k.key, kindName(l))
				}
			}
		}
		if b, ok := m["everything"]; ok {
			if err := b.Decode(&mw.Everything); err != nil {
				p.errorf(b, nil, "%s: everything: want true or false, got %s", w, kindName(b))
			}
		}
		if err := mw.compile(); err != nil {
			p.errorf(n, err, "%s", strings.ReplaceAll(err.Error(), "\n", "; "))
			continue
		}
		out = append(out, mw)
	}
	return out
}
