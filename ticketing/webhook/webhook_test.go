package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/sqlite"
)

var msg = ticketing.OutboxMessage{
	ID: 7, TicketID: "NOC-000042", EventSeq: 3, EventID: "NOC-000042:3", Kind: ticketing.KindResolved,
	Channel: "webhook", Payload: []byte(`{"event":"resolved","event_id":"NOC-000042:3"}`),
}

func TestSendPostsPayloadWithIdempotencyKey(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	s, err := New(srv.URL+"/itsm/hook", Options{Headers: map[string]string{"Authorization": "Bearer s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/itsm/hook" {
		t.Errorf("request %s %s", got.Method, got.URL.Path)
	}
	for k, want := range map[string]string{
		"Idempotency-Key": "NOC-000042:3",
		"Content-Type":    "application/json",
		"Authorization":   "Bearer s3cret",
	} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	if string(body) != string(msg.Payload) {
		t.Errorf("body = %s, want the stored payload", body)
	}
}

func TestSendFailuresNameStatusNotSecrets(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"503", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		}, "status 503: maintenance"},
		{"redirect is not success", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNotModified)
		}, "status 304"},
		{"400", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, strings.Repeat("x", 10000), http.StatusBadRequest)
		}, "status 400"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			s, err := New(srv.URL+"/hook?token=s3cret", Options{Headers: map[string]string{"X-Token": "s3cret"}})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), msg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") || len(err.Error()) > 512 {
				t.Errorf("err leaks the token or is unbounded: %.200q", err)
			}
		})
	}
}

// Tokens a receiver's URL carries, and where.
const (
	pathToken  = "T0KEN-in-path-8f3a"
	queryToken = "q-s3cret-77c1"
	password   = "pa55-w0rd-xyz"
)

// checkScrubbed fails when msg shows more of the webhook URL than its
// scheme and host, or does not name them.
func checkScrubbed(t *testing.T, msg, where string) {
	t.Helper()
	if !strings.Contains(msg, where) {
		t.Errorf("%q does not name the endpoint %s", msg, where)
	}
	basic := base64.StdEncoding.EncodeToString([]byte("bot:" + password))
	for _, secret := range []string{pathToken, queryToken, password, basic, "/hooks", "token=", pathToken[:6], queryToken[:6]} {
		if strings.Contains(msg, secret) {
			t.Errorf("%q shows %q of the URL", msg, secret)
		}
	}
}

func TestSendShowsSchemeAndHostOnly(t *testing.T) {
	echo := func(status, pad int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, strings.Repeat(" ", pad)+"no route for "+r.URL.RequestURI()+" (user "+r.Header.Get("Authorization")+")")
		}
	}
	tests := []struct {
		name    string
		handler http.Handler
		closed  bool
		want    string
	}{
		{"404 echoing the URL", echo(http.StatusNotFound, 0), false, "status 404: no route for [redacted]"},
		{"echo straddling the read limit", echo(http.StatusBadGateway, excerptRead-len("no route for /hooks/")-3), false, "status 502"},
		{"redirect to an echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/next" {
				echo(http.StatusGone, 0)(w, r)
				return
			}
			http.Redirect(w, r, "/next?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
		}), false, "status 410"},
		{"network error", http.NotFoundHandler(), true, "connect"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			for _, raw := range []string{
				srv.URL + "/hooks/" + pathToken + "?token=" + queryToken,
				"http://bot:" + password + "@" + host + "/hooks/" + pathToken,
			} {
				if tc.closed {
					srv.Close()
				}
				s, err := New(raw, Options{Client: &http.Client{Timeout: 2 * time.Second}})
				if err != nil {
					t.Fatal(err)
				}
				err = s.Send(context.Background(), msg)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				checkScrubbed(t, err.Error(), "http://"+host)
			}
		})
	}
}

// TestOutboxKeepsNoURLToken: what the dispatcher logs and stores in the
// outbox's last_error for a failed webhook delivery names the scheme and
// host, never the path or query.
func TestOutboxKeepsNoURLToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unknown hook "+r.URL.RequestURI(), http.StatusNotFound)
	}))
	defer srv.Close()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tickets.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := ticketing.New(store, ticketing.Options{Logger: logger, Channels: []string{"webhook"}})
	if err != nil {
		t.Fatal(err)
	}
	sig := ticketing.Signal{Fingerprint: "fp-1", Rule: "down", Firing: true, Category: "availability", Priority: "P2",
		Summary: "core-01 unreachable", Device: ticketing.DeviceContext{Name: "core-01", Customer: "acme"}, At: time.Now()}
	if _, _, err := svc.Ingest(ctx, sig); err != nil {
		t.Fatal(err)
	}
	s, err := New(srv.URL+"/hooks/"+pathToken+"?token="+queryToken, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := ticketing.NewDispatcher(store, map[string]ticketing.Sender{"webhook": s}, ticketing.DispatcherOptions{Logger: logger})
	if _, err := d.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	// A 404 is the receiver's final word: a dead letter, not a retry.
	if due, _ := store.DueOutbox(ctx, time.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("%d messages still due after a 404, want a dead letter", len(due))
	}
	due, err := store.DeadOutbox(ctx, 10)
	if err != nil || len(due) == 0 {
		t.Fatalf("dead letters after a 404: %d messages, %v", len(due), err)
	}
	for _, m := range due {
		if !strings.Contains(m.LastError, "status 404") {
			t.Errorf("last_error = %q, want the 404", m.LastError)
		}
		checkScrubbed(t, m.LastError, srv.URL)
	}
	if !strings.Contains(logs.String(), "dead letter") {
		t.Fatalf("no failure logged:\n%s", logs.String())
	}
	checkScrubbed(t, logs.String(), srv.URL)
}

func TestSendHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s, _ := New(srv.URL, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Send(ctx, msg); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x/y", "/relative", "http://", "http://%zz"} {
		_, err := New(u, Options{})
		if ticketing.ErrorCode(err) != ticketing.EINVALID {
			t.Errorf("New(%q) err = %v, want EINVALID", u, err)
		}
	}
}
