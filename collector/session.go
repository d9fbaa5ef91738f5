package collector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/nocagent/nocagent/inventory"
)

// Defaults applied by Dial to a zero SessionOptions field.
const (
	DefaultTimeout = 2 * time.Second
	DefaultPort    = 161
)

// SessionOptions tune one SNMP session.
type SessionOptions struct {
	// Timeout is how long one request waits for its answer; 0 means 2s.
	Timeout time.Duration
	// Retries is how many times a request is re-sent after a timeout.
	Retries int
	// MaxRepetitions is how many rows of each column one GETBULK asks for;
	// 0 means 25. It is where a device starts and the most it grows back
	// to after answers made it shrink.
	MaxRepetitions int
	// MaxVarbinds caps one walk; a table that goes on past it is cut off
	// with ErrTooManyVarbinds. 0 means DefaultMaxVarbinds.
	MaxVarbinds int
	// Tuning keeps what walks learn about each agent (max-repetitions,
	// GETBULK trouble) from one poll to the next; nil means every session
	// starts afresh.
	Tuning *TuningCache
}

// WireStats count SNMP traffic of the whole process, for benchmarks and
// self-monitoring.
type WireStats struct {
	Requests uint64 // requests answered
	Received uint64 // varbinds in those answers
	Varbinds uint64 // varbinds handed to decoders: Received less what walks overshot
}

var (
	wire   struct{ requests, received atomic.Uint64 }
	walked atomic.Uint64
)

// ReadWireStats returns the process's SNMP counters since start.
func ReadWireStats() WireStats {
	return WireStats{Requests: wire.requests.Load(), Received: wire.received.Load(), Varbinds: walked.Load()}
}

// Session is an SNMP session to one agent, v1, v2c or v3 alike. It is not
// safe for concurrent use: one poll owns it.
type Session struct {
	g       *gosnmp.GoSNMP
	target  string // host:port
	cred    string // credential name, for hints; never a secret
	timeout time.Duration
	sent    int
	// answered is set once the agent has answered a request: from then on
	// a timeout means a slow agent, not bad credentials.
	answered bool
	w        *bulkWalker
}

// SplitTarget returns host and port of an address written host, host:port
// or [v6]:port; the port defaults to 161.
func SplitTarget(target string) (host string, port uint16, err error) {
	h, p, err := net.SplitHostPort(target)
	if err != nil {
		// No port: the whole string is the host (a bare IPv6 address too).
		h, p = strings.Trim(target, "[]"), strconv.Itoa(DefaultPort)
	}
	if h == "" {
		return "", 0, fmt.Errorf("target %q: empty host", target)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return "", 0, fmt.Errorf("target %q: bad port %q", target, p)
	}
	return h, uint16(n), nil
}

// Dial prepares a session to target (host[:port]) with cred. For UDP it
// sends nothing: the first request finds out whether the agent answers.
func Dial(ctx context.Context, target string, cred inventory.Credential, opts SessionOptions) (*Session, error) {
	host, port, err := SplitTarget(target)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	g := &gosnmp.GoSNMP{
		Target:         host,
		Port:           port,
		Transport:      "udp",
		Context:        ctx,
		Timeout:        opts.Timeout,
		Retries:        max(opts.Retries, 0),
		MaxOids:        maxOidsPerRequest,
		MaxRepetitions: uint32(max(opts.MaxRepetitions, 0)),
	}
	if err := applyCredential(g, cred); err != nil {
		return nil, err
	}
	s := &Session{
		g:       g,
		target:  net.JoinHostPort(host, strconv.Itoa(int(port))),
		cred:    cred.Name,
		timeout: opts.Timeout,
	}
	g.OnSent = func(*gosnmp.GoSNMP) { s.sent++ }
	s.w = newBulkWalker(s, g.Version == gosnmp.Version1, opts.MaxRepetitions)
	if opts.Tuning != nil {
		s.w.tune = opts.Tuning.For(s.target, opts.MaxRepetitions)
	}
	if opts.MaxVarbinds > 0 {
		s.w.maxVarbinds = opts.MaxVarbinds
	}
	if err := g.Connect(); err != nil {
		return nil, fmt.Errorf("snmp %s: %w", s.target, err)
	}
	return s, nil
}

// applyCredential copies cred into g. Errors name the credential and the
// field, never a secret.
func applyCredential(g *gosnmp.GoSNMP, cred inventory.Credential) error {
	switch strings.ToLower(cred.Version) {
	case inventory.SNMPv1:
		g.Version = gosnmp.Version1
		g.Community = cred.Community
		return nil
	case inventory.SNMPv2c, "2", "":
		g.Version = gosnmp.Version2c
		g.Community = cred.Community
		return nil
	case inventory.SNMPv3:
	default:
		return fmt.Errorf("credential %q: unsupported SNMP version %q (want 1, 2c or 3)", cred.Name, cred.Version)
	}
	usm := &gosnmp.UsmSecurityParameters{UserName: cred.Username}
	level := strings.ToLower(cred.SecurityLevel)
	if level == "" {
		switch {
		case cred.PrivKey != "":
			level = "authpriv"
		case cred.AuthKey != "":
			level = "authnopriv"
		default:
			level = "noauthnopriv"
		}
	}
	switch level {
	case "noauthnopriv":
		g.MsgFlags = gosnmp.NoAuthNoPriv
	case "authnopriv":
		g.MsgFlags = gosnmp.AuthNoPriv
	case "authpriv":
		g.MsgFlags = gosnmp.AuthPriv
	default:
		return fmt.Errorf("credential %q: unknown security_level %q", cred.Name, cred.SecurityLevel)
	}
	if g.MsgFlags&gosnmp.AuthNoPriv != 0 {
		p, ok := authProtocols[strings.ToUpper(cred.AuthProtocol)]
		if !ok {
			return fmt.Errorf("credential %q: unknown auth_protocol %q (want MD5, SHA, SHA224, SHA256, SHA384 or SHA512)", cred.Name, cred.AuthProtocol)
		}
		usm.AuthenticationProtocol = p
		usm.AuthenticationPassphrase = cred.AuthKey
	}
	if g.MsgFlags&gosnmp.AuthPriv == gosnmp.AuthPriv {
		p, ok := privProtocols[strings.ToUpper(cred.PrivProtocol)]
		if !ok {
			return fmt.Errorf("credential %q: unknown priv_protocol %q (want DES, AES, AES192, AES256, AES192C or AES256C)", cred.Name, cred.PrivProtocol)
		}
		usm.PrivacyProtocol = p
		usm.PrivacyPassphrase = cred.PrivKey
	}
	g.Version = gosnmp.Version3
	g.SecurityModel = gosnmp.UserSecurityModel
	g.SecurityParameters = usm
	g.ContextName = cred.ContextName
	return nil
}

var authProtocols = map[string]gosnmp.SnmpV3AuthProtocol{
	"MD5": gosnmp.MD5, "SHA": gosnmp.SHA, "SHA1": gosnmp.SHA,
	"SHA224": gosnmp.SHA224, "SHA256": gosnmp.SHA256,
	"SHA384": gosnmp.SHA384, "SHA512": gosnmp.SHA512,
}

var privProtocols = map[string]gosnmp.SnmpV3PrivProtocol{
	"DES": gosnmp.DES, "AES": gosnmp.AES, "AES128": gosnmp.AES,
	"AES192": gosnmp.AES192, "AES256": gosnmp.AES256,
	"AES192C": gosnmp.AES192C, "AES256C": gosnmp.AES256C,
}

// Target is the host:port the session talks to.
func (s *Session) Target() string { return s.target }

// PDUs is how many request datagrams the session has sent, retries and
// SNMPv3 engine discovery included.
func (s *Session) PDUs() int { return s.sent }

// Tuning returns what the session's walks have learned about the agent.
func (s *Session) Tuning() TuningState { return s.w.tune.State() }

// Close releases the socket.
func (s *Session) Close() error { return s.g.Close() }

// Get fetches scalars; objects the agent lacks are left out.
func (s *Session) Get(ctx context.Context, oids []string) ([]gosnmp.SnmpPDU, error) {
	return s.w.Get(ctx, oids)
}

// Walk walks several subtrees at once, several columns per GETBULK.
func (s *Session) Walk(ctx context.Context, roots []string, fn func(gosnmp.SnmpPDU) error) error {
	return s.w.Walk(ctx, roots, fn)
}

func (s *Session) request(ctx context.Context, kind gosnmp.PDUType, oids []string, maxReps uint32) (*gosnmp.SnmpPacket, error) {
	if err := ctx.Err(); err != nil {
		return nil, s.explain(ctx, err)
	}
	s.g.Context = ctx
	var (
		pkt *gosnmp.SnmpPacket
		err error
	)
	switch kind {
	case gosnmp.GetRequest:
		pkt, err = s.g.Get(oids)
	case gosnmp.GetNextRequest:
		pkt, err = s.g.GetNext(oids)
	case gosnmp.GetBulkRequest:
		pkt, err = s.g.GetBulk(oids, 0, maxReps)
	default:
		return nil, fmt.Errorf("snmp %s: unsupported request %v", s.target, kind)
	}
	if err != nil {
		return nil, s.explain(ctx, err)
	}
	s.answered = true
	wire.requests.Add(1)
	wire.received.Add(uint64(len(pkt.Variables)))
	return pkt, nil
}

// HintError is an SNMP failure rewritten into what to check. Error gives the
// hint; Unwrap the library's error.
type HintError struct {
	Hint string
	Err  error
}

func (e *HintError) Error() string { return e.Hint }
func (e *HintError) Unwrap() error { return e.Err }

// explain turns gosnmp's errors into hints that name the credential (never
// its secrets) and the field to check.
func (s *Session) explain(ctx context.Context, err error) error {
	hint := func(format string, args ...any) error {
		return &HintError{Hint: fmt.Sprintf(format, args...), Err: err}
	}
	switch {
	case strings.Contains(err.Error(), "not authentic"):
		// gosnmp drops the agent's unauthenticated report, so whether the
		// key or the user is wrong takes one more question.
		if s.unknownUser(ctx) {
			return hint("unknown user on %s: check username of credential %q", s.target, s.cred)
		}
		return hint("authentication failed on %s: check auth_protocol and auth_key of credential %q", s.target, s.cred)
	case errors.Is(err, gosnmp.ErrWrongDigest):
		return hint("authentication failed on %s: check auth_protocol and auth_key of credential %q", s.target, s.cred)
	case errors.Is(err, gosnmp.ErrDecryption):
		return hint("decryption failed on %s: check priv_protocol and priv_key of credential %q", s.target, s.cred)
	case errors.Is(err, gosnmp.ErrUnknownUsername):
		return hint("unknown user on %s: check username of credential %q", s.target, s.cred)
	case errors.Is(err, gosnmp.ErrUnknownSecurityLevel):
		return hint("security level refused by %s: check security_level of credential %q", s.target, s.cred)
	case errors.Is(err, gosnmp.ErrNotInTimeWindow), errors.Is(err, gosnmp.ErrUnknownEngineID):
		return hint("SNMPv3 engine time or ID mismatch with %s (credential %q): the agent may have restarted; retry", s.target, s.cred)
	case errors.Is(err, syscall.ECONNREFUSED):
		return hint("%s refused the request (port unreachable: is an SNMP agent listening on that port?)", s.target)
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return fmt.Errorf("snmp %s: poll cancelled: %w", s.target, err)
	case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded):
		// gosnmp reports DeadlineExceeded when ctx's deadline, not its own
		// timeout, ended the wait, which may be a moment before ctx notices.
		return hint("no answer from %s before the poll deadline (check address, port, community/credentials and ACLs)", s.target)
	case isTimeout(err) && !s.answered && s.g.ContextName != "" && s.engineKnown():
		// net-snmp also drops requests for a context it does not serve.
		return hint("no answer from %s to requests for context %q although it answered SNMPv3 discovery: check context_name, priv_protocol and priv_key of credential %q", s.target, s.g.ContextName, s.cred)
	case isTimeout(err) && !s.answered && s.g.MsgFlags&gosnmp.AuthPriv == gosnmp.AuthPriv && s.engineKnown():
		// net-snmp silently drops what it cannot decrypt, after having
		// answered engine discovery in the clear.
		return hint("no answer from %s to encrypted requests although it answered SNMPv3 discovery: check priv_protocol and priv_key of credential %q", s.target, s.cred)
	case isTimeout(err):
		return hint("no answer from %s within %s (check address, port, community/credentials and ACLs)", s.target, s.timeout)
	}
	return fmt.Errorf("snmp %s: %w", s.target, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, gosnmp.ErrMaxRetriesExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "timeout")
}

// engineKnown reports whether SNMPv3 engine discovery got an answer.
func (s *Session) engineKnown() bool {
	usm, ok := s.g.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	return ok && usm.AuthoritativeEngineID != ""
}

// unknownUser asks the agent, without authentication, about the session's
// user: an agent that does not know the user says so in a report that
// gosnmp can read when the request was not authenticated.
func (s *Session) unknownUser(ctx context.Context) bool {
	usm, ok := s.g.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if !ok || ctx.Err() != nil {
		return false
	}
	probe := &gosnmp.GoSNMP{
		Target: s.g.Target, Port: s.g.Port, Transport: s.g.Transport, Context: ctx,
		Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.NoAuthNoPriv,
		SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: usm.UserName},
		ContextName:        s.g.ContextName, Timeout: s.timeout, MaxOids: maxOidsPerRequest,
		OnSent: func(*gosnmp.GoSNMP) { s.sent++ },
	}
	if err := probe.Connect(); err != nil {
		return false
	}
	defer probe.Close()
	_, err := probe.Get([]string{oidSysUpTime})
	return errors.Is(err, gosnmp.ErrUnknownUsername)
}
