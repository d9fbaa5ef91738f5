// Command hello-inspector is the example external plugin: an Inspector
// served over go-plugin that greets each device and flags one that
// rebooted recently. Build it into the host's plugin directory:
//
//	go build -o /var/lib/nocagent/plugins/hello-inspector ./plugins/examples/hello-inspector
//
// Running it by hand prints go-plugin's "not meant to be executed
// directly" notice: only the host starts it.
//
// HELLO_INSPECTOR_MODE makes it misbehave, for the host's tests: crash
// (exits during Inspect), hang (never answers Inspect), garbage (answers
// Inspect with a finding that breaks the contract), echo-secret (puts the
// secret it was given in its log and its error), api-version (reports an
// API version the host does not speak), protocol-version (handshakes with
// the wrong go-plugin protocol version), not-a-plugin (prints a line and
// exits). With HELLO_INSPECTOR_ONCE=FILE the crash, hang and garbage modes
// apply once, while FILE exists (it is removed first), so a restarted
// plugin behaves.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/nocagent/nocagent/plugins"
)

const version = "0.1.0"

type config struct {
	Greeting string `json:"greeting"`
	// MinUptimeSeconds below which a device counts as recently rebooted.
	MinUptimeSeconds float64 `json:"min_uptime_seconds"`
}

type inspector struct {
	mode string
	cfg  config
}

func (i *inspector) Info(context.Context) (plugins.Info, error) {
	api := []int{plugins.APIVersion}
	if i.mode == "api-version" {
		api = []int{plugins.APIVersion + 98}
	}
	return plugins.Info{
		Name: "hello-inspector", Kind: plugins.KindInspector, Version: version, APIVersions: api,
		ConfigSchema: []byte(`{"type":"object","properties":{"greeting":{"type":"string"},"min_uptime_seconds":{"type":"number","minimum":0}},"additionalProperties":false}`),
	}, nil
}

func (i *inspector) Configure(_ context.Context, raw []byte) error {
	i.cfg = config{Greeting: "hello", MinUptimeSeconds: 86400}
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&i.cfg); err != nil {
		return fmt.Errorf("%w: hello-inspector config: %v", plugins.ErrInvalid, err)
	}
	return nil
}

// snapshot is the part of the collector's snapshot this plugin reads.
type snapshot struct {
	UptimeSeconds *float64 `json:"uptime_seconds"`
}

func (i *inspector) Inspect(ctx context.Context, req plugins.InspectRequest) ([]plugins.Finding, error) {
	if (i.mode == "crash" || i.mode == "hang" || i.mode == "garbage") && i.misbehaveNow() {
		switch i.mode {
		case "crash":
			fmt.Fprintln(os.Stderr, "hello-inspector: crashing on purpose")
			os.Exit(3)
		case "hang":
			<-make(chan struct{}) // never answers, even when the deadline passes
		case "garbage":
			return []plugins.Finding{{Severity: "apocalyptic", Title: ""}}, nil
		}
	}
	if i.mode == "echo-secret" {
		fmt.Fprintf(os.Stderr, "hello-inspector: got community %s\n", req.Secrets["community"])
		return nil, fmt.Errorf("cannot log in to %s with community %s", req.Device.Name, req.Secrets["community"])
	}
	fs := []plugins.Finding{{
		Severity: plugins.SeverityInfo, Category: "inspection",
		Title:    fmt.Sprintf("%s, %s", i.cfg.Greeting, req.Device.Name),
		Evidence: []string{"serial " + req.Device.Serial},
	}}
	var s snapshot
	if len(req.Snapshot) > 0 {
		if err := json.Unmarshal(req.Snapshot, &s); err != nil {
			return nil, fmt.Errorf("%w: device %s: snapshot is not JSON: %v", plugins.ErrInvalid, req.Device.Name, err)
		}
	}
	if s.UptimeSeconds != nil && *s.UptimeSeconds < i.cfg.MinUptimeSeconds {
		fs = append(fs, plugins.Finding{
			Severity: plugins.SeverityWarning, Category: "hardware",
			Title:          "device rebooted recently",
			Evidence:       []string{fmt.Sprintf("uptime %.0f s < %.0f s", *s.UptimeSeconds, i.cfg.MinUptimeSeconds)},
			Recommendation: "check the device log for the cause of the reload",
		})
	}
	return fs, ctx.Err()
}

// misbehaveNow reports whether a crash, hang or garbage mode applies to
// this call.
func (i *inspector) misbehaveNow() bool {
	once := os.Getenv("HELLO_INSPECTOR_ONCE")
	if once == "" {
		return true
	}
	return os.Remove(once) == nil
}

func main() {
	impl := &inspector{mode: os.Getenv("HELLO_INSPECTOR_MODE")}
	switch impl.mode {
	case "not-a-plugin":
		fmt.Println("hello, world")
		return
	case "protocol-version":
		goplugin.Serve(&goplugin.ServeConfig{
			HandshakeConfig:  plugins.HandshakeConfig,
			VersionedPlugins: map[int]goplugin.PluginSet{plugins.APIVersion + 98: plugins.PluginSet(impl)},
			GRPCServer:       goplugin.DefaultGRPCServer,
			Logger:           hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true}),
		})
		return
	}
	plugins.Serve(impl)
}
