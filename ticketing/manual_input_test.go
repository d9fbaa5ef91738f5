package ticketing_test

import (
	"strings"
	"testing"

	"github.com/nocagent/nocagent/ticketing"
)

// With the configuration's customers and categories, a manual ticket names
// a known customer, only that customer's contract, and a known category.
func TestManualInputCheckedAgainstConfiguration(t *testing.T) {
	e := &env{clk: newClock(), path: tempDB(t)}
	e.store = openStore(t, e.path)
	svc, err := ticketing.New(e.store, ticketing.Options{Now: e.clk.Now, Logger: quietLogger(),
		Categories: []string{"link", "hardware"},
		Customers: func(id string) (string, bool) {
			c, ok := map[string]string{"acme": "ACME-2026-001", "globex": "GLX-2026-007"}[id]
			return c, ok
		}})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	tests := []struct {
		name string
		who  ticketing.Actor
		edit func(*ticketing.ManualInput)
		want string // error text; "" for success
	}{
		{"own contract", acme, func(in *ticketing.ManualInput) { in.Contract = "ACME-2026-001" }, ""},
		{"another customer's contract", acme, func(in *ticketing.ManualInput) { in.Contract = "GLX-2026-007" }, `"contract"`},
		{"unknown customer", manager, func(in *ticketing.ManualInput) { in.Customer, in.Device = "initech", "" }, `"customer"`},
		{"made-up category", acme, func(in *ticketing.ManualInput) { in.Category = "category-0042" }, `"category"`},
		{"huge category", acme, func(in *ticketing.ManualInput) { in.Category = strings.Repeat("x", 50_000) }, `"category"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := manualInput()
			tt.edit(&in)
			_, err := e.svc.CreateManual(ctxBg, tt.who, in)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("CreateManual: %v", err)
			case tt.want != "" && (ticketing.ErrorCode(err) != ticketing.EINVALID || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("CreateManual: %v, want an invalid %s", err, tt.want)
			case tt.want != "" && len(err.Error()) > 300:
				t.Errorf("error repeats the input: %d bytes", len(err.Error()))
			}
		})
	}
}
