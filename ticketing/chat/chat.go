// Package chat posts ticket notices to chat-room robots: WeCom (企业微信)
// group robots, DingTalk (钉钉) custom robots and Slack-style incoming
// webhooks. Each message is the staff notice rendered as markdown by
// ticketing/notice.
//
// Chat robots have no idempotency key: a retry after a lost answer can post
// twice. The message names the ticket and event, so a reader sees it.
package chat

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/notice"
)

// Kinds of chat webhook.
const (
	WeCom    = "wecom"
	DingTalk = "dingtalk"
	Slack    = "slack"
)

// Config is the YAML-facing configuration of one chat room.
type Config struct {
	Kind string `yaml:"kind" json:"kind"` // wecom, dingtalk or slack
	// URL is the robot's webhook URL; it holds the room's token, so it may
	// come from URLFile instead, and it never appears in errors.
	URL     string `yaml:"url" json:"url"`
	URLFile string `yaml:"url_file" json:"url_file"`
	// SecretFile holds a DingTalk robot's signing secret ("SEC...").
	SecretFile string `yaml:"secret_file" json:"secret_file"`
	Language   string `yaml:"language" json:"language"` // default en
	Audience   string `yaml:"audience" json:"audience"` // engineer (default) or manager
}

// Options are the programmatic settings of a Sender.
type Options struct {
	Client   *http.Client     // default: 10s timeout
	Renderer *notice.Renderer // default notice.Default
	Now      func() time.Time // DingTalk signing clock; default time.Now
	Secret   []byte           // overrides SecretFile
}

// PermanentError is a refusal that retrying cannot fix (bad token, robot
// disabled, message rejected). The Dispatcher retries every error today;
// it can stop retrying these with errors.As.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Sender posts notices to one chat room.
type Sender struct {
	kind, lang, audience string
	url                  *url.URL
	where                string
	secret               []byte
	client               *http.Client
	render               *notice.Renderer
	now                  func() time.Time
}

// New checks cfg and reads its files.
func New(cfg Config, opts Options) (*Sender, error) {
	switch cfg.Kind {
	case WeCom, DingTalk, Slack:
	default:
		return nil, ticketing.Errorf(ticketing.EINVALID, "chat kind: %q: want wecom, dingtalk or slack", cfg.Kind)
	}
	raw := cfg.URL
	if raw == "" && cfg.URLFile != "" {
		b, err := os.ReadFile(cfg.URLFile)
		if err != nil {
			return nil, fmt.Errorf("chat %s url_file: %w", cfg.Kind, err)
		}
		raw = strings.TrimSpace(string(b))
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, ticketing.Errorf(ticketing.EINVALID, "chat %s url: want an absolute http(s) URL", cfg.Kind)
	}
	switch cfg.Audience {
	case "":
		cfg.Audience = notice.AudienceEngineer
	case notice.AudienceEngineer, notice.AudienceManager:
	default:
		return nil, ticketing.Errorf(ticketing.EINVALID, "chat %s audience: %q: want engineer or manager", cfg.Kind, cfg.Audience)
	}
	s := &Sender{kind: cfg.Kind, lang: notice.NormalizeLang(cfg.Language), audience: cfg.Audience, url: u,
		// Slack hides its token in the path, the others in the query.
		where:  cfg.Kind + " " + u.Scheme + "://" + u.Host,
		client: opts.Client, render: opts.Renderer, now: opts.Now, secret: bytes.Clone(opts.Secret)}
	if len(s.secret) == 0 && cfg.SecretFile != "" {
		b, err := os.ReadFile(cfg.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("chat %s secret_file: %w", cfg.Kind, err)
		}
		s.secret = bytes.TrimSpace(b)
	}
	if len(s.secret) > 0 && cfg.Kind != DingTalk {
		return nil, ticketing.Errorf(ticketing.EINVALID, "chat %s: secret_file is for dingtalk robots only", cfg.Kind)
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	if s.render == nil {
		s.render = notice.Default
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Size limits of the platforms' message text.
const (
	wecomMaxBytes    = 4096  // markdown.content, UTF-8 bytes
	dingtalkMaxBytes = 20000 // markdown.text
	slackMaxChars    = 3000  // a section block's text
	slackHeaderChars = 150   // a header block's text
)

// Payload returns the JSON body for notice n.
func (s *Sender) Payload(n ticketing.Notice) ([]byte, error) {
	flavor := notice.FlavorMarkdown
	if s.kind == Slack {
		flavor = notice.FlavorSlack
	}
	title, md, err := s.render.Markdown(n, s.lang, s.audience, flavor)
	if err != nil {
		return nil, err
	}
	var v any
	switch s.kind {
	case WeCom:
		v = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": truncateBytes(md, wecomMaxBytes)}}
	case DingTalk:
		v = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": title, "text": truncateBytes(md, dingtalkMaxBytes)}}
	case Slack:
		v = map[string]any{
			"text": title, // the notification and fallback text
			"blocks": []any{
				map[string]any{"type": "header", "text": map[string]string{"type": "plain_text", "text": truncateChars(title, slackHeaderChars)}},
				map[string]any{"type": "section", "text": map[string]string{"type": "mrkdwn", "text": truncateChars(md, slackMaxChars)}},
			},
		}
	}
	return json.Marshal(v)
}

// Send implements ticketing.Sender.
func (s *Sender) Send(ctx context.Context, msg ticketing.OutboxMessage) error {
	n, err := notice.Decode(msg.Payload)
	if err != nil {
		return fmt.Errorf("chat %s %s: %w", s.where, msg.EventID, err)
	}
	body, err := s.Payload(n)
	if err != nil {
		return fmt.Errorf("chat %s %s: %w", s.where, msg.EventID, err)
	}
	u := *s.url
	if s.kind == DingTalk && len(s.secret) > 0 {
		q := u.Query()
		ts := strconv.FormatInt(s.now().UnixMilli(), 10)
		q.Set("timestamp", ts)
		q.Set("sign", DingTalkSign(s.secret, ts))
		u.RawQuery = q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("chat %s: build request: %w", s.where, err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error repeats the URL, token and all
		}
		return fmt.Errorf("chat %s: POST %s: %w", s.where, msg.EventID, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if err := s.check(resp.StatusCode, answer); err != nil {
		return fmt.Errorf("chat %s: POST %s: %w", s.where, msg.EventID, err)
	}
	return nil
}

// check reads the platform's verdict. WeCom and DingTalk answer 200 with
// {"errcode":N,"errmsg":...}; Slack answers "ok" or an HTTP error.
func (s *Sender) check(status int, answer []byte) error {
	excerpt := strings.TrimSpace(string(answer))
	if len(excerpt) > 200 {
		excerpt = excerpt[:200]
	}
	if status == http.StatusTooManyRequests || status >= 500 {
		return fmt.Errorf("status %d: %s", status, excerpt)
	}
	if status < 200 || status > 299 {
		return &PermanentError{fmt.Errorf("status %d: %s", status, excerpt)}
	}
	if s.kind == Slack {
		return nil
	}
	var r struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(answer, &r); err != nil || r.ErrCode == nil {
		return fmt.Errorf("status %d: answer is not {\"errcode\":...}: %q", status, excerpt)
	}
	if *r.ErrCode == 0 {
		return nil
	}
	err := fmt.Errorf("errcode %d: %s", *r.ErrCode, r.ErrMsg)
	if retryable(s.kind, *r.ErrCode) {
		return err
	}
	return &PermanentError{err}
}

// retryable lists the platform error codes that go away by waiting: rate
// limits and "system busy". Anything else (bad key, robot disabled, keyword
// or signature or IP check failed, malformed message) needs a person.
func retryable(kind string, code int) bool {
	switch kind {
	case WeCom:
		return code == -1 || code == 45009 || code == 45033 // busy, rate limit, concurrency limit
	case DingTalk:
		return code == -1 || code == 130101 || code == 410100 // busy, sending too fast, throttled
	}
	return false
}

// DingTalkSign is DingTalk's robot signature: base64 of HMAC-SHA256 keyed by
// the secret over "timestamp\nsecret", with timestamp in milliseconds. The
// caller URL-encodes it as the "sign" query parameter.
func DingTalkSign(secret []byte, timestampMillis string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestampMillis + "\n" + string(secret)))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// truncateBytes cuts s to at most n UTF-8 bytes on a rune boundary, marking
// the cut.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "\n…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func truncateChars(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

var _ ticketing.Sender = (*Sender)(nil)
