package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
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

func TestSendNetworkErrorHidesURLQuery(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/hook?token=s3cret"
	srv.Close()
	s, err := New(url, Options{Client: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), msg)
	if err == nil {
		t.Fatal("send to a closed server succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "/hook") {
		t.Errorf("err = %v: want the endpoint named without its query", err)
	}
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
