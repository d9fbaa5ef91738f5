package dashboards

// The subset of Grafana's dashboard JSON model (schemaVersion 39) these
// dashboards use. Structs, not maps, so that field order — and therefore the
// committed JSON — is stable.

// SchemaVersion is the Grafana dashboard schema the JSON is written for
// (Grafana 10.4 and later; newer versions migrate it on load).
const SchemaVersion = 39

// DatasourceVar is the name of the datasource variable every panel, target
// and query variable refers to, so one set of dashboards serves any
// Prometheus the user picks.
const DatasourceVar = "datasource"

// dsRef is the datasource reference of panels, targets and query variables.
var dsRef = &DSRef{Type: "prometheus", UID: "${" + DatasourceVar + "}"}

// Dashboard is one Grafana dashboard.
type Dashboard struct {
	UID                  string      `json:"uid"`
	Title                string      `json:"title"`
	Description          string      `json:"description"`
	Tags                 []string    `json:"tags"`
	Editable             bool        `json:"editable"`
	FiscalYearStartMonth int         `json:"fiscalYearStartMonth"`
	GraphTooltip         int         `json:"graphTooltip"`
	LiveNow              bool        `json:"liveNow"`
	Refresh              string      `json:"refresh"`
	SchemaVersion        int         `json:"schemaVersion"`
	Version              int         `json:"version"`
	Time                 TimeRange   `json:"time"`
	Timepicker           struct{}    `json:"timepicker"`
	Timezone             string      `json:"timezone"`
	WeekStart            string      `json:"weekStart"`
	Annotations          Annotations `json:"annotations"`
	Links                []Link      `json:"links"`
	Templating           Templating  `json:"templating"`
	Panels               []Panel     `json:"panels"`
}

// TimeRange is the dashboard's default time range.
type TimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Annotations is Grafana's annotation list; these dashboards add none of
// their own.
type Annotations struct {
	List []any `json:"list"`
}

// Link is a dashboard link; the nocagent dashboards link to each other by tag.
type Link struct {
	Title       string   `json:"title"`
	Type        string   `json:"type"`
	Tags        []string `json:"tags"`
	AsDropdown  bool     `json:"asDropdown"`
	IncludeVars bool     `json:"includeVars"`
	KeepTime    bool     `json:"keepTime"`
	TargetBlank bool     `json:"targetBlank"`
	Icon        string   `json:"icon"`
	Tooltip     string   `json:"tooltip"`
	URL         string   `json:"url"`
}

// Templating holds the dashboard variables.
type Templating struct {
	List []Variable `json:"list"`
}

// Variable is a dashboard variable: the datasource picker or a query
// variable filled by label_values().
type Variable struct {
	Type        string         `json:"type"`
	Name        string         `json:"name"`
	Label       string         `json:"label"`
	Description string         `json:"description,omitempty"`
	Datasource  *DSRef         `json:"datasource,omitempty"`
	Query       any            `json:"query"`
	Definition  string         `json:"definition,omitempty"`
	Current     map[string]any `json:"current"`
	Hide        int            `json:"hide"`
	IncludeAll  bool           `json:"includeAll"`
	AllValue    string         `json:"allValue,omitempty"`
	Multi       bool           `json:"multi"`
	Options     []any          `json:"options"`
	Refresh     int            `json:"refresh"`
	Regex       string         `json:"regex"`
	Sort        int            `json:"sort,omitempty"`
}

// VariableQuery is the query of a Prometheus query variable.
type VariableQuery struct {
	Query string `json:"query"`
	RefID string `json:"refId"`
}

// DSRef names a datasource.
type DSRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Panel is one visualisation. Rows are not used: every panel carries queries.
type Panel struct {
	ID              int              `json:"id"`
	Type            string           `json:"type"`
	Title           string           `json:"title"`
	Description     string           `json:"description"`
	Datasource      *DSRef           `json:"datasource"`
	GridPos         GridPos          `json:"gridPos"`
	FieldConfig     FieldConfig      `json:"fieldConfig"`
	Options         map[string]any   `json:"options"`
	Targets         []Target         `json:"targets"`
	Transformations []Transformation `json:"transformations,omitempty"`
}

// GridPos places a panel on Grafana's 24-column grid.
type GridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// FieldConfig sets units, ranges, thresholds and mappings.
type FieldConfig struct {
	Defaults  FieldDefaults `json:"defaults"`
	Overrides []Override    `json:"overrides"`
}

// FieldDefaults apply to every field of a panel.
type FieldDefaults struct {
	Unit       string         `json:"unit"`
	Decimals   *int           `json:"decimals,omitempty"`
	Min        *float64       `json:"min,omitempty"`
	Max        *float64       `json:"max,omitempty"`
	NoValue    string         `json:"noValue,omitempty"`
	Color      map[string]any `json:"color"`
	Thresholds Thresholds     `json:"thresholds"`
	Mappings   []Mapping      `json:"mappings"`
	Links      []DataLink     `json:"links,omitempty"`
	Custom     map[string]any `json:"custom,omitempty"`
}

// Override changes field config for matching fields.
type Override struct {
	Matcher    Matcher    `json:"matcher"`
	Properties []Property `json:"properties"`
}

// Matcher selects fields for an override.
type Matcher struct {
	ID      string `json:"id"`
	Options string `json:"options"`
}

// Property is one overridden field config value.
type Property struct {
	ID    string `json:"id"`
	Value any    `json:"value"`
}

// Thresholds colour values; the first step's value is null (minus infinity).
type Thresholds struct {
	Mode  string `json:"mode"`
	Steps []Step `json:"steps"`
}

// Step is one threshold.
type Step struct {
	Color string   `json:"color"`
	Value *float64 `json:"value"`
}

// Mapping turns values into text, such as 0 → DOWN.
type Mapping struct {
	Type    string                  `json:"type"`
	Options map[string]MappingValue `json:"options"`
}

// MappingValue is what a mapped value shows.
type MappingValue struct {
	Color string `json:"color"`
	Index int    `json:"index"`
	Text  string `json:"text"`
}

// DataLink opens another dashboard from a value.
type DataLink struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Target is one Prometheus query of a panel.
type Target struct {
	RefID        string `json:"refId"`
	Datasource   *DSRef `json:"datasource"`
	EditorMode   string `json:"editorMode"`
	Expr         string `json:"expr"`
	LegendFormat string `json:"legendFormat"`
	Format       string `json:"format"`
	Instant      bool   `json:"instant"`
	Range        bool   `json:"range"`
}

// Transformation post-processes query results (tables).
type Transformation struct {
	ID      string         `json:"id"`
	Options map[string]any `json:"options"`
}
