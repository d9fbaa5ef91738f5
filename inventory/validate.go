package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/robfig/cron/v3"
)

// Customer tiers.
const (
	TierGold   = "gold"
	TierSilver = "silver"
	TierBronze = "bronze"
)

// SNMPv3 security levels.
const (
	NoAuthNoPriv = "noAuthNoPriv"
	AuthNoPriv   = "authNoPriv"
	AuthPriv     = "authPriv"
)

// Notifier kinds.
const (
	NotifierWebhook  = "webhook"
	NotifierEmail    = "email"
	NotifierWeCom    = "wecom"
	NotifierDingTalk = "dingtalk"
	NotifierSlack    = "slack"
	NotifierITSM     = "itsm"
)

// MinKeyLength is the shortest SNMPv3 auth or priv key RFC 3414 allows.
const MinKeyLength = 8

var (
	roles          = []string{RoleCore, RoleDistribution, RoleAccess, RoleEdge, RoleFirewall}
	tiers          = []string{TierGold, TierSilver, TierBronze}
	versions       = []string{SNMPv1, SNMPv2c, SNMPv3}
	securityLevels = []string{NoAuthNoPriv, AuthNoPriv, AuthPriv}
	authProtocols  = []string{"MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"}
	privProtocols  = []string{"DES", "AES", "AES192", "AES256", "AES192C", "AES256C"}
	notifierKinds  = []string{NotifierWebhook, NotifierEmail, NotifierWeCom, NotifierDingTalk, NotifierSlack, NotifierITSM}
)

// Names end up in URLs, metric labels and ticket fingerprints, so they are
// kept to characters that need no escaping anywhere.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

const nameRule = "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"

// Validate checks a Config, typically one built in code; Load and Parse call
// the same checks. It does not change c: call ApplyDefaults afterwards to fill
// in defaults and normalise addresses. Zero values that have a default are
// accepted. The error is ValidationErrors, located by field path only (and
// c.Path as the file, if set).
func (c *Config) Validate() error {
	r := &report{file: c.Path}
	c.validate(r)
	return r.result()
}

func (c *Config) validate(r *report) {
	c.validateAgent(r)
	c.validateInflux(r)
	c.validatePriority(r)
	c.validateStore(r)
	c.validatePlugins(r)
	creds := c.validateCredentials(r)
	customers := c.validateCustomers(r)
	sites := c.validateSites(r, customers)
	c.validateDevices(r, creds, customers, sites)
	c.validateRules(r)
	c.validateNotifiers(r)
}

func (c *Config) validateInflux(r *report) {
	x := c.Influx
	if x == nil {
		return
	}
	if u, err := url.Parse(x.URL); x.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.add("influx.url", "must be an http(s) URL such as http://127.0.0.1:8086")
	}
	if x.Org == "" {
		r.add("influx.org", "is required")
	}
	if x.Bucket == "" {
		r.add("influx.bucket", "is required")
	}
	if x.TokenFile != "" && x.TokenEnv != "" {
		r.add("influx.token_env", "give token_file or token_env, not both")
	}
	if x.BatchSize < 0 || x.SpoolMaxBytes < 0 || x.MemoryBuffer < 0 || x.FlushInterval < 0 {
		r.add("influx", "batch_size, flush_interval, spool_max_bytes and memory_buffer must not be negative")
	}
}

func (c *Config) validateStore(r *report) {
	if c.Store == "" {
		return
	}
	if u, err := url.Parse(c.Store); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		r.add("store", "want a PostgreSQL URL such as postgres://nocagent@db.example.com:5432/nocagent, or nothing for SQLite")
	}
}

func (c *Config) validatePlugins(r *report) {
	if rp := c.Remediation; rp != nil {
		modes := []string{"auto", "approval", "deny"}
		if rp.Default != "" && !slices.Contains(modes, rp.Default) {
			r.add("remediation.default", fmt.Sprintf("mode %q: want auto, approval or deny", rp.Default))
		}
		if rp.MaxPerDevicePerHour < 0 || rp.MaxPerHour < 0 {
			r.add("remediation", "limits must not be negative")
		}
		for i, ru := range rp.Rules {
			p := fmt.Sprintf("remediation.rules[%d]", i)
			if !slices.Contains(modes, ru.Mode) {
				r.add(p+".mode", fmt.Sprintf("mode %q: want auto, approval or deny", ru.Mode))
			}
			for _, a := range ru.Approvers {
				if a != "engineer" && a != "manager" {
					r.add(p+".approvers", fmt.Sprintf("approver %q: want engineer or manager", a))
				}
			}
		}
	}
	customers := map[string]bool{}
	for _, cu := range c.Customers {
		customers[cu.ID] = true
	}
	seen := map[string]string{}
	for i, ct := range c.Contracts {
		p := fmt.Sprintf("contracts[%d]", i)
		checkName(r, p+".id", ct.ID, "contract id", seen)
		if !customers[ct.Customer] {
			r.add(p+".customer", fmt.Sprintf("unknown customer %q", ct.Customer))
		}
		if ct.Schedule == "" {
			r.add(p+".schedule", "required: a cron expression such as \"0 6 1 * *\" or @monthly")
		} else if _, err := cron.ParseStandard(ct.Schedule); err != nil || strings.HasPrefix(ct.Schedule, "@every") {
			r.add(p+".schedule", fmt.Sprintf("invalid schedule %q: want 5-field cron or @daily/@weekly/@monthly", ct.Schedule))
		}
		if ct.Language != "" && ct.Language != "en" && ct.Language != "zh-CN" {
			r.add(p+".language", fmt.Sprintf("unknown language %q (want en or zh-CN)", ct.Language))
		}
		for _, d := range ct.Scope.Devices {
			if _, ok := c.Device(d); !ok {
				r.add(p+".scope.devices", fmt.Sprintf("unknown device %q", d))
			}
		}
		for _, st := range ct.Scope.Sites {
			if _, ok := c.Site(st); !ok {
				r.add(p+".scope.sites", fmt.Sprintf("unknown site %q", st))
			}
		}
	}
}

func (c *Config) validatePriority(r *report) {
	m := c.Priority
	if m == nil {
		return
	}
	severities := []string{"critical", "major", "minor", "warning"}
	impacts := []string{"low", "medium", "high", "critical"}
	for sev, row := range m.Cells {
		if !slices.Contains(severities, sev) {
			r.add("priority.cells."+sev, "unknown severity; want critical, major, minor or warning")
		}
		for imp, p := range row {
			if !slices.Contains(impacts, imp) {
				r.add("priority.cells."+sev+"."+imp, "unknown impact; want low, medium, high or critical")
			}
			if p != "P1" && p != "P2" && p != "P3" && p != "P4" {
				r.add("priority.cells."+sev+"."+imp, fmt.Sprintf("priority %q: want P1, P2, P3 or P4", p))
			}
		}
	}
	for role, imp := range m.Roles {
		if !slices.Contains(impacts, imp) {
			r.add("priority.roles."+role, fmt.Sprintf("impact %q: want low, medium, high or critical", imp))
		}
	}
	if m.UnknownRole != "" && !slices.Contains(impacts, m.UnknownRole) {
		r.add("priority.unknown_role", fmt.Sprintf("impact %q: want low, medium, high or critical", m.UnknownRole))
	}
	if m.CriticalDownstream < 0 {
		r.add("priority.critical_downstream", "must not be negative")
	}
}

// validateTLS checks agent.tls_cert and agent.tls_key: both or neither,
// each a readable file. Messages name the path as written, never the
// content.
func (c *Config) validateTLS(r *report) {
	a := c.Agent
	switch {
	case a.TLSCert != "" && a.TLSKey == "":
		r.add("agent.tls_key", "must be set when tls_cert is: set both to serve HTTPS, or neither")
	case a.TLSKey != "" && a.TLSCert == "":
		r.add("agent.tls_cert", "must be set when tls_key is: set both to serve HTTPS, or neither")
	}
	for _, f := range []struct{ field, path string }{{"agent.tls_cert", a.TLSCert}, {"agent.tls_key", a.TLSKey}} {
		if f.path == "" {
			continue
		}
		if msg := unreadable(c.ResolvePath(f.path)); msg != "" {
			r.add(f.field, fmt.Sprintf("cannot read %q: %s", f.path, msg))
		}
	}
}

// unreadable says why the file at path cannot be read, "" when it can.
func unreadable(path string) string {
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case err != nil:
		return "cannot open the file"
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return "not a regular file"
	}
	return ""
}

func (c *Config) validateAgent(r *report) {
	a := c.Agent
	if a.Listen != "" {
		if msg := checkListen(a.Listen); msg != "" {
			r.add("agent.listen", msg)
		}
	}
	if a.PollInterval < 0 || a.PollInterval == 0 && r.explicit("agent.poll_interval") {
		r.add("agent.poll_interval", "must be greater than zero")
	}
	if a.PollTimeout < 0 || a.PollTimeout == 0 && r.explicit("agent.poll_timeout") {
		r.add("agent.poll_timeout", "must be greater than zero")
	}
	interval, timeout := orDefault(a.PollInterval, DefaultPollInterval), orDefault(a.PollTimeout, DefaultPollTimeout)
	if a.PollInterval >= 0 && a.PollTimeout >= 0 && timeout >= interval {
		r.add("agent.poll_timeout", fmt.Sprintf("must be shorter than poll_interval (%s >= %s)", timeout, interval))
	}
	if a.PublicURL != "" {
		if u, err := url.Parse(a.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" {
			r.add("agent.public_url", "want an absolute http(s) URL without user or query, e.g. https://noc.example.com")
		}
	}
	if a.TrapListen != "" {
		if _, _, err := net.SplitHostPort(a.TrapListen); err != nil {
			r.add("agent.trap_listen", fmt.Sprintf("invalid address %q: want host:port, e.g. 0.0.0.0:162", a.TrapListen))
		}
	}
	c.validateTLS(r)
	if a.Retries < 0 || a.Retries > 10 {
		r.add("agent.retries", "must be between 0 and 10")
	}
	if a.Workers < 0 || a.Workers == 0 && r.explicit("agent.workers") || a.Workers > 4096 {
		r.add("agent.workers", "must be between 1 and 4096")
	}
}

func checkListen(s string) string {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("invalid listen address %q: want host:port, e.g. 127.0.0.1:9310", s)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Sprintf("invalid port %q: want 0-65535", port)
	}
	return ""
}

// checkName validates a required name or id and its uniqueness; it returns
// false when the element should not be indexed.
func checkName(r *report, path, name, kind string, seen map[string]string) bool {
	switch {
	case name == "":
		r.add(path, "required field is missing")
		return false
	case !nameRE.MatchString(name):
		r.add(path, fmt.Sprintf("invalid %s %q: %s", kind, name, nameRule))
		return false
	}
	if first, dup := seen[name]; dup {
		r.add(path, fmt.Sprintf("duplicate %s %q (first defined at %s)", kind, name, first))
		return false
	}
	seen[name] = parentPath(path)
	return true
}

func (c *Config) validateCredentials(r *report) map[string]bool {
	seen := map[string]string{}
	for i, cr := range c.Credentials {
		p := fmt.Sprintf("credentials[%d]", i)
		checkName(r, p+".name", cr.Name, "credential name", seen)
		switch cr.Version {
		case "":
			r.add(p+".version", "required field is missing (want 1, 2c or 3)")
		case SNMPv1, SNMPv2c:
			validateCommunity(r, p, cr)
		case SNMPv3:
			validateUSM(r, p, cr)
		default:
			r.add(p+".version", fmt.Sprintf("unknown SNMP version %q (want %s)", cr.Version, strings.Join(versions, ", ")))
		}
	}
	return boolSet(seen)
}

// Messages about secret fields name the field, never the value.
func validateCommunity(r *report, p string, cr Credential) {
	if cr.Community == "" {
		r.add(p+".community", fmt.Sprintf("required for SNMP version %s", cr.Version))
	}
	v3only := []struct{ key, val string }{
		{"username", cr.Username}, {"security_level", cr.SecurityLevel},
		{"auth_protocol", cr.AuthProtocol}, {"auth_key", cr.AuthKey},
		{"priv_protocol", cr.PrivProtocol}, {"priv_key", cr.PrivKey},
		{"context_name", cr.ContextName},
	}
	for _, f := range v3only {
		if f.val != "" {
			r.add(p+"."+f.key, fmt.Sprintf("only used by SNMPv3, but version is %s", cr.Version))
		}
	}
}

func validateUSM(r *report, p string, cr Credential) {
	if cr.Community != "" {
		r.add(p+".community", "not used by SNMPv3; remove it (v3 authenticates with username and keys)")
	}
	if cr.Username == "" {
		r.add(p+".username", "required for SNMPv3")
	}
	level := canonical(cr.SecurityLevel, securityLevels)
	auth, priv := false, false
	switch {
	case cr.SecurityLevel == "":
		r.add(p+".security_level", "required for SNMPv3 (want "+strings.Join(securityLevels, ", ")+")")
		return // which of the fields below are needed is unknown
	case level == "":
		r.add(p+".security_level", fmt.Sprintf("unknown security level %q (want %s)", cr.SecurityLevel, strings.Join(securityLevels, ", ")))
		return
	case level == AuthNoPriv:
		auth = true
	case level == AuthPriv:
		auth, priv = true, true
	}
	checkUSMPart(r, p, level, auth, "auth_protocol", cr.AuthProtocol, authProtocols, "auth_key", cr.AuthKey)
	checkUSMPart(r, p, level, priv, "priv_protocol", cr.PrivProtocol, privProtocols, "priv_key", cr.PrivKey)
}

func checkUSMPart(r *report, p, level string, needed bool, protoKey, proto string, protos []string, keyKey, key string) {
	if !needed {
		if proto != "" {
			r.add(p+"."+protoKey, "not used with security_level "+level)
		}
		if key != "" {
			r.add(p+"."+keyKey, "not used with security_level "+level)
		}
		return
	}
	switch {
	case proto == "":
		r.add(p+"."+protoKey, fmt.Sprintf("required with security_level %s (want %s)", level, strings.Join(protos, ", ")))
	case canonical(proto, protos) == "":
		r.add(p+"."+protoKey, fmt.Sprintf("unknown protocol %q (want %s)", proto, strings.Join(protos, ", ")))
	}
	switch {
	case key == "":
		r.add(p+"."+keyKey, "required with security_level "+level)
	case len(key) < MinKeyLength:
		r.add(p+"."+keyKey, fmt.Sprintf("too short: SNMPv3 keys must be at least %d characters", MinKeyLength))
	}
}

func (c *Config) validateCustomers(r *report) map[string]bool {
	seen := map[string]string{}
	for i, cu := range c.Customers {
		p := fmt.Sprintf("customers[%d]", i)
		checkName(r, p+".id", cu.ID, "customer id", seen)
		if strings.TrimSpace(cu.Name) == "" {
			r.add(p+".name", "required field is missing")
		}
		if cu.Language != "" && cu.Language != "en" && cu.Language != "zh-CN" {
			r.add(p+".language", fmt.Sprintf("unknown language %q (want en or zh-CN)", cu.Language))
		}
		if cu.Tier != "" && !slices.Contains(tiers, cu.Tier) {
			r.add(p+".tier", fmt.Sprintf("unknown tier %q (want %s)", cu.Tier, strings.Join(tiers, ", ")))
		}
		for j, ct := range cu.Contacts {
			cp := fmt.Sprintf("%s.contacts[%d]", p, j)
			if strings.TrimSpace(ct.Name) == "" {
				r.add(cp+".name", "required field is missing")
			}
			if ct.Email == "" && ct.Phone == "" {
				r.add(cp, "needs an email or a phone to be reachable")
			}
			if ct.Email != "" {
				if a, err := mail.ParseAddress(ct.Email); err != nil || a.Name != "" {
					r.add(cp+".email", fmt.Sprintf("invalid email address %q", ct.Email))
				}
			}
		}
	}
	return boolSet(seen)
}

func (c *Config) validateSites(r *report, customers map[string]bool) map[string]string {
	seen := map[string]string{}
	siteCustomer := map[string]string{}
	for i, s := range c.Sites {
		p := fmt.Sprintf("sites[%d]", i)
		if checkName(r, p+".id", s.ID, "site id", seen) {
			siteCustomer[s.ID] = s.Customer
		}
		if s.Customer != "" && !customers[s.Customer] {
			r.add(p+".customer", unknownRef("customer", s.Customer, customers))
		}
	}
	return siteCustomer
}

func (c *Config) validateDevices(r *report, creds, customers map[string]bool, sites map[string]string) {
	seen := map[string]string{}
	// One agent answering at one address with one credential is one
	// device: two names for it would poll it twice and open two tickets
	// for one fault. (One address with different credentials is allowed:
	// an agent serving several devices by community or context.)
	endpoints := map[[2]string]string{}
	for i, d := range c.Devices {
		p := fmt.Sprintf("devices[%d]", i)
		checkName(r, p+".name", d.Name, "device name", seen)
		if d.Address == "" {
			r.add(p+".address", "required field is missing")
		} else if addr, err := NormalizeAddress(d.Address); err != nil {
			r.add(p+".address", err.Error())
		} else if first, dup := endpoints[[2]string{addr, d.Credential}]; dup {
			r.add(p+".address", fmt.Sprintf("%s with credential %q is also device %q: one device under two names", addr, d.Credential, first))
		} else {
			endpoints[[2]string{addr, d.Credential}] = d.Name
		}
		switch {
		case d.Credential == "":
			r.add(p+".credential", "required field is missing")
		case !creds[d.Credential]:
			r.add(p+".credential", unknownRef("credential", d.Credential, creds))
		}
		if d.Customer != "" && !customers[d.Customer] {
			r.add(p+".customer", unknownRef("customer", d.Customer, customers))
		}
		if d.Site != "" {
			siteCustomer, ok := sites[d.Site]
			switch {
			case !ok:
				r.add(p+".site", unknownRef("site", d.Site, boolSet(sites)))
			case d.Customer != "" && siteCustomer != "" && d.Customer != siteCustomer:
				r.add(p+".customer", fmt.Sprintf("%q differs from the customer %q of site %q", d.Customer, siteCustomer, d.Site))
			}
		}
		switch {
		case d.Role == "":
			r.add(p+".role", "required field is missing (want "+strings.Join(roles, ", ")+")")
		case !slices.Contains(roles, d.Role):
			r.add(p+".role", fmt.Sprintf("unknown role %q (want %s)", d.Role, strings.Join(roles, ", ")))
		}
		if d.PollInterval < 0 || d.PollInterval == 0 && r.explicit(p+".poll_interval") {
			r.add(p+".poll_interval", "must be greater than zero (leave it out to use agent.poll_interval)")
		}
		for j, tag := range d.Tags {
			if strings.TrimSpace(tag) == "" {
				r.add(fmt.Sprintf("%s.tags[%d]", p, j), "empty tag")
			}
		}
	}
	c.validateUpstream(r, boolSet(seen))
}

// validateUpstream checks upstream references and reports every loop once,
// with its path, since a loop makes "who is cut off" unanswerable.
func (c *Config) validateUpstream(r *report, devices map[string]bool) {
	index := map[string]int{}
	for i, d := range c.Devices {
		if _, dup := index[d.Name]; !dup && d.Name != "" {
			index[d.Name] = i
		}
	}
	// edges holds, per device index, the (upstream index, list position)
	// of references that are valid, so the loop search sees only real edges.
	type edge struct{ to, at int }
	edges := make([][]edge, len(c.Devices))
	for i, d := range c.Devices {
		listed := map[string]bool{}
		for j, up := range d.Upstream {
			p := fmt.Sprintf("devices[%d].upstream[%d]", i, j)
			switch {
			case up == "":
				r.add(p, "empty device name")
			case up == d.Name:
				r.add(p, fmt.Sprintf("device %q lists itself as upstream", d.Name))
			case listed[up]:
				r.add(p, fmt.Sprintf("%q is listed twice", up))
			case !devices[up]:
				r.add(p, unknownRef("device", up, devices))
			default:
				if index[d.Name] == i { // a duplicate-named device already has an error
					edges[i] = append(edges[i], edge{index[up], j})
				}
			}
			listed[up] = true
		}
	}

	const (
		white = iota // not visited
		grey         // on the current path
		black        // done
	)
	color := make([]int, len(c.Devices))
	var stack []int
	var visit func(i int)
	visit = func(i int) {
		color[i] = grey
		stack = append(stack, i)
		for _, e := range edges[i] {
			switch color[e.to] {
			case white:
				visit(e.to)
			case grey:
				start := slices.Index(stack, e.to)
				loop := stack[start:]
				names := make([]string, 0, len(loop)+1)
				for _, k := range loop {
					names = append(names, c.Devices[k].Name)
				}
				names = append(names, c.Devices[e.to].Name)
				r.add(fmt.Sprintf("devices[%d].upstream[%d]", i, e.at), "upstream loop: "+strings.Join(names, " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
	}
	for i := range c.Devices {
		if color[i] == white {
			visit(i)
		}
	}
}

func (c *Config) validateRules(r *report) {
	seen := map[string]bool{}
	for i, f := range c.Rules {
		p := fmt.Sprintf("rules[%d]", i)
		switch {
		case strings.TrimSpace(f) == "":
			r.add(p, "empty file name")
		case seen[f]:
			r.add(p, fmt.Sprintf("%q is listed twice", f))
		}
		seen[f] = true
	}
}

func (c *Config) validateNotifiers(r *report) {
	seen := map[string]string{}
	for i, n := range c.Notifiers {
		p := fmt.Sprintf("notifiers[%d]", i)
		checkName(r, p+".name", n.Name, "notifier name", seen)
		switch {
		case n.Kind == "":
			r.add(p+".kind", "required field is missing (want "+strings.Join(notifierKinds, ", ")+")")
		case !slices.Contains(notifierKinds, n.Kind):
			r.add(p+".kind", fmt.Sprintf("unknown notifier kind %q (want %s)", n.Kind, strings.Join(notifierKinds, ", ")))
		}
		if n.Language != "" && n.Language != "en" && n.Language != "zh-CN" {
			r.add(p+".language", fmt.Sprintf("unknown language %q (want en or zh-CN)", n.Language))
		}
		if n.Kind == NotifierITSM {
			if n.Plugin == "" {
				r.add(p+".plugin", "required: the ticket sink plugin, e.g. jira")
			}
			continue
		}
		if n.Kind == NotifierEmail {
			if _, _, err := net.SplitHostPort(n.SMTP); err != nil {
				r.add(p+".smtp", "want the submission server as host:port, e.g. smtp.example.com:587")
			}
			if n.From == "" {
				r.add(p+".from", "required field is missing")
			}
			if n.Username != "" && n.PasswordFile == "" && n.PasswordEnv == "" {
				r.add(p+".username", "needs password_file or password_env")
			}
			if len(n.AddressBook) == 0 {
				r.add(p+".address_book", "required: who receives what (default, engineer:<name>, manager:<name>, tier:L2, customer:<id>)")
			}
			continue
		}
		if n.URL == "" && n.URLFile == "" {
			r.add(p+".url", "required field is missing (or give url_file)")
			continue
		}
		if n.URL == "" {
			continue
		}
		// The URL is never quoted back: webhook URLs often carry a token.
		u, err := url.Parse(n.URL)
		switch {
		case err != nil:
			r.add(p+".url", "not a valid URL")
		case u.Scheme != "http" && u.Scheme != "https":
			r.add(p+".url", "must be an http:// or https:// URL")
		case u.Host == "":
			r.add(p+".url", "has no host")
		}
	}
}

// NormalizeAddress turns a device address into host:port, adding SNMP's port
// 161 when none is given. It accepts "host", "host:port", IPv4, and IPv6 as
// "::1", "[::1]" or "[::1]:161".
func NormalizeAddress(addr string) (string, error) {
	host, port := addr, "161"
	if h, p, err := net.SplitHostPort(addr); err == nil {
		host, port = h, p
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("invalid address %q: port must be 1-65535", addr)
		}
	} else if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		host = addr[1 : len(addr)-1]
		if ip, err := netip.ParseAddr(host); err != nil || !ip.Is6() {
			return "", fmt.Errorf("invalid address %q: brackets are only for IPv6 addresses", addr)
		}
	}
	if host == "" {
		return "", fmt.Errorf("invalid address %q: no host", addr)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return net.JoinHostPort(ip.String(), port), nil
	}
	if strings.Contains(host, ":") {
		return "", fmt.Errorf("invalid address %q: want host, host:port, or [ipv6]:port", addr)
	}
	if msg := checkHostname(host); msg != "" {
		return "", fmt.Errorf("invalid address %q: %s", addr, msg)
	}
	return net.JoinHostPort(host, port), nil
}

func checkHostname(host string) string {
	if len(host) > 253 {
		return "host name longer than 253 characters"
	}
	numeric := true
	for label := range strings.SplitSeq(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 {
			return "host name labels must be 1-63 characters"
		}
		for _, ch := range label {
			switch {
			case ch >= '0' && ch <= '9':
			case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch == '-', ch == '_':
				numeric = false
			default:
				return fmt.Sprintf("character %q is not allowed in a host name", ch)
			}
		}
	}
	if numeric {
		// "10.0.0.300" is a typo for an IP, not a host name to resolve.
		return "not a valid IPv4 address"
	}
	return ""
}

func unknownRef(kind, name string, defined map[string]bool) string {
	names := make([]string, 0, len(defined))
	for n := range defined {
		names = append(names, n)
	}
	if len(names) == 0 {
		return fmt.Sprintf("unknown %s %q (none defined)", kind, name)
	}
	slices.Sort(names)
	const show = 10
	list := strings.Join(names[:min(len(names), show)], ", ")
	if len(names) > show {
		list += fmt.Sprintf(", ... (%d more)", len(names)-show)
	}
	return fmt.Sprintf("unknown %s %q (defined: %s)", kind, name, list)
}

// canonical returns the allowed spelling matching s case-insensitively, or "".
func canonical(s string, allowed []string) string {
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a
		}
	}
	return ""
}

func boolSet[V any](m map[string]V) map[string]bool {
	s := make(map[string]bool, len(m))
	for k := range m {
		s[k] = true
	}
	return s
}
