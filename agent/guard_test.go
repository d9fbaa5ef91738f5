package agent

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// apiError is the API's error body.
type apiError struct {
	Error struct{ Code, Message string } `json:"error"`
}

// call sends one request over real HTTP and returns the status, headers
// and body.
func call(t *testing.T, client *http.Client, method, url, token string, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// TestDeviceAPIAuth: the devices and topology endpoints need a token, and a
// customer token sees its own devices only; another customer's device is
// a 404 like a device that does not exist.
func TestDeviceAPIAuth(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.eventually(10*time.Second, "LLDP topology across devices", func() bool {
		var v struct{ Devices []struct{ Upstream []string } }
		h.get("/api/v1/topology", &v)
		n := 0
		for _, d := range v.Devices {
			n += len(d.Upstream)
		}
		return n > 0
	})
	acme, globex := h.tokens["customer:acme"], h.tokens["customer:globex"]
	if acme == "" || globex == "" {
		t.Fatalf("tokens file lacks customer tokens: %v", keysOf(h.tokens))
	}
	base := "http://" + h.addr
	tests := []struct {
		name, path, token string
		status            int
		code              string // error code, for errors
		customers         []string
	}{
		{name: "devices without token", path: "/api/v1/devices", status: 401, code: "unauthorized"},
		{name: "device without token", path: "/api/v1/devices/acme-core-1", status: 401, code: "unauthorized"},
		{name: "topology without token", path: "/api/v1/topology", status: 401, code: "unauthorized"},
		{name: "devices with a wrong token", path: "/api/v1/devices", token: "not-a-token-0123456789", status: 401, code: "unauthorized"},
		{name: "engineer sees every customer", path: "/api/v1/devices", token: h.tokens["engineer"], status: 200, customers: []string{"acme", "globex"}},
		{name: "acme sees acme only", path: "/api/v1/devices", token: acme, status: 200, customers: []string{"acme"}},
		{name: "globex sees globex only", path: "/api/v1/devices", token: globex, status: 200, customers: []string{"globex"}},
		{name: "acme reads its device", path: "/api/v1/devices/acme-core-1", token: acme, status: 200, customers: []string{"acme"}},
		{name: "acme cannot read globex's device", path: "/api/v1/devices/globex-fw-1", token: acme, status: 404, code: "not_found"},
		{name: "globex cannot read acme's device", path: "/api/v1/devices/acme-core-1", token: globex, status: 404, code: "not_found"},
		{name: "acme topology is acme's", path: "/api/v1/topology", token: acme, status: 200, customers: []string{"acme"}},
		{name: "admin topology is everyone's", path: "/api/v1/topology", token: h.token, status: 200, customers: []string{"acme", "globex"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := call(t, http.DefaultClient, "GET", base+tt.path, tt.token, nil)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if tt.code != "" {
				var e apiError
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != tt.code {
					t.Fatalf("body %s, want error code %q", body, tt.code)
				}
				if status == 401 && hdr.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if status == 404 && strings.Contains(string(body), "globex") && !strings.Contains(tt.path, "globex") {
					t.Errorf("404 says more than the path did: %s", body)
				}
				return
			}
			got := customersIn(t, tt.path, body)
			if strings.Join(got, ",") != strings.Join(tt.customers, ",") {
				t.Errorf("customers seen %v, want %v: %s", got, tt.customers, body)
			}
			if tt.token == acme || tt.token == globex {
				if strings.Contains(string(body), `"credential"`) {
					t.Errorf("customer sees credential names: %s", body)
				}
			}
		})
	}
}

// customersIn lists, sorted and unique, the customers of every device a
// devices or topology body names (devices, upstreams, downstreams and
// matched neighbours).
func customersIn(t *testing.T, path string, body []byte) []string {
	t.Helper()
	var names []string
	switch {
	case path == "/api/v1/topology":
		var v struct {
			Devices []struct {
				Name      string
				Upstream  []string
				Neighbors []struct{ Device string }
			}
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		for _, d := range v.Devices {
			names = append(names, d.Name)
			names = append(names, d.Upstream...)
			for _, n := range d.Neighbors {
				if n.Device != "" {
					names = append(names, n.Device)
				}
			}
		}
	default:
		var devs []struct {
			Name, Customer       string
			Upstream, Downstream []string
		}
		if strings.HasPrefix(path, "/api/v1/devices/") {
			var one struct {
				Name, Customer       string
				Upstream, Downstream []string
			}
			if err := json.Unmarshal(body, &one); err != nil {
				t.Fatal(err)
			}
			devs = append(devs, one)
		} else if err := json.Unmarshal(body, &devs); err != nil {
			t.Fatal(err)
		}
		for _, d := range devs {
			names = append(names, d.Name)
			names = append(names, d.Upstream...)
			names = append(names, d.Downstream...)
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		c, _, _ := strings.Cut(n, "-") // demo devices are named <customer>-<role>-<n>
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestBodyLimits: a client trickling a body is cut off by the read
// timeout (408, connection closed) long before it would finish; a body
// over the limit gets 413, announced or chunked; a body within it reaches
// the handler.
func TestBodyLimits(t *testing.T) {
	h := newHarness(t)
	h.configure = func(a *Agent) {
		a.limits.ReadTimeout = 700 * time.Millisecond
		a.limits.MaxBody = 1024
	}
	h.start()
	window := `{"id":"chg-1","reason":"upgrade","start":"2026-01-01T00:00:00Z","end":"2026-01-01T01:00:00Z","devices":["acme-acc-1"]}`
	tests := []struct {
		name    string
		send    func(t *testing.T) (status int, body []byte)
		status  int
		code    string
		maxTime time.Duration
	}{
		{name: "trickled body is cut off", status: http.StatusRequestTimeout, code: "timeout", maxTime: 3 * time.Second,
			send: func(t *testing.T) (int, []byte) { return trickle(t, h.addr, h.token, 1000, 100*time.Millisecond) }},
		{name: "announced too large", status: http.StatusRequestEntityTooLarge, code: "too_large", maxTime: 5 * time.Second,
			send: func(t *testing.T) (int, []byte) {
				s, _, b := call(t, http.DefaultClient, "POST", "http://"+h.addr+"/api/v1/maintenance", h.token, strings.NewReader(strings.Repeat("x", 4096)))
				return s, b
			}},
		{name: "chunked too large", status: http.StatusRequestEntityTooLarge, code: "too_large", maxTime: 5 * time.Second,
			send: func(t *testing.T) (int, []byte) {
				// An io.Reader of unknown length is sent chunked, without
				// Content-Length.
				body := io.MultiReader(strings.NewReader(strings.Repeat("x", 2048)), strings.NewReader(strings.Repeat("y", 2048)))
				s, _, b := call(t, http.DefaultClient, "POST", "http://"+h.addr+"/api/v1/maintenance", h.token, body)
				return s, b
			}},
		{name: "within the limit reaches the handler", status: http.StatusCreated, maxTime: 5 * time.Second,
			send: func(t *testing.T) (int, []byte) {
				s, _, b := call(t, http.DefaultClient, "POST", "http://"+h.addr+"/api/v1/maintenance", h.token, strings.NewReader(window))
				return s, b
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			status, body := tt.send(t)
			if took := time.Since(start); took > tt.maxTime {
				t.Errorf("took %s, want under %s", took, tt.maxTime)
			}
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if tt.code != "" {
				var e apiError
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != tt.code || e.Error.Message == "" {
					t.Errorf("body %s, want {\"error\":{\"code\":%q,...}}", body, tt.code)
				}
			}
		})
	}
}

// trickle opens a connection, announces a body of size bytes and sends one
// byte every gap (the whole body would take size*gap), then reads the
// answer. It returns the status and body of the answer; the connection
// must then be closed by the server.
func trickle(t *testing.T, addr, token string, size int, gap time.Duration) (int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/maintenance HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", addr, token, size)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range size - 1 {
			select {
			case <-stop:
				return
			case <-time.After(gap):
			}
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); <-done }()
	_ = conn.SetReadDeadline(time.Now().Add(time.Duration(size) * gap / 2))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer while trickling: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The server closes the connection: a further read ends at once.
	if _, err := br.ReadByte(); err == nil {
		t.Error("connection still open after the timeout")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Error("connection still open after the timeout (read timed out instead of EOF)")
	}
	return resp.StatusCode, b
}

// TestRateLimits: a burst over a token's bucket gets 429 with Retry-After
// while another token from the same address still gets through; the
// address's bucket stops requests without a valid token too; /healthz and
// /metrics have their own, per-address bucket.
func TestRateLimits(t *testing.T) {
	h := newHarness(t)
	h.configure = func(a *Agent) {
		a.limits.PerToken = rateSpec{Rate: 0.2, Burst: 3}
		a.limits.PerAddr = rateSpec{Rate: 0.2, Burst: 10}
		a.limits.Open = rateSpec{Rate: 0.2, Burst: 5}
	}
	h.start()
	base := "http://" + h.addr
	// Steps run in order: the buckets carry over from one to the next.
	steps := []struct {
		name, path, token string
		n                 int // requests sent
		ok                int // of which answered without 429, the rest 429
	}{
		{name: "admin burst", path: "/api/v1/tickets", token: h.token, n: 5, ok: 3},                              // address: 5 of 10
		{name: "engineer has its own bucket", path: "/api/v1/tickets", token: h.tokens["engineer"], n: 3, ok: 3}, // 8 of 10
		{name: "health is not limited per token", path: "/healthz", token: h.token, n: 5, ok: 5},
		{name: "metrics share the open bucket", path: "/metrics", n: 2, ok: 0},
		{name: "no token: the address bucket", path: "/api/v1/tickets", n: 4, ok: 2}, // 401s, then 429
	}
	for _, st := range steps {
		ok := 0
		for i := range st.n {
			status, hdr, body := call(t, http.DefaultClient, "GET", base+st.path, st.token, nil)
			if status != http.StatusTooManyRequests {
				ok++
				continue
			}
			if i < st.ok {
				t.Errorf("%s: request %d got 429 early: %s", st.name, i+1, body)
			}
			secs, err := strconv.Atoi(hdr.Get("Retry-After"))
			if err != nil || secs < 1 || secs > 10 {
				t.Errorf("%s: Retry-After %q, want whole seconds 1..10", st.name, hdr.Get("Retry-After"))
			}
			var e apiError
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != "rate_limited" {
				t.Errorf("%s: 429 body %s", st.name, body)
			}
		}
		if ok != st.ok {
			t.Errorf("%s: %d of %d answered, want %d then 429", st.name, ok, st.n, st.ok)
		}
	}
}

// TestClientAddr: IPv4 addresses are keys of their own, IPv6 ones by /64.
func TestClientAddr(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"192.0.2.7:5555", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:443", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.7]:80", "192.0.2.7"},
		{"garbage", "garbage"},
	}
	for _, tt := range tests {
		if got := clientAddr(tt.remote); got != tt.want {
			t.Errorf("clientAddr(%q) = %q, want %q", tt.remote, got, tt.want)
		}
	}
}

// TestKPIMetricsCached: /metrics serves the KPI gauges of the last
// refresh; scraping does not compute them again.
func TestKPIMetricsCached(t *testing.T) {
	h := newHarness(t)
	h.start()
	refreshedAt := func() time.Time {
		h.agent.kpi.mu.Lock()
		defer h.agent.kpi.mu.Unlock()
		return h.agent.kpi.at
	}
	h.eventually(10*time.Second, "first KPI refresh", func() bool { return !refreshedAt().IsZero() })
	first := refreshedAt()
	for i := range 5 {
		status, _, body := call(t, http.DefaultClient, "GET", "http://"+h.addr+"/metrics", "", nil)
		if status != 200 || !strings.Contains(string(body), "nocagent_service_availability_ratio{") {
			t.Fatalf("scrape %d: status %d, KPI gauges missing", i+1, status)
		}
	}
	if got := refreshedAt(); !got.Equal(first) {
		t.Errorf("a scrape refreshed the KPIs (%s, then %s)", first, got)
	}
	h.agent.kpi.refresh(context.Background())
	if !refreshedAt().After(first) {
		t.Error("refresh did not replace the cache")
	}
}

// TestTLS: with agent.tls_cert/tls_key the agent serves HTTPS only; a key
// pair that does not load stops Run with an error naming the keys, not
// their content.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	tests := []struct {
		name    string
		cert    string
		key     string
		wantErr string
	}{
		{name: "valid pair", cert: certFile, key: keyFile},
		{name: "key is not a key", cert: certFile, key: certFile, wantErr: "agent.tls_cert/tls_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.cfg.Agent.TLSCert, h.cfg.Agent.TLSKey = tt.cert, tt.key
			if tt.wantErr != "" {
				a, err := New(context.Background(), h.cfg, Options{})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err = a.Run(ctx)
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "PRIVATE") {
					t.Fatalf("Run: %v, want an error about %s", err, tt.wantErr)
				}
				return
			}
			h.start()
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
			status, _, body := call(t, client, "GET", "https://"+h.addr+"/api/v1/devices", h.token, nil)
			if status != 200 || !strings.Contains(string(body), "acme-core-1") {
				t.Errorf("HTTPS devices: status %d: %s", status, body)
			}
			status, _, _ = call(t, http.DefaultClient, "GET", "http://"+h.addr+"/healthz", "", nil)
			if status != http.StatusBadRequest {
				t.Errorf("plain HTTP to the TLS port: status %d, want 400", status)
			}
		})
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key to dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nocagent test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
