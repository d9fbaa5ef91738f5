package dashboards

// Builders that keep defs.go about what a panel shows, not how Grafana
// spells it.

// Grafana unit ids used by the panels.
const (
	unitBitsPerSecond = "bps"
	unitPercent       = "percent"     // 0..100
	unitPercentUnit   = "percentunit" // 0..1
	unitBytes         = "bytes"
	unitSeconds       = "s"
	unitShort         = "short"
	unitCelsius       = "celsius"
	unitPacketsPerSec = "pps"
	unitOpsPerSec     = "ops"
)

// Units lists the Grafana unit ids the dashboards may use; the tests reject
// any other, so a typo cannot silently show raw numbers.
var Units = []string{unitBitsPerSecond, unitPercent, unitPercentUnit, unitBytes, unitSeconds,
	unitShort, unitCelsius, unitPacketsPerSec, unitOpsPerSec}

// query is one target before it becomes a Grafana Target.
type query struct {
	expr, legend string
	instant      bool
	table        bool
}

// series is a range query drawn over time.
func series(expr, legend string) query { return query{expr: expr, legend: legend} }

// now is an instant query: the latest value, for stats, bar gauges and
// top-N lists.
func now(expr, legend string) query { return query{expr: expr, legend: legend, instant: true} }

// rows is an instant query shown as a table, one row per series.
func rows(expr string) query { return query{expr: expr, instant: true, table: true} }

type opt func(*Panel)

func f(v float64) *float64 { return &v }

// thresholds sets colour steps: base colour, then value, colour pairs.
func thresholds(base string, steps ...any) opt {
	return func(p *Panel) {
		t := Thresholds{Mode: "absolute", Steps: []Step{{Color: base}}}
		for i := 0; i+1 < len(steps); i += 2 {
			t.Steps = append(t.Steps, Step{Value: f(toFloat(steps[i])), Color: steps[i+1].(string)})
		}
		p.FieldConfig.Defaults.Thresholds = t
	}
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	panic("dashboards: threshold value must be int or float64")
}

func bounds(lo, hi float64) opt {
	return func(p *Panel) { p.FieldConfig.Defaults.Min, p.FieldConfig.Defaults.Max = f(lo), f(hi) }
}

func minZero(p *Panel) { p.FieldConfig.Defaults.Min = f(0) }

// noValue is what a stat shows when the agent exports no series, e.g. no
// alert firing: the families of alerts and tickets are absent when empty.
func noValue(s string) opt { return func(p *Panel) { p.FieldConfig.Defaults.NoValue = s } }

// upDown maps 1/0 to UP/DOWN, green/red.
func upDown(p *Panel) {
	p.FieldConfig.Defaults.Mappings = append(p.FieldConfig.Defaults.Mappings, Mapping{Type: "value", Options: map[string]MappingValue{
		"0": {Color: "red", Index: 0, Text: "DOWN"},
		"1": {Color: "green", Index: 1, Text: "UP"},
	}})
}

// drawThresholds draws the thresholds as dashed lines on a time series.
func drawThresholds(p *Panel) {
	p.FieldConfig.Defaults.Custom["thresholdsStyle"] = map[string]any{"mode": "dashed"}
}

// stacked stacks the series of a time series.
func stacked(p *Panel) {
	p.FieldConfig.Defaults.Custom["stacking"] = map[string]any{"group": "A", "mode": "normal"}
	p.FieldConfig.Defaults.Custom["fillOpacity"] = 60
}

// link adds a data link; URLs use Grafana's ${__field.labels.x} and keep the
// datasource and time range.
func link(title, url string) opt {
	return func(p *Panel) {
		p.FieldConfig.Defaults.Links = append(p.FieldConfig.Defaults.Links, DataLink{Title: title, URL: url})
	}
}

// deviceLink opens the Device dashboard of the series' device.
var deviceLink = link("Device ${__field.labels.device}",
	"/d/"+uidDevice+"/?var-device=${__field.labels.device}&${"+DatasourceVar+":queryparam}&${__url_time_range}")

// interfaceLink opens the Interfaces dashboard for the series' interface.
var interfaceLink = link("Interface ${__field.labels.device} ${__field.labels.interface}",
	"/d/"+uidInterfaces+"/?var-device=${__field.labels.device}&var-interface=${__field.labels.interface}&${"+DatasourceVar+":queryparam}&${__url_time_range}")

// In tables the labels are columns, reached through ${__data.fields.x}
// rather than ${__field.labels.x}.
var (
	deviceRowLink = link("Device ${__data.fields.device}",
		"/d/"+uidDevice+"/?var-device=${__data.fields.device}&${"+DatasourceVar+":queryparam}&${__url_time_range}")
	interfaceRowLink = link("Interface ${__data.fields.device} ${__data.fields.interface}",
		"/d/"+uidInterfaces+"/?var-device=${__data.fields.device}&var-interface=${__data.fields.interface}&${"+DatasourceVar+":queryparam}&${__url_time_range}")
)

// hideColumns hides table columns that carry nothing for a reader.
func hideColumns(names ...string) opt {
	return func(p *Panel) {
		ex := map[string]bool{}
		for _, n := range names {
			ex[n] = true
		}
		p.Transformations = append(p.Transformations, Transformation{ID: "organize", Options: map[string]any{"excludeByName": ex}})
	}
}

// legendRight puts a table legend with last and max values on the right,
// for panels with many series.
func legendRight(p *Panel) {
	p.Options["legend"] = map[string]any{"showLegend": true, "displayMode": "table", "placement": "right", "calcs": []string{"lastNotNull", "max"}}
}

func panel(typ, title, desc, unit string, w, h int, qs []query, opts []opt) Panel {
	p := Panel{
		Type: typ, Title: title, Description: desc, Datasource: dsRef,
		GridPos:     GridPos{W: w, H: h},
		FieldConfig: FieldConfig{Defaults: FieldDefaults{Unit: unit, Mappings: []Mapping{}}, Overrides: []Override{}},
	}
	p.FieldConfig.Defaults.Thresholds = Thresholds{Mode: "absolute", Steps: []Step{{Color: "green"}}}
	for i, q := range qs {
		t := Target{RefID: string(rune('A' + i)), Datasource: dsRef, EditorMode: "code", Expr: q.expr,
			LegendFormat: q.legend, Format: "time_series", Instant: q.instant, Range: !q.instant}
		if t.LegendFormat == "" {
			t.LegendFormat = "__auto"
		}
		if q.table {
			t.Format = "table"
		}
		p.Targets = append(p.Targets, t)
	}
	reduce := map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false}
	switch typ {
	case "timeseries":
		p.FieldConfig.Defaults.Color = map[string]any{"mode": "palette-classic"}
		p.FieldConfig.Defaults.Custom = map[string]any{
			"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never", "spanNulls": false,
			"axisPlacement": "auto", "stacking": map[string]any{"group": "A", "mode": "none"},
			"thresholdsStyle": map[string]any{"mode": "off"},
		}
		p.Options = map[string]any{
			"legend":  map[string]any{"showLegend": true, "displayMode": "list", "placement": "bottom", "calcs": []string{}},
			"tooltip": map[string]any{"mode": "multi", "sort": "desc"},
		}
	case "stat":
		p.FieldConfig.Defaults.Color = map[string]any{"mode": "thresholds"}
		p.Options = map[string]any{"reduceOptions": reduce, "colorMode": "background", "graphMode": "none",
			"justifyMode": "auto", "orientation": "auto", "textMode": "auto", "wideLayout": true, "showPercentChange": false}
	case "bargauge":
		p.FieldConfig.Defaults.Color = map[string]any{"mode": "thresholds"}
		p.Options = map[string]any{"reduceOptions": reduce, "orientation": "horizontal", "displayMode": "gradient",
			"valueMode": "color", "namePlacement": "auto", "showUnfilled": true, "sizing": "auto", "minVizHeight": 16, "minVizWidth": 8, "maxVizHeight": 300}
	case "table":
		p.FieldConfig.Defaults.Color = map[string]any{"mode": "thresholds"}
		p.FieldConfig.Defaults.Custom = map[string]any{"align": "auto", "cellOptions": map[string]any{"type": "auto"}, "inspect": false}
		p.Options = map[string]any{"showHeader": true, "cellHeight": "sm", "footer": map[string]any{"show": false, "reducer": []string{"sum"}, "fields": ""}}
	case "state-timeline":
		p.FieldConfig.Defaults.Color = map[string]any{"mode": "thresholds"}
		p.FieldConfig.Defaults.Custom = map[string]any{"fillOpacity": 70, "lineWidth": 0}
		p.Options = map[string]any{"mergeValues": true, "showValue": "never", "alignValue": "left", "rowHeight": 0.9,
			"legend":  map[string]any{"showLegend": true, "displayMode": "list", "placement": "bottom"},
			"tooltip": map[string]any{"mode": "single", "sort": "none"}}
	default:
		panic("dashboards: unknown panel type " + typ)
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

// layout numbers the panels and flows them left to right over the 24-column
// grid, starting a new row when a panel does not fit.
func layout(ps []Panel) []Panel {
	x, y, rowH := 0, 0, 0
	for i := range ps {
		p := &ps[i]
		p.ID = i + 1
		if x+p.GridPos.W > 24 {
			x, y, rowH = 0, y+rowH, 0
		}
		p.GridPos.X, p.GridPos.Y = x, y
		x += p.GridPos.W
		rowH = max(rowH, p.GridPos.H)
	}
	return ps
}

// datasourceVariable lets the user pick the Prometheus to read. The default
// is the datasource the provisioning file creates; Grafana falls back to its
// default Prometheus when that does not exist.
func datasourceVariable() Variable {
	return Variable{
		Type: "datasource", Name: DatasourceVar, Label: "Data source", Query: "prometheus",
		Current: map[string]any{"selected": false, "text": ProvisionedDatasourceName, "value": ProvisionedDatasourceUID},
		Options: []any{}, Refresh: 1,
	}
}

// ProvisionedDatasourceName and ProvisionedDatasourceUID are those of the
// datasource in provisioning/datasources/nocagent.yaml.
const (
	ProvisionedDatasourceName = "Prometheus (nocagent)"
	ProvisionedDatasourceUID  = "nocagent-prometheus"
)

// labelVariable is a query variable filled by label_values(selector, label).
// Multi-valued variables have an "All" that matches everything, so panels
// always filter with =~.
func labelVariable(name, label, selector string, multi bool) Variable {
	def := "label_values(" + selector + ", " + name + ")"
	v := Variable{
		Type: "query", Name: name, Label: label, Datasource: dsRef,
		Query:      VariableQuery{Query: def, RefID: "PrometheusVariableQueryEditor-VariableQuery"},
		Definition: def, Current: map[string]any{}, Options: []any{},
		Refresh: 2, // on time range change, so new devices appear
		Sort:    1,
		Multi:   multi, IncludeAll: multi,
	}
	if multi {
		v.AllValue = ".*"
		v.Current = map[string]any{"selected": true, "text": []string{"All"}, "value": []string{"$__all"}}
	}
	return v
}

func newDashboard(uid, title, desc string, vars []Variable, panels []Panel) Dashboard {
	return Dashboard{
		UID: uid, Title: title, Description: desc, Tags: []string{"nocagent"},
		Editable: true, GraphTooltip: 1, Refresh: "30s", SchemaVersion: SchemaVersion, Version: 1,
		Time: TimeRange{From: "now-6h", To: "now"}, Timezone: "browser",
		Annotations: Annotations{List: []any{}},
		Links: []Link{{Title: "nocagent", Type: "dashboards", Tags: []string{"nocagent"}, AsDropdown: true,
			IncludeVars: true, KeepTime: true, Icon: "external link"}},
		Templating: Templating{List: append([]Variable{datasourceVariable()}, vars...)},
		Panels:     layout(panels),
	}
}
