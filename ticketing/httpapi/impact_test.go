package httpapi

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/nocagent/nocagent/ticketing"
)

// impactJSON is how impacted devices look on the wire.
type impactJSON struct {
	ID              string `json:"id"`
	ImpactedDevices []struct {
		Name, Serial, Customer string
		Recovered              bool
	} `json:"impacted_devices"`
	ImpactedCustomers []string `json:"impacted_customers"`
}

func TestAPIShowsImpactedDevices(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	root, _, err := s.svc.Ingest(ctx, ticketing.Signal{
		Fingerprint: "unreachable:core-01", Rule: "device_unreachable", Firing: true, Category: "availability",
		Priority: "P1", Summary: "core-01 unreachable", At: s.clk.Now(),
		Device: ticketing.DeviceContext{Name: "core-01", Customer: "acme"},
		Impacted: []ticketing.ImpactedDevice{
			{Name: "sw-2", Serial: "S2", Customer: "globex"}, {Name: "sw-1", Serial: "S1", Customer: "acme"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := s.svc.Ingest(ctx, ticketing.Signal{
		Fingerprint: "if:edge-01:1", Rule: "if_down", Firing: true, Category: "link", Priority: "P3",
		Summary: "Gi0/1 down", At: s.clk.Now(), Device: ticketing.DeviceContext{Name: "edge-01", Customer: "acme"},
	})
	if err != nil {
		t.Fatal(err)
	}

	var got impactJSON
	if code, eb := s.call("engineer:alice", "GET", "/api/v1/tickets/"+root.ID, "", &got); code != 200 {
		t.Fatalf("get: %d %+v", code, eb)
	}
	if len(got.ImpactedDevices) != 2 || got.ImpactedDevices[0].Name != "sw-1" || got.ImpactedDevices[0].Serial != "S1" ||
		got.ImpactedDevices[1].Customer != "globex" || got.ImpactedDevices[1].Recovered {
		t.Errorf("impacted_devices = %+v", got.ImpactedDevices)
	}
	if len(got.ImpactedCustomers) != 2 || got.ImpactedCustomers[0] != "acme" || got.ImpactedCustomers[1] != "globex" {
		t.Errorf("impacted_customers = %v", got.ImpactedCustomers)
	}

	// Lists carry the field too, as a list even when empty.
	var raw struct {
		Tickets []map[string]json.RawMessage `json:"tickets"`
	}
	if code, eb := s.call("engineer:alice", "GET", "/api/v1/tickets", "", &raw); code != 200 || len(raw.Tickets) != 2 {
		t.Fatalf("list: %d %+v, %d tickets", code, eb, len(raw.Tickets))
	}
	for _, tk := range raw.Tickets {
		var id string
		_ = json.Unmarshal(tk["id"], &id)
		want := "[]"
		if id == root.ID {
			want = ""
		}
		if v, ok := tk["impacted_devices"]; !ok || (want != "" && string(v) != want) || string(v) == "null" {
			t.Errorf("ticket %s impacted_devices = %s (present %v)", id, v, ok)
		}
	}

	// globex's device is cut off behind acme's core: globex sees that
	// ticket, but not acme's own plain one.
	var list ListResponse
	if code, _ := s.call("customer:globex", "GET", "/api/v1/tickets", "", &list); code != 200 || list.Count != 1 || list.Tickets[0].ID != root.ID {
		t.Errorf("globex list = %d %+v", code, list)
	}
	if code, _ := s.call("customer:globex", "GET", "/api/v1/tickets/"+root.ID, "", &got); code != 200 {
		t.Errorf("globex get root = %d", code)
	}
	if code, _ := s.call("customer:globex", "GET", "/api/v1/tickets/"+plain.ID, "", nil); code != 404 {
		t.Errorf("globex get acme's own ticket = %d, want 404", code)
	}
}
