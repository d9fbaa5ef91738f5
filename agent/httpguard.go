package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/nocagent/nocagent/ticketing/httpapi"
)

// httpLimits bound what one client can hold or ask of the HTTP server.
type httpLimits struct {
	// ReadHeaderTimeout and ReadTimeout end a request whose headers, or
	// headers and body, have not arrived in time: a client trickling a
	// body holds a goroutine and a connection for ReadTimeout at most.
	ReadHeaderTimeout, ReadTimeout time.Duration
	// WriteTimeout ends a response a client reads too slowly.
	WriteTimeout time.Duration
	// IdleTimeout closes kept-alive connections that send nothing.
	IdleTimeout time.Duration
	// MaxBody is the largest request body in bytes; larger ones get 413.
	MaxBody int64
	// PerToken, PerAddr: the API (everything but /healthz and /metrics)
	// per bearer token and per client address. Open: /healthz and
	// /metrics, per client address only.
	PerToken, PerAddr, Open rateSpec
}

// rateSpec is a token bucket: Rate requests a second, bursts of Burst.
type rateSpec struct {
	Rate  rate.Limit
	Burst int
}

// defaultHTTPLimits are generous for people, the web console and a few
// Prometheus servers, and stop a single client from holding the agent.
var defaultHTTPLimits = httpLimits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      60 * time.Second,
	IdleTimeout:       120 * time.Second,
	MaxBody:           1 << 20, // the ticketing API's own bound
	PerToken:          rateSpec{Rate: 50, Burst: 100},
	PerAddr:           rateSpec{Rate: 100, Burst: 200},
	Open:              rateSpec{Rate: 200, Burst: 400},
}

// NewHTTPServer is an http.Server with read, write and idle timeouts, for
// the helper servers of the demo and the simulator (the agent's own
// server adds a body limit and rate limits, see Agent.Run).
func NewHTTPServer(h http.Handler) *http.Server {
	l := defaultHTTPLimits
	return &http.Server{Handler: h, ReadHeaderTimeout: l.ReadHeaderTimeout, ReadTimeout: l.ReadTimeout,
		WriteTimeout: l.WriteTimeout, IdleTimeout: l.IdleTimeout}
}

// server wraps h with the rate limits and the body limit and sets the
// timeouts.
func (l httpLimits) server(h http.Handler, tokens *httpapi.Tokens) *http.Server {
	g := &guard{limits: l, tokens: tokens,
		perToken: newBuckets(l.PerToken), perAddr: newBuckets(l.PerAddr), open: newBuckets(l.Open)}
	g.next = h
	return &http.Server{Handler: g, ReadHeaderTimeout: l.ReadHeaderTimeout, ReadTimeout: l.ReadTimeout,
		WriteTimeout: l.WriteTimeout, IdleTimeout: l.IdleTimeout}
}

type guard struct {
	limits                  httpLimits
	tokens                  *httpapi.Tokens
	perToken, perAddr, open *buckets
	next                    http.Handler
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	addr := clientAddr(r.RemoteAddr)
	if r.URL.Path == "/healthz" || r.URL.Path == "/metrics" {
		if wait, ok := g.open.take(addr, now); !ok {
			tooMany(w, wait, "this address")
			return
		}
		g.next.ServeHTTP(w, r)
		return
	}
	if wait, ok := g.perAddr.take(addr, now); !ok {
		tooMany(w, wait, "this address")
		return
	}
	// Only a valid token gets a bucket of its own: keying on whatever a
	// client sends would let it make buckets without end. Invalid tokens
	// share their address's bucket and get 401 from the handler.
	if actor, ok := g.tokens.Authenticate(r); ok {
		key := string(actor.Role) + "\x00" + actor.Name + "\x00" + actor.Customer
		if wait, ok := g.perToken.take(key, now); !ok {
			tooMany(w, wait, "this token")
			return
		}
	}
	if !g.readBody(w, r) {
		return
	}
	g.next.ServeHTTP(w, r)
}

// readBody reads the whole request body, at most MaxBody bytes, before the
// handler runs, so that every handler sees a bounded body that has fully
// arrived, a too-large body gets 413 and a trickled one 408 in the API's
// error format.
func (g *guard) readBody(w http.ResponseWriter, r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return true
	}
	max := g.limits.MaxBody
	if r.ContentLength > max {
		w.Header().Set("Connection", "close") // do not read the rest
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body is larger than %d bytes", max))
		return false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err == nil && int64(len(b)) > max {
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body is larger than %d bytes", max))
		return false
	}
	if err != nil {
		w.Header().Set("Connection", "close")
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			writeError(w, http.StatusRequestTimeout, "timeout", fmt.Sprintf("request body not received within %s", g.limits.ReadTimeout))
			return false
		}
		writeError(w, http.StatusBadRequest, "invalid", "request body could not be read")
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return true
}

func tooMany(w http.ResponseWriter, wait time.Duration, who string) {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, "rate_limited",
		fmt.Sprintf("too many requests from %s; retry after %d s", who, secs))
}

// clientAddr is the key of a client address: the IP of the connection
// (X-Forwarded-For is not trusted: anyone can send it), an IPv6 address
// cut to its /64, which one client usually holds whole.
func clientAddr(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// buckets holds a token bucket per key. Buckets idle long enough to be
// full again are dropped; past maxBuckets keys, new keys share one bucket,
// so a client with many addresses cannot grow the map without end.
type buckets struct {
	spec rateSpec
	mu   sync.Mutex
	m    map[string]*bucket
	// overflow is shared by keys that arrive while the map is full.
	overflow  *rate.Limiter
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const maxBuckets = 65536

func newBuckets(s rateSpec) *buckets {
	return &buckets{spec: s, m: map[string]*bucket{}, overflow: rate.NewLimiter(s.Rate, s.Burst)}
}

// take spends one token of key's bucket; when it has none it returns how
// long until one is there.
func (b *buckets) take(key string, now time.Time) (time.Duration, bool) {
	lim := b.limiter(key, now)
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		return time.Minute, false
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, false
	}
	return 0, true
}

func (b *buckets) limiter(key string, now time.Time) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.lastSweep) > time.Minute {
		b.sweep(now)
	}
	if e := b.m[key]; e != nil {
		e.seen = now
		return e.lim
	}
	if len(b.m) >= maxBuckets {
		return b.overflow
	}
	e := &bucket{lim: rate.NewLimiter(b.spec.Rate, b.spec.Burst), seen: now}
	b.m[key] = e
	return e.lim
}

// sweep drops the buckets unused for longer than a refill takes (a
// dropped bucket comes back full, as it would have been).
func (b *buckets) sweep(now time.Time) {
	b.lastSweep = now
	idle := time.Minute
	if b.spec.Rate > 0 {
		if refill := time.Duration(float64(b.spec.Burst) / float64(b.spec.Rate) * float64(time.Second)); refill > idle {
			idle = refill
		}
	}
	for k, e := range b.m {
		if now.Sub(e.seen) > idle {
			delete(b.m, k)
		}
	}
}
