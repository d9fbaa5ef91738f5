package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSignedRequestVerifies(t *testing.T) {
	secret := []byte("whsec-0123456789")
	sent := time.Date(2026, 3, 2, 1, 14, 5, 0, time.UTC)
	var ts, sig string
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts, sig = r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature)
		body, _ = io.ReadAll(r.Body)
	}))
	defer srv.Close()
	s, err := New(srv.URL, Options{Secret: secret, Now: func() time.Time { return sent }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if ts != "1772414045" {
		t.Errorf("timestamp = %q, want the Unix time of sending", ts)
	}
	// Computed independently of Sign: HMAC-SHA256 over "timestamp.body".
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "." + string(msg.Payload)))
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); sig != want {
		t.Errorf("signature = %q, want %q", sig, want)
	}
	tests := []struct {
		name    string
		secret  []byte
		ts      string
		body    []byte
		now     time.Time
		wantErr string
	}{
		{"genuine", secret, ts, body, sent.Add(time.Minute), ""},
		{"other secret", []byte("whsec-other"), ts, body, sent, "mismatch"},
		{"body altered", secret, ts, []byte(strings.Replace(string(body), "resolved", "closed", 1)), sent, "mismatch"},
		{"timestamp altered", secret, "1772414046", body, sent, "mismatch"},
		{"replayed later", secret, ts, body, sent.Add(10 * time.Minute), "away from now"},
		{"bad timestamp", secret, "yesterday", body, sent, "bad X-Nocagent-Timestamp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.ts, sig, tc.body, tc.now, 5*time.Minute)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Verify = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestUnsignedWithoutSecret(t *testing.T) {
	var h http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { h = r.Header.Clone() }))
	defer srv.Close()
	s, _ := New(srv.URL, Options{})
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if h.Get(HeaderSignature) != "" || h.Get(HeaderTimestamp) != "" {
		t.Errorf("signed without a secret: %v", h)
	}
}

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	good, empty := filepath.Join(dir, "secret"), filepath.Join(dir, "empty")
	_ = os.WriteFile(good, []byte("whsec-abc\n"), 0o600)
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	if b, err := ReadSecret(good); err != nil || string(b) != "whsec-abc" {
		t.Errorf("ReadSecret = %q, %v", b, err)
	}
	for _, p := range []string{empty, filepath.Join(dir, "missing")} {
		if _, err := ReadSecret(p); err == nil {
			t.Errorf("ReadSecret(%s) accepted", p)
		}
	}
}
