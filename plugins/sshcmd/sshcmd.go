// Package sshcmd is the built-in remediator "ssh-command": it runs vetted
// command templates from its configuration on a device over SSH.
//
// Only what the configuration lists can run. Each action is a list of
// text/template commands ("clear counters {{.Interface}}"); the only
// inputs are the request params the configuration declares, and each is
// checked against its pattern, a maximum length and a set of characters
// that are never allowed (shell and CLI metacharacters, control
// characters) before anything connects. Plan renders the exact commands;
// Execute renders them again, refuses if they differ from the plan (the
// configuration changed since the approval), connects and runs them.
//
// The device's host key must be pinned in the configuration (host_keys)
// or listed in a known_hosts file; an unknown or changed key is refused
// (plugins.ErrRefused) and nothing runs. There is no way to turn this off.
//
// Secrets (plugins.Secrets): username (else the configured one), password
// (also answers keyboard-interactive prompts), private_key (PEM, OpenSSH
// or PKCS#8) and passphrase. They are never logged or put in errors.
//
// Modes: "exec" runs each command on its own SSH exec channel, with the
// per-command timeout, and stops at the first failure (non-zero exit
// status or output matching error_pattern). "shell" writes all commands to
// one shell session's stdin, for CLIs whose modes (configure terminal,
// interface ...) last a session, then closes stdin; it has the per-command
// timeout times the number of commands, so its last command should log out
// ("exit") on devices that ignore end of input.
package sshcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/nocagent/nocagent/plugins"
)

// Name is the plugin's name.
const (
	Name    = "ssh-command"
	version = "1.0.0"
)

const (
	modeExec  = "exec"
	modeShell = "shell"
)

// Limits on what is kept of a device's output.
const (
	maxOutput       = 32 << 10 // per call, in Result.Output
	maxEvidenceText = 2 << 10  // per evidence line
)

// Options are the host-side dependencies of a Remediator.
type Options struct {
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // stamps evidence; nil: time.Now
}

// Remediator is the ssh-command remediator. Configure must be called
// before use (the host does); it is safe for concurrent use.
type Remediator struct {
	log *slog.Logger
	now func() time.Time
	cfg atomic.Pointer[compiled]
}

// New returns an unconfigured Remediator: it offers no action until
// Configure gives it some.
func New(opts Options) *Remediator {
	r := &Remediator{log: opts.Logger, now: opts.Now}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	c, _ := compile(Config{})
	r.cfg.Store(c)
	return r
}

// Info implements plugins.Base.
func (r *Remediator) Info(context.Context) (plugins.Info, error) {
	return plugins.Info{Name: Name, Kind: plugins.KindRemediator, Version: version,
		APIVersions: []int{plugins.APIVersion}, ConfigSchema: []byte(configSchema)}, nil
}

// Configure implements plugins.Base. nil or empty config: no actions.
func (r *Remediator) Configure(_ context.Context, raw []byte) error {
	var cfg Config
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return fmt.Errorf("%w: %s config: %v", plugins.ErrInvalid, Name, err)
		}
	}
	c, err := compile(cfg)
	if err != nil {
		return fmt.Errorf("%w: %s config: %v", plugins.ErrInvalid, Name, err)
	}
	r.cfg.Store(c)
	return nil
}

// Actions implements plugins.Remediator: the configured actions, sorted.
func (r *Remediator) Actions(context.Context) ([]plugins.ActionSpec, error) {
	c := r.cfg.Load()
	out := make([]plugins.ActionSpec, 0, len(c.actions))
	for _, name := range slices.Sorted(maps.Keys(c.actions)) {
		a := c.actions[name]
		desc := a.cfg.Description
		if desc == "" {
			desc = "Run over SSH: " + strings.Join(a.cfg.Commands, "; ")
		}
		spec := plugins.ActionSpec{Name: name, Categories: a.cfg.Categories, Description: desc}
		for _, pn := range a.params {
			p := c.params[pn]
			d := p.cfg.Description
			if d == "" {
				d = cmpOr(p.cfg.Type, "value matching "+p.cfg.Pattern)
			}
			spec.Params = append(spec.Params, plugins.ParamSpec{Name: pn, Description: d, Required: !p.cfg.Optional})
		}
		out = append(out, spec)
	}
	return out, nil
}

// rendered is an action with its params checked and its commands
// rendered for one device.
type rendered struct {
	action   *action
	commands []string
	verify   string
	steps    []string
}

// render checks a request and renders its commands. Every refusal that
// needs no connection happens here.
func (r *Remediator) render(c *compiled, actionName string, dev plugins.Device, params map[string]string) (*rendered, error) {
	a, ok := c.actions[actionName]
	if !ok {
		return nil, fmt.Errorf("%w: %s has no action %q (configured: %s)", plugins.ErrInvalid, Name, actionName,
			strings.Join(slices.Sorted(maps.Keys(c.actions)), ", "))
	}
	if dev.Address == "" {
		return nil, fmt.Errorf("%w: device %s has no address", plugins.ErrInvalid, dev.Name)
	}
	if _, _, err := splitAddr(dev.Address); err != nil {
		return nil, fmt.Errorf("%w: device %s: %v", plugins.ErrInvalid, dev.Name, err)
	}
	var errs []error
	for _, pn := range a.params {
		p := c.params[pn]
		v, present := params[pn]
		if !present || v == "" {
			if !p.cfg.Optional {
				errs = append(errs, fmt.Errorf("param %s is required", pn))
			}
			continue
		}
		if err := p.check(v); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: action %s on device %s: %s", plugins.ErrInvalid, actionName, dev.Name, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	data := c.templateData(func(n string) string { return params[n] })
	out := &rendered{action: a}
	for _, t := range a.commands {
		s, err := execTemplate(t, data)
		if err != nil {
			return nil, fmt.Errorf("%w: action %s: %v", plugins.ErrInvalid, actionName, err)
		}
		out.commands = append(out.commands, s)
	}
	if a.verify != nil {
		s, err := execTemplate(a.verify, data)
		if err != nil {
			return nil, fmt.Errorf("%w: action %s: verify: %v", plugins.ErrInvalid, actionName, err)
		}
		out.verify = s
	}
	keyCheck, err := hostKeyDescription(c, dev)
	if err != nil {
		return nil, err
	}
	target := fmt.Sprintf("%s (%s)", dev.Name, dev.Address)
	out.steps = append(out.steps, fmt.Sprintf("connect over SSH to %s with credential %s; host key must match %s", target, cmpOr(dev.CredentialRef, "(unnamed)"), keyCheck))
	for _, cmd := range out.commands {
		out.steps = append(out.steps, fmt.Sprintf("%s on %s: %s", a.cfg.Mode, dev.Name, cmd))
	}
	if out.verify != "" {
		v := a.cfg.Verify
		out.steps = append(out.steps, fmt.Sprintf("verify: run %q until its output matches /%s/ (at most %d attempts, %s apart)",
			out.verify, v.Expect, v.Attempts, time.Duration(v.Interval)))
	} else {
		out.steps = append(out.steps, "verify: no verify command configured, the effect will not be checked")
	}
	return out, nil
}

func execTemplate(t *template.Template, data map[string]string) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	s := strings.TrimSpace(b.String())
	if s == "" || strings.ContainsAny(s, "\n\r") {
		return "", fmt.Errorf("template %s renders to an empty or multi-line command", t.Name())
	}
	return s, nil
}

// Plan implements plugins.Remediator: the exact commands, without
// connecting to the device.
func (r *Remediator) Plan(_ context.Context, req plugins.Request) (plugins.Plan, error) {
	rd, err := r.render(r.cfg.Load(), req.Action, req.Device, req.Params)
	if err != nil {
		return plugins.Plan{}, err
	}
	return plugins.Plan{Action: req.Action, Device: req.Device, Ticket: req.Ticket, Params: req.Params,
		Steps: rd.steps, Risk: rd.action.cfg.Risk}, nil
}

// checkPlan renders plan again and refuses it if the result is not what
// the approver saw.
func (r *Remediator) checkPlan(plan plugins.Plan) (*compiled, *rendered, error) {
	c := r.cfg.Load()
	rd, err := r.render(c, plan.Action, plan.Device, plan.Params)
	if err != nil {
		return nil, nil, err
	}
	if !slices.Equal(rd.steps, plan.Steps) {
		return nil, nil, fmt.Errorf("%w: plan for action %s on device %s is stale: the configured commands or host key check changed since it was planned; plan again",
			plugins.ErrRefused, plan.Action, plan.Device.Name)
	}
	return c, rd, nil
}

// Execute implements plugins.Remediator. A failure after the connection
// is a Result with OK false and the evidence so far: something may have
// run, and the ticket must show what.
func (r *Remediator) Execute(ctx context.Context, plan plugins.Plan) (plugins.Result, error) {
	c, rd, err := r.checkPlan(plan)
	if err != nil {
		return plugins.Result{}, err
	}
	client, err := r.dial(ctx, c, plan.Device, plan.Secrets)
	if err != nil {
		return plugins.Result{}, err
	}
	defer client.Close()
	var (
		ev  []string
		out strings.Builder
	)
	record := func(cmd, output string, err error, took time.Duration) {
		status := "ok"
		if err != nil {
			status = "FAILED: " + err.Error()
		}
		ev = append(ev, fmt.Sprintf("%s %s on %s: %s: %s (%s)\n%s", r.stamp(), rd.action.cfg.Mode, plan.Device.Name, cmd, status,
			took.Round(time.Millisecond), clip(output, maxEvidenceText)))
		fmt.Fprintf(&out, "%s# %s\n%s\n", plan.Device.Name, cmd, strings.TrimRight(output, "\r\n"))
		r.log.Info("ssh command", "plugin", Name, "device", plan.Device.Name, "ticket", plan.Ticket.ID,
			"action", plan.Action, "mode", rd.action.cfg.Mode, "command", cmd, "ok", err == nil, "duration", took)
	}
	result := func(ok bool, summary string) plugins.Result {
		return plugins.Result{OK: ok, Output: clip(summary+"\n"+out.String(), maxOutput), Evidence: ev}
	}
	if rd.action.cfg.Mode == modeShell {
		start := time.Now()
		output, err := runShell(ctx, client, rd.commands, c.perCmd*time.Duration(len(rd.commands)), c.errorRE)
		record(strings.Join(rd.commands, " / "), output, err, time.Since(start))
		if err != nil {
			return result(false, fmt.Sprintf("action %s on %s failed: %v", plan.Action, plan.Device.Name, err)), nil
		}
		return result(true, fmt.Sprintf("ran %d commands of action %s on %s in one shell session", len(rd.commands), plan.Action, plan.Device.Name)), nil
	}
	for i, cmd := range rd.commands {
		start := time.Now()
		output, err := runExec(ctx, client, cmd, c.perCmd, c.errorRE)
		record(cmd, output, err, time.Since(start))
		if err != nil {
			return result(false, fmt.Sprintf("action %s on %s stopped at command %d of %d (%s): %v; the commands after it did not run",
				plan.Action, plan.Device.Name, i+1, len(rd.commands), cmd, err)), nil
		}
	}
	return result(true, fmt.Sprintf("ran %d commands of action %s on %s", len(rd.commands), plan.Action, plan.Device.Name)), nil
}

// Verify implements plugins.Remediator: runs the verify command until its
// output matches. Without a verify command the effect is unverified, which
// the host treats like a failed check (the ticket escalates).
func (r *Remediator) Verify(ctx context.Context, plan plugins.Plan) (plugins.Verification, error) {
	c, rd, err := r.checkPlan(plan)
	if err != nil {
		return plugins.Verification{}, err
	}
	if rd.verify == "" {
		return plugins.Verification{OK: false, Evidence: []string{fmt.Sprintf("action %s has no verify command: effect not checked", plan.Action)}}, nil
	}
	client, err := r.dial(ctx, c, plan.Device, plan.Secrets)
	if err != nil {
		return plugins.Verification{}, err
	}
	defer client.Close()
	v := rd.action.cfg.Verify
	var ev []string
	for attempt := 1; ; attempt++ {
		output, err := runExec(ctx, client, rd.verify, c.perCmd, nil)
		matched := err == nil && rd.action.expect.MatchString(output)
		status := "matches"
		switch {
		case err != nil:
			status = "FAILED: " + err.Error()
		case !matched:
			status = "does not match"
		}
		ev = append(ev, fmt.Sprintf("%s attempt %d/%d: %s on %s: output %s /%s/\n%s", r.stamp(), attempt, v.Attempts,
			rd.verify, plan.Device.Name, status, v.Expect, clip(output, maxEvidenceText)))
		r.log.Info("ssh verify", "plugin", Name, "device", plan.Device.Name, "ticket", plan.Ticket.ID,
			"action", plan.Action, "attempt", attempt, "ok", matched)
		if matched {
			return plugins.Verification{OK: true, Evidence: ev}, nil
		}
		if attempt >= v.Attempts || sleep(ctx, time.Duration(v.Interval)) != nil {
			return plugins.Verification{OK: false, Evidence: ev}, nil
		}
	}
}

func (r *Remediator) stamp() string { return r.now().UTC().Format(time.RFC3339) }

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

// ---- SSH ----

func splitAddr(addr string) (host, port string, err error) {
	if h, p, err := net.SplitHostPort(addr); err == nil {
		return h, p, nil
	}
	if strings.Count(addr, ":") > 1 || !strings.Contains(addr, ":") {
		return strings.Trim(addr, "[]"), "22", nil // bare host or IPv6 literal
	}
	return "", "", fmt.Errorf("bad address %q", addr)
}

// pin returns the fingerprint pinned for dev, by name, address or host.
func pin(c *compiled, dev plugins.Device) string {
	host, _, _ := splitAddr(dev.Address)
	for _, k := range []string{dev.Name, dev.Address, host} {
		if fp, ok := c.pinnedBy[k]; ok && k != "" {
			return fp
		}
	}
	return ""
}

// hostKeyDescription says how dev's host key will be checked, or refuses
// when it cannot be.
func hostKeyDescription(c *compiled, dev plugins.Device) (string, error) {
	if fp := pin(c, dev); fp != "" {
		return "pinned fingerprint " + fp, nil
	}
	if len(c.cfg.KnownHosts) > 0 {
		return "known_hosts " + strings.Join(c.cfg.KnownHosts, ", "), nil
	}
	return "", fmt.Errorf("%w: device %s: no pinned host key (host_keys) and no known_hosts file configured: %s will not connect without verifying the host key",
		plugins.ErrRefused, dev.Name, Name)
}

// hostKeyError is a host key that failed verification.
type hostKeyError struct{ msg string }

func (e *hostKeyError) Error() string { return e.msg }

// hostKeyCallback verifies the device's key; the error it returns is kept
// in *failed, because the handshake error around it is only text.
func hostKeyCallback(c *compiled, dev plugins.Device, failed **hostKeyError) (ssh.HostKeyCallback, error) {
	where := fmt.Sprintf("device %s (%s)", dev.Name, dev.Address)
	if want := pin(c, dev); want != "" {
		return func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if got := ssh.FingerprintSHA256(key); got != want {
				*failed = &hostKeyError{fmt.Sprintf("host key of %s is %s %s, pinned %s: refusing to connect (changed key or man-in-the-middle)",
					where, key.Type(), got, want)}
				return *failed
			}
			return nil
		}, nil
	}
	if len(c.cfg.KnownHosts) == 0 {
		_, err := hostKeyDescription(c, dev)
		return nil, err
	}
	kh, err := knownhosts.New(c.cfg.KnownHosts...)
	if err != nil {
		return nil, fmt.Errorf("%w: device %s: known_hosts: %v", plugins.ErrRefused, dev.Name, err)
	}
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := kh(hostname, remote, key)
		var ke *knownhosts.KeyError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ke) && len(ke.Want) == 0:
			*failed = &hostKeyError{fmt.Sprintf("host key of %s (%s %s) is unknown: not in %s; refusing to connect (add it after checking it on the console)",
				where, key.Type(), ssh.FingerprintSHA256(key), strings.Join(c.cfg.KnownHosts, ", "))}
		case errors.As(err, &ke):
			var known []string
			for _, w := range ke.Want {
				known = append(known, fmt.Sprintf("%s %s (%s:%d)", w.Key.Type(), ssh.FingerprintSHA256(w.Key), w.Filename, w.Line))
			}
			*failed = &hostKeyError{fmt.Sprintf("host key of %s CHANGED: device offers %s %s, known_hosts has %s; refusing to connect (changed key or man-in-the-middle)",
				where, key.Type(), ssh.FingerprintSHA256(key), strings.Join(known, ", "))}
		default:
			*failed = &hostKeyError{fmt.Sprintf("host key of %s: %v", where, err)}
		}
		return *failed
	}, nil
}

// authMethods builds the auth methods from the secrets. Errors name the
// secret, never its value.
func authMethods(dev plugins.Device, sec plugins.Secrets) ([]ssh.AuthMethod, error) {
	var out []ssh.AuthMethod
	if pem := sec["private_key"]; pem != "" {
		var (
			signer ssh.Signer
			err    error
		)
		if pp := sec["passphrase"]; pp != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(pem), []byte(pp))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(pem))
		}
		if err != nil {
			// The parser's messages describe the format, not the key, but
			// say only what kind of problem it was to be safe.
			var missing *ssh.PassphraseMissingError
			reason := "not a PEM or OpenSSH private key, or wrong passphrase"
			if errors.As(err, &missing) {
				reason = "the key is encrypted and no passphrase was given"
			}
			return nil, fmt.Errorf("%w: device %s credential %s: private_key: %s", plugins.ErrInvalid, dev.Name, dev.CredentialRef, reason)
		}
		out = append(out, ssh.PublicKeys(signer))
	}
	if pw := sec["password"]; pw != "" {
		out = append(out, ssh.Password(pw), ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range answers {
				answers[i] = pw
			}
			return answers, nil
		}))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: device %s credential %s: no password or private_key in the secrets", plugins.ErrInvalid, dev.Name, dev.CredentialRef)
	}
	return out, nil
}

// dial connects and authenticates within the connect timeout and ctx.
func (r *Remediator) dial(ctx context.Context, c *compiled, dev plugins.Device, sec plugins.Secrets) (*ssh.Client, error) {
	var failed *hostKeyError
	check, err := hostKeyCallback(c, dev, &failed)
	if err != nil {
		return nil, err
	}
	auth, err := authMethods(dev, sec)
	if err != nil {
		return nil, err
	}
	user := cmpOr(sec["username"], c.cfg.Username)
	if user == "" {
		return nil, fmt.Errorf("%w: device %s credential %s: no username in the secrets or the config", plugins.ErrInvalid, dev.Name, dev.CredentialRef)
	}
	host, port, _ := splitAddr(dev.Address)
	addr := net.JoinHostPort(host, port)
	ctx, cancel := context.WithTimeout(ctx, c.connect)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("device %s: ssh connect %s: %w", dev.Name, addr, err)
	}
	// The handshake has no context: end it by closing the connection.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User: user, Auth: auth, HostKeyCallback: check, Timeout: c.connect,
	})
	if !stop() {
		err = cmpOrErr(err, ctx.Err())
		if sc != nil {
			_ = sc.Close()
		}
	}
	if err != nil {
		_ = conn.Close()
		if failed != nil {
			return nil, fmt.Errorf("%w: %s", plugins.ErrRefused, failed.msg)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("device %s: ssh handshake with %s: no answer within %s: %w", dev.Name, addr, c.connect, ctx.Err())
		}
		// x/crypto's messages ("unable to authenticate, attempted methods
		// [none password]") carry no secret.
		return nil, fmt.Errorf("device %s: ssh %s@%s with credential %s: %w", dev.Name, user, addr, dev.CredentialRef, err)
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

func cmpOrErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// errTimeout: a command did not finish within its timeout.
var errTimeout = errors.New("timed out")

// runExec runs one command on its own exec channel.
func runExec(ctx context.Context, client *ssh.Client, cmd string, timeout time.Duration, errorRE *regexp.Regexp) (string, error) {
	sess, err := client.NewSession()
	if err != nil {
		return "", fmt.Errorf("open session: %w", err)
	}
	defer sess.Close()
	var buf syncBuffer
	sess.Stdout, sess.Stderr = &buf, &buf
	if err := sess.Start(cmd); err != nil {
		return "", fmt.Errorf("start: %w", err)
	}
	return wait(ctx, sess, &buf, timeout, errorRE)
}

// runShell writes the commands to one shell session and closes its input.
func runShell(ctx context.Context, client *ssh.Client, cmds []string, timeout time.Duration, errorRE *regexp.Regexp) (string, error) {
	sess, err := client.NewSession()
	if err != nil {
		return "", fmt.Errorf("open session: %w", err)
	}
	defer sess.Close()
	var buf syncBuffer
	sess.Stdout, sess.Stderr = &buf, &buf
	stdin, err := sess.StdinPipe()
	if err != nil {
		return "", fmt.Errorf("stdin: %w", err)
	}
	if err := sess.Shell(); err != nil {
		return "", fmt.Errorf("start shell: %w", err)
	}
	// Writes may block on a device that stops reading; they run beside
	// the timeout, and closing the session ends them.
	go func() {
		for _, c := range cmds {
			if _, err := stdin.Write([]byte(c + "\n")); err != nil {
				return
			}
		}
		_ = stdin.Close()
	}()
	return wait(ctx, sess, &buf, timeout, errorRE)
}

func wait(ctx context.Context, sess *ssh.Session, buf *syncBuffer, timeout time.Duration, errorRE *regexp.Regexp) (string, error) {
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	var err error
	select {
	case err = <-done:
	case <-t.C:
		_ = sess.Close()
		return buf.String(), fmt.Errorf("%w after %s", errTimeout, timeout)
	case <-ctx.Done():
		_ = sess.Close()
		return buf.String(), fmt.Errorf("interrupted: %w", ctx.Err())
	}
	out := buf.String()
	var exitErr *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case errors.As(err, &missing):
		// Many network OSes never send an exit status; the output decides.
	case errors.As(err, &exitErr):
		return out, fmt.Errorf("exit status %d", exitErr.ExitStatus())
	case err != nil:
		return out, err
	}
	if errorRE != nil {
		if m := errorRE.FindString(out); m != "" {
			return out, fmt.Errorf("device reported an error: %q", strings.TrimSpace(m))
		}
	}
	return out, nil
}

// syncBuffer collects a session's output; x/crypto writes it from its own
// goroutines. It stops growing at maxOutput.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if room := maxOutput - s.b.Len(); room > 0 {
		s.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("\n[... %d more bytes]", len(s)-n)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var _ plugins.Remediator = (*Remediator)(nil)
