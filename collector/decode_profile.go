package collector

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/gosnmp/gosnmp"
)

// What a profile asks of the network, worked out once per profile.
type profileFetch struct {
	scalars []string // one GET
	columns []string // one multi-column walk
}

// fetchPlan lists the scalars and columns the profile reads, without
// duplicates, in the order the profile names them.
func (p *Profile) fetchPlan() profileFetch {
	p.planOnce.Do(func() {
		var f profileFetch
		add := func(table bool, oids ...OID) {
			for _, o := range oids {
				if o == "" {
					continue
				}
				dst := &f.scalars
				if table {
					dst = &f.columns
				}
				if !slices.Contains(*dst, string(o)) {
					*dst = append(*dst, string(o))
				}
			}
		}
		for _, c := range p.CPU {
			add(c.Table, c.OID, c.NameColumn, c.NameEntity, c.Require, c.Where.column())
		}
		for _, m := range p.Memory {
			add(m.Table, m.Used, m.Free, m.Total, m.Percent, m.NameColumn, m.NameEntity, m.Require, m.Where.column())
		}
		for _, s := range p.Sensors {
			add(s.Table, s.Value, s.Status, s.NameColumn, s.NameEntity, s.Scale, s.Precision, s.Require, s.Where.column())
		}
		for _, s := range p.Ports {
			add(true, s.NameColumn, s.InOctets, s.OutOctets, s.OperStatus, s.Where.column())
		}
		for _, s := range p.Neighbors {
			add(true, s.RemoteName, s.RemoteDescr, s.RemotePort, s.RemotePortSubtype, s.RemoteChassis, s.RemoteChassisSubtype)
		}
		for _, srcs := range [][]IdentitySource{p.Model, p.Serial, p.Firmware, p.PartNumber} {
			for _, s := range srcs {
				add(false, s.OID)
				add(true, s.Column)
				if s.Template != nil {
					add(false, s.Template.oids...)
				}
			}
		}
		p.plan = f
	})
	return p.plan
}

// profileData holds the varbinds fetched for a profile: scalars by OID,
// walked cells by column.
type profileData struct {
	scalars map[string]gosnmp.SnmpPDU
	cols    map[string]*columnData
}

type columnData struct {
	order []string // row indexes in walk order
	cells map[string]gosnmp.SnmpPDU
}

func newProfileData(columns []string, scalars, walked []gosnmp.SnmpPDU) profileData {
	d := profileData{scalars: make(map[string]gosnmp.SnmpPDU, len(scalars)), cols: make(map[string]*columnData, len(columns))}
	for _, p := range scalars {
		if !absent(p) {
			d.scalars[p.Name] = p
		}
	}
	for _, c := range columns {
		d.cols[c] = &columnData{cells: map[string]gosnmp.SnmpPDU{}}
	}
	for _, p := range walked {
		if absent(p) {
			continue
		}
		for _, c := range columns {
			if under(p.Name, c) {
				cd := d.cols[c]
				idx := p.Name[len(c)+1:]
				if _, dup := cd.cells[idx]; !dup {
					cd.order = append(cd.order, idx)
				}
				cd.cells[idx] = p
				break
			}
		}
	}
	return d
}

// value returns the varbind of oid: a scalar when table is false, else the
// cell of row idx in column oid.
func (d profileData) value(table bool, oid OID, idx string) (gosnmp.SnmpPDU, bool) {
	if oid == "" {
		return gosnmp.SnmpPDU{}, false
	}
	if !table {
		p, ok := d.scalars[string(oid)]
		return p, ok
	}
	c := d.cols[string(oid)]
	if c == nil {
		return gosnmp.SnmpPDU{}, false
	}
	p, ok := c.cells[idx]
	return p, ok
}

// rows returns the row indexes of a spec: those of its first column that
// has any, in increasing OID order, minus rows whose require column is
// zero or missing. A scalar spec has one row, "".
func (d profileData) rows(table bool, r Rows, require OID, cols ...OID) []string {
	if !table {
		return []string{""}
	}
	var idx []string
	seen := map[string]bool{}
	for _, c := range cols {
		cd := d.cols[string(c)]
		if c == "" || cd == nil {
			continue
		}
		for _, i := range cd.order {
			if !seen[i] {
				seen[i] = true
				idx = append(idx, i)
			}
		}
	}
	slices.SortFunc(idx, func(a, b string) int { return compareOID("."+a, "."+b) })
	kept := idx[:0]
	for _, i := range idx {
		if r.IndexMatch != nil && !r.IndexMatch.MatchString(i) {
			continue
		}
		if r.Where != nil {
			p, ok := d.value(true, r.Where.Column, i)
			if !ok || !r.Where.Match.MatchString(identityText(p)) {
				continue
			}
		}
		if require != "" {
			p, ok := d.value(true, require, i)
			if !ok {
				continue
			}
			if v, ok := pduFloat(p); !ok || v == 0 {
				continue
			}
		}
		kept = append(kept, i)
	}
	return kept
}

// pduFloat reads a number from a numeric varbind, or from an OCTET STRING
// holding a decimal number (some vendors report loads as text).
func pduFloat(p gosnmp.SnmpPDU) (float64, bool) {
	if p.Type == gosnmp.OctetString {
		s := strings.TrimSpace(strings.TrimRight(pduString(p), "%"))
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	if p.Type == gosnmp.Counter64 || p.Type == gosnmp.Counter32 || p.Type == gosnmp.Gauge32 || p.Type == gosnmp.TimeTicks || p.Type == gosnmp.Uinteger32 {
		u, ok := pduUint(p)
		return float64(u), ok
	}
	i, ok := pduInt(p)
	return float64(i), ok
}

// rowName names a row: the name column, then the entity named by the
// name_entity column, then the template with {index} filled in.
func (d profileData) rowName(table bool, r Rows, nameCol, nameEnt OID, tmpl, idx string, ents map[int]string, fallback string) string {
	if p, ok := d.value(table, nameCol, idx); ok {
		if s := pduString(p); s != "" {
			return s
		}
	}
	if p, ok := d.value(table, nameEnt, idx); ok {
		if n, ok := pduInt(p); ok {
			if s := ents[int(n)]; s != "" {
				return s
			}
		}
	}
	if r.IndexEntity {
		first, _, _ := strings.Cut(idx, ".")
		if n, ok := parseIndex1(first); ok && ents[n] != "" {
			return ents[n]
		}
	}
	if tmpl == "" {
		tmpl = fallback
	}
	if idx == "" {
		return strings.ReplaceAll(tmpl, " {index}", "")
	}
	return strings.ReplaceAll(tmpl, "{index}", idx)
}

func entityNames(ents []Entity) map[int]string {
	m := make(map[int]string, len(ents))
	for _, e := range ents {
		switch {
		case e.Name != "":
			m[e.Index] = e.Name
		case e.Descr != "":
			m[e.Index] = e.Descr
		}
	}
	return m
}

// decodeProfileCPU reads the profile's CPU specs. A fallback spec counts
// only when the specs before it found nothing.
func decodeProfileCPU(p *Profile, d profileData, ents map[int]string, standard int) []CPU {
	var out []CPU
	for _, s := range p.CPU {
		if s.Fallback && len(out)+standard > 0 {
			continue
		}
		div := s.Divisor
		if div == 0 {
			div = 1
		}
		for _, idx := range d.rows(s.Table, s.Rows, s.Require, s.OID) {
			pdu, ok := d.value(s.Table, s.OID, idx)
			if !ok {
				continue
			}
			v, ok := pduFloat(pdu)
			if s.ValueRegexp != nil {
				v, ok = regexpFloat(s.ValueRegexp, pduString(pdu))
			}
			if skipValue(s.SkipValues, v) {
				continue
			}
			if s.Idle {
				v = 100*div - v
			}
			if !ok || v < 0 {
				continue
			}
			out = append(out, CPU{
				Name:    d.rowName(s.Table, s.Rows, s.NameColumn, s.NameEntity, s.Name, idx, ents, "cpu {index}"),
				Percent: v / div,
			})
		}
	}
	return out
}

// decodeProfileMemory reads the profile's memory specs.
func decodeProfileMemory(p *Profile, d profileData, ents map[int]string, standard int) []Memory {
	var out []Memory
	for _, s := range p.Memory {
		if s.Fallback && len(out)+standard > 0 {
			continue
		}
		units := s.Units
		if units == 0 {
			units = 1
		}
		class := s.Class
		if class == "" {
			class = "system"
		}
		for _, idx := range d.rows(s.Table, s.Rows, s.Require, s.Used, s.Free, s.Total, s.Percent) {
			get := func(o OID) (float64, bool) {
				pdu, ok := d.value(s.Table, o, idx)
				if !ok {
					return 0, false
				}
				v, ok := pduFloat(pdu)
				return v, ok && v >= 0
			}
			u, hasU := get(s.Used)
			f, hasF := get(s.Free)
			t, hasT := get(s.Total)
			pc, hasPc := get(s.Percent)
			if s.PercentDivisor > 0 {
				pc /= s.PercentDivisor
			}
			if s.TotalBytes > 0 && !hasT {
				t, hasT = float64(s.TotalBytes)/float64(units), true
			}
			if (hasPc && skipValue(s.SkipValues, pc)) || (hasU && skipValue(s.SkipValues, u)) {
				continue
			}
			n := float64(units)
			m, ok := memoryOf(u*n, hasU, f*n, hasF, t*n, hasT, pc, hasPc)
			if !ok {
				continue
			}
			m.Name = d.rowName(s.Table, s.Rows, s.NameColumn, s.NameEntity, s.Name, idx, ents, "memory {index}")
			m.Class = class
			out = append(out, m)
		}
	}
	return out
}

// memoryOf completes a pool from what the device gave: any two of used,
// free and total give the third, percent and total give used, and percent
// alone is kept without byte counts.
func memoryOf(used float64, hasUsed bool, free float64, hasFree bool, total float64, hasTotal bool, pct float64, hasPct bool) (Memory, bool) {
	switch {
	case hasUsed && hasTotal:
	case hasUsed && hasFree:
		total = used + free
	case hasFree && hasTotal:
		if free > total {
			return Memory{}, false
		}
		used = total - free
	case hasPct && hasTotal:
		used = math.Round(total * pct / 100)
	case hasPct:
		return Memory{Percent: pct}, pct <= 100
	default:
		return Memory{}, false
	}
	if total <= 0 || used > total || total > math.MaxUint64/2 {
		return Memory{}, false
	}
	return Memory{UsedBytes: uint64(used), TotalBytes: uint64(total), Percent: used / total * 100}, true
}

// decodeProfileSensors reads the profile's sensor specs. Rows whose status
// maps to absent (hardware not fitted) are left out.
func decodeProfileSensors(p *Profile, d profileData, ents map[int]string) []Sensor {
	var out []Sensor
	for _, s := range p.Sensors {
		div := s.Divisor
		if div == 0 {
			div = 1
		}
		unit := s.Unit
		if unit == "" {
			unit = sensorClassUnits[s.Class]
		}
		for _, idx := range d.rows(s.Table, s.Rows, s.Require, s.Value, s.Status) {
			sn := Sensor{Class: s.Class, Unit: unit, Status: "unknown"}
			hasValue := false
			if pdu, ok := d.value(s.Table, s.Value, idx); ok {
				v, ok := pduFloat(pdu)
				if s.ValueRegexp != nil {
					v, ok = regexpFloat(s.ValueRegexp, pduText(pdu))
				}
				if ok && skipValue(s.SkipValues, v) {
					continue
				}
				if ok {
					v = d.scaled(s, idx, v)/div + s.Offset
					if (s.Min != nil && v < *s.Min) || (s.Max != nil && v > *s.Max) {
						continue
					}
					sn.Value, hasValue = v, true
				}
			}
			hasStatus := false
			if pdu, ok := d.value(s.Table, s.Status, idx); ok && !absent(pdu) {
				hasStatus = true
				if n, ok := pduInt(pdu); ok {
					if st, ok := s.StatusMap[n]; ok {
						sn.Status = st
					}
				} else if len(s.StatusText) > 0 {
					for k, st := range s.StatusText {
						if strings.EqualFold(k, pduText(pdu)) {
							sn.Status = st
						}
					}
				}
			}
			// A status-only sensor the agent does not answer for (a scalar
			// of a model without that part) is not there.
			if sn.Status == "absent" || (!hasValue && !hasStatus) {
				continue
			}
			sn.Name = d.rowName(s.Table, s.Rows, s.NameColumn, s.NameEntity, s.Name, idx, ents, s.Class+" {index}")
			if s.NameMatch != nil && !s.NameMatch.MatchString(sn.Name) {
				continue
			}
			out = append(out, sn)
		}
	}
	return out
}

// identity returns the first usable value among srcs and where it came
// from; when none gives one, the standard reading (std, from stdSrc).
func (p *Profile) identity(srcs []IdentitySource, d profileData, snap *Snapshot, std, stdSrc string) (string, string) {
	for _, s := range srcs {
		var v, src string
		switch {
		case s.OID != "":
			if pdu, ok := d.value(false, s.OID, ""); ok {
				v, src = identityText(pdu), "oid "+strings.TrimPrefix(string(s.OID), ".")
			}
		case s.Column != "":
			if cd := d.cols[string(s.Column)]; cd != nil {
				idx := slices.Clone(cd.order)
				slices.SortFunc(idx, compareOID)
				for _, i := range idx {
					if v = identityText(cd.cells[i]); v != "" {
						src = "column " + strings.TrimPrefix(string(s.Column), ".") + "." + i
						break
					}
				}
			}
		case s.Entity:
			v, src = std, stdSrc
		case s.EntityField != "" && len(s.EntityIndex) > 0:
			get := entityGetter(s.EntityField)
			for _, want := range s.EntityIndex {
				i, ok := slices.BinarySearchFunc(snap.Entities, want, func(e Entity, idx int) int { return e.Index - idx })
				if ok {
					if v = strings.TrimSpace(get(&snap.Entities[i])); v != "" && !placeholder(v) {
						src = "ENTITY-MIB " + s.EntityField + " of entity " + strconv.Itoa(want)
						break
					}
				}
			}
		case s.EntityField != "":
			var at int
			v, at = chassisValue(snap.Entities, entityGetter(s.EntityField))
			src = "ENTITY-MIB " + s.EntityField + " of entity " + strconv.Itoa(at)
		case s.ObjectID != nil:
			v, src = s.ObjectID[OID(normOID(snap.System.ObjectID))], "sysObjectID"
		case s.Descr != nil:
			if m := s.Descr.FindStringSubmatch(snap.System.Descr); m != nil {
				v, src = m[0], "sysDescr"
				if len(m) > 1 {
					v = m[1]
				}
			}
		case s.Value != "":
			v, src = s.Value, "fixed value"
		case s.Template != nil:
			v = s.Template.expand(func(o OID) string {
				if pdu, ok := d.value(false, o, ""); ok {
					return strings.TrimSpace(identityText(pdu))
				}
				return ""
			})
			src = "template"
		}
		v = strings.TrimSpace(v)
		if s.Match != nil && v != "" {
			m := s.Match.FindStringSubmatch(v)
			switch {
			case m == nil:
				v = ""
			case len(m) > 1:
				v = strings.TrimSpace(m[1])
			}
		}
		if name, ok := s.Map[v]; ok {
			v = name
		}
		for _, r := range s.Replace {
			v = strings.TrimSpace(r.Pattern.ReplaceAllString(v, r.With))
		}
		if !placeholder(v) {
			if !s.Entity {
				src = "profile " + p.Name + " " + src
			}
			return v, src
		}
	}
	return std, stdSrc
}

func entityGetter(field string) func(*Entity) string {
	switch field {
	case "descr":
		return func(e *Entity) string { return e.Descr }
	case "name":
		return func(e *Entity) string { return e.Name }
	case "serial":
		return func(e *Entity) string { return e.Serial }
	case "firmware":
		return func(e *Entity) string { return e.Firmware }
	}
	return func(e *Entity) string { return e.Model }
}

// applyProfile fills snap from the profile's data. Profile readings win
// over the standard MIBs' where both exist; where the profile found
// nothing, the standard readings already in snap stay.
func applyProfile(p *Profile, d profileData, snap *Snapshot) {
	ents := entityNames(snap.Entities)
	if cpu := decodeProfileCPU(p, d, ents, len(snap.CPU)); len(cpu) > 0 {
		snap.CPU = cpu
		snap.Sources["cpu"] = "profile " + p.Name
	}
	if mem := decodeProfileMemory(p, d, ents, len(snap.Memory)); len(mem) > 0 {
		snap.Memory = mem
		snap.Sources["memory"] = "profile " + p.Name
	}
	snap.Sensors = append(snap.Sensors, decodeProfileSensors(p, d, ents)...)
	snap.Neighbors = append(snap.Neighbors, decodeProfileNeighbors(p, d, snap.Interfaces)...)
	ident := func(key string, srcs []IdentitySource, v *string, field string) {
		stdSrc := ""
		if *v != "" {
			_, at := chassisValue(snap.Entities, entityGetter(field))
			stdSrc = "ENTITY-MIB " + field + " of entity " + strconv.Itoa(at)
		}
		var src string
		if *v, src = p.identity(srcs, d, snap, *v, stdSrc); src != "" {
			snap.Sources[key] = src
		}
	}
	entityModel := snap.Model // ENTITY-MIB's, before the profile's
	ident("model", p.Model, &snap.Model, "model")
	ident("serial", p.Serial, &snap.Serial, "serial")
	ident("firmware", p.Firmware, &snap.Firmware, "firmware")
	var src string
	if snap.PartNumber, src = p.identity(p.PartNumber, d, snap, "", ""); src != "" {
		snap.Sources["part_number"] = src
	} else if partNumber(entityModel) && Normalize(entityModel) != Normalize(snap.Model) {
		// The profile named the model; what ENTITY-MIB called the model
		// is the part number.
		snap.PartNumber = entityModel
		_, at := chassisValue(snap.Entities, entityGetter("model"))
		snap.Sources["part_number"] = "ENTITY-MIB model of entity " + strconv.Itoa(at)
	}
}

// partNumber tells an orderable part number from a placeholder: one word
// of 4 to 40 characters with a digit in it.
func partNumber(s string) bool {
	return len(s) >= 4 && len(s) <= 40 && !strings.ContainsAny(s, " \t") && strings.ContainsAny(s, "0123456789")
}

// Normalize folds case and punctuation, so that "WS-C2960X-48FPS-L" and
// "ws c2960x 48fps l" compare equal.
func Normalize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// identityText is a varbind as identity text: strings as they are, numbers
// (an INTEGER enum naming a model) in decimal, for match and replace to map.
func identityText(p gosnmp.SnmpPDU) string {
	if v := pduString(p); v != "" || p.Type == gosnmp.OctetString {
		return v
	}
	if p.Type == gosnmp.Integer {
		if n, ok := pduInt(p); ok {
			return strconv.FormatInt(n, 10)
		}
	}
	if n, ok := pduUint(p); ok {
		return strconv.FormatUint(n, 10)
	}
	return ""
}

// skipValue reports whether v is one of the raw values that mean "no
// reading".
func skipValue(skip []float64, v float64) bool { return slices.Contains(skip, v) }

// column is the filter's column, or "" without a filter.
func (w *Where) column() OID {
	if w == nil {
		return ""
	}
	return w.Column
}

// regexpFloat parses group 1 (or the whole match) of re in s.
func regexpFloat(re *Regexp, s string) (float64, bool) {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	v := m[0]
	if len(m) > 1 {
		v = m[1]
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

// scaled applies the row's scale and precision columns, when the spec
// names them, to the raw value v. A precision outside 0..9 is an agent
// bug (some Cisco agents report 1615384784) and is ignored.
func (d profileData) scaled(s SensorSpec, idx string, v float64) float64 {
	scale, prec := 9, 0 // units, no decimals
	if p, ok := d.value(s.Table, s.Scale, idx); ok {
		if n, ok := pduInt(p); ok {
			scale = int(n)
		}
	}
	if p, ok := d.value(s.Table, s.Precision, idx); ok {
		if n, ok := pduInt(p); ok && n >= 0 && n <= 9 {
			prec = int(n)
		}
	}
	exp := 0
	if scale > 0 && scale < len(sensorScaleExp) {
		exp = sensorScaleExp[scale]
	}
	if e := exp - prec; e < 0 {
		return v / math.Pow10(-e)
	}
	return v * math.Pow10(exp-prec)
}

// pduText is an OCTET STRING as its bytes, not hex-encoded when they are
// not UTF-8 (as pduString does), so that value_regexp can read the number
// out of text carrying a non-ASCII unit (" 61\xa2XC", a degree sign in a
// legacy code page).
func pduText(p gosnmp.SnmpPDU) string {
	switch v := p.Value.(type) {
	case []byte:
		return strings.Trim(string(v), " \t\r\n\x00")
	case string:
		return strings.Trim(v, " \t\r\n\x00")
	}
	return ""
}
