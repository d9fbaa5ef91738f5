package collector

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/nocagent/nocagent/inventory"
)

// PollOptions tune one poll.
type PollOptions struct {
	Session SessionOptions
	// Now stamps Snapshot.Time and measures PollDuration; nil means
	// time.Now.
	Now func() time.Time
	// Profiles chooses how to read each device; nil means the built-in
	// profiles.
	Profiles *ProfileSet
	// Previous is the device's last reachable Snapshot, or nil. What it
	// proves unchanged is not asked for again (see reuse.go).
	Previous *Snapshot
}

func (o PollOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Poll polls one device once and always returns a Snapshot. A device that
// does not answer the system group comes back with Reachable false and the
// reason in Errors; a table that fails adds to Errors and the rest goes on.
// ctx's deadline is the poll's time budget.
func Poll(ctx context.Context, target string, cred inventory.Credential, opts PollOptions) *Snapshot {
	start := opts.now()
	snap := newSnapshot(target, start)
	s, err := Dial(ctx, target, cred, opts.Session)
	if err != nil {
		snap.Errors = append(snap.Errors, err.Error())
		snap.PollDuration = opts.now().Sub(start)
		return snap
	}
	defer s.Close()
	snap.Target = s.Target()
	collectWith(ctx, s, snap, opts.Profiles, opts.Previous)
	snap.PDUs = s.PDUs()
	snap.PollDuration = opts.now().Sub(start)
	return snap
}

func newSnapshot(target string, now time.Time) *Snapshot {
	return &Snapshot{
		Target:     target,
		Time:       now,
		Entities:   []Entity{},
		Interfaces: []Interface{},
		CPU:        []CPU{},
		Memory:     []Memory{},
		Sensors:    []Sensor{},
		Neighbors:  []Neighbor{},
		BGPPeers:   []BGPPeer{},
		Errors:     []string{},
		Sources:    map[string]string{},
		Modules:    []ModuleStatus{},
	}
}

// module is one group of tables walked together and decoded at once.
type module struct {
	name   string
	roots  []string
	decode func(snap *Snapshot, pdus []gosnmp.SnmpPDU)
	// skip, when set, says the module cannot have data for this device.
	skip func(snap *Snapshot, p *Profile) bool
	// more, when set, names further roots worth a walk once the first
	// walk is in; their varbinds join it before decode.
	more func(snap *Snapshot, pdus []gosnmp.SnmpPDU) []string
	// since, when set, replaces roots and decode where the previous poll
	// of the device proves part of the answer unchanged.
	since func(snap, prev *Snapshot) (roots []string, decode func(*Snapshot, []gosnmp.SnmpPDU))
}

var entityBGPRoots = append(slices.Clip(entityRoots), bgpRoots...)

// modules run in order: sensors need entity names, neighbours need
// interface names. The vendor profile's columns join the host-resources
// walk (see collect), so a profile costs no request of its own.
var modules = []module{
	{name: "interfaces", roots: interfaceRoots, decode: func(s *Snapshot, p []gosnmp.SnmpPDU) {
		s.Interfaces = decodeInterfaces(p)
	}, since: interfacesSince},
	// BGP4-MIB rides along with ENTITY-MIB, which every device is asked
	// for: most devices have no BGP, and their BGP columns end in the
	// walk's first answer instead of costing a request of their own.
	{name: "entity+bgp", roots: entityBGPRoots, decode: func(s *Snapshot, p []gosnmp.SnmpPDU) {
		s.Entities, s.Model, s.Serial, s.Firmware = decodeEntities(p)
		s.entityWalked = s.Time
		s.BGPPeers = decodeBGP(p)
	}, since: entitiesSince},
	{name: "sensors", roots: sensorRoots, decode: func(s *Snapshot, p []gosnmp.SnmpPDU) {
		s.Sensors = decodeSensors(p, s.Entities)
	}, skip: func(s *Snapshot, p *Profile) bool { return len(s.Entities) == 0 || p.skips("entity-sensor") }},
	{name: "host-resources", roots: hostResourcesRoots, decode: func(s *Snapshot, p []gosnmp.SnmpPDU) {
		s.CPU = decodeCPU(p)
		s.Memory = decodeStorage(p)
	}, skip: func(_ *Snapshot, p *Profile) bool { return p.skips("host-resources") }},
	{name: "lldp", roots: lldpRoots, decode: func(s *Snapshot, p []gosnmp.SnmpPDU) {
		s.Neighbors = append(s.Neighbors, decodeLLDP(p, s.Interfaces)...)
	}, skip: func(_ *Snapshot, p *Profile) bool { return p.skips("lldp") },
		more: func(s *Snapshot, p []gosnmp.SnmpPDU) []string {
			if lldpNeedsBridge(p, s.Interfaces) {
				return []string{oidDot1dBasePortIfIndex}
			}
			return nil
		}},
	{name: "cdp", roots: cdpRoots, decode: func(s *Snapshot, p []gosnmp.SnmpPDU) {
		s.Neighbors = append(s.Neighbors, decodeCDP(p, s.Interfaces)...)
	}, skip: func(_ *Snapshot, p *Profile) bool { return p.skips("cdp") }},
}

// moduleStatuses says, per module, how the poll went: what the device gave,
// what it lacks, and what failed. A device with no CPU or memory source is
// "unsupported" there, so the NOC can see which devices rules are blind to.
func moduleStatuses(snap *Snapshot, prof *Profile, walkErrs map[string]string) []ModuleStatus {
	st := func(module string, n int, walked []string, unsupported string) ModuleStatus {
		for _, w := range walked {
			if e, ok := walkErrs[w]; ok && n == 0 {
				return ModuleStatus{Module: module, Status: ModuleError, Reason: w + ": " + e}
			}
		}
		switch {
		case n > 0:
			return ModuleStatus{Module: module, Status: ModuleOK}
		case unsupported != "":
			return ModuleStatus{Module: module, Status: ModuleUnsupported, Reason: unsupported}
		}
		return ModuleStatus{Module: module, Status: ModuleEmpty}
	}
	skipped := func(module string) string {
		if prof.skips(module) {
			return "profile " + prof.Name + " skips " + module
		}
		return ""
	}
	none := "no reading from HOST-RESOURCES-MIB, UCD-SNMP-MIB or profile " + prof.Name
	return []ModuleStatus{
		{Module: "system", Status: ModuleOK},
		st("interfaces", len(snap.Interfaces), []string{"interfaces"}, ""),
		st("entity", len(snap.Entities), []string{"entity+bgp"}, ""),
		st("cpu", len(snap.CPU), []string{"host-resources", "profile"}, none),
		st("memory", len(snap.Memory), []string{"host-resources", "profile"}, none),
		st("sensors", len(snap.Sensors), []string{"sensors", "host-resources"}, ""),
		st("lldp", countProto(snap.Neighbors, "lldp"), []string{"lldp"}, skipped("lldp")),
		st("cdp", countProto(snap.Neighbors, "cdp"), []string{"cdp"}, skipped("cdp")),
	}
}

func countProto(ns []Neighbor, proto string) int {
	n := 0
	for _, x := range ns {
		if x.Protocol == proto {
			n++
		}
	}
	return n
}

// collect fills snap from w with the built-in profiles.
func collect(ctx context.Context, w walker, snap *Snapshot) {
	collectWith(ctx, w, snap, nil, nil)
}

// collectWith fills snap from w: the system group first, which decides
// reachability and the profile, together with the profile's scalars when
// they fit in the same request; then each module. The profile's columns
// are walked with HOST-RESOURCES-MIB in one multi-column walk.
func collectWith(ctx context.Context, w walker, snap *Snapshot, set *ProfileSet, prev *Snapshot) {
	if set == nil {
		set = BuiltinProfiles()
	}
	if snap.Sources == nil {
		snap.Sources = map[string]string{}
	}
	pdus, err := w.Get(ctx, systemOIDs)
	if err != nil {
		snap.Errors = append(snap.Errors, "system: "+err.Error())
		snap.Modules = append(snap.Modules, ModuleStatus{Module: "system", Status: ModuleError, Reason: err.Error()})
		return
	}
	walkErrs := map[string]string{}
	prof := set.generic
	defer func() { snap.Modules = moduleStatuses(snap, prof, walkErrs) }()
	snap.Reachable = true
	sys, ok := decodeSystem(pdus)
	if !ok {
		snap.Errors = append(snap.Errors, "system: agent returned no system group")
	}
	snap.System = sys
	snap.Vendor = vendorFromObjectID(sys.ObjectID)
	snap.OS = guessOS(snap.Vendor, sys.Descr)
	prof = set.Select(sys.ObjectID, sys.Descr)
	if probes := set.probes(); prof == set.generic && len(probes) > 0 {
		// Nothing fits by the system group: ask the vendor objects that
		// identify agents which leave it empty.
		if got, err := w.Get(ctx, probes); err == nil {
			prof = set.SelectProbed(func(oid string) bool {
				return slices.ContainsFunc(got, func(p gosnmp.SnmpPDU) bool { return p.Name == oid })
			})
		}
	}
	snap.Profile = prof.Name
	if prof.Vendor != "" {
		snap.Vendor = prof.Vendor
	}
	if prof.OS != "" {
		snap.OS = prof.OS
	}
	plan := prof.fetchPlan()

	// UCD-SNMP-MIB's scalars and ENTITY-MIB's entLastChangeTime ride in
	// the profile's GET.
	get := append(slices.Clip(plan.scalars), oidEntLastChangeTime)
	withUCD := !prof.skips("host-resources")
	if withUCD {
		get = append(get, ucdOIDs...)
	}
	var scalars []gosnmp.SnmpPDU
	answered := 0 // requests after the system group that came back
	if len(get) > 0 && ctx.Err() == nil {
		if scalars, err = w.Get(ctx, get); err != nil {
			snap.Errors = append(snap.Errors, "profile "+prof.Name+": "+err.Error())
			walkErrs["profile"] = err.Error()
		} else {
			answered++
		}
	}
	readEntLastChange(snap, scalars)

	buf := make([]gosnmp.SnmpPDU, 0, 256)
	var profWalked []gosnmp.SnmpPDU
	var pd *profileData
	// profileInterfaces adds the profile's vendor ports and names once
	// its columns are in, before neighbour tables resolve local ports.
	profileInterfaces := func() {
		if pd != nil {
			return
		}
		d := newProfileData(plan.columns, scalars, profWalked)
		pd = &d
		snap.Interfaces = decodeProfilePorts(prof, d, snap.Interfaces)
		renameInterfaces(prof, snap.Interfaces, snap.Entities)
	}
	for _, m := range modules {
		if m.name == "lldp" {
			profileInterfaces()
		}
		if err := ctx.Err(); err != nil {
			snap.Errors = append(snap.Errors, m.name+": poll deadline reached before this table: "+err.Error())
			walkErrs[m.name] = "poll deadline reached before this table"
			break
		}
		skip := m.skip != nil && m.skip(snap, prof)
		roots, decode := m.roots, m.decode
		if m.since != nil && prev != nil {
			if r, d := m.since(snap, prev); d != nil {
				roots, decode = r, d
			}
		}
		withProfile := m.name == "host-resources" && len(plan.columns) > 0
		if withProfile {
			if skip {
				roots = plan.columns
			} else {
				roots = append(slices.Clip(roots), plan.columns...)
			}
		} else if skip {
			continue
		}
		buf = buf[:0]
		err := w.Walk(ctx, roots, func(p gosnmp.SnmpPDU) error {
			buf = append(buf, p)
			return nil
		})
		if err != nil {
			snap.Errors = append(snap.Errors, m.name+": "+err.Error())
			walkErrs[m.name] = err.Error()
			// A walk that only hit a misordered column still read the
			// rest of the table; anything else may have cut rows off.
			if !errors.Is(err, errNotIncreasing) {
				continue
			}
		}
		answered++
		if m.more != nil && !skip {
			if extra := m.more(snap, buf); len(extra) > 0 {
				if err := w.Walk(ctx, extra, func(p gosnmp.SnmpPDU) error {
					buf = append(buf, p)
					return nil
				}); err != nil {
					snap.Errors = append(snap.Errors, m.name+": "+err.Error())
				}
			}
		}
		if !skip {
			decode(snap, buf)
		}
		if withProfile {
			profWalked = buf
			buf = make([]gosnmp.SnmpPDU, 0, 256)
		}
	}
	profileInterfaces()
	if answered == 0 && len(walkErrs) > 0 {
		// It answered the system group and then nothing more: it went
		// silent mid-poll (died, lost its uplink). Say so now rather than
		// a poll later, so that correlation sees it down together with
		// the devices behind it.
		snap.Reachable = false
		snap.Errors = append(snap.Errors, "device stopped answering after the system group")
		return
	}
	if len(snap.CPU) > 0 {
		snap.Sources["cpu"] = srcHostResources
	}
	if len(snap.Memory) > 0 {
		snap.Sources["memory"] = srcHostResources
	}
	if withUCD {
		decodeUCD(snap, scalars)
	}
	// Last, so that profile readings override the standard ones and
	// names can use entities; also after a deadline, with what came.
	applyProfile(prof, *pd, snap)
}
