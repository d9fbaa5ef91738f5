package ticketing_test

import (
	"context"
	"testing"

	"github.com/nocagent/nocagent/ticketing"
)

func TestRecordAppendsWithoutStateChange(t *testing.T) {
	e := newEnv(t)
	tk, _ := e.ingest(t, firing(e.clk, "fp-rec", "sw1", "link", "P3", "Gi1/0/5 down"))
	if err := e.svc.Record(context.Background(), tk.ID, "plugin:snmp-bounce", ticketing.KindRemediation, "planned bounce-interface on sw1"); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Get(context.Background(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := got.Timeline[len(got.Timeline)-1]
	if got.State != tk.State || last.Kind != ticketing.KindRemediation || last.Actor != "plugin:snmp-bounce" || last.Note != "planned bounce-interface on sw1" {
		t.Errorf("state %s (was %s), last event %+v", got.State, tk.State, last)
	}
	if err := e.svc.Record(context.Background(), tk.ID, "", ticketing.KindRemediation, "x"); ticketing.ErrorCode(err) != ticketing.EINVALID {
		t.Errorf("empty actor: %v", err)
	}
	if err := e.svc.Record(context.Background(), "NOC-999999", "a", ticketing.KindRemediation, "x"); ticketing.ErrorCode(err) != ticketing.ENOTFOUND {
		t.Errorf("unknown ticket: %v", err)
	}
}
