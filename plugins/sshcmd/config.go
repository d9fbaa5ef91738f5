package sshcmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nocagent/nocagent/plugins"
)

// Config is what Configure accepts (JSON). Durations are Go duration
// strings ("10s").
//
//	{
//	  "known_hosts": ["/etc/nocagent/known_hosts"],
//	  "host_keys": {"sw-core-1": "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"},
//	  "username": "nocagent",
//	  "command_timeout": "20s",
//	  "params": {"interface": {"type": "interface"}},
//	  "actions": {
//	    "clear-counters": "clear counters {{.Interface}}",
//	    "bounce-port": {
//	      "mode": "shell", "risk": "medium", "categories": ["link"],
//	      "commands": ["configure terminal", "interface {{.Interface}}", "shutdown", "no shutdown", "end"],
//	      "verify": {"command": "show interfaces {{.Interface}} status", "expect": "(?m)\\bconnected\\b"}
//	    }
//	  }
//	}
type Config struct {
	// KnownHosts are OpenSSH known_hosts files. A device's host key must be
	// listed in one of them or pinned in HostKeys, else nothing connects.
	KnownHosts []string `json:"known_hosts"`
	// HostKeys pins a host key fingerprint ("SHA256:..." as ssh-keygen -l
	// prints it) by device name or address. A pin wins over KnownHosts.
	HostKeys map[string]string `json:"host_keys"`
	// Username is used when the secrets carry none.
	Username       string   `json:"username"`
	ConnectTimeout duration `json:"connect_timeout"` // TCP + SSH handshake; default 10s
	CommandTimeout duration `json:"command_timeout"` // per command; default 30s
	// ErrorPattern marks a command as failed when its output matches, for
	// devices that report CLI errors with exit status 0. Default matches
	// Cisco-style "% Invalid input" lines.
	ErrorPattern *string                 `json:"error_pattern"`
	Params       map[string]ParamConfig  `json:"params"`
	Actions      map[string]ActionConfig `json:"actions"`
}

// ParamConfig says what values a template parameter accepts. Type is a
// built-in pattern (see paramTypes); Pattern a regular expression the
// whole value must match. At least one is required; with both, the value
// must match both.
type ParamConfig struct {
	Type        string `json:"type"`
	Pattern     string `json:"pattern"`
	MaxLen      int    `json:"max_len"` // default 64
	Description string `json:"description"`
	// Optional params may be absent; the template then sees "".
	Optional bool `json:"optional"`
}

// ActionConfig is one vetted action. In JSON it may be a string (one
// command), an array (commands in order) or an object.
type ActionConfig struct {
	Commands    []string      `json:"commands"`
	Mode        string        `json:"mode"` // "exec" (default): one exec channel per command; "shell": one shell session
	Categories  []string      `json:"categories"`
	Description string        `json:"description"`
	Risk        string        `json:"risk"` // default medium
	Verify      *VerifyConfig `json:"verify"`
}

// VerifyConfig is the check Verify runs: Command until its output matches
// Expect, at most Attempts times, Interval apart.
type VerifyConfig struct {
	Command  string   `json:"command"`
	Expect   string   `json:"expect"`
	Attempts int      `json:"attempts"` // default 1
	Interval duration `json:"interval"` // default 2s
}

// UnmarshalJSON accepts the string and array shorthands.
func (a *ActionConfig) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = ActionConfig{Commands: []string{s}}
		return nil
	case len(b) > 0 && b[0] == '[':
		var cmds []string
		if err := json.Unmarshal(b, &cmds); err != nil {
			return err
		}
		*a = ActionConfig{Commands: cmds}
		return nil
	}
	type plain ActionConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*a = ActionConfig(p)
	return nil
}

const configSchema = `{"type":"object","additionalProperties":false,"properties":{
"known_hosts":{"type":"array","items":{"type":"string"}},
"host_keys":{"type":"object","additionalProperties":{"type":"string","pattern":"^SHA256:"}},
"username":{"type":"string"},"connect_timeout":{"type":"string"},"command_timeout":{"type":"string"},
"error_pattern":{"type":"string"},
"params":{"type":"object","additionalProperties":{"type":"object","additionalProperties":false,"properties":{
  "type":{"enum":["interface","vlan","word","number"]},"pattern":{"type":"string"},"max_len":{"type":"integer","minimum":1,"maximum":256},
  "description":{"type":"string"},"optional":{"type":"boolean"}}}},
"actions":{"type":"object","additionalProperties":{"oneOf":[
  {"type":"string"},{"type":"array","items":{"type":"string"},"minItems":1},
  {"type":"object","additionalProperties":false,"required":["commands"],"properties":{
    "commands":{"type":"array","items":{"type":"string"},"minItems":1},"mode":{"enum":["exec","shell"]},
    "categories":{"type":"array","items":{"type":"string"}},"description":{"type":"string"},
    "risk":{"enum":["low","medium","high"]},
    "verify":{"type":"object","additionalProperties":false,"required":["command","expect"],"properties":{
      "command":{"type":"string"},"expect":{"type":"string"},"attempts":{"type":"integer","minimum":1,"maximum":60},
      "interval":{"type":"string"}}}}}]}}}}`

type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string like \"10s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return fmt.Errorf("bad duration %q", s)
	}
	*d = duration(v)
	return nil
}

// paramTypes are the built-in value patterns. Interface names: a letter
// prefix (Gi, GigabitEthernet, ge-, Port-channel, Vlan, Eth) then numbers
// separated by '/', an optional ".sub" unit: Gi1/0/1, Te1/1/4.100,
// ge-0/0/1, Port-channel12, Ethernet1/49/2.
var paramTypes = map[string]string{
	"interface": `[A-Za-z][A-Za-z-]{0,30}[0-9]{1,4}(/[0-9]{1,4}){0,3}(\.[0-9]{1,5})?`,
	"vlan":      `(409[0-4]|40[0-8][0-9]|[1-3][0-9]{3}|[1-9][0-9]{0,2})`,
	"word":      `[A-Za-z0-9][A-Za-z0-9_.-]*`,
	"number":    `[0-9]{1,10}`,
}

// forbidden characters are refused in every parameter whatever its
// pattern says: they separate, substitute or quote commands in a shell
// or a device CLI, or start a comment.
const forbidden = ";|&$`<>\\'\"!*?(){}[]#~\n\r\t"

const defaultMaxLen = 64

// defaultErrorPattern matches the error lines of Cisco IOS/NX-OS, Arista
// EOS and Huawei VRP style CLIs.
const defaultErrorPattern = `(?m)^\s*(% ?(Invalid|Incomplete|Ambiguous|Unknown|Error|Bad)|Error:)`

// action is a compiled ActionConfig.
type action struct {
	name     string
	cfg      ActionConfig
	commands []*template.Template
	verify   *template.Template
	expect   *regexp.Regexp
	params   []string // the declared params its templates use, sorted
}

type param struct {
	name     string
	cfg      ParamConfig
	patterns []*regexp.Regexp
	maxLen   int
}

// compiled is a checked configuration.
type compiled struct {
	cfg      Config
	errorRE  *regexp.Regexp
	params   map[string]*param
	actions  map[string]*action
	connect  time.Duration
	perCmd   time.Duration
	pinnedBy map[string]string
}

var actionNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func compile(cfg Config) (*compiled, error) {
	c := &compiled{cfg: cfg, params: map[string]*param{}, actions: map[string]*action{},
		connect: 10 * time.Second, perCmd: 30 * time.Second, pinnedBy: map[string]string{}}
	if cfg.ConnectTimeout > 0 {
		c.connect = time.Duration(cfg.ConnectTimeout)
	}
	if cfg.CommandTimeout > 0 {
		c.perCmd = time.Duration(cfg.CommandTimeout)
	}
	ep := defaultErrorPattern
	if cfg.ErrorPattern != nil {
		ep = *cfg.ErrorPattern
	}
	if ep != "" {
		re, err := regexp.Compile(ep)
		if err != nil {
			return nil, fmt.Errorf("error_pattern: %w", err)
		}
		c.errorRE = re
	}
	for dev, fp := range cfg.HostKeys {
		if !strings.HasPrefix(fp, "SHA256:") || len(fp) < 20 {
			return nil, fmt.Errorf("host_keys[%s]: %q is not a SHA256 fingerprint as ssh-keygen -l prints it", dev, fp)
		}
		c.pinnedBy[dev] = fp
	}
	for name, pc := range cfg.Params {
		p := &param{name: name, cfg: pc, maxLen: orDefault(pc.MaxLen, defaultMaxLen)}
		if pc.Type == "" && pc.Pattern == "" {
			return nil, fmt.Errorf("params[%s]: needs a type (%s) or a pattern", name, strings.Join(slices.Sorted(maps.Keys(paramTypes)), ", "))
		}
		if pc.Type != "" {
			pat, ok := paramTypes[pc.Type]
			if !ok {
				return nil, fmt.Errorf("params[%s]: unknown type %q (have %s)", name, pc.Type, strings.Join(slices.Sorted(maps.Keys(paramTypes)), ", "))
			}
			p.patterns = append(p.patterns, regexp.MustCompile(`^(?:`+pat+`)$`))
		}
		if pc.Pattern != "" {
			re, err := regexp.Compile(`^(?:` + pc.Pattern + `)$`)
			if err != nil {
				return nil, fmt.Errorf("params[%s]: pattern: %w", name, err)
			}
			p.patterns = append(p.patterns, re)
		}
		c.params[name] = p
	}
	// Render every template once with placeholder values: a template that
	// uses an undeclared param or fails to execute is a config error now,
	// not at 3 a.m. during an incident.
	probe := c.templateData(func(string) string { return "x1" })
	for name, ac := range cfg.Actions {
		if !actionNameRE.MatchString(name) {
			return nil, fmt.Errorf("actions: bad action name %q (a-z, 0-9, '.', '_', '-')", name)
		}
		a := &action{name: name, cfg: ac}
		if len(ac.Commands) == 0 {
			return nil, fmt.Errorf("actions[%s]: no commands", name)
		}
		switch ac.Mode {
		case "":
			a.cfg.Mode = modeExec
		case modeExec, modeShell:
		default:
			return nil, fmt.Errorf("actions[%s]: mode %q is not exec or shell", name, ac.Mode)
		}
		switch ac.Risk {
		case "":
			a.cfg.Risk = plugins.RiskMedium
		case plugins.RiskLow, plugins.RiskMedium, plugins.RiskHigh:
		default:
			return nil, fmt.Errorf("actions[%s]: risk %q is not low, medium or high", name, ac.Risk)
		}
		used := map[string]bool{}
		for i, src := range ac.Commands {
			t, err := parseTemplate(fmt.Sprintf("%s[%d]", name, i), src, probe, used)
			if err != nil {
				return nil, fmt.Errorf("actions[%s]: command %d: %w", name, i, err)
			}
			a.commands = append(a.commands, t)
		}
		if v := ac.Verify; v != nil {
			t, err := parseTemplate(name+".verify", v.Command, probe, used)
			if err != nil {
				return nil, fmt.Errorf("actions[%s]: verify command: %w", name, err)
			}
			a.verify = t
			if a.expect, err = regexp.Compile(v.Expect); err != nil || v.Expect == "" {
				return nil, fmt.Errorf("actions[%s]: verify expect %q: not a regular expression: %v", name, v.Expect, err)
			}
			if v.Attempts <= 0 {
				a.cfg.Verify.Attempts = 1
			}
			if v.Interval <= 0 {
				a.cfg.Verify.Interval = duration(2 * time.Second)
			}
		}
		// used holds template keys: a param counts under either spelling.
		for pn := range c.params {
			if used[pn] || used[camel(pn)] {
				a.params = append(a.params, pn)
			}
		}
		slices.Sort(a.params)
		c.actions[name] = a
	}
	return c, nil
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// parseTemplate parses and probes one command template and records which
// params it reads (by rendering with each one blanked in turn: cheaper to
// reason about than walking the template's parse tree).
func parseTemplate(name, src string, probe map[string]string, used map[string]bool) (*template.Template, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("empty command")
	}
	t, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, err
	}
	var full strings.Builder
	if err := t.Execute(&full, probe); err != nil {
		return nil, fmt.Errorf("%w (templates may only use the declared params: %s)", err, strings.Join(slices.Sorted(maps.Keys(probe)), ", "))
	}
	if strings.ContainsAny(full.String(), "\n\r") {
		return nil, fmt.Errorf("renders to more than one line: put each command in its own list entry")
	}
	for k := range probe {
		blank := maps.Clone(probe)
		blank[k] = ""
		var b strings.Builder
		if t.Execute(&b, blank) == nil && b.String() != full.String() {
			used[k] = true
		}
	}
	return t, nil
}

// templateData maps each declared param to its value, under its own name
// and its CamelCase form (if_name: .if_name and .IfName), so templates
// read naturally: "clear counters {{.Interface}}".
func (c *compiled) templateData(value func(string) string) map[string]string {
	out := map[string]string{}
	for name := range c.params {
		v := value(name)
		out[name] = v
		out[camel(name)] = v
	}
	return out
}

func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		switch {
		case r == '_' || r == '-':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unsafeRune reports a character refused in every parameter, whatever its
// pattern says, decided by Unicode category rather than a list: in ASCII,
// controls and the forbidden metacharacters; beyond ASCII, anything but a
// letter, a mark or a digit. That refuses line and paragraph separators
// (U+2028, U+2029), NEL (U+0085) and other controls, format characters
// (zero-width, bidi overrides), separators other than the ASCII space,
// and the full-width or look-alike forms of metacharacters (U+FF1B '；',
// U+FF5C '｜', U+037E ';'), which a device CLI or terminal may fold to
// their ASCII meaning. Invalid UTF-8 decodes to U+FFFD, a symbol: refused.
func unsafeRune(r rune) bool {
	if r <= unicode.MaxASCII {
		return r < 0x20 || r == 0x7f || strings.ContainsRune(forbidden, r)
	}
	return !unicode.In(r, unicode.L, unicode.M, unicode.N)
}

// check validates one value. The error names the param and says why; the
// value is quoted with every non-printable character escaped.
func (p *param) check(v string) error {
	switch {
	case len(v) > p.maxLen:
		return fmt.Errorf("param %s: %d characters, at most %d allowed", p.name, len(v), p.maxLen)
	case !utf8.ValidString(v):
		return fmt.Errorf("param %s: %+q is not valid UTF-8", p.name, v)
	case strings.ContainsFunc(v, unsafeRune):
		i := strings.IndexFunc(v, unsafeRune)
		r, _ := utf8.DecodeRuneInString(v[i:])
		return fmt.Errorf("param %s: %+q contains a forbidden character %+q (U+%04X) at byte %d: refused are %q, control and "+
			"format characters, separators other than the space, and non-ASCII punctuation and symbols", p.name, v, r, r, i, forbidden)
	}
	for _, re := range p.patterns {
		if !re.MatchString(v) {
			what := p.cfg.Type
			if what == "" || len(p.patterns) > 1 {
				what = "pattern " + strings.TrimSuffix(strings.TrimPrefix(re.String(), "^(?:"), ")$")
			}
			return fmt.Errorf("param %s: %q is not a valid %s", p.name, v, what)
		}
	}
	return nil
}
