package ticketing

import (
	"testing"
	"time"
)

func TestMergedSpans(t *testing.T) {
	t0 := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	for _, c := range []struct {
		name string
		in   []span
		want time.Duration
	}{
		{"none", nil, 0},
		{"one", []span{{h(1), h(3)}}, 2 * time.Hour},
		{"disjoint", []span{{h(5), h(6)}, {h(1), h(3)}}, 3 * time.Hour},
		{"overlapping", []span{{h(1), h(3)}, {h(2), h(4)}}, 3 * time.Hour},
		{"touching", []span{{h(1), h(2)}, {h(2), h(3)}}, 2 * time.Hour},
		{"contained", []span{{h(1), h(9)}, {h(2), h(3)}, {h(4), h(5)}}, 8 * time.Hour},
	} {
		if got := merged(c.in); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// A fault that returns within the reopen window is a second outage on the
// same ticket; a person's reopening is not an outage.
func TestOutagesReplayReopens(t *testing.T) {
	t0 := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	tk := Ticket{Timeline: []Event{
		{At: h(1), Actor: ActorMonitoring, Kind: KindOpened},
		{At: h(2), Actor: ActorMonitoring, Kind: KindResolved},
		{At: h(3), Actor: ActorMonitoring, Kind: KindReopened},
		{At: h(5), Actor: ActorMonitoring, Kind: KindResolved},
		{At: h(6), Actor: "customer:acme", Kind: KindReopened},
		{At: h(7), Actor: "alice", Kind: KindResolved},
	}}
	got := outages(tk, h(10))
	want := []span{{h(1), h(2)}, {h(3), h(5)}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("outages = %v, want %v", got, want)
	}
	// Still down: until now.
	open := Ticket{Timeline: []Event{{At: h(1), Actor: ActorMonitoring, Kind: KindOpened}}}
	if got := outages(open, h(4)); len(got) != 1 || got[0] != (span{h(1), h(4)}) {
		t.Errorf("open outage = %v", got)
	}
}
