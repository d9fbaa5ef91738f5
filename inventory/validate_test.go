package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// validConfig is a small valid inventory built in code, as the demo does.
func validConfig() *Config {
	return &Config{
		Credentials: []Credential{
			{Name: "v2", Version: SNMPv2c, Community: "sekrit-community"},
			{Name: "v3", Version: SNMPv3, Username: "noc", SecurityLevel: AuthPriv,
				AuthProtocol: "SHA", AuthKey: "sekrit-auth", PrivProtocol: "AES", PrivKey: "sekrit-priv"},
		},
		Customers: []Customer{{ID: "acme", Name: "ACME", Tier: TierGold, Contract: "C-1",
			Contacts: []Contact{{Name: "Ada", Email: "ada@acme.example"}}}},
		Sites: []Site{{ID: "hq", Customer: "acme"}},
		Devices: []Device{
			{Name: "core1", Address: "127.0.0.1:16100", Credential: "v3", Site: "hq", Role: RoleCore},
			{Name: "sw1", Address: "127.0.0.1", Credential: "v2", Site: "hq", Role: RoleAccess, Upstream: []string{"core1"}},
		},
		Notifiers: []Notifier{{Name: "hook", Kind: NotifierWebhook, URL: "https://user:pw@hooks.example.com/T0/SEKRIT-TOKEN?sig=abc"}},
	}
}

func TestValidateInCode(t *testing.T) {
	c := validConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("after ApplyDefaults: %v", err)
	}
	if c.Agent.Workers != DefaultWorkers || c.Agent.Retries != DefaultRetries || c.Agent.Listen != DefaultListen {
		t.Errorf("defaults not applied: %+v", c.Agent)
	}
	if sw, _ := c.Device("sw1"); sw.Address != "127.0.0.1:161" || sw.Customer != "acme" {
		t.Errorf("sw1 = %+v, want address normalised and customer inherited", sw)
	}

	tests := []struct {
		name   string
		modify func(c *Config)
		want   []string
	}{
		{
			name:   "unknown credential",
			modify: func(c *Config) { c.Devices[1].Credential = "v9" },
			want:   []string{`devices[1].credential: unknown credential "v9" (defined: v2, v3)`},
		},
		{
			name:   "upstream loop",
			modify: func(c *Config) { c.Devices[0].Upstream = []string{"sw1"} },
			want:   []string{`devices[1].upstream[0]: upstream loop: core1 -> sw1 -> core1`},
		},
		{
			name: "several problems at once",
			modify: func(c *Config) {
				c.Devices[0].Role = "spine"
				c.Devices[1].Address = "127.0.0.1:0"
				c.Customers[0].Tier = "platinum"
			},
			want: []string{
				`customers[0].tier: unknown tier "platinum" (want gold, silver, bronze)`,
				`devices[0].role: unknown role "spine" (want core, distribution, access, edge, firewall)`,
				`devices[1].address: invalid address "127.0.0.1:0": port must be 1-65535`,
			},
		},
		{
			name: "site of another customer",
			modify: func(c *Config) {
				c.Customers = append(c.Customers, Customer{ID: "globex", Name: "Globex"})
				c.Devices[0].Customer = "globex"
			},
			want: []string{`devices[0].customer: "globex" differs from the customer "acme" of site "hq"`},
		},
		{
			name:   "negative durations",
			modify: func(c *Config) { c.Agent.PollInterval = -time.Second; c.Devices[0].PollInterval = -time.Second },
			want:   []string{`agent.poll_interval: must be greater than zero`, `devices[0].poll_interval: must be greater than zero (leave it out to use agent.poll_interval)`},
		},
		{
			name:   "timeout not shorter than the default interval",
			modify: func(c *Config) { c.Agent.PollTimeout = 2 * time.Minute },
			want:   []string{`agent.poll_timeout: must be shorter than poll_interval (2m0s >= 1m0s)`},
		},
		{
			name: "path used as file name",
			modify: func(c *Config) {
				c.Path = "built-in"
				c.Devices[0].Name = ""
			},
			want: []string{
				`built-in: devices[0].name: required field is missing`,
				`built-in: devices[1].upstream[0]: unknown device "core1" (defined: sw1)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.modify(c)
			err := c.Validate()
			var ve ValidationErrors
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %v, want ValidationErrors", err)
			}
			if got := err.Error(); got != strings.Join(tt.want, "\n") {
				t.Errorf("Validate():\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
			for _, fe := range ve {
				if fe.Line != 0 || fe.Column != 0 {
					t.Errorf("%v: a Config built in code has no line", fe)
				}
			}
		})
	}
}

func TestNormalizeAddress(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "192.0.2.1", want: "192.0.2.1:161"},
		{in: "192.0.2.1:1161", want: "192.0.2.1:1161"},
		{in: "router1.example.com", want: "router1.example.com:161"},
		{in: "router1.example.com.", want: "router1.example.com.:161"},
		{in: "router_1:162", want: "router_1:162"},
		{in: "::1", want: "[::1]:161"},
		{in: "[::1]", want: "[::1]:161"},
		{in: "[::1]:1161", want: "[::1]:1161"},
		{in: "2001:DB8::1", want: "[2001:db8::1]:161"},
		{in: "fe80::1%eth0", want: "[fe80::1%eth0]:161"},
		{in: "10.0.0.300", err: "not a valid IPv4 address"},
		{in: "host:0", err: "port must be 1-65535"},
		{in: "host:snmp", err: "port must be 1-65535"},
		{in: "[host]", err: "brackets are only for IPv6 addresses"},
		{in: "a:b", err: "port must be 1-65535"},
		{in: "a:b:c", err: "want host, host:port, or [ipv6]:port"},
		{in: ":161", err: "no host"},
		{in: "", err: "no host"},
		{in: "a..b", err: "labels must be 1-63 characters"},
		{in: strings.Repeat("a", 64) + ".com", err: "labels must be 1-63 characters"},
		{in: "bad/host", err: "character '/' is not allowed"},
	}
	for _, tt := range tests {
		got, err := NormalizeAddress(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("NormalizeAddress(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeAddress(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if again, err := NormalizeAddress(got); err != nil || again != got {
			t.Errorf("NormalizeAddress(%q) = %q, %v; want it idempotent", got, again, err)
		}
	}
}

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "a.yaml", Line: 12, Column: 5, Field: "devices[3].role", Message: "bad"}, "a.yaml:12:5: devices[3].role: bad"},
		{FieldError{File: "a.yaml", Line: 7, Message: "invalid YAML: x"}, "a.yaml:7: invalid YAML: x"},
		{FieldError{File: "a.yaml", Message: "empty"}, "a.yaml: empty"},
		{FieldError{Field: "devices[0].name", Message: "required"}, "devices[0].name: required"},
		{FieldError{Line: 3, Column: 1, Message: "m"}, "3:1: m"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.e, got, tt.want)
		}
	}
	both := ValidationErrors{tests[0].e, tests[1].e}
	if got, want := both.Error(), tests[0].want+"\n"+tests[1].want; got != want {
		t.Errorf("ValidationErrors.Error() = %q, want %q", got, want)
	}
}

func TestLookups(t *testing.T) {
	c := validConfig()
	if d, ok := c.Device("sw1"); !ok || d.Address != "127.0.0.1" {
		t.Errorf("Device(sw1) = %+v, %v", d, ok)
	}
	if cu, ok := c.Customer("acme"); !ok || cu.Name != "ACME" {
		t.Errorf("Customer(acme) = %+v, %v", cu, ok)
	}
	if s, ok := c.Site("hq"); !ok || s.Customer != "acme" {
		t.Errorf("Site(hq) = %+v, %v", s, ok)
	}
	if cr, ok := c.Credential("v3"); !ok || cr.AuthKey != "sekrit-auth" {
		t.Errorf("Credential(v3) must return the real key for the SNMP client, got ok=%v", ok)
	}
	for name, ok := range map[string]bool{
		"device":     func() bool { _, ok := c.Device("nope"); return ok }(),
		"customer":   func() bool { _, ok := c.Customer("nope"); return ok }(),
		"site":       func() bool { _, ok := c.Site("nope"); return ok }(),
		"credential": func() bool { _, ok := c.Credential("nope"); return ok }(),
	} {
		if ok {
			t.Errorf("%s lookup of an absent name reported found", name)
		}
	}
}

// TestNoSecretsInOutput prints the config and its parts every way a
// developer might and checks that no secret comes out.
func TestNoSecretsInOutput(t *testing.T) {
	c := validConfig()
	secrets := []string{"sekrit-community", "sekrit-auth", "sekrit-priv", "SEKRIT-TOKEN", "sig=abc", "pw@"}

	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	log.Info("loaded", "config", *c, "credential", c.Credentials[1], "notifier", c.Notifiers[0])
	log.Info("loaded", "config", c, "credential", &c.Credentials[0])

	outputs := map[string]string{
		"String":      c.String(),
		"%v config":   fmt.Sprintf("%v", *c),
		"%+v config":  fmt.Sprintf("%+v", c),
		"%#v config":  fmt.Sprintf("%#v", *c),
		"%v creds":    fmt.Sprintf("%v", c.Credentials),
		"%+v creds":   fmt.Sprintf("%+v", c.Credentials),
		"%#v creds":   fmt.Sprintf("%#v", c.Credentials),
		"%v notifier": fmt.Sprintf("%v %+v %#v", c.Notifiers[0], c.Notifiers, c.Notifiers),
		"slog":        logged.String(),
		"json":        mustJSON(t, c),
		"yaml":        mustYAML(t, c),
	}
	for how, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s output contains secret %q:\n%s", how, s, out)
			}
		}
	}
	if !strings.Contains(outputs["String"], "hooks.example.com") || !strings.Contains(outputs["%v creds"], "v3") {
		t.Errorf("redaction removed too much:\n%s", outputs["String"])
	}
	if c.Credentials[0].Community != "sekrit-community" || !strings.Contains(c.Notifiers[0].URL, "SEKRIT-TOKEN") {
		t.Error("printing changed the config it printed")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustYAML(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
