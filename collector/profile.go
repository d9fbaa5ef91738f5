package collector

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// A Profile says how to read one family of devices: which vendor MIB
// objects hold CPU, memory, environment sensors and identity. It is data,
// not code, so that a user can add or fix one without recompiling: the
// built-in profiles are YAML files embedded from profiles/, and
// LoadProfiles lays a directory of user files over them.
//
// Every OID is numeric. A spec with table: true names columns, walked in
// one multi-column walk with the rest of the profile; otherwise it names
// scalars, fetched in one GET.
type Profile struct {
	Name string `yaml:"name"`
	// Extends names a profile whose skip, cpu, memory, sensors, model,
	// serial and firmware this one takes where it leaves them out.
	Extends string      `yaml:"extends"`
	Vendor  string      `yaml:"vendor"`
	OS      string      `yaml:"os"`
	Match   []MatchRule `yaml:"match"`
	// Skip lists standard modules this family never has, to save their
	// requests: host-resources, entity-sensor, lldp, cdp.
	Skip     []string         `yaml:"skip"`
	CPU      []CPUSpec        `yaml:"cpu"`
	Memory   []MemorySpec     `yaml:"memory"`
	Sensors  []SensorSpec     `yaml:"sensors"`
	Model    []IdentitySource `yaml:"model"`
	Serial   []IdentitySource `yaml:"serial"`
	Firmware []IdentitySource `yaml:"firmware"`
	// PartNumber reads the orderable part number where the family keeps
	// it apart from the model name.
	PartNumber []IdentitySource `yaml:"part_number"`
	// Ports, InterfaceNames and Neighbors: see profile_ports.go.
	Ports          []PortSpec      `yaml:"ports"`
	InterfaceNames []InterfaceName `yaml:"interface_names"`
	Neighbors      []NeighborSpec  `yaml:"neighbors"`

	file     string // where it was loaded from, for messages
	planOnce sync.Once
	plan     profileFetch
}

// MatchRule fits a device when every field it sets fits. Among fitting
// rules of all profiles the longest sys_object_id prefix wins, then the
// higher priority, then a rule that also checks sys_descr.
type MatchRule struct {
	SysObjectID OID     `yaml:"sys_object_id"` // prefix, on arc boundaries
	SysDescr    *Regexp `yaml:"sys_descr"`
	Priority    int     `yaml:"priority"`
	// Probe alone: the profile fits a device that no other profile fits
	// when this vendor object answers, for agents that leave sysObjectID
	// and sysDescr empty or generic. It costs one GET, only for such
	// devices.
	Probe OID `yaml:"probe"`
}

// CPUSpec reads processor load in percent.
type CPUSpec struct {
	Table bool `yaml:"table"`
	OID   OID  `yaml:"oid"`
	// Name is the CPU's name; "{index}" is replaced by the row index.
	Name       string `yaml:"name"`
	NameColumn OID    `yaml:"name_column"`
	// NameEntity is a column holding an entPhysicalIndex whose
	// entPhysicalName names the row.
	NameEntity OID `yaml:"name_entity"`
	// Divisor turns the raw value into percent (100 for hundredths).
	Divisor float64 `yaml:"divisor"`
	// Require keeps only rows where this column is non-zero.
	Require OID `yaml:"require"`
	// Fallback specs are read only when nothing before them (earlier
	// specs, or HOST-RESOURCES-MIB) gave a reading.
	Fallback bool `yaml:"fallback"`
	// Idle: the object is idle percent; load is 100 minus it.
	Idle bool `yaml:"idle"`
	// ValueRegexp reads the number from group 1 of this regexp on a text
	// value, for agents that report loads as a sentence.
	ValueRegexp *Regexp `yaml:"value_regexp"`
	Rows        `yaml:",inline"`
}

// Rows narrows and names the rows of a table spec.
type Rows struct {
	// IndexMatch keeps only rows whose index matches this regexp.
	IndexMatch *Regexp `yaml:"index_match"`
	// IndexEntity: the row index (its first arc) is an entPhysicalIndex,
	// whose entPhysicalName names the row.
	IndexEntity bool `yaml:"index_entity"`
	// Where keeps only rows whose column's text matches, for tables that
	// mix kinds of readings told apart by a type or name column.
	Where *Where `yaml:"where"`
	// SkipValues are raw values that mean "no reading" (-1, -128, 0 for
	// an absent fan): rows holding one are left out.
	SkipValues []float64 `yaml:"skip_values"`
}

// Where is a row filter: column's value must match.
type Where struct {
	Column OID     `yaml:"column"`
	Match  *Regexp `yaml:"match"`
}

// MemorySpec reads one memory pool. Any two of used, free and total give
// the third; percent with total gives used; percent alone is kept as is.
type MemorySpec struct {
	Table      bool   `yaml:"table"`
	Name       string `yaml:"name"`
	NameColumn OID    `yaml:"name_column"`
	NameEntity OID    `yaml:"name_entity"`
	Used       OID    `yaml:"used"`
	Free       OID    `yaml:"free"`
	Total      OID    `yaml:"total"`
	Percent    OID    `yaml:"percent"`
	// Units is bytes per raw unit of used, free and total (1024 for kB).
	Units uint64 `yaml:"units"`
	// PercentDivisor turns the raw percent into percent (100 for
	// hundredths).
	PercentDivisor float64 `yaml:"percent_divisor"`
	// TotalBytes is a fixed size, for agents that give a percent and
	// document the size instead of reporting it.
	TotalBytes uint64 `yaml:"total_bytes"`
	Class      string `yaml:"class"` // system (default), buffers, ...
	Require    OID    `yaml:"require"`
	Fallback   bool   `yaml:"fallback"`
	Rows       `yaml:",inline"`
}

// SensorSpec reads temperatures, fans and power supplies. Value may be
// absent for status-only sensors (a power supply that only says ok/failed).
type SensorSpec struct {
	Class      string    `yaml:"class"` // temperature, fan, power, voltage, current
	Table      bool      `yaml:"table"`
	Name       string    `yaml:"name"`
	NameColumn OID       `yaml:"name_column"`
	NameEntity OID       `yaml:"name_entity"`
	Value      OID       `yaml:"value"`
	Divisor    float64   `yaml:"divisor"`
	Unit       string    `yaml:"unit"`
	Status     OID       `yaml:"status"`
	StatusMap  StatusMap `yaml:"status_map"`
	// StatusText maps a status the agent reports as text ("Up", "Down"),
	// compared without regard to case, to ok, warning, failed, absent or
	// unknown.
	StatusText map[string]string `yaml:"status_text"`
	// ValueRegexp reads the number from group 1 of this regexp on a text
	// value ("41.00 degrees C normal"), matched against the raw bytes.
	ValueRegexp *Regexp `yaml:"value_regexp"`
	// Scale and Precision are columns of an ENTITY-SENSOR-MIB-like table
	// (CISCO-ENTITY-SENSOR-MIB, vendor copies of RFC 3433) holding each
	// row's EntitySensorDataScale and precision: the value is then
	// raw × 10^scale / 10^precision, before the divisor.
	Scale     OID `yaml:"scale"`
	Precision OID `yaml:"precision"`
	// Offset is added after the divisor, for agents that report in an
	// offset encoding (-128 for a temperature sent as 256ths plus 128 °C).
	Offset float64 `yaml:"offset"`
	// Min and Max bound a plausible reading: a value outside them (after
	// divisor and offset) is the agent's "no probe" or an unsigned
	// rendering of a negative sentinel, and the row is left out.
	Min     *float64 `yaml:"min"`
	Max     *float64 `yaml:"max"`
	Require OID      `yaml:"require"`
	// NameMatch keeps only rows whose name (as read from name_column,
	// name_entity, index_entity or name) matches, for shared tables such
	// as ENTITY-SENSOR-MIB's where only the rows of one part (a power
	// supply) are wanted.
	NameMatch *Regexp `yaml:"name_match"`
	Rows      `yaml:",inline"`
}

// IdentitySource is one place to read model, serial or firmware from; the
// first source with a non-empty value wins. Exactly one of oid, column,
// entity, entity_field, object_id, descr and value is set; match and
// replace then shape what it read.
type IdentitySource struct {
	OID OID `yaml:"oid"` // scalar
	// Column: the value of the lowest row with a non-empty value.
	Column OID `yaml:"column"`
	// Entity: the chassis's entPhysicalModelName / SerialNum / SoftwareRev.
	Entity bool `yaml:"entity"`
	// EntityField: another field of the chassis entity: descr, name,
	// model, serial or firmware.
	EntityField string `yaml:"entity_field"`
	// ObjectID maps a whole sysObjectID to the value: the product
	// registrations of a vendor MIB, for agents that report no model.
	ObjectID map[OID]string `yaml:"object_id"`
	// Descr: a regexp on sysDescr; group 1 (or the whole match) is the value.
	Descr *Regexp `yaml:"descr"`
	// Value is a fixed value, for a family that is one model.
	Value string `yaml:"value"`
	// Template joins several scalars: "{oid:1.3.6.1.2.1.47.1.1.1.1.7.1}
	// rev {oid:...}"; parts the device lacks are left empty.
	Template *Template `yaml:"template"`
	// EntityIndex, with entity_field, reads that field of these entities
	// (first non-empty), from the ENTITY-MIB table the poll walks anyway.
	EntityIndex []int `yaml:"entity_index"`
	// Match keeps the value only when it matches, and then only group 1
	// when the regexp has one.
	Match *Regexp `yaml:"match"`
	// Replace rewrites the value, in order (regexp, $1 references).
	Replace []Rewrite `yaml:"replace"`
	// Map names raw values (an INTEGER enum, a product code); a value it
	// does not list is kept as read.
	Map map[string]string `yaml:"map"`
}

// Rewrite is one regexp replacement of an identity value.
type Rewrite struct {
	Pattern *Regexp `yaml:"pattern"`
	With    string  `yaml:"with"`
}

var entityFields = []string{"descr", "name", "model", "serial", "firmware"}

// Template is an identity template and the scalars it names.
type Template struct {
	text string
	oids []OID
}

var templateRE = regexp.MustCompile(`\{oid:([0-9.]+)\}`)

func (t *Template) UnmarshalYAML(n *yaml.Node) error {
	if err := n.Decode(&t.text); err != nil {
		return err
	}
	ms := templateRE.FindAllStringSubmatch(t.text, -1)
	if len(ms) == 0 {
		return fmt.Errorf("line %d: template %q names no {oid:...}", n.Line, t.text)
	}
	for _, m := range ms {
		if !numericOID(m[1]) {
			return fmt.Errorf("line %d: template: %q is not a numeric OID", n.Line, m[1])
		}
		t.oids = append(t.oids, OID(normOID(m[1])))
	}
	return nil
}

// expand fills the template from get; it is empty when every part is.
func (t *Template) expand(get func(OID) string) string {
	found := false
	out := templateRE.ReplaceAllStringFunc(t.text, func(m string) string {
		v := get(OID(normOID(templateRE.FindStringSubmatch(m)[1])))
		if v != "" {
			found = true
		}
		return v
	})
	if !found {
		return ""
	}
	return strings.Join(strings.Fields(out), " ")
}

// OID is a numeric OID as written in a profile, stored with a leading dot
// the way gosnmp names varbinds.
type OID string

func (o *OID) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	s = strings.TrimSpace(s)
	if !numericOID(s) {
		return fmt.Errorf("line %d: %q is not a numeric OID", n.Line, s)
	}
	*o = OID(normOID(s))
	return nil
}

func numericOID(s string) bool {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return false
	}
	for part := range strings.SplitSeq(s, ".") {
		if part == "" || len(part) > 10 {
			return false
		}
		if _, err := strconv.ParseUint(part, 10, 32); err != nil {
			return false
		}
	}
	return true
}

// Regexp is a compiled regular expression from a profile.
type Regexp struct{ *regexp.Regexp }

func (r *Regexp) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return fmt.Errorf("line %d: bad regexp: %w", n.Line, err)
	}
	r.Regexp = re
	return nil
}

// StatusMap maps a raw status number to ok, warning, failed, absent or
// unknown. Numbers it does not list read as unknown.
type StatusMap map[int64]string

var sensorStatuses = []string{"ok", "warning", "failed", "absent", "unknown"}

func (m *StatusMap) UnmarshalYAML(n *yaml.Node) error {
	var raw map[int64]string
	if err := n.Decode(&raw); err != nil {
		return err
	}
	for k, v := range raw {
		if !slices.Contains(sensorStatuses, v) {
			return fmt.Errorf("line %d: status %d maps to %q; want one of %s", n.Line, k, v, strings.Join(sensorStatuses, ", "))
		}
	}
	*m = raw
	return nil
}

var (
	sensorClassUnits = map[string]string{
		"temperature": "celsius", "fan": "rpm", "power": "watts", "voltage": "volts",
		"current": "amperes", "humidity": "percentRH", "psu": "",
	}
	memoryClasses = []string{"system", "virtual", "buffers", "cached", "shared", "swap"}
	skippable     = []string{"host-resources", "entity-sensor", "lldp", "cdp"}
)

// ParseProfile reads one profile file. name (the file's path) prefixes
// every error, with the line where the YAML says it.
func ParseProfile(name string, data []byte) (*Profile, error) {
	p, err := parseProfile(data)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", name, err)
	}
	if p.Name == "" {
		p.Name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	}
	p.file = name
	return p, nil
}

var lineRE = regexp.MustCompile(`^line (\d+): `)

// parseProfile returns errors as "LINE: message" so that ParseProfile can
// make them file:line.
func parseProfile(data []byte) (*Profile, error) {
	var p Profile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("1: empty profile")
		}
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			return nil, fmt.Errorf("%s", lineRE.ReplaceAllString(te.Errors[0], "$1: "))
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("%s: %s", m[1], msg[len(m[0]):])
		}
		return nil, fmt.Errorf("1: %s", msg)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%d: one profile per file; found a second YAML document", extra.Line)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("1: %w", err)
	}
	return &p, nil
}

// validate checks what the YAML types cannot: required fields and the
// words of the small vocabularies.
func (p *Profile) validate() error {
	for _, s := range p.Skip {
		if !slices.Contains(skippable, s) {
			return fmt.Errorf("skip: unknown module %q (want %s)", s, strings.Join(skippable, ", "))
		}
	}
	for i, m := range p.Match {
		if m.Probe != "" && (m.SysObjectID != "" || m.SysDescr != nil) {
			return fmt.Errorf("match[%d]: probe stands alone, without sys_object_id or sys_descr", i)
		}
		if m.SysObjectID == "" && m.SysDescr == nil && m.Probe == "" {
			return fmt.Errorf("match[%d]: needs sys_object_id, sys_descr or probe", i)
		}
	}
	for i, c := range p.CPU {
		if c.OID == "" {
			return fmt.Errorf("cpu[%d]: oid is required", i)
		}
		if c.Divisor < 0 {
			return fmt.Errorf("cpu[%d]: divisor must be positive", i)
		}
		if err := tableOnly(c.Table, c.Rows, c.NameColumn, c.NameEntity, c.Require); err != nil {
			return fmt.Errorf("cpu[%d]: %w", i, err)
		}
	}
	for i, m := range p.Memory {
		if m.PercentDivisor < 0 {
			return fmt.Errorf("memory[%d]: percent_divisor must be positive", i)
		}
		if m.Used == "" && m.Free == "" && m.Percent == "" {
			return fmt.Errorf("memory[%d]: needs used, free or percent", i)
		}
		if m.Class != "" && !slices.Contains(memoryClasses, m.Class) {
			return fmt.Errorf("memory[%d]: unknown class %q (want %s)", i, m.Class, strings.Join(memoryClasses, ", "))
		}
		if err := tableOnly(m.Table, m.Rows, m.NameColumn, m.NameEntity, m.Require); err != nil {
			return fmt.Errorf("memory[%d]: %w", i, err)
		}
	}
	for i, s := range p.Sensors {
		if _, ok := sensorClassUnits[s.Class]; !ok {
			return fmt.Errorf("sensors[%d]: unknown class %q", i, s.Class)
		}
		if s.Value == "" && s.Status == "" {
			return fmt.Errorf("sensors[%d]: needs value or status", i)
		}
		if s.Status != "" && len(s.StatusMap) == 0 && len(s.StatusText) == 0 {
			return fmt.Errorf("sensors[%d]: status needs a status_map or status_text", i)
		}
		for k, v := range s.StatusText {
			if !slices.Contains(sensorStatuses, v) {
				return fmt.Errorf("sensors[%d]: status_text %q maps to %q; want one of %s", i, k, v, strings.Join(sensorStatuses, ", "))
			}
		}
		if s.Divisor < 0 {
			return fmt.Errorf("sensors[%d]: divisor must be positive", i)
		}
		if err := tableOnly(s.Table, s.Rows, s.NameColumn, s.NameEntity, s.Require); err != nil {
			return fmt.Errorf("sensors[%d]: %w", i, err)
		}
	}
	for what, srcs := range map[string][]IdentitySource{"model": p.Model, "serial": p.Serial, "firmware": p.Firmware, "part_number": p.PartNumber} {
		for i, s := range srcs {
			n := 0
			for _, set := range []bool{s.OID != "", s.Column != "", s.Entity, s.EntityField != "", s.ObjectID != nil, s.Descr != nil, s.Value != "", s.Template != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				return fmt.Errorf("%s[%d]: set exactly one of oid, column, entity, entity_field, object_id, descr, value, template", what, i)
			}
			if len(s.EntityIndex) > 0 && s.EntityField == "" {
				return fmt.Errorf("%s[%d]: entity_index needs entity_field", what, i)
			}
			if s.EntityField != "" && !slices.Contains(entityFields, s.EntityField) {
				return fmt.Errorf("%s[%d]: entity_field %q: want one of %s", what, i, s.EntityField, strings.Join(entityFields, ", "))
			}
			for j, r := range s.Replace {
				if r.Pattern == nil {
					return fmt.Errorf("%s[%d]: replace[%d]: pattern is required", what, i, j)
				}
			}
		}
	}
	return p.validatePorts()
}

func tableOnly(table bool, r Rows, cols ...OID) error {
	if r.Where != nil && (r.Where.Column == "" || r.Where.Match == nil) {
		return errors.New("where needs column and match")
	}
	if table {
		return nil
	}
	if r.IndexMatch != nil || r.IndexEntity || r.Where != nil {
		return errors.New("index_match, index_entity and where need table: true")
	}
	for _, c := range cols {
		if c != "" {
			return errors.New("name_column, name_entity and require need table: true")
		}
	}
	return nil
}

// ProfileSet is a loaded set of profiles, safe for concurrent use.
type ProfileSet struct {
	profiles []*Profile // sorted by name
	generic  *Profile
}

//go:embed profiles/*.yaml
var builtinProfiles embed.FS

// genericProfile is the built-in profile used when none matches.
const genericProfile = "generic"

// LoadProfiles returns the built-in profiles with the *.yaml files of dir
// laid over them: a file whose profile has the name of a built-in one
// replaces it, any other adds a profile. dir "" means built-ins only.
func LoadProfiles(dir string) (*ProfileSet, error) {
	byName := map[string]*Profile{}
	if err := loadProfileFS(builtinProfiles, "profiles", "profiles", byName, false); err != nil {
		return nil, err
	}
	if dir != "" {
		if err := loadProfileFS(os.DirFS(dir), ".", dir, byName, true); err != nil {
			return nil, err
		}
	}
	for _, p := range byName {
		if err := resolveExtends(p, byName, 0); err != nil {
			return nil, err
		}
	}
	set := &ProfileSet{}
	for _, p := range byName {
		set.profiles = append(set.profiles, p)
	}
	slices.SortFunc(set.profiles, func(a, b *Profile) int { return strings.Compare(a.Name, b.Name) })
	set.generic = byName[genericProfile]
	if set.generic == nil {
		set.generic = &Profile{Name: genericProfile}
	}
	return set, nil
}

func loadProfileFS(fsys fs.FS, root, shown string, byName map[string]*Profile, override bool) error {
	files, err := fs.Glob(fsys, root+"/*.yaml")
	if err != nil {
		return fmt.Errorf("profiles %s: %w", shown, err)
	}
	seen := map[string]string{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return fmt.Errorf("profiles: %w", err)
		}
		path := filepath.Join(shown, filepath.Base(f))
		p, err := ParseProfile(path, data)
		if err != nil {
			return err
		}
		if prev, dup := seen[p.Name]; dup {
			return fmt.Errorf("%s:1: profile %q is also defined in %s", path, p.Name, prev)
		}
		seen[p.Name] = path
		if _, exists := byName[p.Name]; exists && !override {
			return fmt.Errorf("%s:1: duplicate profile %q", path, p.Name)
		}
		byName[p.Name] = p
	}
	return nil
}

// maxExtends bounds a chain of extends, which also catches cycles.
const maxExtends = 8

func resolveExtends(p *Profile, byName map[string]*Profile, depth int) error {
	if p.Extends == "" {
		return nil
	}
	if depth >= maxExtends {
		return fmt.Errorf("%s:1: extends %q: chain longer than %d or a cycle", p.file, p.Extends, maxExtends)
	}
	parent, ok := byName[p.Extends]
	if !ok {
		return fmt.Errorf("%s:1: extends unknown profile %q", p.file, p.Extends)
	}
	if err := resolveExtends(parent, byName, depth+1); err != nil {
		return err
	}
	inherit(&p.Skip, parent.Skip)
	inherit(&p.CPU, parent.CPU)
	inherit(&p.Memory, parent.Memory)
	inherit(&p.Sensors, parent.Sensors)
	inherit(&p.Model, parent.Model)
	inherit(&p.Serial, parent.Serial)
	inherit(&p.Firmware, parent.Firmware)
	inherit(&p.PartNumber, parent.PartNumber)
	inherit(&p.Ports, parent.Ports)
	inherit(&p.InterfaceNames, parent.InterfaceNames)
	inherit(&p.Neighbors, parent.Neighbors)
	if p.Vendor == "" {
		p.Vendor = parent.Vendor
	}
	p.Extends = "" // resolved; a second pass must not copy again
	return nil
}

func inherit[T any](dst *[]T, src []T) {
	if *dst == nil {
		*dst = src
	}
}

var builtinSet = sync.OnceValues(func() (*ProfileSet, error) { return LoadProfiles("") })

// BuiltinProfiles returns the embedded profiles, loaded once.
func BuiltinProfiles() *ProfileSet {
	set, err := builtinSet()
	if err != nil {
		// The embedded files are checked by TestBuiltinProfiles; a
		// failure here is a build defect, not an input error.
		panic("collector: built-in profiles: " + err.Error())
	}
	return set
}

// Profiles lists the set's profiles by name.
func (s *ProfileSet) Profiles() []*Profile { return slices.Clone(s.profiles) }

// Lookup returns the profile called name.
func (s *ProfileSet) Lookup(name string) (*Profile, bool) {
	for _, p := range s.profiles {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// Select picks the profile for a device from its sysObjectID (dotted,
// leading dot or not) and sysDescr, or the generic profile.
func (s *ProfileSet) Select(objectID, descr string) *Profile {
	objectID = normOID(objectID)
	var best *Profile
	bestScore := [3]int{-1}
	for _, p := range s.profiles {
		for _, m := range p.Match {
			if m.Probe != "" {
				continue // see Probe
			}
			arcs := 0
			if m.SysObjectID != "" {
				if !under(objectID, string(m.SysObjectID)) && objectID != string(m.SysObjectID) {
					continue
				}
				arcs = strings.Count(string(m.SysObjectID), ".")
			}
			hasDescr := 0
			if m.SysDescr != nil {
				if !m.SysDescr.MatchString(descr) {
					continue
				}
				hasDescr = 1
			}
			score := [3]int{arcs, m.Priority, hasDescr}
			if slices.Compare(score[:], bestScore[:]) > 0 {
				best, bestScore = p, score
			}
		}
	}
	if best == nil {
		return s.generic
	}
	return best
}

func (p *Profile) skips(module string) bool { return slices.Contains(p.Skip, module) }

// probes lists the probe OIDs of the set's profiles, in profile order.
func (s *ProfileSet) probes() []string {
	var out []string
	for _, p := range s.profiles {
		for _, m := range p.Match {
			if m.Probe != "" {
				out = append(out, string(m.Probe))
			}
		}
	}
	return out
}

// SelectProbed picks, for a device that fits no profile by its system
// group, the first profile whose probe OID is among answered.
func (s *ProfileSet) SelectProbed(answered func(oid string) bool) *Profile {
	for _, p := range s.profiles {
		for _, m := range p.Match {
			if m.Probe != "" && answered(string(m.Probe)) {
				return p
			}
		}
	}
	return s.generic
}
