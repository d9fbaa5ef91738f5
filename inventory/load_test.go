package inventory

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.golden from the current output")

// TestLoadBad loads every file in testdata/bad and compares the full error
// text with its golden file, so each message, position and field path is
// pinned down.
func TestLoadBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 15 {
		t.Fatalf("found %d bad files, want the whole corpus", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			cfg, err := Load(file)
			if err == nil {
				t.Fatalf("Load(%s) succeeded, want errors; config:\n%s", file, cfg)
			}
			if cfg != nil {
				t.Errorf("Load returned a config together with an error")
			}
			var ve ValidationErrors
			if !errors.As(err, &ve) {
				t.Fatalf("error is %T, want ValidationErrors: %v", err, err)
			}
			for _, fe := range ve {
				if fe.File != file || fe.Message == "" {
					t.Errorf("FieldError %+v: want File %q and a message", fe, file)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./inventory -run TestLoadBad -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// TestBadSecretsNotLeaked checks every bad file: no value of a secret key
// (community, auth_key, priv_key, url) appears in the error text.
func TestBadSecretsNotLeaked(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		_, perr := Parse(file, data)
		if perr == nil {
			t.Fatalf("%s parsed without error", file)
		}
		for _, secret := range secretValues(t, data) {
			checked++
			if strings.Contains(perr.Error(), secret) {
				t.Errorf("%s: error text contains the secret %q:\n%v", file, secret, perr)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d secret values checked; the corpus lost its secrets", checked)
	}
}

// secretValues returns the scalar values under secret keys anywhere in a
// YAML document; it returns nothing for files that are not valid YAML.
func secretValues(t *testing.T, data []byte) []string {
	t.Helper()
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return nil
	}
	secretKeys := map[string]bool{"community": true, "auth_key": true, "priv_key": true, "url": true}
	var out []string
	var walk func(n *yaml.Node, secret bool)
	walk = func(n *yaml.Node, secret bool) {
		switch n.Kind {
		case yaml.ScalarNode:
			if secret && n.Value != "" {
				out = append(out, n.Value)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "influx" {
					// The InfluxDB URL names a server, not a secret; its
					// token never sits in the file.
					continue
				}
				walk(n.Content[i+1], secretKeys[n.Content[i].Value])
			}
		default:
			for _, c := range n.Content {
				walk(c, secret)
			}
		}
	}
	walk(&root, false)
	return out
}

func TestLoadExample(t *testing.T) {
	const path = "../examples/nocagent.yaml"
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("the shipped example must load cleanly:\n%v", err)
	}
	absDir, err := filepath.Abs("../examples")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path != filepath.Join(absDir, "nocagent.yaml") {
		t.Errorf("Path = %q, want the absolute path", cfg.Path)
	}
	if want := filepath.Join(absDir, "data"); cfg.Agent.DataDir != want {
		t.Errorf("DataDir = %q, want %q (relative to the file)", cfg.Agent.DataDir, want)
	}
	if len(cfg.Credentials) < 2 || len(cfg.Customers) != 2 || len(cfg.Sites) < 2 || len(cfg.Devices) < 6 || len(cfg.Notifiers) < 1 {
		t.Errorf("example lost content: %d credentials, %d customers, %d sites, %d devices, %d notifiers",
			len(cfg.Credentials), len(cfg.Customers), len(cfg.Sites), len(cfg.Devices), len(cfg.Notifiers))
	}
	versions := map[string]bool{}
	for _, cr := range cfg.Credentials {
		versions[cr.Version] = true
		if cr.Version == SNMPv3 && cr.SecurityLevel != AuthPriv {
			t.Errorf("credential %s: the example should show authPriv, got %s", cr.Name, cr.SecurityLevel)
		}
	}
	if !versions[SNMPv2c] || !versions[SNMPv3] {
		t.Errorf("example should have a v2c and a v3 credential, has %v", versions)
	}
	roles := map[string]bool{}
	withUpstream := 0
	for _, d := range cfg.Devices {
		roles[d.Role] = true
		if len(d.Upstream) > 0 {
			withUpstream++
		}
		if _, err := NormalizeAddress(d.Address); err != nil || !strings.Contains(d.Address, ":") {
			t.Errorf("device %s: address %q is not normalised host:port", d.Name, d.Address)
		}
		if _, ok := cfg.Credential(d.Credential); !ok {
			t.Errorf("device %s: credential %q not found", d.Name, d.Credential)
		}
		cu, ok := cfg.Customer(d.Customer)
		if !ok {
			t.Errorf("device %s: customer %q not found (should be set or inherited from its site)", d.Name, d.Customer)
		}
		if s, ok := cfg.Site(d.Site); !ok || s.Customer != cu.ID {
			t.Errorf("device %s: site %q missing or of another customer", d.Name, d.Site)
		}
	}
	if len(roles) < 5 || withUpstream < 3 {
		t.Errorf("example should show every role and several upstream links; roles %v, %d with upstream", roles, withUpstream)
	}
	for _, cu := range cfg.Customers {
		if cu.Tier == "" || cu.Contract == "" || len(cu.Contacts) == 0 {
			t.Errorf("customer %s should show tier, contract and contacts", cu.ID)
		}
	}

	// Every key the decoder knows appears in the example, so it documents
	// them all.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range allKeys(reflect.TypeOf(Config{})) {
		if !strings.Contains(string(data), "\n"+key+":") && !strings.Contains(string(data), " "+key+":") && !strings.Contains(string(data), "{"+key+":") {
			t.Errorf("example does not show key %q", key)
		}
	}

	// Its secrets stay out of the printed form.
	s := cfg.String()
	for _, secret := range secretValues(t, data) {
		if strings.Contains(s, secret) {
			t.Errorf("String() contains the secret %q", secret)
		}
	}
}

// allKeys lists the yaml keys of t and of the structs it contains.
func allKeys(t reflect.Type) []string {
	var keys []string
	for name, i := range yamlFields(t) {
		keys = append(keys, name)
		ft := t.Field(i).Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			keys = append(keys, allKeys(ft)...)
		}
	}
	return keys
}

func TestParseDefaults(t *testing.T) {
	const src = `
credentials:
  - {name: lab, version: "2c", community: lab-community}
  - {name: v3, version: 3, username: u, security_level: authpriv, auth_protocol: sha512, auth_key: 12345678, priv_protocol: aes256c, priv_key: 87654321}
customers:
  - {id: acme, name: ACME}
sites:
  - {id: hq, customer: acme}
devices:
  - {name: r1, address: 192.0.2.1, credential: lab, site: hq, role: core}
  - {name: r2, address: "2001:db8::1", credential: v3, role: edge, poll_interval: 10s}
`
	cfg, err := Parse("conf/nocagent.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Agent{
		Listen:       DefaultListen,
		PollInterval: DefaultPollInterval,
		PollTimeout:  DefaultPollTimeout,
		Retries:      DefaultRetries,
		Workers:      DefaultWorkers,
		DataDir:      mustAbs(t, filepath.Join("conf", "data")),
	}
	if cfg.Agent != want {
		t.Errorf("Agent = %+v\nwant %+v", cfg.Agent, want)
	}
	if cfg.Customers[0].Tier != TierBronze {
		t.Errorf("tier = %q, want the default bronze", cfg.Customers[0].Tier)
	}
	r1, _ := cfg.Device("r1")
	r2, _ := cfg.Device("r2")
	if r1.Address != "192.0.2.1:161" || r2.Address != "[2001:db8::1]:161" {
		t.Errorf("addresses = %q, %q; want port 161 added", r1.Address, r2.Address)
	}
	if r1.Customer != "acme" || r2.Customer != "" {
		t.Errorf("customers = %q, %q; want r1 to inherit acme from its site, r2 none", r1.Customer, r2.Customer)
	}
	if got := cfg.PollInterval(r1); got != DefaultPollInterval {
		t.Errorf("PollInterval(r1) = %s, want the agent's", got)
	}
	if got := cfg.PollInterval(r2); got != 10*time.Second {
		t.Errorf("PollInterval(r2) = %s, want its override", got)
	}
	v3, _ := cfg.Credential("v3")
	if v3.SecurityLevel != AuthPriv || v3.AuthProtocol != "SHA512" || v3.PrivProtocol != "AES256C" {
		t.Errorf("v3 = %s, want canonical spellings", v3)
	}
	if v3.AuthKey != "12345678" {
		t.Errorf("a numeric key must stay as written, got %q", v3.AuthKey)
	}
}

func TestParseExplicitSettings(t *testing.T) {
	const src = `
agent: {listen: ":0", poll_interval: 1m30s, poll_timeout: 500ms, retries: 0, workers: 3, data_dir: /var/lib/nocagent}
rules: [rules/a.yaml, /etc/nocagent/b.yaml]
devices: []
`
	cfg, err := Parse("/etc/nocagent/nocagent.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Agent{Listen: ":0", PollInterval: 90 * time.Second, PollTimeout: 500 * time.Millisecond, Retries: 0, Workers: 3, DataDir: "/var/lib/nocagent"}
	if cfg.Agent != want {
		t.Errorf("Agent = %+v\nwant %+v (an explicit retries: 0 is kept)", cfg.Agent, want)
	}
	if wantRules := []string{"/etc/nocagent/rules/a.yaml", "/etc/nocagent/b.yaml"}; !reflect.DeepEqual(cfg.Rules, wantRules) {
		t.Errorf("Rules = %q, want %q", cfg.Rules, wantRules)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want one wrapping fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("err = %v, want it to name the file", err)
	}
}

func TestResolvePath(t *testing.T) {
	tests := []struct {
		cfgPath, p, want string
	}{
		{"/etc/nocagent/nocagent.yaml", "rules/x.yaml", "/etc/nocagent/rules/x.yaml"},
		{"/etc/nocagent/nocagent.yaml", "../data", "/etc/data"},
		{"/etc/nocagent/nocagent.yaml", "/abs/x", "/abs/x"},
		{"/etc/nocagent/nocagent.yaml", "", ""},
		{"nocagent.yaml", "data", "data"},
		{"", "data", "data"},
	}
	for _, tt := range tests {
		c := &Config{Path: tt.cfgPath}
		if got := c.ResolvePath(tt.p); got != tt.want {
			t.Errorf("Config{Path: %q}.ResolvePath(%q) = %q, want %q", tt.cfgPath, tt.p, got, tt.want)
		}
	}
}

// TestStringRoundTrip checks that String() is a loadable config equal to the
// original except for secrets, so it can be shown as "the effective config".
func TestStringRoundTrip(t *testing.T) {
	cfg, err := Load("../examples/nocagent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	assertRoundTrip(t, cfg)
}

func assertRoundTrip(t *testing.T, cfg *Config) {
	t.Helper()
	again, err := Parse("", []byte(cfg.String()))
	if err != nil {
		t.Fatalf("String() output does not parse:\n%v\n%s", err, cfg)
	}
	want := cfg.Redacted()
	want.Path = ""
	if got := again.Redacted(); !reflect.DeepEqual(normalizeEmpty(got), normalizeEmpty(want)) {
		t.Fatalf("round trip changed the config:\ngot  %#v\nwant %#v", got, want)
	}
}

// normalizeEmpty makes nil and empty slices compare equal: YAML does not
// tell them apart once omitted.
func normalizeEmpty(c Config) Config {
	var fix func(v reflect.Value)
	fix = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Slice:
			if v.Len() == 0 {
				v.Set(reflect.Zero(v.Type()))
			}
			for i := range v.Len() {
				fix(v.Index(i))
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					fix(v.Field(i))
				}
			}
		}
	}
	fix(reflect.ValueOf(&c).Elem())
	return c
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bad/*.yaml")
	seeds = append(seeds, "../examples/nocagent.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err != nil {
			var ve ValidationErrors
			if !errors.As(err, &ve) || len(ve) == 0 {
				t.Fatalf("error %T %v, want non-empty ValidationErrors", err, err)
			}
			for _, fe := range ve {
				if fe.Message == "" || fe.File != "fuzz.yaml" {
					t.Fatalf("bad FieldError %+v", fe)
				}
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("a parsed config must stay valid after defaults: %v", err)
		}
		assertRoundTrip(t, cfg)
	})
}

// TestAliasExpansionBounded feeds a small file whose aliases expand to
// hundreds of thousands of nodes: the walk must stop and say so.
func TestAliasExpansionBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("customers:\n  - &c\n    id: a\n    name: A\n    contacts: [&ct {name: x, email: a@b.example}")
	b.WriteString(strings.Repeat(", *ct", 500))
	b.WriteString("]\n")
	b.WriteString(strings.Repeat("  - *c\n", 500))
	if b.Len() > 10_000 {
		t.Fatalf("input is %d bytes; the point is that it is small", b.Len())
	}
	_, err := Parse("bomb.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "aliases expand to more than") {
		t.Fatalf("want the expansion limit reported, got %.300v", err)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
