package plugins

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Errors of the host; test with errors.Is.
var (
	// ErrPluginFailed: the plugin crashed, hung or answered garbage during
	// the call. The call failed and the plugin will be restarted.
	ErrPluginFailed = errors.New("plugin failed")
	// ErrUnavailable: the plugin is down, waiting for its next restart.
	ErrUnavailable = errors.New("plugin unavailable")
	// ErrNotFound: no loaded plugin of that name and kind.
	ErrNotFound = errors.New("plugin not found")
)

// HostConfig configures a Host.
type HostConfig struct {
	// Dir holds external plugins: every executable regular file in it is
	// started as a go-plugin subprocess. Empty: no external plugins.
	Dir string
	// Builtins are served in-process through the same interfaces.
	Builtins []Base
	// Configs is the Configure input of each plugin, by plugin name.
	Configs map[string][]byte
	// ConfigSecrets lists, by plugin name, the secret values inside
	// Configs (a sink's API token or password). The host scrubs them from
	// every error and plugin log line, as it does the Secrets of a call: a
	// plugin may echo its configuration back.
	ConfigSecrets map[string]Secrets
	// Env is the whole environment of external plugins. The agent's own
	// environment is not passed on: it may hold secrets.
	Env []string
	// CallTimeout is the deadline of a call whose context has none
	// (default 30s). StartTimeout bounds a plugin's start (default 10s).
	CallTimeout, StartTimeout time.Duration
	// A failed plugin restarts after MinBackoff, doubling per consecutive
	// failure up to MaxBackoff (defaults 1s and 1m).
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
	Now                    func() time.Time // nil: time.Now
}

// Plugin health in Status.
const (
	HealthOK       = "ok"
	HealthDown     = "down"     // failed; restarts on the first call after its backoff
	HealthRejected = "rejected" // not loaded: not a plugin, wrong version, bad Info
)

// Status describes one plugin for `nocagent plugins list` and the API.
type Status struct {
	Name        string    `json:"name"`
	Kind        string    `json:"kind,omitempty"`
	Version     string    `json:"version,omitempty"`
	APIVersions []int     `json:"api_versions,omitempty"`
	Source      string    `json:"source"` // "builtin" or the executable's path
	Health      string    `json:"health"`
	Error       string    `json:"error,omitempty"` // last failure, secrets removed
	Restarts    int       `json:"restarts"`
	NextStart   time.Time `json:"next_start,omitzero"` // when down
}

// Host loads plugins and isolates the agent from them: every call gets a
// deadline, every reply is checked, and a plugin that crashes, hangs or
// answers garbage fails that call with an error wrapping ErrPluginFailed
// and is stopped; it is started again (Info, Configure) on the first call
// after its backoff. Restarts are lazy, so an idle broken plugin costs
// nothing. Its methods are safe for concurrent use.
//
// Lifecycle: NewHost, calls through Remediator/Inspector/TicketSink, Close
// once.
type Host struct {
	cfg   HostConfig
	log   *slog.Logger
	now   func() time.Time
	scrub *redactor

	mu       sync.Mutex
	plugins  map[string]*instance
	rejected []Status
	kills    sync.WaitGroup
	closed   bool
}

// instance is one loaded plugin. Fields after mu are guarded by it.
type instance struct {
	name, kind, source string
	builtin            Base   // in-process plugins
	path               string // external plugins

	mu        sync.Mutex
	info      Info
	impl      Base // current remediator/inspector/sink; nil while down
	client    *goplugin.Client
	gen       int // incremented per start, so one failure stops one generation
	failures  int // consecutive
	nextStart time.Time
	lastErr   string
	restarts  int
	started   bool
}

// NewHost starts the built-in and external plugins. A plugin that cannot
// be loaded is left out and listed as rejected; the host is returned
// together with the joined errors naming each rejected plugin.
func NewHost(ctx context.Context, cfg HostConfig) (*Host, error) {
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 30 * time.Second
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 10 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(time.Minute, cfg.MinBackoff)
	}
	h := &Host{cfg: cfg, log: cfg.Logger, now: cfg.Now, scrub: newRedactor(), plugins: map[string]*instance{}}
	for _, s := range cfg.ConfigSecrets {
		h.scrub.add(s)
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	var errs []error
	for i, b := range cfg.Builtins {
		if err := h.load(ctx, &instance{source: "builtin", builtin: b}); err != nil {
			errs = append(errs, fmt.Errorf("built-in plugin %d: %w", i, err))
		}
	}
	if cfg.Dir != "" {
		paths, err := executables(cfg.Dir)
		if err != nil {
			errs = append(errs, err)
		}
		for _, p := range paths {
			if err := h.load(ctx, &instance{source: p, path: p}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return h, errors.Join(errs...)
}

// executables lists the executable regular files of dir, sorted.
func executables(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("plugin dir: %w", err)
	}
	var out []string
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	return out, nil
}

func (h *Host) load(ctx context.Context, in *instance) error {
	in.mu.Lock()
	err := h.startLocked(ctx, in)
	in.mu.Unlock()
	label := in.source
	if in.name != "" {
		label = in.name + " (" + in.source + ")"
	}
	if err != nil {
		err = fmt.Errorf("plugin %s rejected: %w", label, err)
		h.reject(in, err)
		return err
	}
	h.mu.Lock()
	old, dup := h.plugins[in.name]
	if !dup {
		h.plugins[in.name] = in
	}
	h.mu.Unlock()
	if dup {
		err := fmt.Errorf("plugin %s rejected: name already used by %s", label, old.source)
		h.stop(in)
		h.reject(in, err)
		return err
	}
	h.log.Info("plugin loaded", "plugin", in.name, "kind", in.kind, "version", in.info.Version, "source", in.source)
	return nil
}

func (h *Host) reject(in *instance, err error) {
	msg := h.scrub.apply(err.Error())
	h.log.Warn("plugin rejected", "source", in.source, "error", msg)
	h.mu.Lock()
	h.rejected = append(h.rejected, Status{Name: cmp.Or(in.name, filepath.Base(in.source)), Kind: in.kind, Source: in.source, Health: HealthRejected, Error: msg})
	h.mu.Unlock()
}

// startLocked starts (or restarts) the plugin, checks its Info and
// configures it.
func (h *Host) startLocked(ctx context.Context, in *instance) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.StartTimeout)
	defer cancel()
	var (
		base   Base
		client *goplugin.Client
	)
	if in.builtin != nil {
		base = in.builtin
	} else {
		c, gc, err := h.spawn(in.path)
		if err != nil {
			return err
		}
		client, base = c, gc
	}
	info, err := guard(ctx, in.builtin != nil, func(ctx context.Context) (Info, error) { return base.Info(ctx) })
	if err == nil {
		err = CheckInfo(info)
	}
	if err == nil && in.started && (info.Name != in.name || info.Kind != in.kind) {
		err = fmt.Errorf("%w: after a restart the plugin calls itself %s %s, was %s %s", ErrMalformed, info.Kind, info.Name, in.kind, in.name)
	}
	if err == nil {
		in.name, in.kind = info.Name, info.Kind
		_, err = guard(ctx, in.builtin != nil, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, base.Configure(ctx, h.cfg.Configs[info.Name])
		})
		if err != nil {
			err = fmt.Errorf("configure: %w", err)
		}
	}
	if err == nil {
		switch {
		case info.Kind == KindRemediator && client != nil:
			base = base.(*GRPCClient).Remediator()
		case info.Kind == KindInspector && client != nil:
			base = base.(*GRPCClient).Inspector()
		case info.Kind == KindTicketSink && client != nil:
			base = base.(*GRPCClient).TicketSink()
		}
	}
	if err == nil && info.Kind == KindRemediator {
		if _, ok := base.(Remediator); !ok {
			err = fmt.Errorf("%w: says it is a remediator but does not implement Remediator", ErrMalformed)
		}
	}
	if err == nil && info.Kind == KindInspector {
		if _, ok := base.(Inspector); !ok {
			err = fmt.Errorf("%w: says it is an inspector but does not implement Inspector", ErrMalformed)
		}
	}
	if err == nil && info.Kind == KindTicketSink {
		if _, ok := base.(TicketSink); !ok {
			err = fmt.Errorf("%w: says it is a ticket sink but does not implement TicketSink", ErrMalformed)
		}
	}
	if err != nil {
		if client != nil {
			client.Kill()
		}
		return err
	}
	in.info, in.impl, in.client = info, base, client
	in.gen++
	in.started = true
	return nil
}

// spawn starts an external plugin and returns its connection.
func (h *Host) spawn(path string) (*goplugin.Client, *GRPCClient, error) {
	cmd := exec.Command(path)
	cmd.Env = slices.Clone(h.cfg.Env)
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  HandshakeConfig,
		VersionedPlugins: map[int]goplugin.PluginSet{APIVersion: PluginSet(nil)},
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		StartTimeout:     h.cfg.StartTimeout,
		// What the plugin writes to its stdout and stderr once serving
		// reaches the host over go-plugin's stdio stream.
		SyncStdout: &lineWriter{w: &logWriter{log: h.log, scrub: h.scrub, source: path}},
		SyncStderr: &lineWriter{w: &logWriter{log: h.log, scrub: h.scrub, source: path}},
		Logger: hclog.New(&hclog.LoggerOptions{
			// Debug: go-plugin logs a plugin's plain stderr lines at debug.
			Name: filepath.Base(path), Level: hclog.Debug,
			Output: &logWriter{log: h.log, scrub: h.scrub, source: path},
		}),
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		// go-plugin appends generic troubleshooting notes; what went wrong
		// comes before them.
		what, _, _ := strings.Cut(err.Error(), "\nThis usually means")
		what = strings.Join(strings.Fields(what), " ")
		return nil, nil, fmt.Errorf("start: %s", h.scrub.apply(what))
	}
	raw, err := rpc.Dispense(pluginSetName)
	if err != nil {
		client.Kill()
		return nil, nil, fmt.Errorf("dispense: %w", err)
	}
	gc, ok := raw.(*GRPCClient)
	if !ok {
		client.Kill()
		return nil, nil, fmt.Errorf("dispense: got %T, want *GRPCClient", raw)
	}
	return client, gc, nil
}

// List returns every plugin, loaded and rejected, sorted by name.
func (h *Host) List() []Status {
	h.mu.Lock()
	ins := make([]*instance, 0, len(h.plugins))
	for _, in := range h.plugins {
		ins = append(ins, in)
	}
	out := slices.Clone(h.rejected)
	h.mu.Unlock()
	for _, in := range ins {
		in.mu.Lock()
		st := Status{Name: in.name, Kind: in.kind, Version: in.info.Version, APIVersions: in.info.APIVersions,
			Source: in.source, Health: HealthOK, Error: in.lastErr, Restarts: in.restarts}
		if in.impl == nil {
			st.Health, st.NextStart = HealthDown, in.nextStart
		}
		in.mu.Unlock()
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b Status) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Source, b.Source)) })
	return out
}

// Names lists the loaded plugins of one kind, sorted.
func (h *Host) Names(kind string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for name, in := range h.plugins {
		if in.kind == kind {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Remediator returns the named remediator; its calls go through the host's
// isolation. Errors wrap ErrNotFound.
func (h *Host) Remediator(name string) (Remediator, error) {
	in, err := h.instance(name, KindRemediator)
	if err != nil {
		return nil, err
	}
	return &hostRemediator{h: h, in: in}, nil
}

// Inspector returns the named inspector; its calls go through the host's
// isolation. Errors wrap ErrNotFound.
func (h *Host) Inspector(name string) (Inspector, error) {
	in, err := h.instance(name, KindInspector)
	if err != nil {
		return nil, err
	}
	return &hostInspector{h: h, in: in}, nil
}

// TicketSink returns the named ticket sink; its calls go through the
// host's isolation. Errors wrap ErrNotFound.
func (h *Host) TicketSink(name string) (TicketSink, error) {
	in, err := h.instance(name, KindTicketSink)
	if err != nil {
		return nil, err
	}
	return &hostSink{h: h, in: in}, nil
}

func (h *Host) instance(name, kind string) (*instance, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	in, ok := h.plugins[name]
	if !ok || in.kind != kind {
		return nil, fmt.Errorf("%w: no %s named %q", ErrNotFound, kind, name)
	}
	return in, nil
}

// Close stops every external plugin and waits for them to exit.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	ins := make([]*instance, 0, len(h.plugins))
	for _, in := range h.plugins {
		ins = append(ins, in)
	}
	h.mu.Unlock()
	for _, in := range ins {
		h.stop(in)
	}
	h.kills.Wait()
	return nil
}

// stop kills the instance's process in the background: go-plugin's Kill
// waits up to 2s for a graceful exit, which a failing call must not.
func (h *Host) stop(in *instance) {
	in.mu.Lock()
	c := in.client
	in.client, in.impl = nil, nil
	in.mu.Unlock()
	if c == nil {
		return
	}
	h.kills.Add(1)
	go func() {
		defer h.kills.Done()
		c.Kill()
	}()
}

// acquire returns the plugin's current implementation and generation,
// restarting it if it is down and its backoff has passed.
func (h *Host) acquire(ctx context.Context, in *instance) (Base, int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.impl != nil {
		return in.impl, in.gen, nil
	}
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil, 0, fmt.Errorf("plugin %s: %w: host closed", in.name, ErrUnavailable)
	}
	if now := h.now(); now.Before(in.nextStart) {
		return nil, 0, fmt.Errorf("plugin %s: %w: down after %q; next restart in %s", in.name, ErrUnavailable,
			in.lastErr, in.nextStart.Sub(now).Round(time.Millisecond))
	}
	if err := h.startLocked(ctx, in); err != nil {
		msg := h.scrub.apply(err.Error())
		h.failedLocked(in, msg)
		return nil, 0, fmt.Errorf("plugin %s: %w: restart failed: %s", in.name, ErrUnavailable, msg)
	}
	in.restarts++
	h.log.Info("plugin restarted", "plugin", in.name, "restarts", in.restarts)
	return in.impl, in.gen, nil
}

// failedLocked records a failure and schedules the next start.
func (h *Host) failedLocked(in *instance, msg string) {
	in.failures++
	backoff := h.cfg.MinBackoff << min(in.failures-1, 20)
	in.nextStart = h.now().Add(min(backoff, h.cfg.MaxBackoff))
	in.lastErr = msg
}

// fault isolates a plugin that failed a call of generation gen.
func (h *Host) fault(in *instance, gen int, msg string) {
	in.mu.Lock()
	if in.gen != gen || in.impl == nil {
		in.mu.Unlock() // another call already stopped this generation
		return
	}
	h.failedLocked(in, msg)
	c := in.client
	in.client, in.impl = nil, nil
	next := in.nextStart
	in.mu.Unlock()
	h.log.Warn("plugin failed; stopped until its restart", "plugin", in.name, "error", msg, "next_start", next)
	if c != nil {
		h.kills.Add(1)
		go func() {
			defer h.kills.Done()
			c.Kill()
		}()
	}
}

func (h *Host) succeeded(in *instance) {
	in.mu.Lock()
	in.failures = 0
	in.mu.Unlock()
}

// pluginError is what a failed call returns: a message with secrets
// removed, matching the sentinels it lists with errors.Is. It keeps no
// reference to the original error, whose text may hold a secret.
type pluginError struct {
	msg string
	is  []error
}

func (e *pluginError) Error() string { return e.msg }
func (e *pluginError) Is(target error) bool {
	return slices.Contains(e.is, target)
}

// call runs one method of a plugin with the host's isolation. When the
// plugin answers with an error (a refusal, an invalid request, an ordinary
// failure) its result comes back with the error: a sink's Push returns the
// issue it created even when a later step failed. After a fault the result
// is the zero value.
func call[T any](h *Host, ctx context.Context, in *instance, method string, secrets Secrets,
	fn func(context.Context, Base) (T, error), check func(T) error) (T, error) {
	var zero T
	timeout := h.cfg.CallTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	h.scrub.add(secrets)
	impl, gen, err := h.acquire(ctx, in)
	if err != nil {
		return zero, err
	}
	res, err := guard(ctx, in.builtin != nil, func(ctx context.Context) (T, error) { return fn(ctx, impl) })
	if err == nil {
		if err = check(res); err == nil {
			h.succeeded(in)
			return res, nil
		}
	}
	prefix := fmt.Sprintf("plugin %s: %s: ", in.name, method)
	msg := h.scrub.apply(err.Error())
	switch {
	case errors.Is(err, ErrRefused):
		return res, &pluginError{msg: prefix + msg, is: []error{ErrRefused}}
	case errors.Is(err, ErrInvalid):
		return res, &pluginError{msg: prefix + msg, is: []error{ErrInvalid}}
	case errors.Is(err, context.Canceled) && ctx.Err() == context.Canceled:
		// The caller gave up; the plugin did nothing wrong.
		return zero, &pluginError{msg: prefix + "canceled by the caller", is: []error{context.Canceled}}
	case errors.Is(err, ErrMalformed):
		h.fault(in, gen, "malformed reply to "+method+": "+msg)
		return zero, &pluginError{msg: prefix + "answered garbage, plugin stopped for restart: " + msg, is: []error{ErrPluginFailed, ErrMalformed}}
	case ctx.Err() == context.DeadlineExceeded || status.Code(err) == codes.DeadlineExceeded:
		h.fault(in, gen, fmt.Sprintf("no answer to %s within %s", method, timeout.Round(time.Millisecond)))
		return zero, &pluginError{msg: prefix + fmt.Sprintf("no answer within %s (hung?), plugin stopped for restart", timeout.Round(time.Millisecond)),
			is: []error{ErrPluginFailed, context.DeadlineExceeded}}
	case errors.Is(err, errPanic) || isTransport(err):
		h.fault(in, gen, "crashed during "+method+": "+msg)
		return zero, &pluginError{msg: prefix + "crashed, plugin stopped for restart: " + msg, is: []error{ErrPluginFailed}}
	}
	// An ordinary failure the plugin reported (device unreachable...): the
	// plugin itself is healthy.
	return res, &pluginError{msg: prefix + msg}
}

// isTransport reports errors that mean the connection or process is gone,
// or the reply could not be decoded.
func isTransport(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.Internal, codes.Unimplemented, codes.DataLoss, codes.Canceled, codes.Aborted:
		return true
	}
	return false
}

var errPanic = errors.New("panic")

// guard runs fn. In-process plugins run on their own goroutine, so a hang
// costs the caller no more than its deadline (the goroutine is abandoned)
// and a panic becomes an error; out-of-process calls rely on gRPC's
// deadline handling.
func guard[T any](ctx context.Context, inProcess bool, fn func(context.Context) (T, error)) (T, error) {
	if !inProcess {
		return fn(ctx)
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- result{err: fmt.Errorf("%w: %v\n%s", errPanic, r, debug.Stack())}
			}
		}()
		v, err := fn(ctx)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// hostRemediator is a Remediator whose calls go through the host.
type hostRemediator struct {
	h  *Host
	in *instance
}

func (r *hostRemediator) Info(ctx context.Context) (Info, error) {
	return call(r.h, ctx, r.in, "Info", nil, func(ctx context.Context, b Base) (Info, error) { return b.Info(ctx) }, CheckInfo)
}

func (r *hostRemediator) Configure(ctx context.Context, config []byte) error {
	_, err := call(r.h, ctx, r.in, "Configure", nil, func(ctx context.Context, b Base) (struct{}, error) {
		return struct{}{}, b.Configure(ctx, config)
	}, func(struct{}) error { return nil })
	return err
}

func (r *hostRemediator) Actions(ctx context.Context) ([]ActionSpec, error) {
	return call(r.h, ctx, r.in, "Actions", nil, func(ctx context.Context, b Base) ([]ActionSpec, error) {
		return b.(Remediator).Actions(ctx)
	}, CheckActions)
}

func (r *hostRemediator) Plan(ctx context.Context, req Request) (Plan, error) {
	return call(r.h, ctx, r.in, "Plan", req.Secrets, func(ctx context.Context, b Base) (Plan, error) {
		return b.(Remediator).Plan(ctx, req)
	}, func(p Plan) error { return CheckPlan(req, p) })
}

func (r *hostRemediator) Execute(ctx context.Context, plan Plan) (Result, error) {
	return call(r.h, ctx, r.in, "Execute", plan.Secrets, func(ctx context.Context, b Base) (Result, error) {
		return b.(Remediator).Execute(ctx, plan)
	}, CheckResult)
}

func (r *hostRemediator) Verify(ctx context.Context, plan Plan) (Verification, error) {
	return call(r.h, ctx, r.in, "Verify", plan.Secrets, func(ctx context.Context, b Base) (Verification, error) {
		return b.(Remediator).Verify(ctx, plan)
	}, CheckVerification)
}

// hostInspector is an Inspector whose calls go through the host.
type hostInspector struct {
	h  *Host
	in *instance
}

func (i *hostInspector) Info(ctx context.Context) (Info, error) {
	return call(i.h, ctx, i.in, "Info", nil, func(ctx context.Context, b Base) (Info, error) { return b.Info(ctx) }, CheckInfo)
}

func (i *hostInspector) Configure(ctx context.Context, config []byte) error {
	_, err := call(i.h, ctx, i.in, "Configure", nil, func(ctx context.Context, b Base) (struct{}, error) {
		return struct{}{}, b.Configure(ctx, config)
	}, func(struct{}) error { return nil })
	return err
}

func (i *hostInspector) Inspect(ctx context.Context, req InspectRequest) ([]Finding, error) {
	return call(i.h, ctx, i.in, "Inspect", req.Secrets, func(ctx context.Context, b Base) ([]Finding, error) {
		return b.(Inspector).Inspect(ctx, req)
	}, CheckFindings)
}

// hostSink is a TicketSink whose calls go through the host.
type hostSink struct {
	h  *Host
	in *instance
}

func (s *hostSink) Info(ctx context.Context) (Info, error) {
	return call(s.h, ctx, s.in, "Info", nil, func(ctx context.Context, b Base) (Info, error) { return b.Info(ctx) }, CheckInfo)
}

func (s *hostSink) Configure(ctx context.Context, config []byte) error {
	_, err := call(s.h, ctx, s.in, "Configure", nil, func(ctx context.Context, b Base) (struct{}, error) {
		return struct{}{}, b.Configure(ctx, config)
	}, func(struct{}) error { return nil })
	return err
}

// Push returns the external id with the error when the sink created or
// found the issue before failing; an id that is not a valid one is dropped
// rather than stored on the ticket.
func (s *hostSink) Push(ctx context.Context, t SinkTicket) (string, error) {
	key, err := call(s.h, ctx, s.in, "Push", nil, func(ctx context.Context, b Base) (string, error) {
		return b.(TicketSink).Push(ctx, t)
	}, CheckExternalID)
	if err != nil && CheckExternalID(key) != nil {
		key = ""
	}
	return key, err
}

func (s *hostSink) Pull(ctx context.Context, since time.Time) ([]SinkChange, error) {
	changes, err := call(s.h, ctx, s.in, "Pull", nil, func(ctx context.Context, b Base) ([]SinkChange, error) {
		return b.(TicketSink).Pull(ctx, since)
	}, func(cs []SinkChange) error { return CheckChanges(since, cs) })
	if err != nil {
		return nil, err
	}
	return changes, nil
}

// redactor removes secret values the host has passed to plugins from any
// text that leaves the host (errors, plugin log lines): a plugin may echo
// what it was given. Values shorter than minSecretLen are not tracked:
// replacing them would garble ordinary text.
type redactor struct {
	mu     sync.RWMutex
	values map[string]struct{}
}

const (
	minSecretLen = 4
	maxSecrets   = 4096 // one or two per device credential
)

func newRedactor() *redactor { return &redactor{values: map[string]struct{}{}} }

func (r *redactor) add(s Secrets) {
	if len(s) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range s {
		if len(v) >= minSecretLen && len(r.values) < maxSecrets {
			r.values[v] = struct{}{}
		}
	}
}

func (r *redactor) apply(text string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for v := range r.values {
		text = strings.ReplaceAll(text, v, redacted)
	}
	return text
}

// logWriter turns a plugin's log lines (collected by go-plugin from its
// stderr) into slog records, secrets removed.
type logWriter struct {
	log    *slog.Logger
	scrub  *redactor
	source string
}

func (w *logWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	if line == "" {
		return len(p), nil
	}
	level := slog.LevelInfo
	switch {
	case strings.Contains(line, "[TRACE]"), strings.Contains(line, "[DEBUG]"):
		level = slog.LevelDebug
	case strings.Contains(line, "[WARN]"):
		level = slog.LevelWarn
	case strings.Contains(line, "[ERROR]"):
		level = slog.LevelError
	}
	w.log.Log(context.Background(), level, "plugin log", "source", w.source, "line", w.scrub.apply(line))
	return len(p), nil
}

// lineWriter splits a byte stream into lines for w; a line longer than
// maxLine is passed on in pieces.
type lineWriter struct {
	mu  sync.Mutex
	buf []byte
	w   io.Writer
}

const maxLine = 16 << 10

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 && len(l.buf) < maxLine {
			return len(p), nil
		}
		if i < 0 {
			i = len(l.buf) - 1
		}
		_, _ = l.w.Write(l.buf[:i+1])
		l.buf = l.buf[i+1:]
	}
}
