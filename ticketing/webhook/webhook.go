// Package webhook delivers ticket notices as JSON over HTTP POST.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
}

// Sender POSTs each outbox message's payload (a ticketing.Notice) to one URL
// with header Idempotency-Key set to the event id. Any non-2xx answer or
// network error is returned, and the Dispatcher retries it.
type Sender struct {
	url     string
	where   string // the URL without credentials or query, for errors
	client  *http.Client
	headers map[string]string
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
	return &Sender{url: rawURL, where: u.Scheme + "://" + u.Host + u.Path, client: c, headers: h}, nil
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
