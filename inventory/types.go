// Package inventory holds what the agent knows about the networks it watches:
// devices, SNMP credentials, customers, contracts and sites, loaded from one
// YAML file and validated before anything else starts.
package inventory

import "time"

// Config is one inventory/configuration file after decoding and validation.
type Config struct {
	Agent       Agent        `yaml:"agent"`
	Credentials []Credential `yaml:"credentials,omitempty"`
	Customers   []Customer   `yaml:"customers,omitempty"`
	Sites       []Site       `yaml:"sites,omitempty"`
	Devices     []Device     `yaml:"devices"`
	// Rules lists rule files, relative to the config file's directory.
	Rules     []string   `yaml:"rules,omitempty"`
	Notifiers []Notifier `yaml:"notifiers,omitempty"`
	// Plugins: where external plugins are and each plugin's configuration.
	Plugins *Plugins `yaml:"plugins,omitempty"`
	// Remediation is the policy for remote remediation; nil = every action
	// needs an engineer's or manager's approval, at most 3 per device and 30
	// in all per hour.
	Remediation *RemediationPolicy `yaml:"remediation,omitempty"`
	// Contracts with an inspection schedule; a customer with a contract id
	// and no entry here is inspected monthly.
	Contracts []Contract `yaml:"contracts,omitempty"`
	// Priority replaces parts of the default priority matrix.
	Priority *PriorityMatrix `yaml:"priority,omitempty"`
	// Influx, when set, also sends every snapshot to an InfluxDB v2 server.
	Influx *Influx `yaml:"influx,omitempty"`
	// Store is where tickets live: empty for SQLite in data_dir, or a
	// PostgreSQL URL (postgres://user@host:5432/db) shared by several
	// agents. Its password, if any, is never shown.
	Store string `yaml:"store,omitempty"`
	// ServiceFile is a YAML file with the service process settings: SLA
	// calendars and contract targets, escalation, engineers, managers,
	// survey and problem settings (see examples/service.yaml). Relative to
	// this file; empty = the defaults of DESIGN.md's service process.
	ServiceFile string `yaml:"service_file,omitempty"`

	// Path is the file the config was loaded from (not part of the YAML).
	Path string `yaml:"-"`
}

// Agent holds process-wide settings.
type Agent struct {
	Listen       string        `yaml:"listen"`        // HTTP API and /metrics, default 127.0.0.1:9310
	PollInterval time.Duration `yaml:"poll_interval"` // default 60s
	PollTimeout  time.Duration `yaml:"poll_timeout"`  // per SNMP request, default 2s
	Retries      int           `yaml:"retries"`       // SNMP retries, default 1
	Workers      int           `yaml:"workers"`       // poll worker pool size, default 16
	DataDir      string        `yaml:"data_dir"`      // SQLite and spools, default ./data
	// ProfilesDir holds vendor profile YAML files that add to or replace
	// the built-in ones; empty = built-ins only.
	ProfilesDir string `yaml:"profiles_dir,omitempty"`
	// TrapListen is the UDP address for SNMP traps and informs, e.g.
	// 0.0.0.0:162; empty = no trap receiver.
	TrapListen string `yaml:"trap_listen,omitempty"`
	// PublicURL is where people reach this agent's API and pages, e.g.
	// https://noc.example.com: customer notices link to it to confirm a
	// fix. Empty = notices carry no link.
	PublicURL string `yaml:"public_url,omitempty"`
	// TokensFile holds the API bearer tokens, one per role
	// ({"admin": "...", "manager:mia": "...", "customer:acme": "..."}).
	// Relative to this file; empty = <data_dir>/tokens.json, generated on
	// first start when missing.
	TokensFile string `yaml:"tokens_file,omitempty"`
	// TLSCert and TLSKey are PEM files of the HTTP server's certificate
	// (with its chain) and private key, relative to this file: both set
	// serves HTTPS, neither plain HTTP.
	TLSCert string `yaml:"tls_cert,omitempty"`
	TLSKey  string `yaml:"tls_key,omitempty"`
}

// SNMP versions accepted in Credential.Version.
const (
	SNMPv1  = "1"
	SNMPv2c = "2c"
	SNMPv3  = "3"
)

// Credential is a named SNMP credential profile. Its secret fields must never
// be logged or returned by an API; use Redacted.
type Credential struct {
	Name      string `yaml:"name"`
	Version   string `yaml:"version"`             // "1", "2c" or "3"
	Community string `yaml:"community,omitempty"` // v1/v2c

	// SNMPv3 USM.
	Username      string `yaml:"username,omitempty"`
	SecurityLevel string `yaml:"security_level,omitempty"` // noAuthNoPriv | authNoPriv | authPriv
	AuthProtocol  string `yaml:"auth_protocol,omitempty"`  // MD5 SHA SHA224 SHA256 SHA384 SHA512
	AuthKey       string `yaml:"auth_key,omitempty"`
	PrivProtocol  string `yaml:"priv_protocol,omitempty"` // DES AES AES192 AES256 AES192C AES256C
	PrivKey       string `yaml:"priv_key,omitempty"`
	ContextName   string `yaml:"context_name,omitempty"`
}

// Redacted returns a copy with every secret replaced, safe to log or serve.
func (c Credential) Redacted() Credential {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "<redacted>"
	}
	c.Community = mask(c.Community)
	c.AuthKey = mask(c.AuthKey)
	c.PrivKey = mask(c.PrivKey)
	return c
}

// Customer is a company whose network is watched under a service contract.
type Customer struct {
	ID string `yaml:"id"`
	// Language of the customer's notices and reports: en (default) or zh-CN.
	Language string    `yaml:"language,omitempty"`
	Name     string    `yaml:"name"`
	Tier     string    `yaml:"tier,omitempty"`     // gold | silver | bronze
	Contract string    `yaml:"contract,omitempty"` // contract id
	Contacts []Contact `yaml:"contacts,omitempty"`
}

// Contact is a person at a customer who receives notices.
type Contact struct {
	Name  string `yaml:"name"`
	Email string `yaml:"email,omitempty"`
	Phone string `yaml:"phone,omitempty"`
	Role  string `yaml:"role,omitempty"`
}

// Site is a physical location of devices.
type Site struct {
	ID       string `yaml:"id"`
	Name     string `yaml:"name,omitempty"`
	Customer string `yaml:"customer,omitempty"`
	Address  string `yaml:"address,omitempty"`
}

// Device roles.
const (
	RoleCore         = "core"
	RoleDistribution = "distribution"
	RoleAccess       = "access"
	RoleEdge         = "edge"
	RoleFirewall     = "firewall"
)

// Device is one polled network element.
type Device struct {
	Name       string   `yaml:"name"`
	Address    string   `yaml:"address"` // host:port, port defaults to 161
	Credential string   `yaml:"credential"`
	Customer   string   `yaml:"customer,omitempty"`
	Site       string   `yaml:"site,omitempty"`
	Role       string   `yaml:"role"`
	Upstream   []string `yaml:"upstream,omitempty"`
	Tags       []string `yaml:"tags,omitempty"`
	// PollInterval overrides Agent.PollInterval when non-zero.
	PollInterval time.Duration `yaml:"poll_interval,omitempty"`
}

// Notifier is a delivery channel for ticket events.
type Notifier struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"` // webhook | email | wecom | dingtalk | slack | itsm
	// Plugin is the TicketSink plugin of an itsm notifier (e.g. jira): it
	// pushes tickets to the ITSM and pulls people's changes back.
	Plugin string `yaml:"plugin,omitempty"`
	// URL of a webhook or chat robot. It often carries a token, so it may
	// come from URLFile instead; it is never logged or shown.
	URL     string `yaml:"url,omitempty"`
	URLFile string `yaml:"url_file,omitempty"`
	// SecretFile: the HMAC key that signs webhook bodies, or a DingTalk
	// robot's signing secret.
	SecretFile string `yaml:"secret_file,omitempty"`
	// Language of chat messages and the default of emails: en or zh-CN.
	Language string `yaml:"language,omitempty"`
	// Audience of a chat robot: engineer (default) or manager.
	Audience string `yaml:"audience,omitempty"`

	// Email: a submission server and who gets what.
	SMTP              string              `yaml:"smtp,omitempty"` // host:port
	From              string              `yaml:"from,omitempty"`
	TLS               string              `yaml:"tls,omitempty"` // starttls (default), required, implicit, none
	Username          string              `yaml:"username,omitempty"`
	PasswordFile      string              `yaml:"password_file,omitempty"`
	PasswordEnv       string              `yaml:"password_env,omitempty"`
	AllowInsecureAuth bool                `yaml:"allow_insecure_auth,omitempty"`
	Audiences         []string            `yaml:"audiences,omitempty"` // staff and/or customers
	AddressBook       map[string][]string `yaml:"address_book,omitempty"`
}

// Influx is the InfluxDB v2 export target. The token comes from a file or an
// environment variable, never from this file.
type Influx struct {
	URL           string        `yaml:"url"`
	Org           string        `yaml:"org"`
	Bucket        string        `yaml:"bucket"`
	TokenFile     string        `yaml:"token_file,omitempty"`
	TokenEnv      string        `yaml:"token_env,omitempty"`
	BatchSize     int           `yaml:"batch_size,omitempty"`
	FlushInterval time.Duration `yaml:"flush_interval,omitempty"`
	// SpoolMaxBytes bounds the on-disk spool that keeps points through an
	// outage; the oldest are dropped (and counted) beyond it.
	SpoolMaxBytes int64 `yaml:"spool_max_bytes,omitempty"`
	MemoryBuffer  int   `yaml:"memory_buffer,omitempty"`
}

// PriorityMatrix is how an alert's severity and its device's impact give a
// ticket priority. Impact is low, medium, high or critical: from the
// device's role, raised to critical when CriticalDownstream or more devices
// sit behind it, and one priority step up for customers in RaiseTiers. Any
// field left out keeps the default (rules.DefaultPriorityMatrix).
type PriorityMatrix struct {
	// Cells: severity (critical, major, minor, warning) → impact → P1..P4.
	Cells map[string]map[string]string `yaml:"cells,omitempty"`
	// Roles: device role → impact.
	Roles              map[string]string `yaml:"roles,omitempty"`
	UnknownRole        string            `yaml:"unknown_role,omitempty"`
	CriticalDownstream int               `yaml:"critical_downstream,omitempty"`
	RaiseTiers         []string          `yaml:"raise_tiers,omitempty"`
}

// Plugins configures the plugin host.
type Plugins struct {
	// Dir holds external plugin executables; empty = built-ins only.
	Dir string `yaml:"dir,omitempty"`
	// ConfigFiles: plugin name → a JSON file with its configuration (it
	// may hold secrets, so it stays out of this file).
	ConfigFiles map[string]string `yaml:"config_files,omitempty"`
}

// RemediationPolicy decides which remediations run by themselves, which
// wait for an approval and which never run.
type RemediationPolicy struct {
	// DryRun plans every remediation and executes none.
	DryRun bool `yaml:"dry_run,omitempty"`
	// Default mode when no rule matches: auto, approval (default) or deny.
	Default             string            `yaml:"default,omitempty"`
	MaxPerDevicePerHour int               `yaml:"max_per_device_per_hour,omitempty"`
	MaxPerHour          int               `yaml:"max_per_hour,omitempty"`
	Rules               []RemediationRule `yaml:"rules,omitempty"`
}

// RemediationRule matches a (rule or category, action) pair; empty fields
// match anything and the first matching rule wins.
type RemediationRule struct {
	Rule      string   `yaml:"rule,omitempty"`
	Category  string   `yaml:"category,omitempty"`
	Action    string   `yaml:"action,omitempty"`
	Mode      string   `yaml:"mode"`                // auto | approval | deny
	Approvers []string `yaml:"approvers,omitempty"` // engineer, manager
}

// Contract is a customer's service contract with its inspection schedule.
type Contract struct {
	ID       string `yaml:"id"`
	Customer string `yaml:"customer"`
	// Schedule is a 5-field cron expression or a descriptor (@monthly),
	// optionally starting with CRON_TZ=Zone.
	Schedule   string        `yaml:"schedule"`
	Scope      ContractScope `yaml:"scope,omitempty"`
	Recipients []string      `yaml:"recipients,omitempty"`
	Language   string        `yaml:"language,omitempty"` // en | zh-CN
	// Inspectors to run on each device; empty = the built-in device-health.
	Inspectors []string `yaml:"inspectors,omitempty"`
}

// ContractScope narrows a contract to sites, tags or devices of its
// customer; empty = all of the customer's devices.
type ContractScope struct {
	Sites   []string `yaml:"sites,omitempty"`
	Tags    []string `yaml:"tags,omitempty"`
	Devices []string `yaml:"devices,omitempty"`
}
