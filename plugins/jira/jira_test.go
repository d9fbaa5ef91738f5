package jira_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/plugins/jira"
	"github.com/nocagent/nocagent/plugins/jira/jiratest"
)

const (
	email    = "noc-bot@example.com"
	apiToken = "ATATT3xFfGF0-test-token-9f8e7d"
)

var basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+apiToken))

type env struct {
	fake   *jiratest.Fake
	sink   *jira.Sink
	logs   *bytes.Buffer
	mu     sync.Mutex
	sleeps []time.Duration
}

func newEnv(t *testing.T, extra map[string]any) *env {
	t.Helper()
	e := &env{fake: jiratest.New(t, basic), logs: &bytes.Buffer{}}
	e.sink = jira.New(jira.Options{
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC) },
		Sleep: func(_ context.Context, d time.Duration) error {
			e.mu.Lock()
			e.sleeps = append(e.sleeps, d)
			e.mu.Unlock()
			return nil
		},
	})
	cfg := map[string]any{"base_url": e.fake.URL, "project_key": "NOC", "request_timeout": "2s",
		"auth": map[string]string{"email": email, "api_token": apiToken}}
	for k, v := range extra {
		cfg[k] = v
	}
	raw, _ := json.Marshal(cfg)
	if err := e.sink.Configure(context.Background(), raw); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return e
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func ticket() plugins.SinkTicket {
	return plugins.SinkTicket{ID: "NOC-000042", Title: "Link down on sw-acc-1 Gi1/0/7", Priority: "P1", Category: "link",
		State: "new", Customer: "acme", Contract: "ACME-2025", Site: "Shanghai-1 | floor 3", Device: "sw-acc-1",
		Model: "C9300-48P", Serial: "FOC1234X0AB",
		Description: "Interface Gi1/0/7 went down at 09:58.\nLLDP neighbour: ap-3f-12.",
		UpdatedAt:   time.Date(2025, 3, 1, 9, 58, 0, 0, time.UTC)}
}

func TestPushCreates(t *testing.T) {
	e := newEnv(t, nil)
	key, err := e.sink.Push(ctx(t), ticket())
	if err != nil || key != "NOC-1" {
		t.Fatalf("Push = %q, %v; want NOC-1", key, err)
	}
	reqs, bodies := e.fake.Requests()
	if len(reqs) != 2 || !strings.HasPrefix(reqs[0], "GET /rest/api/2/search?") || reqs[1] != "POST /rest/api/2/issue" {
		t.Fatalf("requests %q; want a label search then a create", reqs)
	}
	if !strings.Contains(reqs[0], "jql=project+%3D+%22NOC%22+AND+labels+%3D+%22nocagent-NOC-000042%22") {
		t.Fatalf("search %q does not look the ticket up by its label", reqs[0])
	}
	fields := bodies[0]["fields"].(map[string]any)
	want := map[string]any{
		"project": map[string]any{"key": "NOC"}, "issuetype": map[string]any{"name": "Incident"},
		"summary": "[NOC-000042] Link down on sw-acc-1 Gi1/0/7", "priority": map[string]any{"name": "Highest"},
		"labels": []any{"nocagent", "nocagent-NOC-000042"},
	}
	for k, v := range want {
		got, _ := json.Marshal(fields[k])
		exp, _ := json.Marshal(v)
		if !bytes.Equal(got, exp) {
			t.Errorf("field %s = %s, want %s", k, got, exp)
		}
	}
	// The description carries the device context as a wiki table; the
	// site's "|" is escaped so it stays one cell.
	golden(t, "testdata/description.golden", fields["description"].(string))
	if is := e.fake.Issue("NOC-1"); is.Status != "Open" {
		t.Fatalf("a new ticket was transitioned to %s", is.Status)
	}
}

func TestPushUpdatesAndTransitions(t *testing.T) {
	e := newEnv(t, nil)
	tk := ticket()
	if _, err := e.sink.Push(ctx(t), tk); err != nil {
		t.Fatal(err)
	}
	// Without the key (lost by the caller) it is found by label, not
	// created twice; the priority drops and the state moves on.
	tk.Priority, tk.State, tk.Title = "P3", "in_progress", "Link flapping on sw-acc-1 Gi1/0/7"
	key, err := e.sink.Push(ctx(t), tk)
	if err != nil || key != "NOC-1" {
		t.Fatalf("second Push = %q, %v", key, err)
	}
	is := e.fake.Issue("NOC-1")
	if is.Status != "Work in progress" || is.Priority != "Medium" || is.Summary != "[NOC-000042] Link flapping on sw-acc-1 Gi1/0/7" {
		t.Fatalf("issue after update: status %q priority %q summary %q", is.Status, is.Priority, is.Summary)
	}
	// With the key, straight to the issue; resolved is one transition on.
	tk.ExternalID, tk.State = key, "resolved"
	if _, err := e.sink.Push(ctx(t), tk); err != nil {
		t.Fatal(err)
	}
	reqs, _ := e.fake.Requests()
	last := reqs[len(reqs)-4:]
	want := []string{"GET /rest/api/2/issue/NOC-1?fields=status%2Clabels", "PUT /rest/api/2/issue/NOC-1",
		"GET /rest/api/2/issue/NOC-1/transitions", "POST /rest/api/2/issue/NOC-1/transitions"}
	if !slices.Equal(last, want) {
		t.Fatalf("requests %q, want %q", last, want)
	}
	if got := e.fake.Issue("NOC-1").Status; got != "Resolved" {
		t.Fatalf("status %q, want Resolved", got)
	}
	// Pushing the same state again does not transition.
	n := len(reqs)
	if _, err := e.sink.Push(ctx(t), tk); err != nil {
		t.Fatal(err)
	}
	reqs, _ = e.fake.Requests()
	if len(reqs) != n+2 {
		t.Fatalf("an unchanged state made requests %q", reqs[n:])
	}
	count := 0
	for _, r := range reqs {
		if r == "POST /rest/api/2/issue" {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("%d creates, want 1", count)
	}
}

func TestPushTransitionUnavailable(t *testing.T) {
	e := newEnv(t, nil)
	tk := ticket()
	tk.State = "closed" // Open offers no transition to Closed
	key, err := e.sink.Push(ctx(t), tk)
	if key != "NOC-1" || err == nil || !strings.Contains(err.Error(), `maps to status "Closed"`) ||
		!strings.Contains(err.Error(), `"Start work" to Work in progress`) {
		t.Fatalf("Push = %q, %v; want the key and an error listing what the workflow offers", key, err)
	}
}

func TestPushRecreatesDeletedIssue(t *testing.T) {
	e := newEnv(t, nil)
	tk := ticket()
	tk.ExternalID = "NOC-77" // deleted in Jira
	key, err := e.sink.Push(ctx(t), tk)
	if err != nil || key != "NOC-1" {
		t.Fatalf("Push = %q, %v; want a new issue", key, err)
	}
}

func TestPull(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.SetPageSize(1) // make Pull page
	for _, id := range []string{"NOC-000042", "NOC-000043"} {
		tk := ticket()
		tk.ID, tk.State = id, "acknowledged" // the bot's own transition
		if _, err := e.sink.Push(ctx(t), tk); err != nil {
			t.Fatal(err)
		}
	}
	since := e.fake.Advance(30 * time.Second)
	at1 := e.fake.HumanMove("NOC-2", "Pending")
	at2 := e.fake.HumanMove("NOC-1", "Resolved")
	got, err := e.sink.Pull(ctx(t), since)
	if err != nil {
		t.Fatal(err)
	}
	want := []plugins.SinkChange{
		{TicketID: "NOC-000043", ExternalID: "NOC-2", Actor: "Li Wei", At: at1,
			Note: "Jira NOC-2: Li Wei moved it from Work in progress to Pending (no nocagent state for that status)"},
		{TicketID: "NOC-000042", ExternalID: "NOC-1", Actor: "Li Wei", At: at2, State: "resolved",
			Note: "Jira NOC-1: Li Wei moved it from Work in progress to Resolved"},
	}
	if len(got) != len(want) {
		t.Fatalf("Pull = %+v, want %+v", got, want)
	}
	for i := range want {
		g := got[i]
		if g.At.Equal(want[i].At) {
			g.At = want[i].At // same instant, maybe another zone
		}
		if g != want[i] {
			t.Errorf("change %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	reqs, _ := e.fake.Requests()
	var searches int
	for _, r := range reqs {
		if strings.Contains(r, "expand=changelog") {
			searches++
			if !strings.Contains(r, "updated+%3E%3D+%222025%2F03%2F01+09%3A") {
				t.Errorf("pull search %q: since not in JQL's minute format", r)
			}
		}
	}
	if searches != 2 {
		t.Fatalf("%d pull searches, want 2 (page size 1, two issues)", searches)
	}
	// Nothing after the last change.
	if got, err := e.sink.Pull(ctx(t), at2); err != nil || len(got) != 0 {
		t.Fatalf("Pull(after last) = %+v, %v", got, err)
	}
}

func TestAuth(t *testing.T) {
	t.Run("bearer token", func(t *testing.T) {
		e := newEnv(t, map[string]any{"auth": map[string]string{"token": "NjM0NzM5-pat"}})
		e.fake.SetAuth("Bearer NjM0NzM5-pat")
		if _, err := e.sink.Push(ctx(t), ticket()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("401", func(t *testing.T) {
		e := newEnv(t, nil)
		e.fake.SetAuth("Basic something-else")
		_, err := e.sink.Push(ctx(t), ticket())
		if !errors.Is(err, jira.ErrAuth) || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "You are not authenticated") {
			t.Fatalf("Push = %v; want ErrAuth quoting Jira's message", err)
		}
		_, err2 := e.sink.Pull(ctx(t), time.Time{})
		if !errors.Is(err2, jira.ErrAuth) {
			t.Fatalf("Pull = %v; want ErrAuth", err2)
		}
		assertNoSecret(t, err.Error()+err2.Error()+e.logs.String())
	})
	t.Run("secret echoed by a proxy", func(t *testing.T) {
		e := newEnv(t, nil)
		e.fake.Fail("GET /rest/api/2/search", jiratest.Fault{Status: 502, Header: map[string]string{"Content-Type": "text/html"},
			Body: "<html>bad gateway for " + basic + " token " + apiToken + "</html>"})
		_, err := e.sink.Push(ctx(t), ticket())
		if err == nil || !strings.Contains(err.Error(), "502") {
			t.Fatalf("Push = %v", err)
		}
		assertNoSecret(t, err.Error()+e.logs.String())
	})
}

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with the file, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func assertNoSecret(t *testing.T, text string) {
	t.Helper()
	for _, s := range []string{apiToken, strings.TrimPrefix(basic, "Basic ")} {
		if strings.Contains(text, s) {
			t.Fatalf("secret %q leaked:\n%s", s, text)
		}
	}
}

func TestRateLimit(t *testing.T) {
	t.Run("retries after Retry-After", func(t *testing.T) {
		e := newEnv(t, nil)
		e.fake.Fail("POST /rest/api/2/issue",
			jiratest.Fault{Status: 429, Header: map[string]string{"Retry-After": "7"}},
			jiratest.Fault{Status: 429, Header: map[string]string{"Retry-After": "Sat, 01 Mar 2025 09:00:03 GMT"}},
			jiratest.Fault{Status: 503})
		key, err := e.sink.Push(ctx(t), ticket())
		if err != nil || key != "NOC-1" {
			t.Fatalf("Push = %q, %v", key, err)
		}
		if want := []time.Duration{7 * time.Second, 3 * time.Second, time.Second}; !slices.Equal(e.sleeps, want) {
			t.Fatalf("waits %v, want %v (seconds, HTTP date, then backoff)", e.sleeps, want)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		e := newEnv(t, map[string]any{"max_retries": 2, "max_retry_wait": "30s"})
		for range 3 {
			e.fake.Fail("GET /rest/api/2/search", jiratest.Fault{Status: 429, Header: map[string]string{"Retry-After": "3600"}})
		}
		_, err := e.sink.Push(ctx(t), ticket())
		if !errors.Is(err, jira.ErrRateLimited) || !strings.Contains(err.Error(), "after 2 retries") {
			t.Fatalf("Push = %v; want ErrRateLimited", err)
		}
		if want := []time.Duration{30 * time.Second, 30 * time.Second}; !slices.Equal(e.sleeps, want) {
			t.Fatalf("waits %v, want %v (capped)", e.sleeps, want)
		}
	})
}

func TestMalformedReplies(t *testing.T) {
	tests := []struct {
		name  string
		route string
		f     jiratest.Fault
		pull  bool
		want  string
	}{
		{"html instead of json", "GET /rest/api/2/search", jiratest.Fault{Status: 200, Header: map[string]string{"Content-Type": "text/html"}, Body: "<html>login</html>"}, false, `text/html: "<html>login</html>"`},
		{"search without issues", "GET /rest/api/2/search", jiratest.Fault{Status: 200, Body: `{"startAt":0,"total":0}`}, false, "no issues or total"},
		{"wrong types", "GET /rest/api/2/search", jiratest.Fault{Status: 200, Body: `{"total":"many","issues":[]}`}, false, "cannot unmarshal"},
		{"create without key", "POST /rest/api/2/issue", jiratest.Fault{Status: 201, Body: `{"id":"10001"}`}, false, "no issue key"},
		{"truncated", "POST /rest/api/2/issue", jiratest.Fault{Status: 201, Body: `{"id":"10001","key":"NO`}, false, "unexpected end"},
		{"myself without id", "GET /rest/api/2/myself", jiratest.Fault{Status: 200, Body: `{"displayName":"x"}`}, true, "neither accountId nor name"},
		{"bad changelog date", "GET /rest/api/2/search", jiratest.Fault{Status: 200, Body: `{"total":1,"issues":[{"id":"1","key":"NOC-1","fields":{"labels":["nocagent-NOC-1"]},"changelog":{"histories":[{"id":"5","created":"yesterday","items":[]}]}}]}`}, true, `created "yesterday"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.fake.Fail(tt.route, tt.f)
			var err error
			if tt.pull {
				_, err = e.sink.Pull(ctx(t), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
			} else {
				_, err = e.sink.Push(ctx(t), ticket())
			}
			if !errors.Is(err, jira.ErrMalformedReply) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want ErrMalformedReply containing %q", err, tt.want)
			}
		})
	}
	t.Run("jira validation error", func(t *testing.T) {
		e := newEnv(t, map[string]any{"priorities": map[string]string{"P1": "Blocker"}})
		_, err := e.sink.Push(ctx(t), ticket())
		if err == nil || !strings.Contains(err.Error(), "answered 400") || !strings.Contains(err.Error(), "priority: Specify the Priority") {
			t.Fatalf("Push = %v; want Jira's field error", err)
		}
	})
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"not a url", `{"base_url":"jira","project_key":"NOC","auth":{"token":"abcd"}}`, "not an http(s) URL"},
		{"credentials in url", `{"base_url":"https://u:p@jira.example.com","project_key":"NOC","auth":{"token":"abcd"}}`, "must not carry credentials"},
		{"bad project", `{"base_url":"https://jira.example.com","project_key":"noc","auth":{"token":"abcd"}}`, "project_key"},
		{"no auth", `{"base_url":"https://jira.example.com","project_key":"NOC"}`, "auth needs"},
		{"half basic", `{"base_url":"https://jira.example.com","project_key":"NOC","auth":{"email":"a@b.c"}}`, "auth needs"},
		{"unknown field", `{"base_url":"https://jira.example.com","project_key":"NOC","auth":{"token":"abcd"},"projet":"x"}`, "unknown field"},
		{"bad zone", `{"base_url":"https://jira.example.com","project_key":"NOC","auth":{"token":"abcd"},"jql_time_zone":"Mars/Olympus"}`, "jql_time_zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := jira.New(jira.Options{}).Configure(context.Background(), []byte(tt.config))
			if !errors.Is(err, plugins.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Configure = %v; want ErrInvalid containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "abcd") {
				t.Fatalf("error shows the token: %v", err)
			}
		})
	}
	s := jira.New(jira.Options{})
	if err := s.Configure(context.Background(), nil); err != nil {
		t.Fatalf("Configure(nil): %v", err)
	}
	if _, err := s.Push(context.Background(), ticket()); !errors.Is(err, plugins.ErrInvalid) || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("unconfigured Push: %v", err)
	}
	info, _ := s.Info(context.Background())
	if err := plugins.CheckInfo(info); err != nil || info.Kind != plugins.KindTicketSink {
		t.Fatalf("Info %+v: %v", info, err)
	}
}

func TestPullTimeZone(t *testing.T) {
	e := newEnv(t, map[string]any{"jql_time_zone": "Asia/Shanghai"})
	if _, err := e.sink.Pull(ctx(t), time.Date(2025, 3, 1, 9, 0, 59, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	reqs, _ := e.fake.Requests()
	if !strings.Contains(reqs[len(reqs)-1], "updated+%3E%3D+%222025%2F03%2F01+17%3A00%22") {
		t.Fatalf("search %q: want since in Asia/Shanghai, rounded down to the minute", reqs[len(reqs)-1])
	}
}
