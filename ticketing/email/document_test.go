package email

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestSendDocument(t *testing.T) {
	mb := startMailbox(t, serverOpts{})
	s, err := New(baseConfig(mb.Addr), Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	err = s.SendDocument(context.Background(), "insp-ACME-1", []string{"it@acme.example"},
		"Inspection report ACME 巡检报告", "see the HTML part", "<h1>Inspection</h1><p>FCW2233A0AB</p>", at)
	if err != nil {
		t.Fatal(err)
	}
	got := mb.received()
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != "it@acme.example" {
		t.Fatalf("received %+v", got)
	}
	data := string(got[0].Data)
	for _, want := range []string{"Message-ID: <insp-ACME-1", "text/html", "X-Nocagent-Event-Id: insp-ACME-1", "=?utf-8?"} {
		if !strings.Contains(data, want) {
			t.Errorf("message lacks %q:\n%s", want, data)
		}
	}
	if err := s.SendDocument(context.Background(), "x", nil, "s", "t", "h", at); err == nil {
		t.Error("no recipients accepted")
	}
}
