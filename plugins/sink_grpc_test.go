package plugins_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/nocagent/nocagent/plugins"
)

// fakeSink is a TicketSink whose answers each test sets; it records what
// reached it.
type fakeSink struct {
	info plugins.Info
	push func(ctx context.Context, t plugins.SinkTicket) (string, error)
	pull func(ctx context.Context, since time.Time) ([]plugins.SinkChange, error)

	mu     sync.Mutex
	config []byte
	pushed []plugins.SinkTicket
	sinces []time.Time
}

func newFakeSink(name string) *fakeSink {
	return &fakeSink{
		info: plugins.Info{Name: name, Kind: plugins.KindTicketSink, Version: "2.0.1", APIVersions: []int{1}, ConfigSchema: []byte(`{"type":"object"}`)},
		push: func(_ context.Context, t plugins.SinkTicket) (string, error) { return "ITSM-" + t.ID, nil },
		pull: func(_ context.Context, since time.Time) ([]plugins.SinkChange, error) {
			return []plugins.SinkChange{
				{TicketID: "T-1", ExternalID: "ITSM-T-1", State: "in_progress", Note: "taken", Actor: "Li Wei", At: since.Add(time.Minute)},
				{TicketID: "T-2", ExternalID: "ITSM-T-2", Note: "moved to Pending", Actor: "Zhang Min", At: since.Add(2 * time.Minute)},
			}, nil
		},
	}
}

func (f *fakeSink) Info(context.Context) (plugins.Info, error) { return f.info, nil }
func (f *fakeSink) Configure(_ context.Context, c []byte) error {
	f.mu.Lock()
	f.config = c
	f.mu.Unlock()
	return nil
}
func (f *fakeSink) Push(ctx context.Context, t plugins.SinkTicket) (string, error) {
	f.mu.Lock()
	f.pushed = append(f.pushed, t)
	push := f.push
	f.mu.Unlock()
	return push(ctx, t)
}
func (f *fakeSink) Pull(ctx context.Context, since time.Time) ([]plugins.SinkChange, error) {
	f.mu.Lock()
	f.sinces = append(f.sinces, since)
	pull := f.pull
	f.mu.Unlock()
	return pull(ctx, since)
}

func (f *fakeSink) set(push func(context.Context, plugins.SinkTicket) (string, error), pull func(context.Context, time.Time) ([]plugins.SinkChange, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if push != nil {
		f.push = push
	}
	if pull != nil {
		f.pull = pull
	}
}

var sinkTicket = plugins.SinkTicket{
	ID: "T-42", ExternalID: "ITSM-7", Title: "Link down on acme-acc-1 Gi1/0/7", Description: "went down at 09:58",
	Priority: "P2", Category: "link", State: "acknowledged", Customer: "acme", Contract: "ACME-2025", Site: "Shanghai-1",
	Device: "acme-acc-1", Model: "C9300-48P", Serial: "FOC1234X0AB",
	UpdatedAt: time.Date(2025, 3, 1, 9, 58, 0, 123456789, time.FixedZone("CST", 8*3600)),
}

// sinkConn serves impl over an in-memory go-plugin gRPC connection.
func sinkConn(t *testing.T, impl plugins.Base) *plugins.TicketSinkGRPCClient {
	t.Helper()
	client, server := goplugin.TestPluginGRPCConn(t, false, plugins.PluginSet(impl))
	t.Cleanup(func() {
		// Stop first: closing the client first makes go-plugin stop the
		// server from its Shutdown RPC as well, and its Stop races itself.
		server.Stop()
		client.Close()
	})
	raw, err := client.Dispense("nocagent")
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*plugins.GRPCClient).TicketSink()
}

func TestGRPCTicketSinkRoundTrip(t *testing.T) {
	fake := newFakeSink("fake-itsm")
	sink := sinkConn(t, fake)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	info, err := sink.Info(ctx)
	if err != nil || !reflect.DeepEqual(info, fake.info) {
		t.Errorf("Info = %+v, %v; want %+v", info, err, fake.info)
	}
	if err := sink.Configure(ctx, []byte(`{"url":"x"}`)); err != nil || string(fake.config) != `{"url":"x"}` {
		t.Errorf("Configure: err %v, plugin got %q", err, fake.config)
	}

	tests := []struct {
		name   string
		ticket plugins.SinkTicket
	}{
		{"every field", sinkTicket},
		{"new ticket, no time", plugins.SinkTicket{ID: "T-43", Title: "CPU high", Priority: "P3", State: "new"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, err := sink.Push(ctx, tc.ticket)
			if err != nil || key != "ITSM-"+tc.ticket.ID {
				t.Fatalf("Push = %q, %v", key, err)
			}
			fake.mu.Lock()
			got := fake.pushed[len(fake.pushed)-1]
			fake.mu.Unlock()
			if !got.UpdatedAt.Equal(tc.ticket.UpdatedAt) || got.UpdatedAt.IsZero() != tc.ticket.UpdatedAt.IsZero() {
				t.Errorf("updated_at %v reached the plugin, want %v", got.UpdatedAt, tc.ticket.UpdatedAt)
			}
			want := tc.ticket
			got.UpdatedAt, want.UpdatedAt = time.Time{}, time.Time{}
			if got != want {
				t.Errorf("plugin got %+v\nwant %+v", got, want)
			}
		})
	}

	for _, since := range []time.Time{{}, time.Date(2025, 3, 1, 10, 0, 0, 5, time.UTC)} {
		changes, err := sink.Pull(ctx, since)
		if err != nil {
			t.Fatalf("Pull(%v): %v", since, err)
		}
		fake.mu.Lock()
		gotSince := fake.sinces[len(fake.sinces)-1]
		fake.mu.Unlock()
		if !gotSince.Equal(since) || gotSince.IsZero() != since.IsZero() {
			t.Errorf("plugin got since %v, want %v", gotSince, since)
		}
		want, _ := newFakeSink("x").pull(ctx, since)
		if len(changes) != len(want) {
			t.Fatalf("Pull = %+v, want %+v", changes, want)
		}
		for i := range want {
			if !changes[i].At.Equal(want[i].At) {
				t.Errorf("change %d at %v, want %v", i, changes[i].At, want[i].At)
			}
			changes[i].At, want[i].At = time.Time{}, time.Time{}
			if changes[i] != want[i] {
				t.Errorf("change %d = %+v, want %+v", i, changes[i], want[i])
			}
		}
	}
}

// TestGRPCTicketSinkErrors: refusals and invalid requests keep their type
// across gRPC, and the key of an issue a failed Push created comes back
// with the error.
func TestGRPCTicketSinkErrors(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		err     error
		wantIs  error
		wantMsg string
	}{
		{"refused", "", fmt.Errorf("%w: project NOC is archived", plugins.ErrRefused), plugins.ErrRefused, "refused: project NOC is archived"},
		{"invalid", "", fmt.Errorf("%w: priority P9 has no Jira priority", plugins.ErrInvalid), plugins.ErrInvalid, "invalid request: priority P9"},
		{"ordinary", "", errors.New("jira POST /rest/api/2/issue: answered 502"), nil, "answered 502"},
		{"created, then failed", "NOC-9", errors.New(`state closed maps to status "Closed", but the workflow offers no transition`), nil, "offers no transition"},
		{"created, then refused", "NOC-10", fmt.Errorf("%w: transition needs a resolution", plugins.ErrRefused), plugins.ErrRefused, "needs a resolution"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeSink("fake-itsm")
			fake.set(func(context.Context, plugins.SinkTicket) (string, error) { return tc.key, tc.err },
				func(context.Context, time.Time) ([]plugins.SinkChange, error) { return nil, tc.err })
			sink := sinkConn(t, fake)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			key, pushErr := sink.Push(ctx, sinkTicket)
			if key != tc.key {
				t.Errorf("Push key = %q, want %q", key, tc.key)
			}
			_, pullErr := sink.Pull(ctx, time.Time{})
			for what, err := range map[string]error{"Push": pushErr, "Pull": pullErr} {
				if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
					t.Fatalf("%s error = %v, want one containing %q", what, err, tc.wantMsg)
				}
				for _, sentinel := range []error{plugins.ErrRefused, plugins.ErrInvalid} {
					if got := errors.Is(err, sentinel); got != (sentinel == tc.wantIs) {
						t.Errorf("%s: errors.Is(%v, %v) = %v", what, err, sentinel, got)
					}
				}
			}
		})
	}
}

// TestGRPCTicketSinkUnimplemented: a plugin that says it is a sink but
// does not serve the service fails its calls with a transport error, which
// the host treats as a crash.
func TestGRPCTicketSinkUnimplemented(t *testing.T) {
	sink := sinkConn(t, newFake("not-a-sink"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := sink.Push(ctx, sinkTicket); err == nil || !strings.Contains(err.Error(), "Unimplemented") {
		t.Errorf("Push on a remediator = %v, want Unimplemented", err)
	}
}
