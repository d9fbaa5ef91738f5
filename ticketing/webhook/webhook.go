// Package webhook delivers ticket notices as JSON over HTTP POST.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// Options configure a Sender.
type Options struct {
	// Client defaults to an http.Client with a 10s timeout; the Dispatcher's
	// per-message deadline applies as well.
	Client *http.Client
	// Headers are added to every request, e.g. an Authorization token. Their
	// values never appear in errors or logs.
	Headers map[string]string
	// Secret, when set, signs every request: X-Nocagent-Timestamp carries
	// the Unix time of sending and X-Nocagent-Signature is
	// "sha256=" + hex(HMAC-SHA256(Secret, timestamp + "." + body)). The
	// timestamp lets receivers refuse replays; see Verify.
	Secret []byte
	// Now is the signing clock; default time.Now.
	Now func() time.Time
}

// Signature headers.
const (
	HeaderSignature = "X-Nocagent-Signature"
	HeaderTimestamp = "X-Nocagent-Timestamp"
)

// Sign returns the X-Nocagent-Signature value for body sent at timestamp
// (decimal Unix seconds).
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signed request as a receiver should: the signature must
// match in constant time and the timestamp must be within tolerance of now.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook signature: bad %s %q", HeaderTimestamp, timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook signature: timestamp %s is %v away from now, more than %v", timestamp, d.Round(time.Second), tolerance)
	}
	if !hmac.Equal([]byte(signature), []byte(Sign(secret, timestamp, body))) {
		return errors.New("webhook signature: mismatch")
	}
	return nil
}

// ReadSecret reads a signing secret from a file, without its trailing line
// break. The error names the file, never its content.
func ReadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return nil, ticketing.Errorf(ticketing.EINVALID, "webhook secret file %s is empty", path)
	}
	return b, nil
}

// Sender POSTs each outbox message's payload (a ticketing.Notice) to one URL
// with header Idempotency-Key set to the event id. Any non-2xx answer or
// network error is returned, and the Dispatcher retries it.
type Sender struct {
	url     string
	where   string // the URL without credentials or query, for errors
	client  *http.Client
	headers map[string]string
	secret  []byte
	now     func() time.Time
}

// New returns a Sender posting to rawURL, which must be an absolute http or
// https URL.
func New(rawURL string, opts Options) (*Sender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL may hold a token: name only what is wrong with it.
		return nil, ticketing.Errorf(ticketing.EINVALID, "webhook url: want an absolute http(s) URL")
	}
	c := opts.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	h := make(map[string]string, len(opts.Headers))
	for k, v := range opts.Headers {
		h[k] = v
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Sender{url: rawURL, where: u.Scheme + "://" + u.Host + u.Path, client: c, headers: h,
		secret: bytes.Clone(opts.Secret), now: now}, nil
}

// Send implements ticketing.Sender.
func (s *Sender) Send(ctx context.Context, msg ticketing.OutboxMessage) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(msg.Payload))
	if err != nil {
		return fmt.Errorf("webhook %s: build request: %w", s.where, err)
	}
	for k, v := range s.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", msg.EventID)
	if len(s.secret) > 0 {
		ts := strconv.FormatInt(s.now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(s.secret, ts, msg.Payload))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// *url.Error repeats the full URL, query and all: keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("webhook POST %s: %w", s.where, err)
	}
	defer resp.Body.Close()
	// A short excerpt of the body says why a receiver refused; draining the
	// rest (bounded) lets the connection be reused.
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook POST %s: status %d: %s", s.where, resp.StatusCode, strings.TrimSpace(string(excerpt)))
	}
	return nil
}

var _ ticketing.Sender = (*Sender)(nil)
