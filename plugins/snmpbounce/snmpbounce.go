// Package snmpbounce is the built-in remediator "snmp-bounce": it bounces
// one interface of a switch through SNMP SET of IF-MIB ifAdminStatus
// (down, wait, up), the remote equivalent of "shutdown / no shutdown".
//
// It only acts on a port that looks like a stuck access port: the request
// must describe the port (params below), the live device must agree, and
// the port must be admin-up and oper-down. Anything else is refused with
// an error wrapping plugins.ErrRefused, before any write.
//
// Request params (strings; the agent fills them from inventory, topology
// and the alert):
//
//	if_index         required: the ifIndex to bounce
//	port_role        required: the port's role; only the roles in the
//	                 allowed_roles config (default "access", "user") are
//	                 bounced, so an uplink, downlink, trunk or WAN port, or
//	                 a port whose role is unknown, is refused
//	uplink_if_index  the device's uplink ifIndex, if known: refused if equal
//	neighbor         the LLDP/CDP neighbour seen on the port, if any: a port
//	                 with a network neighbour is an inter-switch link, refused
//	protected        "true" marks a port an engineer protected: refused
//	alias            the ifAlias the agent knows; it and the live ifAlias
//	                 are refused when they contain a protected marker
//	                 (config protected_markers, default "protected",
//	                 "no-bounce", "uplink", "downlink", "trunk", "wan:")
//
// Secrets (plugins.Secrets, see Secrets): version, community, or SNMPv3
// username, security_level, auth_protocol, auth_key, priv_protocol,
// priv_key, context_name.
package snmpbounce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/plugins"
)

// Name is the plugin's name; Action is the one action it offers.
const (
	Name    = "snmp-bounce"
	Action  = "bounce-interface"
	version = "1.0.0"
)

// IF-MIB columns.
const (
	oidIfDescr       = ".1.3.6.1.2.1.2.2.1.2"
	oidIfAdminStatus = ".1.3.6.1.2.1.2.2.1.7"
	oidIfOperStatus  = ".1.3.6.1.2.1.2.2.1.8"
	oidIfName        = ".1.3.6.1.2.1.31.1.1.1.1"
	oidIfAlias       = ".1.3.6.1.2.1.31.1.1.1.18"
)

// ifAdminStatus / ifOperStatus values.
const (
	statusUp   = 1
	statusDown = 2
)

var statusNames = map[int]string{1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}

func statusName(v int) string {
	if n, ok := statusNames[v]; ok {
		return fmt.Sprintf("%s(%d)", n, v)
	}
	return strconv.Itoa(v)
}

// Config is what Configure accepts (JSON). Durations are Go duration
// strings ("3s").
type Config struct {
	DownWait         duration `json:"down_wait"`       // between the two SETs; default 3s
	VerifyTimeout    duration `json:"verify_timeout"`  // how long Verify waits for oper up; default 30s
	VerifyInterval   duration `json:"verify_interval"` // between Verify's reads; default 1s
	SNMPTimeout      duration `json:"snmp_timeout"`    // per request; default 2s
	SNMPRetries      int      `json:"snmp_retries"`    // default 1
	AllowedRoles     []string `json:"allowed_roles"`
	ProtectedMarkers []string `json:"protected_markers"`
}

const configSchema = `{"type":"object","additionalProperties":false,"properties":{
"down_wait":{"type":"string"},"verify_timeout":{"type":"string"},"verify_interval":{"type":"string"},
"snmp_timeout":{"type":"string"},"snmp_retries":{"type":"integer","minimum":0,"maximum":5},
"allowed_roles":{"type":"array","items":{"type":"string"}},
"protected_markers":{"type":"array","items":{"type":"string"}}}}`

type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string like \"3s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("bad duration %q", s)
	}
	*d = duration(v)
	return nil
}

func defaultConfig() Config {
	return Config{
		DownWait: duration(3 * time.Second), VerifyTimeout: duration(30 * time.Second), VerifyInterval: duration(time.Second),
		SNMPTimeout: duration(2 * time.Second), SNMPRetries: 1,
		AllowedRoles:     []string{"access", "user"},
		ProtectedMarkers: []string{"protected", "no-bounce", "uplink", "downlink", "trunk", "wan:"},
	}
}

// Bouncer is the snmp-bounce remediator. Configure must be called before
// use (the host does).
type Bouncer struct {
	cfg Config
	now func() time.Time
}

// New returns a Bouncer with the default configuration. now stamps
// evidence; nil means time.Now.
func New(now func() time.Time) *Bouncer {
	if now == nil {
		now = time.Now
	}
	return &Bouncer{cfg: defaultConfig(), now: now}
}

// Info implements plugins.Base.
func (b *Bouncer) Info(context.Context) (plugins.Info, error) {
	return plugins.Info{Name: Name, Kind: plugins.KindRemediator, Version: version,
		APIVersions: []int{plugins.APIVersion}, ConfigSchema: []byte(configSchema)}, nil
}

// Configure implements plugins.Base. Absent fields keep their defaults.
func (b *Bouncer) Configure(_ context.Context, raw []byte) error {
	cfg := defaultConfig()
	if len(raw) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return fmt.Errorf("%w: %s config: %v", plugins.ErrInvalid, Name, err)
		}
	}
	if cfg.VerifyInterval <= 0 || cfg.SNMPTimeout <= 0 || cfg.SNMPRetries < 0 {
		return fmt.Errorf("%w: %s config: verify_interval and snmp_timeout must be > 0, snmp_retries >= 0", plugins.ErrInvalid, Name)
	}
	b.cfg = cfg
	return nil
}

// Actions implements plugins.Remediator.
func (b *Bouncer) Actions(context.Context) ([]plugins.ActionSpec, error) {
	return []plugins.ActionSpec{{
		Name: Action, Categories: []string{"link"},
		Description: "Bounce an access port that is admin-up but oper-down: SNMP SET ifAdminStatus down, wait, up; verify ifOperStatus comes up.",
		Params: []plugins.ParamSpec{
			{Name: "if_index", Description: "ifIndex of the port", Required: true},
			{Name: "port_role", Description: "role of the port; only " + strings.Join(b.cfg.AllowedRoles, ", ") + " are bounced", Required: true},
			{Name: "uplink_if_index", Description: "the device's uplink ifIndex; never bounced"},
			{Name: "neighbor", Description: "LLDP/CDP neighbour on the port; a port with one is never bounced"},
			{Name: "protected", Description: `"true" if the port is protected`},
			{Name: "alias", Description: "ifAlias as known to the agent; checked for protected markers"},
		},
	}}, nil
}

// port is a request's target after its params were checked.
type port struct {
	ifIndex int
	role    string
}

// checkParams applies every refusal that needs no SNMP.
func (b *Bouncer) checkParams(action string, dev plugins.Device, params map[string]string) (port, error) {
	if action != Action {
		return port{}, fmt.Errorf("%w: %s offers only %q, not %q", plugins.ErrInvalid, Name, Action, action)
	}
	if dev.Address == "" {
		return port{}, fmt.Errorf("%w: device %s has no address", plugins.ErrInvalid, dev.Name)
	}
	idx, err := strconv.Atoi(params["if_index"])
	if err != nil || idx <= 0 {
		return port{}, fmt.Errorf("%w: device %s: if_index %q is not a positive integer", plugins.ErrInvalid, dev.Name, params["if_index"])
	}
	p := port{ifIndex: idx, role: strings.ToLower(params["port_role"])}
	where := fmt.Sprintf("device %s ifIndex %d", dev.Name, idx)
	switch {
	case p.role == "":
		return p, fmt.Errorf("%w: %s: port_role is not known; only %v ports are bounced", plugins.ErrRefused, where, b.cfg.AllowedRoles)
	case !slices.Contains(b.cfg.AllowedRoles, p.role):
		return p, fmt.Errorf("%w: %s is a %s port; only %v ports are bounced", plugins.ErrRefused, where, p.role, b.cfg.AllowedRoles)
	case params["uplink_if_index"] == strconv.Itoa(idx):
		return p, fmt.Errorf("%w: %s is the device's uplink", plugins.ErrRefused, where)
	case params["neighbor"] != "":
		return p, fmt.Errorf("%w: %s has neighbour %s: bouncing it cuts a link between network devices", plugins.ErrRefused, where, params["neighbor"])
	case strings.EqualFold(params["protected"], "true"):
		return p, fmt.Errorf("%w: %s is marked protected", plugins.ErrRefused, where)
	}
	if m := b.marker(params["alias"]); m != "" {
		return p, fmt.Errorf("%w: %s: alias %q contains protected marker %q", plugins.ErrRefused, where, params["alias"], m)
	}
	return p, nil
}

func (b *Bouncer) marker(alias string) string {
	low := strings.ToLower(alias)
	for _, m := range b.cfg.ProtectedMarkers {
		if m != "" && strings.Contains(low, strings.ToLower(m)) {
			return m
		}
	}
	return ""
}

// portState is what the device says about the port now.
type portState struct {
	admin, oper int
	name, alias string
}

// checkState refuses a port that the live device shows protected, or not
// admin-up/oper-down.
func (b *Bouncer) checkState(dev plugins.Device, p port, st portState) error {
	where := fmt.Sprintf("device %s ifIndex %d (%s)", dev.Name, p.ifIndex, st.name)
	if m := b.marker(st.alias); m != "" {
		return fmt.Errorf("%w: %s: live ifAlias %q contains protected marker %q", plugins.ErrRefused, where, st.alias, m)
	}
	if st.admin != statusUp {
		return fmt.Errorf("%w: %s is administratively %s: someone shut it on purpose", plugins.ErrRefused, where, statusName(st.admin))
	}
	if st.oper == statusUp {
		return fmt.Errorf("%w: %s is up: nothing to repair", plugins.ErrRefused, where)
	}
	return nil
}

// Plan implements plugins.Remediator: checks params and the live port,
// and describes the bounce without writing anything.
func (b *Bouncer) Plan(ctx context.Context, req plugins.Request) (plugins.Plan, error) {
	p, err := b.checkParams(req.Action, req.Device, req.Params)
	if err != nil {
		return plugins.Plan{}, err
	}
	sess, err := b.connect(ctx, req.Device, req.Secrets)
	if err != nil {
		return plugins.Plan{}, err
	}
	defer sess.close()
	st, err := sess.read(p.ifIndex)
	if err != nil {
		return plugins.Plan{}, err
	}
	if err := b.checkState(req.Device, p, st); err != nil {
		return plugins.Plan{}, err
	}
	params := make(map[string]string, len(req.Params)+1)
	for k, v := range req.Params {
		params[k] = v
	}
	params["if_name"] = st.name
	target := fmt.Sprintf("%s (%s)", req.Device.Name, req.Device.Address)
	return plugins.Plan{
		Action: req.Action, Device: req.Device, Ticket: req.Ticket, Params: params, Risk: plugins.RiskLow,
		Steps: []string{
			fmt.Sprintf("check %s ifIndex %d (%s) is still admin up / oper down (now admin %s, oper %s)", target, p.ifIndex, st.name, statusName(st.admin), statusName(st.oper)),
			fmt.Sprintf("SNMP SET IF-MIB::ifAdminStatus.%d = down(2) on %s", p.ifIndex, target),
			fmt.Sprintf("wait %s", time.Duration(b.cfg.DownWait)),
			fmt.Sprintf("SNMP SET IF-MIB::ifAdminStatus.%d = up(1) on %s", p.ifIndex, target),
			fmt.Sprintf("verify: read IF-MIB::ifOperStatus.%d until up(1), at most %s", p.ifIndex, time.Duration(b.cfg.VerifyTimeout)),
		},
	}, nil
}

// Execute implements plugins.Remediator. Once the port is down it is
// always brought back up, even if ctx ends during the wait.
func (b *Bouncer) Execute(ctx context.Context, plan plugins.Plan) (plugins.Result, error) {
	p, err := b.checkParams(plan.Action, plan.Device, plan.Params)
	if err != nil {
		return plugins.Result{}, err
	}
	sess, err := b.connect(ctx, plan.Device, plan.Secrets)
	if err != nil {
		return plugins.Result{}, err
	}
	defer sess.close()
	st, err := sess.read(p.ifIndex)
	if err != nil {
		return plugins.Result{}, err
	}
	// The plan may be hours old: the port may have come back or been shut.
	if err := b.checkState(plan.Device, p, st); err != nil {
		return plugins.Result{}, err
	}
	var ev []string
	stamp := func(format string, a ...any) {
		ev = append(ev, b.now().UTC().Format(time.RFC3339)+" "+fmt.Sprintf(format, a...))
	}
	stamp("before: ifIndex %d (%s) admin %s, oper %s", p.ifIndex, st.name, statusName(st.admin), statusName(st.oper))
	if err := sess.setAdmin(p.ifIndex, statusDown); err != nil {
		stamp("SET ifAdminStatus.%d = down(2) failed: %v", p.ifIndex, err)
		return plugins.Result{OK: false, Output: "could not shut the port; nothing changed", Evidence: ev}, nil
	}
	stamp("SET ifAdminStatus.%d = down(2): ok", p.ifIndex)

	waitErr := sleep(ctx, time.Duration(b.cfg.DownWait))
	// The port is down now: bring it up whatever happened to ctx, within
	// a bounded time of its own.
	upCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Duration(b.cfg.SNMPTimeout)*time.Duration(b.cfg.SNMPRetries+1))
	defer cancel()
	sess.g.Context = upCtx
	if err := sess.setAdmin(p.ifIndex, statusUp); err != nil {
		stamp("SET ifAdminStatus.%d = up(1) FAILED: %v", p.ifIndex, err)
		return plugins.Result{OK: false, Output: fmt.Sprintf("port %s left administratively down: bring it up by hand", st.name), Evidence: ev}, nil
	}
	stamp("SET ifAdminStatus.%d = up(1): ok", p.ifIndex)
	if waitErr != nil {
		return plugins.Result{OK: false, Output: "interrupted during the wait; port set up again", Evidence: ev}, nil
	}
	return plugins.Result{OK: true, Output: fmt.Sprintf("bounced %s ifIndex %d (%s)", plan.Device.Name, p.ifIndex, st.name), Evidence: ev}, nil
}

// Verify implements plugins.Remediator: reads ifOperStatus until it is up,
// verify_timeout passes or ctx ends.
func (b *Bouncer) Verify(ctx context.Context, plan plugins.Plan) (plugins.Verification, error) {
	p, err := b.checkParams(plan.Action, plan.Device, plan.Params)
	if err != nil {
		return plugins.Verification{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(b.cfg.VerifyTimeout))
	defer cancel()
	sess, err := b.connect(ctx, plan.Device, plan.Secrets)
	if err != nil {
		return plugins.Verification{}, err
	}
	defer sess.close()
	var ev []string
	for {
		st, err := sess.read(p.ifIndex)
		at := b.now().UTC().Format(time.RFC3339)
		switch {
		case err != nil:
			ev = append(ev, fmt.Sprintf("%s read failed: %v", at, err))
		case st.oper == statusUp:
			ev = append(ev, fmt.Sprintf("%s ifIndex %d (%s) admin %s, oper %s", at, p.ifIndex, st.name, statusName(st.admin), statusName(st.oper)))
			return plugins.Verification{OK: true, Evidence: ev}, nil
		default:
			ev = append(ev, fmt.Sprintf("%s ifIndex %d (%s) admin %s, oper %s", at, p.ifIndex, st.name, statusName(st.admin), statusName(st.oper)))
		}
		if sleep(ctx, time.Duration(b.cfg.VerifyInterval)) != nil {
			// Keep the evidence short: first reads and the last one.
			if len(ev) > 6 {
				ev = append(ev[:3], append([]string{fmt.Sprintf("... %d reads ...", len(ev)-5)}, ev[len(ev)-2:]...)...)
			}
			ev = append(ev, fmt.Sprintf("port not up within %s", time.Duration(b.cfg.VerifyTimeout)))
			return plugins.Verification{OK: false, Evidence: ev}, nil
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// session is one SNMP connection to the device.
type session struct {
	g      *gosnmp.GoSNMP
	device string
}

func (b *Bouncer) connect(ctx context.Context, dev plugins.Device, sec plugins.Secrets) (*session, error) {
	host, portStr, err := net.SplitHostPort(dev.Address)
	if err != nil {
		host, portStr = dev.Address, "161"
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("%w: device %s: bad port in address %q", plugins.ErrInvalid, dev.Name, dev.Address)
	}
	g := &gosnmp.GoSNMP{
		Target: host, Port: uint16(port), Context: ctx, Timeout: time.Duration(b.cfg.SNMPTimeout),
		Retries: b.cfg.SNMPRetries, MaxOids: gosnmp.MaxOids, ExponentialTimeout: false,
	}
	if err := applySecrets(g, sec); err != nil {
		return nil, fmt.Errorf("%w: device %s credential %s: %v", plugins.ErrInvalid, dev.Name, dev.CredentialRef, err)
	}
	if err := g.Connect(); err != nil {
		return nil, fmt.Errorf("device %s: snmp connect %s: %w", dev.Name, dev.Address, err)
	}
	return &session{g: g, device: dev.Name}, nil
}

func (s *session) close() { _ = s.g.Conn.Close() }

func (s *session) read(ifIndex int) (portState, error) {
	i := "." + strconv.Itoa(ifIndex)
	oids := []string{oidIfAdminStatus + i, oidIfOperStatus + i, oidIfName + i, oidIfAlias + i, oidIfDescr + i}
	pkt, err := s.g.Get(oids)
	if err != nil {
		return portState{}, fmt.Errorf("device %s: snmp get ifIndex %d: %w", s.device, ifIndex, err)
	}
	if pkt.Error != gosnmp.NoError {
		return portState{}, fmt.Errorf("device %s: snmp get ifIndex %d: agent answered %s", s.device, ifIndex, pkt.Error)
	}
	var st portState
	var descr string
	for _, v := range pkt.Variables {
		switch v.Name {
		case oidIfAdminStatus + i:
			st.admin = intOf(v)
		case oidIfOperStatus + i:
			st.oper = intOf(v)
		case oidIfName + i:
			st.name = strOf(v)
		case oidIfAlias + i:
			st.alias = strOf(v)
		case oidIfDescr + i:
			descr = strOf(v)
		}
	}
	if st.admin == 0 || st.oper == 0 {
		return portState{}, fmt.Errorf("device %s: ifIndex %d does not exist (no ifAdminStatus/ifOperStatus)", s.device, ifIndex)
	}
	if st.name == "" {
		st.name = descr
	}
	return st, nil
}

func (s *session) setAdmin(ifIndex, value int) error {
	pkt, err := s.g.Set([]gosnmp.SnmpPDU{{Name: oidIfAdminStatus + "." + strconv.Itoa(ifIndex), Type: gosnmp.Integer, Value: value}})
	if err != nil {
		return fmt.Errorf("device %s: snmp set ifAdminStatus.%d: %w", s.device, ifIndex, err)
	}
	if pkt.Error != gosnmp.NoError {
		return fmt.Errorf("device %s: snmp set ifAdminStatus.%d: agent answered %s (is the credential read-write?)", s.device, ifIndex, pkt.Error)
	}
	return nil
}

func intOf(v gosnmp.SnmpPDU) int {
	if v.Type != gosnmp.Integer {
		return 0
	}
	return int(gosnmp.ToBigInt(v.Value).Int64())
}

func strOf(v gosnmp.SnmpPDU) string {
	if b, ok := v.Value.([]byte); ok {
		return string(b)
	}
	return ""
}

// Secrets builds the secrets this plugin reads from an inventory
// credential.
func Secrets(c inventory.Credential) plugins.Secrets {
	s := plugins.Secrets{"version": c.Version}
	for k, v := range map[string]string{
		"community": c.Community, "username": c.Username, "security_level": c.SecurityLevel,
		"auth_protocol": c.AuthProtocol, "auth_key": c.AuthKey, "priv_protocol": c.PrivProtocol,
		"priv_key": c.PrivKey, "context_name": c.ContextName,
	} {
		if v != "" {
			s[k] = v
		}
	}
	return s
}

var (
	authProtocols = map[string]gosnmp.SnmpV3AuthProtocol{
		"MD5": gosnmp.MD5, "SHA": gosnmp.SHA, "SHA1": gosnmp.SHA, "SHA224": gosnmp.SHA224,
		"SHA256": gosnmp.SHA256, "SHA384": gosnmp.SHA384, "SHA512": gosnmp.SHA512,
	}
	privProtocols = map[string]gosnmp.SnmpV3PrivProtocol{
		"DES": gosnmp.DES, "AES": gosnmp.AES, "AES128": gosnmp.AES, "AES192": gosnmp.AES192,
		"AES256": gosnmp.AES256, "AES192C": gosnmp.AES192C, "AES256C": gosnmp.AES256C,
	}
)

// applySecrets sets g's version and credential. Errors never quote a
// secret value.
func applySecrets(g *gosnmp.GoSNMP, s plugins.Secrets) error {
	switch strings.ToLower(s["version"]) {
	case "1":
		g.Version, g.Community = gosnmp.Version1, s["community"]
		return nil
	case "2c", "2", "":
		g.Version, g.Community = gosnmp.Version2c, s["community"]
		return nil
	case "3":
	default:
		return fmt.Errorf("unsupported SNMP version %q (want 1, 2c or 3)", s["version"])
	}
	usm := &gosnmp.UsmSecurityParameters{UserName: s["username"]}
	g.MsgFlags = gosnmp.NoAuthNoPriv
	if s["auth_key"] != "" {
		p, ok := authProtocols[strings.ToUpper(s["auth_protocol"])]
		if !ok {
			return fmt.Errorf("unknown auth_protocol %q", s["auth_protocol"])
		}
		usm.AuthenticationProtocol, usm.AuthenticationPassphrase = p, s["auth_key"]
		g.MsgFlags = gosnmp.AuthNoPriv
	}
	if s["priv_key"] != "" {
		p, ok := privProtocols[strings.ToUpper(s["priv_protocol"])]
		if !ok {
			return fmt.Errorf("unknown priv_protocol %q", s["priv_protocol"])
		}
		if g.MsgFlags != gosnmp.AuthNoPriv {
			return errors.New("priv_key needs auth_key")
		}
		usm.PrivacyProtocol, usm.PrivacyPassphrase = p, s["priv_key"]
		g.MsgFlags = gosnmp.AuthPriv
	}
	g.Version, g.SecurityModel, g.SecurityParameters, g.ContextName = gosnmp.Version3, gosnmp.UserSecurityModel, usm, s["context_name"]
	return nil
}

var _ plugins.Remediator = (*Bouncer)(nil)
