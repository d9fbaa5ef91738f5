// Package plugins holds the contracts between nocagent and its plugins:
// remediators that act on tickets and inspectors that run scheduled contract
// inspections. Every kind embeds Base, so the host learns a plugin's name,
// kind and version before it configures it. Every method takes a context and
// returns an error: a plugin runs out of process and may hang or fail.
//
// The host side (go-plugin, restarts, policy and approvals) arrives with the
// plugins issue; these types are the contract it will serve.
package plugins

import "context"

// Info is what a plugin says about itself.
type Info struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"` // remediator | inspector | ticket_sink
	Version string `json:"version"`
	// ConfigSchema is a JSON Schema of the configuration Configure accepts.
	ConfigSchema []byte `json:"config_schema,omitempty"`
}

// Base is embedded by every plugin kind.
type Base interface {
	Info(ctx context.Context) (Info, error)
	Configure(ctx context.Context, config []byte) error
}
