package influx

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/nocagent/nocagent/collector"
)

// Options are the Exporter's collaborators.
type Options struct {
	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // default time.Now; stamps last-success only
}

// batch is a unit of delivery: up to BatchSize lines with a sequence
// number. Its payload is on disk (seg != nil) or, without a spool or when
// the spool could not be written, in data.
type batch struct {
	seq    uint64
	points int
	size   int // payload bytes
	crc    uint32
	seg    *segment
	off    int64
	data   []byte

	inflight bool   // the sender holds it
	dropped  string // set while in flight: it was dropped for this reason
}

// Exporter delivers snapshots to an InfluxDB v2 write endpoint.
//
// Lifecycle: New (opens the spool and finds what a previous run left
// undelivered), Check (optional; a clear error for a wrong URL, token, org
// or bucket), Run in its own goroutine until its context ends, Write from
// the pollers at any time. Write never blocks on the network or the disk.
//
// Delivery posts line protocol through the client's HTTP service, which
// sets the Authorization header and turns a failed response into an error
// with the status code and Retry-After; retrying and buffering stay here.
// The client's non-blocking WriteAPI was not used because it keeps its own
// in-memory retry queue that discards batches once they expire or the
// queue fills, and loses everything on restart. Its WriteAPIBlocking would
// fit, but its gzip helper (v2.14.0) has a data race that -race reports,
// so the body is compressed here.
type Exporter struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	client   influxdb2.Client
	http     http2.Service
	writeURL string

	// mu guards the lines written since the last seal. Write takes only
	// this lock, which is never held across I/O.
	mu           sync.Mutex
	pending      []string
	pendingBytes int
	lastDropLog  time.Time

	// qmu guards the queue and the spool. It is held across disk I/O
	// (append, fsync, ack) but never across network I/O.
	qmu          sync.Mutex
	queue        []*batch
	queuedPoints int
	queuedBytes  int
	memPoints    int // points of queued batches held only in memory
	nextSeq      uint64
	sp           *spool

	smu         sync.Mutex
	written     float64
	dropped     map[string]float64
	errs        map[string]float64
	lastSuccess time.Time
	healthy     bool
	failKind    string // kind of the current run of failures, "" when fine
	failures    int

	kick, wake chan struct{}
	runOnce    sync.Once
}

// Reasons for dropped points, the label values of
// nocagent_influx_dropped_points_total.
const (
	DropMemoryFull = "memory_full" // MemoryBuffer exceeded
	DropSpoolFull  = "spool_full"  // SpoolMaxBytes exceeded: oldest segment deleted
	DropSpoolError = "spool_error" // a spooled batch could not be read back
	DropRejected   = "rejected"    // the server refused the data itself (HTTP 400, 413, 422)
)

// Kinds of write errors, the label values of
// nocagent_influx_write_errors_total.
const (
	ErrKindNetwork   = "network"   // connection refused, DNS, reset
	ErrKindTimeout   = "timeout"   // no answer within Timeout
	ErrKindAuth      = "auth"      // HTTP 401/403: wrong token or permission
	ErrKindNotFound  = "not_found" // HTTP 404: wrong org, bucket or URL path
	ErrKindThrottled = "throttled" // HTTP 429
	ErrKindServer    = "server"    // HTTP 5xx or other unexpected status
	ErrKindRejected  = "rejected"  // HTTP 400/413/422: the batch is dropped
	ErrKindSpool     = "spool"     // the spool could not be written or read
)

var (
	dropReasons = []string{DropMemoryFull, DropSpoolFull, DropSpoolError, DropRejected}
	errKinds    = []string{ErrKindNetwork, ErrKindTimeout, ErrKindAuth, ErrKindNotFound,
		ErrKindThrottled, ErrKindServer, ErrKindRejected, ErrKindSpool}
)

// New validates cfg, opens the spool (recovering what a previous run left
// undelivered) and creates the client. It does not contact the server: see
// Check.
func New(cfg Config, opts Options) (*Exporter, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Exporter{
		cfg:     cfg,
		log:     opts.Logger.With("component", "influx"),
		now:     opts.Now,
		dropped: map[string]float64{},
		errs:    map[string]float64{},
		healthy: true,
		nextSeq: 1,
		kick:    make(chan struct{}, 1),
		wake:    make(chan struct{}, 1),
	}
	for _, r := range dropReasons {
		e.dropped[r] = 0
	}
	for _, k := range errKinds {
		e.errs[k] = 0
	}
	if cfg.SpoolDir != "" {
		sp, pending, next, err := openSpool(cfg.SpoolDir, cfg.SpoolMaxBytes, e.log)
		if err != nil {
			return nil, err
		}
		e.sp, e.queue, e.nextSeq = sp, pending, next
		for _, b := range pending {
			e.queuedPoints += b.points
			e.queuedBytes += b.size
		}
		if len(pending) > 0 {
			e.log.Info("influx: replaying spool", "dir", cfg.SpoolDir, "batches", len(pending), "points", e.queuedPoints)
		}
	}
	timeoutSec := uint((cfg.Timeout + time.Second - 1) / time.Second)
	e.client = influxdb2.NewClientWithOptions(cfg.URL, cfg.Token, influxdb2.DefaultOptions().
		SetHTTPRequestTimeout(timeoutSec))
	e.http = e.client.HTTPService()
	u, err := url.Parse(e.http.ServerAPIURL())
	if err != nil {
		return nil, fmt.Errorf("influx: url %q: %w", redactURL(cfg.URL), err)
	}
	u = u.JoinPath("write")
	u.RawQuery = url.Values{"org": {cfg.Org}, "bucket": {cfg.Bucket}, "precision": {"ms"}}.Encode()
	e.writeURL = u.String()
	return e, nil
}

// Write queues a snapshot for delivery. It encodes the points and returns:
// no I/O, no waiting for the server or the disk. Beyond MemoryBuffer
// unsealed points the oldest are dropped (and counted).
func (e *Exporter) Write(s *collector.Snapshot, l Labels) {
	lines := Encode(s, l)
	if len(lines) == 0 {
		return
	}
	e.mu.Lock()
	e.pending = append(e.pending, lines...)
	for _, ln := range lines {
		e.pendingBytes += len(ln)
	}
	over := len(e.pending) - e.cfg.MemoryBuffer
	logDrop := false
	if over > 0 {
		for _, ln := range e.pending[:over] {
			e.pendingBytes -= len(ln)
		}
		e.pending = slices.Clone(e.pending[over:])
		if now := e.now(); now.Sub(e.lastDropLog) >= 10*time.Second {
			e.lastDropLog, logDrop = now, true
		}
	}
	full := len(e.pending) >= e.cfg.BatchSize
	e.mu.Unlock()

	if over > 0 {
		e.countDrop(DropMemoryFull, over)
		if logDrop {
			e.log.Warn("influx: memory buffer full, dropping oldest points", "dropped", over, "memory_buffer", e.cfg.MemoryBuffer)
		}
	}
	if full {
		signal(e.kick)
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Run seals written points into batches every FlushInterval (sooner when a
// batch is full), spools them and delivers them until ctx ends. On return
// whatever was written is in the spool, to be sent by the next run. It
// returns an error only when called twice.
func (e *Exporter) Run(ctx context.Context) error {
	first := false
	e.runOnce.Do(func() { first = true })
	if !first {
		return errors.New("influx: Run called twice")
	}
	var wg sync.WaitGroup
	wg.Go(func() { e.sendLoop(ctx) })
	tick := time.NewTicker(e.cfg.FlushInterval)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
		case <-e.kick:
		}
		e.seal()
	}
	wg.Wait()
	e.qmu.Lock()
	if e.sp != nil {
		if err := e.sp.close(); err != nil {
			e.log.Warn("influx: close spool", "err", err)
		}
	}
	e.qmu.Unlock()
	e.client.Close()
	return nil
}

// seal moves the pending lines into batches, spooled when there is a spool.
func (e *Exporter) seal() {
	e.mu.Lock()
	lines := e.pending
	e.pending, e.pendingBytes = nil, 0
	e.mu.Unlock()
	if len(lines) == 0 {
		return
	}
	e.qmu.Lock()
	defer e.qmu.Unlock()
	for chunk := range slices.Chunk(lines, e.cfg.BatchSize) {
		b := &batch{seq: e.nextSeq, points: len(chunk), data: []byte(strings.Join(chunk, ""))}
		b.size = len(b.data)
		e.nextSeq++
		if e.sp != nil {
			if err := e.sp.append(b); err != nil {
				e.countError(ErrKindSpool)
				e.log.Error("influx: spool write failed, keeping batch in memory", "seq", b.seq, "points", b.points, "err", err)
			} else {
				b.data = nil
			}
		}
		if b.seg == nil {
			e.memPoints += b.points
		}
		e.queue = append(e.queue, b)
		e.queuedPoints += b.points
		e.queuedBytes += b.size
		e.enforceSpoolLocked()
	}
	e.enforceMemoryLocked()
	signal(e.wake)
}

// enforceSpoolLocked drops the oldest segments while the spool is over
// SpoolMaxBytes.
func (e *Exporter) enforceSpoolLocked() {
	if e.sp == nil {
		return
	}
	for seg := e.sp.overflow(); seg != nil; seg = e.sp.overflow() {
		points, batches := 0, 0
		e.queue = slices.DeleteFunc(e.queue, func(b *batch) bool {
			if b.seg != seg {
				return false
			}
			batches++
			points += e.unqueueLocked(b, DropSpoolFull)
			return true
		})
		e.sp.drop(seg)
		e.countDrop(DropSpoolFull, points)
		e.log.Warn("influx: spool full, dropped oldest segment", "file", seg.path, "batches", batches,
			"points", points, "spool_max_bytes", e.cfg.SpoolMaxBytes)
	}
}

// enforceMemoryLocked drops the oldest memory-only batches beyond
// MemoryBuffer points.
func (e *Exporter) enforceMemoryLocked() {
	points := 0
	for i := 0; i < len(e.queue) && e.memPoints > e.cfg.MemoryBuffer; {
		b := e.queue[i]
		if b.seg != nil || b.inflight {
			i++
			continue
		}
		points += e.unqueueLocked(b, DropMemoryFull)
		e.queue = slices.Delete(e.queue, i, i+1)
	}
	if points > 0 {
		e.countDrop(DropMemoryFull, points)
		e.log.Warn("influx: memory buffer full, dropped oldest points", "points", points, "memory_buffer", e.cfg.MemoryBuffer)
	}
}

// unqueueLocked does the accounting of a batch leaving the queue undelivered
// and returns the points to count as dropped now: none for a batch in
// flight, which stays in the backlog until the sender settles it.
func (e *Exporter) unqueueLocked(b *batch, reason string) int {
	if b.inflight {
		b.dropped = reason
		return 0
	}
	e.settleLocked(b)
	return b.points
}

// settleLocked takes a batch out of the backlog.
func (e *Exporter) settleLocked(b *batch) {
	e.queuedPoints -= b.points
	e.queuedBytes -= b.size
	if b.seg == nil {
		e.memPoints -= b.points
	}
}

// next returns the oldest queued batch and its payload, or nil.
func (e *Exporter) next() (*batch, []byte) {
	e.qmu.Lock()
	defer e.qmu.Unlock()
	for len(e.queue) > 0 {
		b := e.queue[0]
		if b.seg == nil {
			b.inflight = true
			return b, b.data
		}
		data, err := e.sp.read(b)
		if err == nil {
			b.inflight = true
			return b, data
		}
		e.countError(ErrKindSpool)
		e.log.Error("influx: spooled batch unreadable, dropping it", "seq", b.seq, "points", b.points, "err", err)
		e.queue = e.queue[1:]
		e.countDrop(DropSpoolError, e.unqueueLocked(b, DropSpoolError))
		e.sp.done(b.seg)
		e.ackLocked(b.seq)
	}
	return nil, nil
}

type outcome int

const (
	delivered outcome = iota
	rejected
	retry
)

// finish settles a batch the sender held.
func (e *Exporter) finish(b *batch, o outcome) {
	e.qmu.Lock()
	defer e.qmu.Unlock()
	b.inflight = false
	if b.dropped != "" {
		// Dropped from the queue while in flight; its segment is gone.
		e.settleLocked(b)
		switch o {
		case delivered:
			e.countWritten(b.points)
		default:
			e.countDrop(b.dropped, b.points)
		}
		return
	}
	if o == retry {
		return
	}
	if i := slices.Index(e.queue, b); i >= 0 {
		e.queue = slices.Delete(e.queue, i, i+1)
		e.settleLocked(b)
	}
	if b.seg != nil {
		e.sp.done(b.seg)
	}
	e.ackLocked(b.seq)
	if o == delivered {
		e.countWritten(b.points)
	} else {
		e.countDrop(DropRejected, b.points)
	}
}

func (e *Exporter) ackLocked(seq uint64) {
	if e.sp == nil {
		return
	}
	if err := e.sp.writeAck(seq); err != nil {
		// The batch may be sent again after a restart; nothing is lost.
		e.countError(ErrKindSpool)
		e.log.Error("influx: spool ack failed", "seq", seq, "err", err)
	}
}

// sendLoop delivers the queue in order, one batch per request, backing off
// exponentially while the server fails.
func (e *Exporter) sendLoop(ctx context.Context) {
	var delay time.Duration
	for {
		b, data := e.next()
		if b == nil {
			select {
			case <-ctx.Done():
				return
			case <-e.wake:
				continue
			}
		}
		err := e.post(ctx, data)
		if err == nil {
			e.finish(b, delivered)
			e.succeeded()
			delay = 0
			continue
		}
		if ctx.Err() != nil {
			e.finish(b, retry) // not acknowledged: sent again by the next run
			return
		}
		kind, retryAfter := classify(err)
		e.failed(kind, err, b)
		if kind == ErrKindRejected {
			e.finish(b, rejected)
			continue
		}
		e.finish(b, retry)
		delay = e.backoff(delay, retryAfter)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// backoff doubles the previous delay within [RetryMin, RetryMax], with
// ±20% jitter so that many agents do not retry in step, and honours a
// server's Retry-After up to RetryMax.
func (e *Exporter) backoff(prev, retryAfter time.Duration) time.Duration {
	d := min(max(prev*2, e.cfg.RetryMin), e.cfg.RetryMax)
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	if retryAfter > d {
		d = min(retryAfter, e.cfg.RetryMax)
	}
	return d
}

// post sends one gzip-compressed batch. The result is nil or an
// *http2.Error.
func (e *Exporter) post(ctx context.Context, data []byte) error {
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	if _, err := zw.Write(data); err != nil {
		return fmt.Errorf("influx: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("influx: gzip: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	if herr := e.http.DoPostRequest(ctx, e.writeURL, &body, func(r *http.Request) {
		r.Header.Set("Content-Encoding", "gzip")
		r.Header.Set("Content-Type", "text/plain; charset=utf-8")
	}, func(r *http.Response) error {
		_, _ = io.Copy(io.Discard, r.Body)
		return r.Body.Close()
	}); herr != nil {
		return herr
	}
	return nil
}

// classify maps a write error to a kind and the server's Retry-After.
func classify(err error) (kind string, retryAfter time.Duration) {
	var he *http2.Error
	if !errors.As(err, &he) || he.StatusCode == 0 {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return ErrKindTimeout, 0
		}
		return ErrKindNetwork, 0
	}
	retryAfter = time.Duration(he.RetryAfter) * time.Second
	switch code := he.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return ErrKindAuth, retryAfter
	case code == http.StatusNotFound:
		return ErrKindNotFound, retryAfter
	case code == http.StatusTooManyRequests:
		return ErrKindThrottled, retryAfter
	case code == http.StatusBadRequest || code == http.StatusRequestEntityTooLarge || code == http.StatusUnprocessableEntity:
		return ErrKindRejected, 0
	default:
		return ErrKindServer, retryAfter
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// safeErr wraps an error so that its text has the token removed, in case a
// proxy echoes the request back, and is cut to a loggable length.
func (e *Exporter) safeErr(err error) error {
	s := err.Error()
	if e.cfg.Token != "" {
		s = strings.ReplaceAll(s, e.cfg.Token, "<redacted>")
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return &redactedError{msg: s, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (r *redactedError) Error() string { return r.msg }
func (r *redactedError) Unwrap() error { return r.err }

func (e *Exporter) failed(kind string, err error, b *batch) {
	e.smu.Lock()
	e.errs[kind]++
	e.healthy = false
	first := kind != e.failKind
	e.failKind = kind
	e.failures++
	e.smu.Unlock()
	attrs := []any{"kind", kind, "err", e.safeErr(err), "url", redactURL(e.cfg.URL), "org", e.cfg.Org, "bucket", e.cfg.Bucket, "seq", b.seq}
	switch {
	case kind == ErrKindRejected:
		e.log.Error("influx: server rejected a batch, dropping it", append(attrs, "points", b.points)...)
	case first:
		if h := hint(kind); h != "" {
			attrs = append(attrs, "hint", h)
		}
		e.log.Error("influx: write failed, keeping data and retrying", attrs...)
	default:
		e.log.Debug("influx: write failed again", attrs...)
	}
}

func hint(kind string) string {
	switch kind {
	case ErrKindAuth:
		return "check the token and its write permission on the bucket"
	case ErrKindNotFound:
		return "check the org, the bucket and the URL path"
	case ErrKindNetwork, ErrKindTimeout:
		return "check the URL and that the server is up"
	}
	return ""
}

func (e *Exporter) succeeded() {
	e.smu.Lock()
	e.healthy = true
	e.lastSuccess = e.now()
	failures := e.failures
	e.failKind, e.failures = "", 0
	e.smu.Unlock()
	if failures > 0 {
		e.log.Info("influx: writes recovered", "failed_attempts", failures)
	}
}

func (e *Exporter) countDrop(reason string, points int) {
	if points <= 0 {
		return
	}
	e.smu.Lock()
	e.dropped[reason] += float64(points)
	e.smu.Unlock()
}

func (e *Exporter) countError(kind string) {
	e.smu.Lock()
	e.errs[kind]++
	e.smu.Unlock()
}

func (e *Exporter) countWritten(points int) {
	e.smu.Lock()
	e.written += float64(points)
	e.smu.Unlock()
}

// Errors Check wraps, to tell a configuration mistake (ErrAuth,
// ErrNotFound: refuse to start, or at least say so loudly) from a server
// that is down (ErrUnreachable: the spool covers it).
var (
	ErrAuth        = errors.New("token refused")
	ErrNotFound    = errors.New("org or bucket not found")
	ErrUnreachable = errors.New("server unreachable")
)

// Check tells at start whether the server is reachable and accepts the
// token for the org and bucket: a ping (the one health call VictoriaMetrics
// also answers), then a write of no points, which InfluxDB authenticates
// and authorises like any other. The error names the URL, org and bucket
// and says what to fix; it never contains the token.
func (e *Exporter) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	u := redactURL(e.cfg.URL)
	if _, err := e.client.Ping(ctx); err != nil {
		return fmt.Errorf("influx: ping %s: %w: %w (check the URL and that the server is up)", u, ErrUnreachable, e.safeErr(err))
	}
	err := e.post(ctx, nil)
	if err == nil {
		return nil
	}
	kind, _ := classify(err)
	switch kind {
	case ErrKindRejected:
		return nil // authenticated and authorised; it only disliked the empty body
	case ErrKindAuth:
		return fmt.Errorf("influx: %s: %w for org %q bucket %q: %w (check the token and its write permission)",
			u, ErrAuth, e.cfg.Org, e.cfg.Bucket, e.safeErr(err))
	case ErrKindNotFound:
		return fmt.Errorf("influx: %s: %w (org %q, bucket %q): %w", u, ErrNotFound, e.cfg.Org, e.cfg.Bucket, e.safeErr(err))
	case ErrKindNetwork, ErrKindTimeout:
		return fmt.Errorf("influx: test write to %s: %w: %w", u, ErrUnreachable, e.safeErr(err))
	default:
		return fmt.Errorf("influx: test write to %s org %q bucket %q: %w", u, e.cfg.Org, e.cfg.Bucket, e.safeErr(err))
	}
}

// Backlog returns the points and payload bytes not yet delivered.
func (e *Exporter) Backlog() (points, bytes int) {
	e.mu.Lock()
	points, bytes = len(e.pending), e.pendingBytes
	e.mu.Unlock()
	e.qmu.Lock()
	points += e.queuedPoints
	bytes += e.queuedBytes
	e.qmu.Unlock()
	return points, bytes
}
