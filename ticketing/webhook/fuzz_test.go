package webhook

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVerify: a receiver's check accepts only the signature Sign made over
// the same secret, timestamp and body, within the tolerance, and never
// panics on what an attacker sends.
func FuzzVerify(f *testing.F) {
	now := time.Date(2026, 3, 2, 1, 14, 5, 0, time.UTC)
	ts := strconv.FormatInt(now.Unix(), 10)
	secret := []byte("whsec-0123456789")
	body := []byte(`{"event":"resolved"}`)
	f.Add(ts, Sign(secret, ts, body), body)
	f.Add(ts, "sha256=", body)
	f.Add("-9223372036854775808", Sign(secret, "-9223372036854775808", body), body)
	f.Add("9223372036854775807", "", []byte{})
	f.Add(" 1772414045", Sign(secret, " 1772414045", body), body)
	f.Fuzz(func(t *testing.T, timestamp, signature string, b []byte) {
		err := Verify(secret, timestamp, signature, b, now, 5*time.Minute)
		genuine := signature == Sign(secret, timestamp, b)
		if err == nil && !genuine {
			t.Fatalf("accepted a signature Sign did not make: ts %q sig %q", timestamp, signature)
		}
		ts, perr := strconv.ParseInt(timestamp, 10, 64)
		fresh := perr == nil && now.Sub(time.Unix(ts, 0)) <= 5*time.Minute && time.Unix(ts, 0).Sub(now) <= 5*time.Minute
		if err == nil && !fresh {
			t.Fatalf("accepted timestamp %q outside the tolerance", timestamp)
		}
		if genuine && fresh && err != nil {
			t.Fatalf("refused a genuine, fresh signature: %v", err)
		}
		if err != nil && len(secret) > 0 && strings.Contains(err.Error(), string(secret)) {
			t.Fatalf("error shows the secret: %v", err)
		}
	})
}
