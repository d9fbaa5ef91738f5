package ticketing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzConfirmToken: a confirmation token is accepted only in the one
// spelling the service issues for its claim, and every refusal is a
// not-found or gone that shows no secret.
func FuzzConfirmToken(f *testing.F) {
	const secret = "s3cret-for-links"
	s := &Service{confirmSecret: []byte(secret), confirmTTL: DefaultConfirmTTL}
	issued := time.Date(2025, 3, 10, 10, 0, 0, 0, time.UTC)
	now := issued.Add(time.Hour)
	tok, _ := s.confirmToken("NOC-000042", 0, issued)
	f.Add(tok)
	tok3, _ := s.confirmToken("NOC-000042", 3, issued)
	f.Add(tok3)
	f.Add(tok + ".x")
	f.Add(strings.Replace(tok3, ".3.", ".03.", 1))
	f.Add("Tk9DLTAwMDA0Mg.1.99999999999.AAAA")
	f.Add("...")
	legacy := func(id string, exp int64) string {
		m := hmac.New(sha256.New, []byte(secret))
		fmt.Fprintf(m, "%s\x00%s\x00%d", legacyConfirmDomain, id, exp)
		enc := base64.RawURLEncoding
		return enc.EncodeToString([]byte(id)) + "." + strconv.FormatInt(exp, 10) + "." + enc.EncodeToString(m.Sum(nil))
	}
	f.Add(legacy("NOC-000042", issued.Add(DefaultConfirmTTL).Unix()))
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.checkConfirmToken(token, now)
		if err != nil {
			if code := ErrorCode(err); code != ENOTFOUND && code != EGONE {
				t.Fatalf("refused with %s: %v", code, err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error shows the secret: %v", err)
			}
			return
		}
		canon, _ := s.confirmToken(c.id, c.cycle, c.expires.Add(-s.confirmTTL))
		if token != canon && !(c.cycle == 0 && token == legacy(c.id, c.expires.Unix())) {
			t.Fatalf("accepted %q, which is not the issued spelling %q of its claim %+v", token, canon, c)
		}
		if !now.Before(c.expires) {
			t.Fatalf("accepted an expired token: %+v", c)
		}
	})
}
