package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/nocagent/nocagent/ticketing"
)

// FuzzDecodeActionInput: the body of POST /api/v1/tickets/{id}/{action}
// is taken only when it is one valid JSON object of known fields (or
// empty); anything else is a named 400, never a panic, and what is taken
// survives a round trip unchanged.
func FuzzDecodeActionInput(f *testing.F) {
	for _, s := range []string{
		``, ` `, `{}`, `null`, `{"note":"hi"}`, `{"cause":"optic","solution":"replaced"}`,
		`{"mode":"on_site","appointment_at":"2025-03-10T14:00:00+08:00"}`, `{"arrived_at":"yesterday"}`,
		`{"bogus":1}`, `{"note":1}`, `{} {}`, `{}]`, `{}}`, `[]`, `"x"`, `{"note":"\u2028"}`, `{"note":"a","note":"b"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in ticketing.ActionInput
		err := decode(httptest.NewRequest("POST", "/api/v1/tickets/NOC-000001/note", bytes.NewReader(body)), &in)
		if err != nil {
			if ticketing.ErrorCode(err) != ticketing.EINVALID || ticketing.ErrorMessage(err) == "" {
				t.Fatalf("refused %q with %v, want a named invalid-input error", body, err)
			}
			return
		}
		if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
			t.Fatalf("accepted %q, which is not valid JSON", body)
		}
		again, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var back ticketing.ActionInput
		if err := decode(httptest.NewRequest("POST", "/", bytes.NewReader(again)), &back); err != nil {
			t.Fatalf("what was accepted does not decode again: %s: %v", again, err)
		}
		if twice, _ := json.Marshal(back); !bytes.Equal(twice, again) {
			t.Fatalf("round trip changed the input: %s -> %s", again, twice)
		}
	})
}
