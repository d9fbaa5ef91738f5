package collector

import "strings"

// A first, table-driven guess at vendor and OS. Vendor profiles (issue to
// come) will replace it with per-vendor MIBs; keep this small.

// enterpriseVendors maps the IANA enterprise number under 1.3.6.1.4.1 in
// sysObjectID to a vendor.
var enterpriseVendors = map[int]string{
	9:     "cisco",
	11:    "hpe",
	45:    "extreme", // Avaya/Nortel ERS, VOSS
	171:   "dlink",
	207:   "alliedtelesis",
	259:   "edgecore",
	674:   "dell",
	1916:  "extreme",
	1991:  "extreme", // Brocade/Foundry IronWare
	2011:  "huawei",
	2272:  "extreme",
	2604:  "sophos",
	2620:  "checkpoint",
	2636:  "juniper",
	3902:  "zte",
	4413:  "ubiquiti",
	4881:  "ruijie",
	6027:  "dell",
	6486:  "alcatel-lucent",
	6527:  "nokia",
	8072:  "net-snmp",
	8741:  "sonicwall",
	11863: "tp-link",
	12325: "pfsense",
	12356: "fortinet",
	14988: "mikrotik",
	25461: "paloalto",
	25506: "h3c",
	30065: "arista",
	35265: "eltex",
	40310: "cumulus",
	41112: "ubiquiti",
	47196: "aruba",
}

const enterprisesPrefix = "1.3.6.1.4.1."

// vendorFromObjectID returns the vendor of a sysObjectID (dotted, with or
// without a leading dot), or "" when the enterprise is not known.
func vendorFromObjectID(oid string) string {
	oid = strings.TrimPrefix(oid, ".")
	if !strings.HasPrefix(oid, enterprisesPrefix) {
		return ""
	}
	n, _, ok := parseArc(oid[len(enterprisesPrefix):])
	if !ok {
		return ""
	}
	return enterpriseVendors[n]
}

// osRule: if sysDescr contains any of match (case-insensitive) and the
// vendor fits (empty = any), the OS is os. The first rule that fits wins,
// so specific rules come before general ones.
type osRule struct {
	vendor string
	match  []string
	os     string
}

var osRules = []osRule{
	{"", []string{"adaptive security appliance"}, "asa"},
	{"", []string{"firepower threat defense"}, "ftd"},
	{"", []string{"nx-os"}, "nxos"},
	{"", []string{"ios xr", "ios-xr"}, "iosxr"},
	{"", []string{"ios-xe", "ios xe", "iosd", "cisco ios software ["}, "iosxe"},
	{"", []string{"cisco ios", "cisco internetwork operating system"}, "ios"},
	{"", []string{"junos"}, "junos"},
	{"juniper", nil, "junos"},
	{"", []string{"arista networks eos"}, "eos"},
	{"", []string{"versatile routing platform", "vrp (r) software"}, "vrp"},
	{"", []string{"comware"}, "comware"},
	{"fortinet", nil, "fortios"},
	{"", []string{"fortigate", "fortios"}, "fortios"},
	{"paloalto", nil, "panos"},
	{"", []string{"palo alto networks"}, "panos"},
	{"", []string{"routeros"}, "routeros"},
	{"mikrotik", nil, "routeros"},
	{"", []string{"sonicos", "sonicwall"}, "sonicos"},
	{"", []string{"arubaos-cx"}, "arubaos-cx"},
	{"aruba", nil, "arubaos-cx"},
	{"", []string{"procurve", "hp j"}, "procurve"},
	{"", []string{"timos"}, "timos"},
	{"", []string{"ironware"}, "ironware"},
	{"", []string{"networking os10"}, "os10"},
	{"", []string{"dell emc networking os"}, "dnos"},
	{"", []string{"edgeos"}, "edgeos"},
	{"", []string{"edgeswitch"}, "edgeswitch"},
	{"", []string{"cumulus linux"}, "cumulus"},
	{"", []string{"pfsense"}, "pfsense"},
	{"", []string{"zxr10"}, "zxr10"},
	{"checkpoint", nil, "gaia"},
	{"sophos", nil, "sfos"},
	{"", []string{"freebsd"}, "freebsd"},
	{"", []string{"linux"}, "linux"},
	{"", []string{"windows"}, "windows"},
}

// guessOS returns the OS family a sysDescr (and vendor) points to, or "".
func guessOS(vendor, descr string) string {
	d := strings.ToLower(descr)
	for _, r := range osRules {
		if r.vendor != "" && r.vendor != vendor {
			continue
		}
		if r.match == nil {
			return r.os
		}
		for _, m := range r.match {
			if strings.Contains(d, m) {
				return r.os
			}
		}
	}
	return ""
}
