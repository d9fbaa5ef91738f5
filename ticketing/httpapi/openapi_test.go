package httpapi

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/nocagent/nocagent/ticketing"
	"gopkg.in/yaml.v3"
)

// openapiDoc is the part of an OpenAPI 3.0 document the tests check.
type openapiDoc struct {
	OpenAPI    string                          `yaml:"openapi"`
	Security   []map[string][]string           `yaml:"security"`
	Paths      map[string]map[string]openapiOp `yaml:"paths"`
	Components struct {
		SecuritySchemes map[string]struct {
			Type   string `yaml:"type"`
			Scheme string `yaml:"scheme"`
		} `yaml:"securitySchemes"`
		Schemas map[string]openapiSchema `yaml:"schemas"`
	} `yaml:"components"`
}

type openapiOp struct {
	OperationID string                 `yaml:"operationId"`
	Security    *[]map[string][]string `yaml:"security"`
	Parameters  []struct {
		Name   string        `yaml:"name"`
		In     string        `yaml:"in"`
		Schema openapiSchema `yaml:"schema"`
	} `yaml:"parameters"`
	Responses map[string]any `yaml:"responses"`
}

type openapiSchema struct {
	Enum       []string                 `yaml:"enum"`
	Properties map[string]openapiSchema `yaml:"properties"`
}

func loadOpenAPI(t *testing.T) openapiDoc {
	t.Helper()
	var d openapiDoc
	if err := yaml.Unmarshal(OpenAPI, &d); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return d
}

// TestOpenAPICoversRoutes fails when New serves a route the document does
// not describe, or the document describes one New does not serve.
func TestOpenAPICoversRoutes(t *testing.T) {
	d := loadOpenAPI(t)
	if !strings.HasPrefix(d.OpenAPI, "3.0.") {
		t.Errorf("openapi = %q, want 3.0.x", d.OpenAPI)
	}
	if bs := d.Components.SecuritySchemes["bearerAuth"]; bs.Type != "http" || bs.Scheme != "bearer" {
		t.Errorf("bearerAuth = %+v", bs)
	}
	if len(d.Security) != 1 || d.Security[0]["bearerAuth"] == nil {
		t.Errorf("global security = %v, want bearerAuth", d.Security)
	}
	if _, ok := d.Components.Schemas["Error"].Properties["error"]; !ok {
		t.Errorf("no Error schema with an error object")
	}
	patterns := Patterns()
	if len(patterns) < 13 {
		t.Fatalf("Patterns() = %v: too few", patterns)
	}
	served := map[string]bool{}
	for p, authed := range patterns {
		method, path, _ := strings.Cut(p, " ")
		m := strings.ToLower(method)
		served[m+" "+path] = true
		op, ok := d.Paths[path][m]
		if !ok {
			t.Errorf("%s is served but missing from openapi.yaml", p)
			continue
		}
		if op.OperationID == "" || len(op.Responses) == 0 {
			t.Errorf("%s: no operationId or responses", p)
		}
		hasSuccess := false
		for code := range op.Responses {
			hasSuccess = hasSuccess || strings.HasPrefix(code, "2")
		}
		if !hasSuccess {
			t.Errorf("%s: no 2xx response", p)
		}
		public := op.Security != nil && len(*op.Security) == 0
		if authed == public {
			t.Errorf("%s: needs a token = %v, but the document's security says public = %v", p, authed, public)
		}
		if _, ok := op.Responses["401"]; authed && !ok {
			t.Errorf("%s needs a token but documents no 401", p)
		}
		for _, seg := range strings.Split(path, "/") {
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				name = strings.TrimSuffix(name, "}")
				if !pathParam(d, path, m, name) {
					t.Errorf("%s: path parameter %s is not documented", p, name)
				}
			}
		}
	}
	for path, ops := range d.Paths {
		for m := range ops {
			if !served[m+" "+path] {
				t.Errorf("openapi.yaml documents %s %s, which New does not serve", strings.ToUpper(m), path)
			}
		}
	}
}

// pathParam reports whether the operation declares the path parameter
// name, inline or as a $ref to components/parameters.
func pathParam(d openapiDoc, path, method, name string) bool {
	for _, p := range d.Paths[path][method].Parameters {
		if p.Name == name && p.In == "path" {
			return true
		}
	}
	var raw map[string]any
	if yaml.Unmarshal(OpenAPI, &raw) != nil {
		return false
	}
	for _, p := range rawOpParams(raw, path, method) {
		if ref, ok := p["$ref"].(string); ok {
			comp := strings.TrimPrefix(ref, "#/components/parameters/")
			cp, _ := raw["components"].(map[string]any)["parameters"].(map[string]any)[comp].(map[string]any)
			if cp["name"] == name && cp["in"] == "path" {
				return true
			}
		}
	}
	return false
}

func rawOpParams(raw map[string]any, path, method string) []map[string]any {
	item, _ := raw["paths"].(map[string]any)[path].(map[string]any)
	op, _ := item[method].(map[string]any)
	ps, _ := op["parameters"].([]any)
	var out []map[string]any
	for _, p := range ps {
		if m, ok := p.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// TestOpenAPIRefsResolve fails on a $ref to a component that is not there.
func TestOpenAPIRefsResolve(t *testing.T) {
	var raw map[string]any
	if err := yaml.Unmarshal(OpenAPI, &raw); err != nil {
		t.Fatal(err)
	}
	comps, _ := raw["components"].(map[string]any)
	n := 0
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if k == "$ref" {
					n++
					ref, _ := c.(string)
					parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
					if !strings.HasPrefix(ref, "#/components/") || len(parts) != 2 {
						t.Errorf("%s: unsupported $ref %q", at, ref)
						continue
					}
					if group, _ := comps[parts[0]].(map[string]any); group == nil || group[parts[1]] == nil {
						t.Errorf("%s: $ref %q resolves to nothing", at, ref)
					}
					continue
				}
				walk(c, at+"/"+k)
			}
		case []any:
			for _, c := range x {
				walk(c, at)
			}
		}
	}
	walk(raw, "")
	if n < 20 {
		t.Errorf("only %d $refs found: is the walk broken?", n)
	}
}

// TestOpenAPIMatchesTypes fails when a documented enum or request body
// drifts from the Go types the API decodes and encodes.
func TestOpenAPIMatchesTypes(t *testing.T) {
	d := loadOpenAPI(t)
	strs := func(xs any) []string {
		v := reflect.ValueOf(xs)
		out := make([]string, v.Len())
		for i := range out {
			out[i] = v.Index(i).String()
		}
		return out
	}
	var actionEnum []string
	for _, p := range d.Paths["/api/v1/tickets/{id}/actions/{action}"]["post"].Parameters {
		if p.Name == "action" {
			actionEnum = p.Schema.Enum
		}
	}
	sc := d.Components.Schemas
	for _, c := range []struct {
		name      string
		got, want []string
	}{
		{"action enum", actionEnum, strs(ticketing.Actions)},
		{"ServiceMode enum", sc["ServiceMode"].Enum, strs(ticketing.ServiceModes)},
		{"Rating enum", sc["Rating"].Enum, strs(ticketing.Ratings)},
		{"ManualInput.channel enum", sc["ManualInput"].Properties["channel"].Enum, ticketing.Channels},
		{"ActionInput", keys(sc["ActionInput"].Properties), jsonFields(ticketing.ActionInput{})},
		{"ManualInput", keys(sc["ManualInput"].Properties), jsonFields(ticketing.ManualInput{})},
		{"SurveyInput", keys(sc["SurveyInput"].Properties), jsonFields(ticketing.SurveyInput{})},
		{"Ticket", keys(sc["Ticket"].Properties), jsonFields(ticketing.Ticket{})},
		{"ServiceInfo", keys(sc["ServiceInfo"].Properties), jsonFields(ticketing.ServiceInfo{})},
		{"KPIReport", keys(sc["KPIReport"].Properties), jsonFields(ticketing.KPIReport{})},
		{"ConfirmSummary", keys(sc["ConfirmSummary"].Properties), jsonFields(ticketing.ConfirmSummary{})},
	} {
		got, want := slices.Clone(c.got), slices.Clone(c.want)
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: document has %v, code has %v", c.name, got, want)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// jsonFields lists the JSON names of v's struct fields.
func jsonFields(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}
