package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/nocagent/nocagent/internal/testenv"
)

// The tests read the committed JSON files, not the Go definitions: what
// Grafana loads is what is checked. The structs below decode only what the
// checks need, independently of the generator's types.

type jsonRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type jsonVar struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Datasource *jsonRef        `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
}

type jsonTarget struct {
	RefID      string   `json:"refId"`
	Expr       string   `json:"expr"`
	Datasource *jsonRef `json:"datasource"`
	Instant    bool     `json:"instant"`
	Range      bool     `json:"range"`
	Format     string   `json:"format"`
}

type jsonPanel struct {
	ID         int      `json:"id"`
	Type       string   `json:"type"`
	Title      string   `json:"title"`
	Datasource *jsonRef `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit  string `json:"unit"`
			Links []struct {
				URL string `json:"url"`
			} `json:"links"`
			Thresholds struct {
				Mode  string `json:"mode"`
				Steps []struct {
					Color string   `json:"color"`
					Value *float64 `json:"value"`
				} `json:"steps"`
			} `json:"thresholds"`
		} `json:"defaults"`
		Overrides []struct {
			Properties []struct {
				ID    string          `json:"id"`
				Value json.RawMessage `json:"value"`
			} `json:"properties"`
		} `json:"overrides"`
	} `json:"fieldConfig"`
	Targets []jsonTarget `json:"targets"`
}

type jsonDashboard struct {
	file          string
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []jsonVar `json:"list"`
	} `json:"templating"`
	Panels []jsonPanel `json:"panels"`
}

// loadDashboards parses every JSON file in Dir.
func loadDashboards(t *testing.T) []jsonDashboard {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(Dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no dashboards in %s", Dir)
	}
	var out []jsonDashboard
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d jsonDashboard
		dec := json.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		d.file = p
		out = append(out, d)
	}
	return out
}

// panelQuery is one query of a dashboard: a panel target or the selector of
// a label_values() variable.
type panelQuery struct {
	where string // dashboard / panel / refId, for messages
	expr  string // as written in the JSON
	label string // for variables: the label whose values are listed
}

var labelValuesRE = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

func (v jsonVar) definitionQuery() (selector, label string, err error) {
	var q struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(v.Query, &q); err != nil {
		return "", "", fmt.Errorf("variable %s: query: %w", v.Name, err)
	}
	if q.Query != v.Definition {
		return "", "", fmt.Errorf("variable %s: query %q differs from definition %q", v.Name, q.Query, v.Definition)
	}
	m := labelValuesRE.FindStringSubmatch(q.Query)
	if m == nil {
		return "", "", fmt.Errorf("variable %s: query %q is not label_values(selector, label)", v.Name, q.Query)
	}
	return m[1], m[2], nil
}

// queries lists every query of a dashboard.
func (d jsonDashboard) queries(t *testing.T) []panelQuery {
	t.Helper()
	var out []panelQuery
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		sel, label, err := v.definitionQuery()
		if err != nil {
			t.Fatalf("%s: %v", d.file, err)
		}
		out = append(out, panelQuery{where: d.UID + " / variable " + v.Name, expr: sel, label: label})
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, panelQuery{where: fmt.Sprintf("%s / %s / %s", d.UID, p.Title, tg.RefID), expr: tg.Expr})
		}
	}
	return out
}

// Grafana's built-in interval variables and the values the tests give them.
var builtins = map[string]string{"__rate_interval": "1m", "__interval": "1m", "__range": "5m"}

var varRE = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)`)

// substitute replaces Grafana variables the way Grafana does with "All"
// selected: user variables match everything, interval variables become
// durations. It returns the variables it met.
func substitute(expr string) (string, []string) {
	var used []string
	out := varRE.ReplaceAllStringFunc(expr, func(m string) string {
		sub := varRE.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		if v, ok := builtins[name]; ok {
			return v
		}
		used = append(used, name)
		return ".*"
	})
	return out, used
}

// parseQuery substitutes and parses expr with the PromQL parser, returning
// the metric names it selects.
func parseQuery(expr string) (names []string, vars []string, err error) {
	s, vars := substitute(expr)
	if strings.Contains(s, "$") {
		return nil, nil, fmt.Errorf("unsubstituted variable in %q", s)
	}
	e, err := parser.NewParser(parser.Options{}).ParseExpr(s)
	if err != nil {
		return nil, nil, fmt.Errorf("parse %q: %w", s, err)
	}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == "__name__" {
				name = m.Value
			}
		}
		names = append(names, name)
		return nil
	})
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("%q selects no metric", s)
	}
	return names, vars, nil
}

// TestGeneratedUpToDate regenerates the dashboards in memory and compares
// them with the committed files, so an edit of defs.go without
// `go generate ./dashboards` (or a hand edit of the JSON) fails.
func TestGeneratedUpToDate(t *testing.T) {
	want, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join(Dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	onDisk := map[string]bool{}
	for _, p := range paths {
		name := filepath.Base(p)
		onDisk[name] = true
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[name]
		switch {
		case !ok:
			t.Errorf("%s is not generated by any dashboard: run go generate ./dashboards", p)
		case !bytes.Equal(got, w):
			t.Errorf("%s differs from the generated dashboard: run go generate ./dashboards", p)
		}
	}
	for name := range want {
		if !onDisk[name] {
			t.Errorf("%s/%s is missing: run go generate ./dashboards", Dir, name)
		}
	}
}

// TestDashboardModel checks the Grafana model of every file: schema, stable
// uids, the datasource variable on every panel and target, units,
// thresholds and a grid without overlaps.
func TestDashboardModel(t *testing.T) {
	uidRE := regexp.MustCompile(`^nocagent-[a-z0-9-]+$`)
	wantRef := jsonRef{Type: "prometheus", UID: "${" + DatasourceVar + "}"}
	seenUID := map[string]string{}
	for _, d := range loadDashboards(t) {
		t.Run(d.UID, func(t *testing.T) {
			if !uidRE.MatchString(d.UID) || len(d.UID) > 40 {
				t.Errorf("uid %q: want nocagent-..., at most 40 characters (Grafana's limit)", d.UID)
			}
			if other, dup := seenUID[d.UID]; dup {
				t.Errorf("uid %q also used by %s", d.UID, other)
			}
			seenUID[d.UID] = d.file
			if filepath.Base(d.file) != d.UID+".json" {
				t.Errorf("file %s does not carry the uid %s", d.file, d.UID)
			}
			if d.SchemaVersion < 39 {
				t.Errorf("schemaVersion %d, want >= 39", d.SchemaVersion)
			}
			if d.Title == "" {
				t.Error("no title")
			}
			vars := d.Templating.List
			if len(vars) == 0 || vars[0].Type != "datasource" || vars[0].Name != DatasourceVar || string(vars[0].Query) != `"prometheus"` {
				t.Fatalf("first variable must be the datasource variable %q of type prometheus, got %+v", DatasourceVar, vars)
			}
			for _, v := range vars[1:] {
				if v.Type != "query" {
					t.Errorf("variable %s: type %q, want query", v.Name, v.Type)
				}
				if v.Datasource == nil || *v.Datasource != wantRef {
					t.Errorf("variable %s: datasource %+v, want %+v", v.Name, v.Datasource, wantRef)
				}
				if v.IncludeAll && v.AllValue != ".*" {
					t.Errorf("variable %s: All must be .* so that =~ matches everything, got %q", v.Name, v.AllValue)
				}
			}
			if len(d.Panels) == 0 {
				t.Fatal("no panels")
			}
			ids := map[int]bool{}
			type cell struct{ x, y int }
			taken := map[cell]string{}
			for _, p := range d.Panels {
				if ids[p.ID] {
					t.Errorf("panel id %d used twice", p.ID)
				}
				ids[p.ID] = true
				if p.Title == "" || p.Type == "" || p.Type == "row" {
					t.Errorf("panel %d: title %q type %q: every panel needs a title and a data visualisation", p.ID, p.Title, p.Type)
				}
				if p.Datasource == nil || *p.Datasource != wantRef {
					t.Errorf("panel %q: datasource %+v, want %+v", p.Title, p.Datasource, wantRef)
				}
				if !slices.Contains(Units, p.FieldConfig.Defaults.Unit) {
					t.Errorf("panel %q: unit %q, want one of %v", p.Title, p.FieldConfig.Defaults.Unit, Units)
				}
				for _, o := range p.FieldConfig.Overrides {
					for _, prop := range o.Properties {
						var u string
						if prop.ID == "unit" && (json.Unmarshal(prop.Value, &u) != nil || !slices.Contains(Units, u)) {
							t.Errorf("panel %q: override unit %s, want one of %v", p.Title, prop.Value, Units)
						}
					}
				}
				th := p.FieldConfig.Defaults.Thresholds
				if th.Mode != "absolute" || len(th.Steps) == 0 || th.Steps[0].Value != nil {
					t.Errorf("panel %q: thresholds %+v: want absolute steps starting at null", p.Title, th)
				}
				for i := 1; i < len(th.Steps); i++ {
					if th.Steps[i].Value == nil || (i > 1 && *th.Steps[i].Value <= *th.Steps[i-1].Value) {
						t.Errorf("panel %q: threshold steps not increasing: %+v", p.Title, th.Steps)
					}
				}
				if len(p.Targets) == 0 {
					t.Errorf("panel %q has no query", p.Title)
				}
				refs := map[string]bool{}
				for _, tg := range p.Targets {
					if refs[tg.RefID] || tg.RefID == "" {
						t.Errorf("panel %q: refId %q empty or repeated", p.Title, tg.RefID)
					}
					refs[tg.RefID] = true
					if tg.Datasource == nil || *tg.Datasource != wantRef {
						t.Errorf("panel %q %s: datasource %+v, want %+v", p.Title, tg.RefID, tg.Datasource, wantRef)
					}
					if tg.Instant == tg.Range {
						t.Errorf("panel %q %s: exactly one of instant and range must be set", p.Title, tg.RefID)
					}
				}
				g := p.GridPos
				if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
					t.Errorf("panel %q: gridPos %+v outside the 24-column grid", p.Title, g)
				}
				for x := g.X; x < g.X+g.W; x++ {
					for y := g.Y; y < g.Y+g.H; y++ {
						if other, ok := taken[cell{x, y}]; ok {
							t.Errorf("panel %q overlaps %q at (%d,%d)", p.Title, other, x, y)
						}
						taken[cell{x, y}] = p.Title
					}
				}
			}
		})
	}
	// Data links open other dashboards by uid: each must exist.
	linkRE := regexp.MustCompile(`^/d/([a-z0-9-]+)/\?`)
	for _, d := range loadDashboards(t) {
		for _, p := range d.Panels {
			for _, l := range p.FieldConfig.Defaults.Links {
				m := linkRE.FindStringSubmatch(l.URL)
				if m == nil {
					t.Errorf("%s / %s: link %q is not /d/<uid>/?...", d.UID, p.Title, l.URL)
				} else if _, ok := seenUID[m[1]]; !ok {
					t.Errorf("%s / %s: link %q opens unknown dashboard %s", d.UID, p.Title, l.URL, m[1])
				}
			}
		}
	}
	if len(seenUID) < 5 {
		t.Errorf("%d dashboards, want at least overview, device, interfaces, agent health, tickets", len(seenUID))
	}
}

// TestQueriesParse parses every panel query and variable selector with the
// PromQL parser after substituting Grafana's variables, and checks that
// every variable a query uses is defined before it (Grafana resolves them in
// order).
func TestQueriesParse(t *testing.T) {
	for _, d := range loadDashboards(t) {
		defined := map[string]int{}
		for i, v := range d.Templating.List {
			defined[v.Name] = i
		}
		varIndex := map[string]int{}
		for _, q := range d.queries(t) {
			_, vars, err := parseQuery(q.expr)
			if err != nil {
				t.Errorf("%s: %v", q.where, err)
				continue
			}
			self := -1
			if name, ok := strings.CutPrefix(q.where, d.UID+" / variable "); ok {
				self = defined[name]
				varIndex[name] = self
			}
			for _, v := range vars {
				i, ok := defined[v]
				switch {
				case !ok:
					t.Errorf("%s: uses undefined variable $%s", q.where, v)
				case self >= 0 && i >= self:
					t.Errorf("%s: uses $%s, defined after it", q.where, v)
				case v == DatasourceVar:
					t.Errorf("%s: the datasource variable belongs in datasource refs, not in PromQL", q.where)
				}
			}
		}
	}
}

// TestSubstitute pins the variable substitution the other tests rely on.
func TestSubstitute(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`rate(x{device=~"$device"}[$__rate_interval])`, `rate(x{device=~".*"}[1m])`},
		{`avg_over_time(x{a=~"${customer}",b=~"${site:regex}"}[$__range])`, `avg_over_time(x{a=~".*",b=~".*"}[5m])`},
		{`x[$__interval]`, `x[1m]`},
	} {
		if got, _ := substitute(tc.in); got != tc.want {
			t.Errorf("substitute(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if _, _, err := parseQuery(`sum(rate(x[$__rate_interval])`); err == nil {
		t.Error("an unbalanced query parsed")
	}
	names, _, err := parseQuery(`sum(a{x=~"$x"}) / on () group_left count({__name__="b"})`)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	if !slices.Equal(names, []string{"a", "b"}) {
		t.Errorf("names = %v, want [a b]", names)
	}
}

// TestExampleScrapeConfig checks examples/prometheus.yml with promtool.
func TestExampleScrapeConfig(t *testing.T) {
	promtool := testenv.Command(t, "promtool", "prometheus")
	out, err := exec.Command(promtool, "check", "config", exampleScrapeConfig).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config %s: %v\n%s", exampleScrapeConfig, err, out)
	}
}

// TestProvisioning decodes the provisioning files and checks that they
// point at what exists: the datasource uid the dashboards default to, and a
// file provider for the dashboards.
func TestProvisioning(t *testing.T) {
	var ds struct {
		APIVersion int `yaml:"apiVersion"`
		// Every key Grafana reads that the file uses, so that a misspelt
		// key fails here instead of being ignored by Grafana.
		Datasources []struct {
			Name, UID, Type, Access, URL string
			IsDefault                    bool           `yaml:"isDefault"`
			Editable                     bool           `yaml:"editable"`
			JSONData                     map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	readYAML(t, filepath.Join("provisioning", "datasources", "nocagent.yaml"), &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("datasources: %+v", ds)
	}
	if got := ds.Datasources[0]; got.UID != ProvisionedDatasourceUID || got.Name != ProvisionedDatasourceName ||
		got.Type != "prometheus" || got.Access != "proxy" || !strings.HasPrefix(got.URL, "http") || got.JSONData["timeInterval"] == nil {
		t.Errorf("datasource %+v: want uid %s, name %s, type prometheus, access proxy, an http URL and timeInterval",
			got, ProvisionedDatasourceUID, ProvisionedDatasourceName)
	}

	var db struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name, Type, Folder    string
			OrgID                 int    `yaml:"orgId"`
			FolderUID             string `yaml:"folderUid"`
			DisableDeletion       bool   `yaml:"disableDeletion"`
			AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
			UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
			Options               struct {
				Path                      string `yaml:"path"`
				FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, filepath.Join("provisioning", "dashboards", "nocagent.yaml"), &db)
	if db.APIVersion != 1 || len(db.Providers) != 1 {
		t.Fatalf("providers: %+v", db)
	}
	if p := db.Providers[0]; p.Type != "file" || p.Name == "" || p.Folder == "" || !filepath.IsAbs(p.Options.Path) {
		t.Errorf("provider %+v: want a named file provider with a folder and an absolute path", p)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
