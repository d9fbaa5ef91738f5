package jira

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Errors of the connector; test with errors.Is.
var (
	// ErrAuth: Jira refused the credentials (401) or the account may not
	// do this (403).
	ErrAuth = errors.New("jira: not authorised")
	// ErrRateLimited: Jira still answered 429 after the retries.
	ErrRateLimited = errors.New("jira: rate limited")
	// ErrMalformedReply: Jira's answer was not the documented JSON.
	ErrMalformedReply = errors.New("jira: malformed reply")
	// ErrNotFound: the issue does not exist or the account cannot see it.
	ErrNotFound = errors.New("jira: not found")
)

const maxBody = 4 << 20

// client speaks Jira's REST API v2.
type client struct {
	base       *url.URL
	http       *http.Client
	authHeader string // never logged
	log        *slog.Logger
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	retries    int
	maxWait    time.Duration
	timeout    time.Duration
}

// jiraErrors is Jira's error body: {"errorMessages":[...],"errors":{...}}.
type jiraErrors struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

func (e jiraErrors) String() string {
	parts := append([]string(nil), e.ErrorMessages...)
	for k, v := range e.Errors {
		parts = append(parts, k+": "+v)
	}
	return strings.Join(parts, "; ")
}

// do sends one request and decodes a 2xx JSON answer into out (nil: the
// body is ignored). 429 and 503 are retried after Retry-After (capped at
// maxWait) or a doubling backoff.
func (c *client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := c.base.JoinPath(path)
	u.RawQuery = query.Encode()
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("jira %s %s: encode request: %w", method, path, err)
		}
	}
	what := method + " " + path
	backoff := time.Second
	for attempt := 0; ; attempt++ {
		status, header, data, err := c.once(ctx, method, u.String(), payload)
		if err != nil {
			return fmt.Errorf("jira %s: %w", what, err)
		}
		c.log.Debug("jira request", "method", method, "path", path, "status", status, "attempt", attempt+1)
		switch {
		case status >= 200 && status < 300:
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("%w: %s answered %d with %s: %v", ErrMalformedReply, what, status, excerpt(header, data), err)
			}
			return nil
		case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
			wait, ok := c.retryAfter(header.Get("Retry-After"))
			if !ok {
				wait = backoff
				backoff *= 2
			}
			wait = min(wait, c.maxWait)
			if attempt >= c.retries {
				return fmt.Errorf("%w: %s answered %d after %d retries (Retry-After %q)", ErrRateLimited, what, status, c.retries, header.Get("Retry-After"))
			}
			c.log.Warn("jira rate limited; retrying", "method", method, "path", path, "status", status, "wait", wait)
			if err := c.sleep(ctx, wait); err != nil {
				return fmt.Errorf("jira %s: waiting %s after %d: %w", what, wait, status, err)
			}
		case status == http.StatusUnauthorized:
			return fmt.Errorf("%w: %s answered 401: check the auth in the jira plugin config (%s)", ErrAuth, what, reason(header, data))
		case status == http.StatusForbidden:
			return fmt.Errorf("%w: %s answered 403: the account lacks a permission (%s)", ErrAuth, what, reason(header, data))
		case status == http.StatusNotFound:
			return fmt.Errorf("%w: %s answered 404 (%s)", ErrNotFound, what, reason(header, data))
		default:
			return fmt.Errorf("jira %s answered %d (%s)", what, status, reason(header, data))
		}
	}
}

func (c *client) once(ctx context.Context, method, u string, payload []byte) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", c.authHeader)
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error quotes the URL, which holds no credential (Configure
		// refuses one in base_url).
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read reply: %w", err)
	}
	return resp.StatusCode, resp.Header, data, nil
}

// retryAfter parses Retry-After: seconds or an HTTP date.
func (c *client) retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(c.now()), 0), true
	}
	return 0, false
}

// reason is what an error reply says: Jira's errorMessages and errors, or
// an excerpt of a body that is not Jira's JSON (a proxy's HTML page).
func reason(h http.Header, data []byte) string {
	var je jiraErrors
	if json.Unmarshal(data, &je) == nil {
		if s := je.String(); s != "" {
			return s
		}
	}
	return excerpt(h, data)
}

func excerpt(h http.Header, data []byte) string {
	s := strings.Join(strings.Fields(string(data)), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if s == "" {
		s = "empty body"
	}
	return fmt.Sprintf("%s: %q", cmpOr(h.Get("Content-Type"), "no content type"), s)
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

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
