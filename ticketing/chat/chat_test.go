package chat

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/notice"
)

var at = time.Date(2026, 3, 2, 1, 20, 0, 0, time.UTC)

func escalated() ticketing.Notice {
	return ticketing.Notice{
		Event: ticketing.KindEscalated, EventID: "NOC-000042:4", At: at, Actor: ticketing.ActorSystem,
		Note: "not acknowledged within the 15m response target", Recipients: []string{"tier:L2"},
		Ticket: ticketing.Ticket{
			ID: "NOC-000042", Title: "core-sw-1: device unreachable", Priority: ticketing.P1, State: ticketing.StateNew,
			Category: "availability", Tier: 2, Escalated: true, OpenedAt: at.Add(-20 * time.Minute),
			Device: ticketing.DeviceContext{Name: "core-sw-1", SiteName: "上海总部", Customer: "acme"},
		},
	}
}

func outbox(t *testing.T, n ticketing.Notice) ticketing.OutboxMessage {
	t.Helper()
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return ticketing.OutboxMessage{EventID: n.EventID, Kind: n.Event, Channel: "chat", Payload: b}
}

// robot is a chat webhook endpoint answering with a scripted reply.
type robot struct {
	mu     sync.Mutex
	status int
	answer string
	reqs   []*http.Request
	bodies [][]byte
}

func (rb *robot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rb.mu.Lock()
	defer rb.mu.Unlock()
	rb.reqs, rb.bodies = append(rb.reqs, r), append(rb.bodies, b)
	w.WriteHeader(rb.status)
	_, _ = io.WriteString(w, rb.answer)
}

func start(t *testing.T, status int, answer string) (*robot, string) {
	t.Helper()
	rb := &robot{status: status, answer: answer}
	srv := httptest.NewServer(rb)
	t.Cleanup(srv.Close)
	return rb, srv.URL
}

func markdown(t *testing.T, lang, flavor string) (string, string) {
	t.Helper()
	title, md, err := notice.Default.Markdown(escalated(), lang, notice.AudienceEngineer, flavor)
	if err != nil {
		t.Fatal(err)
	}
	return title, md
}

func TestPayloadsAreThePlatformsJSON(t *testing.T) {
	zhTitle, zhMD := markdown(t, "zh-CN", notice.FlavorMarkdown)
	enTitle, slackMD := markdown(t, "en", notice.FlavorSlack)
	tests := []struct {
		kind, lang, path, answer string
		want                     map[string]any
	}{
		{WeCom, "zh-CN", "/cgi-bin/webhook/send?key=wk-s3cret", `{"errcode":0,"errmsg":"ok"}`, map[string]any{
			"msgtype": "markdown", "markdown": map[string]any{"content": zhMD}}},
		{DingTalk, "zh-CN", "/robot/send?access_token=dt-s3cret", `{"errcode":0,"errmsg":"ok"}`, map[string]any{
			"msgtype": "markdown", "markdown": map[string]any{"title": zhTitle, "text": zhMD}}},
		{Slack, "en", "/services/T000/B000/sl-s3cret", "ok", map[string]any{
			"text": enTitle,
			"blocks": []any{
				map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": enTitle}},
				map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": slackMD}},
			}}},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			rb, base := start(t, http.StatusOK, tc.answer)
			s, err := New(Config{Kind: tc.kind, URL: base + tc.path, Language: tc.lang}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), outbox(t, escalated())); err != nil {
				t.Fatalf("send: %v", err)
			}
			if len(rb.reqs) != 1 {
				t.Fatalf("%d requests", len(rb.reqs))
			}
			r := rb.reqs[0]
			if r.Method != http.MethodPost || r.URL.RequestURI() != tc.path || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("request %s %s %q", r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"))
			}
			var got map[string]any
			if err := json.Unmarshal(rb.bodies[0], &got); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, rb.bodies[0])
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("body\n%s\nwant\n%v", rb.bodies[0], tc.want)
			}
		})
	}
	// The texts themselves are the staff escalation notice.
	if !strings.HasPrefix(zhMD, "### NOC-000042 已升级至 L2\n") || !strings.Contains(slackMD, "*Device*: core-sw-1") {
		t.Errorf("unexpected markdown:\n%s\n%s", zhMD, slackMD)
	}
}

func TestDingTalkSignature(t *testing.T) {
	rb, base := start(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
	secret := []byte("SEC0123456789abcdef")
	s, err := New(Config{Kind: DingTalk, URL: base + "/robot/send?access_token=dt-token"},
		Options{Secret: secret, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), outbox(t, escalated())); err != nil {
		t.Fatal(err)
	}
	raw := rb.reqs[0].URL.RawQuery
	q, _ := url.ParseQuery(raw)
	ts := fmt.Sprint(at.UnixMilli())
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "\n" + string(secret)))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if q.Get("access_token") != "dt-token" || q.Get("timestamp") != ts || q.Get("sign") != want {
		t.Errorf("query %v, want access_token, timestamp %s and sign %s", q, ts, want)
	}
	// base64 '+', '/' and '=' must arrive URL-encoded, as DingTalk requires.
	if strings.ContainsAny(strings.SplitN(strings.SplitN(raw, "sign=", 2)[1], "&", 2)[0], "+/=") {
		t.Errorf("sign not URL-encoded in %q", raw)
	}
}

func TestPlatformErrors(t *testing.T) {
	tests := []struct {
		kind, answer string
		status       int
		want         string
		permanent    bool
	}{
		{WeCom, `{"errcode":93000,"errmsg":"invalid webhook url"}`, 200, "errcode 93000: invalid webhook url", true},
		{WeCom, `{"errcode":45009,"errmsg":"api freq out of limit"}`, 200, "errcode 45009", false},
		{WeCom, `<html>gateway</html>`, 200, "answer is not", false},
		{DingTalk, `{"errcode":310000,"errmsg":"sign not match"}`, 200, "errcode 310000", true},
		{DingTalk, `{"errcode":130101,"errmsg":"send too fast"}`, 200, "errcode 130101", false},
		{DingTalk, `{"errcode":0}`, 502, "status 502", false},
		{Slack, "no_service", 404, "status 404: no_service", true},
		{Slack, "rate_limited", 429, "status 429", false},
		{Slack, "invalid_payload", 400, "status 400", true},
	}
	for _, tc := range tests {
		t.Run(tc.kind+"/"+tc.want, func(t *testing.T) {
			_, base := start(t, tc.status, tc.answer)
			s, err := New(Config{Kind: tc.kind, URL: base + "/hook/tok-s3cret?key=tok-s3cret"}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), outbox(t, escalated()))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			var pe *PermanentError
			if errors.As(err, &pe) != tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", !tc.permanent, tc.permanent, err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("err leaks the token: %v", err)
			}
		})
	}
}

func TestLongNoticesFitThePlatformLimits(t *testing.T) {
	n := escalated()
	for i := range 400 {
		n.Ticket.ImpactedDevices = append(n.Ticket.ImpactedDevices, ticketing.ImpactedDevice{Name: fmt.Sprintf("接入交换机-%03d", i), Customer: "acme"})
	}
	for _, tc := range []struct {
		kind  string
		limit func(map[string]any) bool
	}{
		{WeCom, func(m map[string]any) bool {
			c := m["markdown"].(map[string]any)["content"].(string)
			return len(c) <= 4096 && utf8.ValidString(c) && strings.HasSuffix(c, "…")
		}},
		{Slack, func(m map[string]any) bool {
			c := m["blocks"].([]any)[1].(map[string]any)["text"].(map[string]any)["text"].(string)
			return utf8.RuneCountInString(c) <= 3000 && strings.HasSuffix(c, "…")
		}},
	} {
		s, err := New(Config{Kind: tc.kind, URL: "http://127.0.0.1:9/x", Language: "zh-CN"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Payload(n)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || !tc.limit(m) {
			t.Errorf("%s payload over the limit or not cut cleanly (%d bytes, %v)", tc.kind, len(b), err)
		}
	}
}

func TestNewRejects(t *testing.T) {
	for _, c := range []Config{
		{Kind: "teams", URL: "https://x.test/hook"},
		{Kind: WeCom, URL: "not a url"},
		{Kind: WeCom, URL: "https://x.test/hook", Audience: "customer"},
		{Kind: Slack, URL: "https://x.test/hook", SecretFile: "/nonexistent"},
		{Kind: DingTalk, URLFile: "/nonexistent"},
	} {
		if _, err := New(c, Options{}); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	if _, err := New(Config{Kind: Slack, URL: "https://x.test/hook"}, Options{Secret: []byte("x")}); err == nil {
		t.Errorf("a signing secret on a slack webhook was accepted")
	}
}
