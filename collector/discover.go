package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"
	"gopkg.in/yaml.v3"

	"github.com/nocagent/nocagent/inventory"
)

// DefaultMaxDiscover caps how many addresses one discovery scans: a /16.
// A larger sweep is a mistake more often than a plan, and a slow one.
const DefaultMaxDiscover = 1 << 16

// DiscoverOptions tune Discover.
type DiscoverOptions struct {
	// Port is the SNMP port probed on every address; 0 means 161.
	Port uint16
	// Workers bounds how many addresses are probed at once; 0 means 64.
	Workers int
	// Timeout is how long one address gets to answer; 0 means 1s. Most
	// addresses of a range never answer, so this sets the scan's pace.
	Timeout time.Duration
	// Retries is how often an unanswered probe is re-sent.
	Retries int
	// Progress, when set, is called after each address, serially.
	Progress func(done, total int)
	// AllowNonLoopback lets ranges outside 127.0.0.0/8 and ::1 be scanned.
	AllowNonLoopback bool
	// MaxAddresses caps the addresses of all ranges; 0 means
	// DefaultMaxDiscover.
	MaxAddresses int
}

// Discovered is one device that answered.
type Discovered struct {
	Address     string `json:"address"` // as written in the inventory: IP, or IP:port off 161
	SysName     string `json:"sys_name"`
	SysDescr    string `json:"sys_descr"`
	SysObjectID string `json:"sys_object_id"`
	Vendor      string `json:"vendor"`
	OS          string `json:"os"`
	Model       string `json:"model"`
	Serial      string `json:"serial"`
	Role        string `json:"role"` // a guess: see GuessRole
}

// ErrRange is returned, wrapped, for a range Discover will not scan.
var ErrRange = errors.New("bad discovery range")

// DiscoverTargets expands ranges (CIDR prefixes or single addresses) into
// the addresses to probe, in order, without duplicates. IPv4 network and
// broadcast addresses of prefixes shorter than /31 are left out.
func DiscoverTargets(ranges []string, allowNonLoopback bool, maxAddrs int) ([]netip.Addr, error) {
	if maxAddrs <= 0 {
		maxAddrs = DefaultMaxDiscover
	}
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, r := range ranges {
		p, err := parseRange(r)
		if err != nil {
			return nil, err
		}
		if !allowNonLoopback && !loopbackPrefix(p) {
			return nil, fmt.Errorf("%w: %s is not a loopback range (127.0.0.0/8 or ::1); scanning other networks needs --allow-non-loopback", ErrRange, r)
		}
		size := new(big.Int).Lsh(big.NewInt(1), uint(p.Addr().BitLen()-p.Bits()))
		if size.Cmp(big.NewInt(int64(maxAddrs))) > 0 || len(out)+int(size.Int64()) > maxAddrs {
			return nil, fmt.Errorf("%w: %s would make %s addresses to scan, more than the limit of %d (a /16 of IPv4): split the range", ErrRange, r, totalAfter(len(out), size), maxAddrs)
		}
		skipEnds := p.Addr().Is4() && p.Bits() < 31
		last := lastAddr(p)
		for a := p.Addr(); p.Contains(a); a = a.Next() {
			if !(skipEnds && (a == p.Addr() || a == last)) && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
			if a == last {
				break
			}
		}
	}
	return out, nil
}

func totalAfter(have int, size *big.Int) string {
	return new(big.Int).Add(size, big.NewInt(int64(have))).String()
}

func parseRange(r string) (netip.Prefix, error) {
	r = strings.TrimSpace(r)
	if strings.Contains(r, "/") {
		p, err := netip.ParsePrefix(r)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%w: %q: want a CIDR prefix such as 127.0.0.0/29 or an address", ErrRange, r)
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-(p.Addr().BitLen()-p.Addr().Unmap().BitLen())).Masked(), nil
	}
	a, err := netip.ParseAddr(r)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%w: %q: want a CIDR prefix such as 127.0.0.0/29 or an address", ErrRange, r)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

var loopback4 = netip.MustParsePrefix("127.0.0.0/8")

func loopbackPrefix(p netip.Prefix) bool {
	if p.Addr().Is4() {
		return p.Bits() >= 8 && loopback4.Contains(p.Addr())
	}
	return p.Bits() == 128 && p.Addr() == netip.IPv6Loopback()
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

const oidSysServicesDiscover = ".1.3.6.1.2.1.1.7.0"

// Discover probes every address of ranges with cred, a bounded number at a
// time, and returns the devices that answered, in address order. An
// address that does not answer is skipped silently; only a bad range or a
// cancelled ctx is an error (with what was found so far).
func Discover(ctx context.Context, ranges []string, cred inventory.Credential, opts DiscoverOptions) ([]Discovered, error) {
	addrs, err := DiscoverTargets(ranges, opts.AllowNonLoopback, opts.MaxAddresses)
	if err != nil {
		return nil, err
	}
	if opts.Port == 0 {
		opts.Port = DefaultPort
	}
	if opts.Workers <= 0 {
		opts.Workers = 64
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	// Validate the credential once, not once per address.
	if err := applyCredential(&gosnmp.GoSNMP{}, cred); err != nil {
		return nil, err
	}
	found := make([]*Discovered, len(addrs))
	jobs := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for range min(opts.Workers, len(addrs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				found[i] = probe(ctx, addrs[i], cred, opts)
				mu.Lock()
				done++
				if opts.Progress != nil {
					opts.Progress(done, len(addrs))
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range addrs {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	out := make([]Discovered, 0, 8)
	for _, d := range found {
		if d != nil {
			out = append(out, *d)
		}
	}
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("discovery stopped after %d of %d addresses: %w", done, len(addrs), err)
	}
	return out, nil
}

// probe asks one address for its system group and ENTITY-MIB chassis;
// nil when it does not answer.
func probe(ctx context.Context, a netip.Addr, cred inventory.Credential, opts DiscoverOptions) *Discovered {
	if ctx.Err() != nil {
		return nil
	}
	target := netip.AddrPortFrom(a, opts.Port).String()
	s, err := Dial(ctx, target, cred, SessionOptions{Timeout: opts.Timeout, Retries: opts.Retries})
	if err != nil {
		return nil
	}
	defer s.Close()
	pdus, err := s.Get(ctx, append(slices.Clone(systemOIDs), oidSysServicesDiscover))
	if err != nil {
		return nil
	}
	sys, ok := decodeSystem(pdus)
	if !ok {
		return nil
	}
	services := 0
	for _, p := range pdus {
		if normOID(p.Name) == oidSysServicesDiscover && !absent(p) {
			n, _ := pduInt(p)
			services = int(n)
		}
	}
	d := &Discovered{
		Address: a.String(), SysName: sys.Name, SysDescr: sys.Descr, SysObjectID: sys.ObjectID,
		Vendor: vendorFromObjectID(sys.ObjectID),
	}
	if opts.Port != DefaultPort {
		d.Address = target
	}
	d.OS = guessOS(d.Vendor, sys.Descr)
	var ents []gosnmp.SnmpPDU
	// A device without ENTITY-MIB is still a device: model and serial stay
	// empty and the poller's profiles may find them later.
	if err := s.Walk(ctx, entityRoots, func(p gosnmp.SnmpPDU) error {
		ents = append(ents, p)
		return nil
	}); err == nil || len(ents) > 0 {
		_, d.Model, d.Serial, _ = decodeEntities(ents)
	}
	d.Role = GuessRole(d.Vendor, d.OS, d.SysDescr, services)
	return d
}

// Role hints, checked in order: a firewall also routes, and a layer 3
// switch also routes, so the most specific kind wins.
var (
	firewallVendors = []string{"fortinet", "paloalto", "checkpoint", "sonicwall", "sophos", "pfsense", "hillstone", "sangfor"}
	firewallOSes    = []string{"asa", "ftd", "fortios", "panos", "gaia", "sonicos", "sfos", "pfsense"}
	routerOSes      = []string{"iosxr", "routeros", "timos", "ironware", "edgeos"}
	firewallWords   = regexp.MustCompile(`(?i)\b(firewall|srx\d\w*|adaptive security|firepower|fortigate|utm)\b`)
	switchWords     = regexp.MustCompile(`(?i)\b(switch|swch|catalyst|nexus|qfx\d\w*|ex\d{4}\w*|procurve|edgeswitch|bridge)\b`)
	routerWords     = regexp.MustCompile(`(?i)\b(router|routing platform|asr\d\w*|isr\d\w*|mx\d+\w*|ptx\d\w*|edgerouter)\b`)
)

// GuessRole guesses an inventory role from what a device says about itself:
// firewall vendors and OSes are firewalls; routers (by OS, sysDescr, or
// sysServices offering layer 3 without layer 2) sit at the edge; switches,
// and anything unknown, are access. The guess is for a person to review:
// telling core from edge or distribution from access takes knowing the
// network.
func GuessRole(vendor, os, descr string, sysServices int) string {
	const (
		layer2 = 1 << 1 // datalink/subnetwork
		layer3 = 1 << 2 // internet
	)
	switch {
	case slices.Contains(firewallVendors, vendor), slices.Contains(firewallOSes, os), firewallWords.MatchString(descr):
		return inventory.RoleFirewall
	case switchWords.MatchString(descr):
		return inventory.RoleAccess
	case slices.Contains(routerOSes, os), routerWords.MatchString(descr), sysServices&layer3 != 0 && sysServices&layer2 == 0:
		return inventory.RoleEdge
	}
	return inventory.RoleAccess
}

// MergeInventory adds the discovered devices to an inventory YAML document
// and returns the new document and the devices added. Existing entries,
// comments and every other section are kept as they are; a discovered
// device whose address (IP and port) is already listed is skipped, and one
// whose name is taken gets its address appended to the name. data may be
// empty: the result is then a devices-only fragment. Model and serial go
// in a comment on each new entry, since the inventory has no field for
// them (the poller reads them on every poll).
func MergeInventory(data []byte, found []Discovered, credential string) ([]byte, []inventory.Device, error) {
	var doc yaml.Node
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, nil, fmt.Errorf("merge inventory: %w", err)
		}
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, errors.New("merge inventory: the file is not a YAML mapping of sections")
	}
	root := doc.Content[0]
	var devices *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "devices" {
			devices = root.Content[i+1]
		}
	}
	if devices == nil || (devices.Kind == yaml.ScalarNode && devices.Tag == "!!null") {
		if devices == nil {
			devices = &yaml.Node{}
			root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "devices"}, devices)
		}
		*devices = yaml.Node{Kind: yaml.SequenceNode}
	}
	if devices.Kind != yaml.SequenceNode {
		return nil, nil, fmt.Errorf("merge inventory: line %d: devices is not a list", devices.Line)
	}
	names, addrs := map[string]bool{}, map[string]bool{}
	for _, n := range devices.Content {
		var d inventory.Device
		if err := n.Decode(&d); err != nil {
			return nil, nil, fmt.Errorf("merge inventory: line %d: %w", n.Line, err)
		}
		names[strings.ToLower(d.Name)] = true
		if a, err := inventory.NormalizeAddress(d.Address); err == nil {
			addrs[a] = true
		}
	}
	var added []inventory.Device
	for _, f := range found {
		addr, err := inventory.NormalizeAddress(f.Address)
		if err != nil || addrs[addr] {
			continue
		}
		name := deviceName(f, names)
		names[strings.ToLower(name)] = true
		addrs[addr] = true
		d := inventory.Device{Name: name, Address: f.Address, Credential: credential, Role: f.Role}
		var n yaml.Node
		if err := n.Encode(d); err != nil {
			return nil, nil, fmt.Errorf("merge inventory: device %s: %w", name, err)
		}
		n.HeadComment = discoveredComment(f)
		devices.Content = append(devices.Content, &n)
		added = append(added, d)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, nil, fmt.Errorf("merge inventory: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, nil, fmt.Errorf("merge inventory: %w", err)
	}
	return buf.Bytes(), added, nil
}

func discoveredComment(f Discovered) string {
	var parts []string
	for _, p := range []string{f.Vendor, f.OS, f.Model} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if f.Serial != "" {
		parts = append(parts, "serial "+f.Serial)
	}
	parts = append(parts, "role guessed: "+f.Role)
	return "discovered: " + strings.Join(parts, ", ")
}

var badNameChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// deviceName makes an inventory name from sysName (domain dropped),
// falling back to the address, and unique against taken.
func deviceName(f Discovered, taken map[string]bool) string {
	host := f.Address
	if ap, err := netip.ParseAddrPort(f.Address); err == nil {
		host = ap.Addr().String()
		if ap.Port() != DefaultPort {
			host += "-" + strconv.Itoa(int(ap.Port()))
		}
	}
	fromAddr := "dev-" + badNameChars.ReplaceAllString(strings.NewReplacer(".", "-", ":", "-").Replace(host), "-")
	name := f.SysName
	if _, err := netip.ParseAddr(name); err != nil {
		if i := strings.IndexByte(name, '.'); i > 0 {
			name = name[:i]
		}
	}
	name = strings.Trim(badNameChars.ReplaceAllString(name, "-"), "-._")
	if len(name) > 100 {
		name = name[:100]
	}
	if name == "" {
		name = fromAddr
	}
	if taken[strings.ToLower(name)] {
		name = strings.TrimSuffix(name+"-"+strings.TrimPrefix(fromAddr, "dev-"), "-")
	}
	base := name
	for i := 2; taken[strings.ToLower(name)]; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return name
}
