// Package snmpsim is an SNMP agent for tests, the demo and benchmarks. It
// serves LibreNMS .snmprec recordings and a synthetic demo network, one UDP
// socket per device, and can inject faults. Production code must not use it.
//
// Lifecycle: New, then Add* to start devices (each serves until Close),
// InjectFault/ClearFaults at any time, Close once.
package snmpsim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configures a Simulator.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time // nil = time.Now
}

// DeviceInfo describes one simulated device.
type DeviceInfo struct {
	Name          string   `json:"name"`
	Address       string   `json:"address"` // IP the device listens on
	Port          int      `json:"port"`
	Community     string   `json:"community"`
	Kind          string   `json:"kind"` // "recording" | "synthetic"
	Role          string   `json:"role,omitempty"`
	Vendor        string   `json:"vendor,omitempty"`
	Model         string   `json:"model,omitempty"`
	Serial        string   `json:"serial,omitempty"`
	Upstream      []string `json:"upstream,omitempty"`
	UplinkIfIndex int      `json:"uplink_if_index,omitempty"`
	Faults        []Fault  `json:"faults"`
}

// Device kinds.
const (
	KindRecording = "recording"
	KindSynthetic = "synthetic"
)

// Errors returned by the Simulator; test with errors.Is.
var (
	ErrUnknownDevice = errors.New("unknown device")
	ErrInvalidFault  = errors.New("invalid fault")
	ErrClosed        = errors.New("simulator closed")
)

// Simulator runs simulated SNMP devices. Its methods are safe for
// concurrent use.
type Simulator struct {
	log    *slog.Logger
	now    func() time.Time
	maxMsg int // response size cap; tests lower it

	mu      sync.Mutex
	closed  bool
	devices map[string]*device
	demo    *synthNet // nil until AddDemoNetwork
}

// device is one served device and the state faults act on. Fields after
// agent are guarded by Simulator.mu.
type device struct {
	info  DeviceInfo // Faults unused here; see faults
	agent *agent

	faults []Fault
	base   views        // recordings: what the files say, before faults
	synth  *synthDevice // synthetic devices
}

// New returns an empty Simulator.
func New(opts Options) *Simulator {
	s := &Simulator{log: opts.Logger, now: opts.Now, maxMsg: defaultMaxMessage, devices: map[string]*device{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// AddRecording serves one .snmprec file on listen (host:port, port 0 picks
// a free one). The community is the file's base name without .snmprec, as
// in LibreNMS/snmpsim, and also "public". Context files NAME@CTX.snmprec
// beside it are served as community "NAME@CTX".
func (s *Simulator) AddRecording(ctx context.Context, path, listen string) (DeviceInfo, error) {
	base := filepath.Base(path)
	name, ok := strings.CutSuffix(base, ".snmprec")
	if !ok || name == "" {
		return DeviceInfo{}, fmt.Errorf("add recording %s: file name must end in .snmprec", path)
	}
	if strings.Contains(name, "@") {
		return DeviceInfo{}, fmt.Errorf("add recording %s: this is a context file; add %s.snmprec instead", path, name[:strings.Index(name, "@")])
	}
	rec, err := ParseFile(ctx, path)
	if err != nil {
		return DeviceInfo{}, fmt.Errorf("add recording: %w", err)
	}
	s.warnInvalid(rec)
	t := tableFromRecording(rec)
	v := views{name: t, "public": t}
	ctxFiles, err := contextFiles(filepath.Dir(path), name)
	if err != nil {
		return DeviceInfo{}, fmt.Errorf("add recording %s: %w", path, err)
	}
	for _, cf := range ctxFiles {
		crec, err := ParseFile(ctx, cf)
		if err != nil {
			return DeviceInfo{}, fmt.Errorf("add recording %s: context file: %w", path, err)
		}
		s.warnInvalid(crec)
		v[strings.TrimSuffix(filepath.Base(cf), ".snmprec")] = tableFromRecording(crec)
	}
	d := &device{info: DeviceInfo{Name: name, Community: name, Kind: KindRecording}, base: v}
	if err := s.start(ctx, d, listen, v, nil); err != nil {
		return DeviceInfo{}, fmt.Errorf("add recording %s: %w", path, err)
	}
	return s.mustInfo(name), nil
}

func (s *Simulator) warnInvalid(rec *Recording) {
	if len(rec.Invalid) > 0 {
		s.log.Warn("snmpsim: recording has values that cannot be decoded; serving it without them",
			slog.String("file", rec.Name), slog.Int("count", len(rec.Invalid)), slog.String("first", rec.Invalid[0].Error()))
	}
}

// contextFiles lists NAME@*.snmprec in dir, sorted.
func contextFiles(dir, name string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list context files: %w", err)
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() && strings.HasPrefix(n, name+"@") && strings.HasSuffix(n, ".snmprec") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out, nil
}

// AddRecordingDir serves every base recording in dir (context files go with
// their base), each on its own free port of host. A recording that fails
// does not stop the others: the devices that started are returned together
// with the joined errors of those that did not.
func (s *Simulator) AddRecordingDir(ctx context.Context, dir, host string) ([]DeviceInfo, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("add recording dir: %w", err)
	}
	var infos []DeviceInfo
	var errs []error
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".snmprec") || strings.Contains(n, "@") {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("add recording dir %s: %w", dir, err))
			break
		}
		info, err := s.AddRecording(ctx, filepath.Join(dir, n), net.JoinHostPort(host, "0"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		infos = append(infos, info)
	}
	return infos, errors.Join(errs...)
}

// start opens the device's socket and serves it until Close.
func (s *Simulator) start(ctx context.Context, d *device, listen string, v views, set setFunc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, dup := s.devices[d.info.Name]; dup {
		return fmt.Errorf("device %s already exists", d.info.Name)
	}
	var lc net.ListenConfig
	conn, err := lc.ListenPacket(ctx, "udp", listen)
	if err != nil {
		return fmt.Errorf("device %s: listen: %w", d.info.Name, err)
	}
	addr, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok {
		conn.Close()
		return fmt.Errorf("device %s: listen %s: not a UDP address", d.info.Name, listen)
	}
	d.info.Address, d.info.Port = addr.IP.String(), addr.Port
	a := &agent{
		name: d.info.Name, conn: conn, log: s.log, now: s.now, set: set,
		maxMsg: s.maxMsg, done: make(chan struct{}),
	}
	a.views.Store(&v)
	d.agent = a
	s.devices[d.info.Name] = d
	go a.serve()
	s.log.Debug("snmpsim: device started", slog.String("device", d.info.Name), slog.String("kind", d.info.Kind),
		slog.String("addr", addr.String()))
	return nil
}

// Devices lists the devices, sorted by name.
func (s *Simulator) Devices() []DeviceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DeviceInfo, 0, len(s.devices))
	for _, d := range s.devices {
		out = append(out, d.infoLocked())
	}
	slices.SortFunc(out, func(a, b DeviceInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Device returns one device.
func (s *Simulator) Device(name string) (DeviceInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[name]
	if !ok {
		return DeviceInfo{}, false
	}
	return d.infoLocked(), true
}

// Stats returns the request counters of one device.
func (s *Simulator) Stats(name string) (Stats, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[name]
	if !ok {
		return Stats{}, false
	}
	return d.agent.stats.snapshot(), true
}

func (s *Simulator) mustInfo(name string) DeviceInfo {
	info, _ := s.Device(name)
	return info
}

func (d *device) infoLocked() DeviceInfo {
	info := d.info
	info.Upstream = slices.Clone(d.info.Upstream)
	info.Faults = append([]Fault{}, d.faults...)
	return info
}

// Close stops every device and waits for their goroutines.
func (s *Simulator) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	agents := make([]*agent, 0, len(s.devices))
	for _, d := range s.devices {
		agents = append(agents, d.agent)
	}
	s.mu.Unlock()
	// Goroutines may wait for s.mu in a SET, so wait without holding it.
	var errs []error
	for _, a := range agents {
		if err := a.conn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close device %s: %w", a.name, err))
		}
	}
	for _, a := range agents {
		<-a.done
	}
	return errors.Join(errs...)
}
