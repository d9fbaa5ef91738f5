// Package webhook delivers ticket notices as JSON over HTTP POST.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	where   string   // scheme and host only, for errors and logs
	secrets []string // parts of the URL that may be a token, longest first
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
	return &Sender{url: rawURL, where: Where(u), secrets: urlSecrets(rawURL, u), client: c, headers: h,
		secret: bytes.Clone(opts.Secret), now: now}, nil
}

// Where is how errors and logs name a webhook endpoint: its scheme and
// host only. Path, query and user info often carry the receiver's token.
func Where(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

// minSecretPart: shorter URL parts ("v1", "api") are not worth hiding and
// would garble messages.
const minSecretPart = 4

// urlSecrets lists the parts of a webhook URL that must not appear in an
// error: the URL itself, its path, each path segment, the query, each
// query value and the user info, raw and unescaped, longest first so a
// longer match is replaced before its parts.
func urlSecrets(raw string, u *url.URL) []string {
	parts := []string{raw, u.Path, u.EscapedPath(), u.RawPath, u.RawQuery, u.Fragment, u.User.String()}
	if u.User != nil {
		parts = append(parts, u.User.Username())
		if p, ok := u.User.Password(); ok {
			// Go sends user info as Basic auth; a receiver may echo it.
			parts = append(parts, p, base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+p)))
		}
	}
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		parts = append(parts, seg)
		if v, err := url.PathUnescape(seg); err == nil {
			parts = append(parts, v)
		}
	}
	if q, err := url.ParseQuery(u.RawQuery); err == nil {
		for _, vs := range q {
			parts = append(parts, vs...)
		}
	}
	var out []string
	for _, p := range parts {
		if len(p) >= minSecretPart && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// scrub removes every secret part of the URL from msg: a receiver's error
// page or a transport error may echo the request URL.
func (s *Sender) scrub(msg string) string {
	for _, p := range s.secrets {
		msg = strings.ReplaceAll(msg, p, "[redacted]")
	}
	return msg
}

// Send implements ticketing.Sender.
func (s *Sender) Send(ctx context.Context, msg ticketing.OutboxMessage) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(msg.Payload))
	if err != nil {
		return fmt.Errorf("webhook %s: build request: %s", s.where, s.scrub(err.Error()))
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
		// The cause may name the URL too (a redirect's target, a proxy's
		// answer): it is kept as text, scrubbed, and context errors as such.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return fmt.Errorf("webhook POST %s: %w", s.where, err)
		}
		return fmt.Errorf("webhook POST %s: %w", s.where, scrubbedError{msg: s.scrub(err.Error()), err: err})
	}
	defer resp.Body.Close()
	// A short excerpt of the body says why a receiver refused; draining the
	// rest (bounded) lets the connection be reused. The excerpt is scrubbed
	// before it is clipped, so no part of a URL token survives the clip.
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		excerpt := s.excerpt(resp.Body)
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		err := fmt.Errorf("webhook POST %s: status %d: %s", s.where, resp.StatusCode, excerpt)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout &&
			resp.StatusCode != http.StatusTooManyRequests {
			// The receiver refuses this request as it is (bad token,
			// gone, unprocessable): sending it again changes nothing.
			err = fmt.Errorf("%w: %w", ticketing.ErrPermanent, err)
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return nil
}

// Excerpt sizes: what is read of a refusal, and what of it is kept.
const (
	excerptRead = 4096
	excerptKeep = 256
)

// excerpt reads the start of a refusal's body, scrubbed, then clipped: a
// secret in the body is replaced whole, never cut in two by the clip, and
// one cut by the read limit is dropped from the end.
func (s *Sender) excerpt(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, excerptRead))
	text := s.scrub(strings.ToValidUTF8(string(b), "\uFFFD"))
	if len(b) == excerptRead {
		for _, p := range s.secrets {
			for k := len(p) - 1; k > 0; k-- {
				if strings.HasSuffix(text, p[:k]) {
					text = text[:len(text)-k]
					break
				}
			}
		}
	}
	text = strings.TrimSpace(text)
	if len(text) > excerptKeep {
		cut := excerptKeep
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return text
}

// scrubbedError keeps the cause for errors.Is and errors.As while its text
// is the scrubbed one.
type scrubbedError struct {
	msg string
	err error
}

func (e scrubbedError) Error() string { return e.msg }
func (e scrubbedError) Unwrap() error { return e.err }

var _ ticketing.Sender = (*Sender)(nil)
