// Package plugins holds the contracts between nocagent and its plugins:
// remediators that act on tickets, inspectors that run scheduled contract
// inspections and ticket sinks that mirror tickets into an external ITSM.
// Every kind embeds Base, so the host learns a plugin's name, kind and API
// versions before it configures it. Every method takes a context, which the
// host always gives a deadline, and returns an error: a plugin may run out of
// process and may crash, hang or answer garbage.
//
// Lifecycle of a plugin, as the Host drives it: start (in-process or as a
// go-plugin subprocess), Info (checked: name, kind, API version), Configure
// once, then calls of its kind; after a crash, hang or malformed reply it is
// stopped and started again (Info and Configure again) with backoff.
package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// APIVersion is the version of this contract. A plugin reports the versions
// it speaks in Info.APIVersions; the host refuses one that does not speak
// APIVersion. Bump it (and keep serving the old one where possible) on any
// change to plugin.proto that is not backward compatible.
const APIVersion = 1

// Plugin kinds.
const (
	KindRemediator = "remediator"
	KindInspector  = "inspector"
	KindTicketSink = "ticket_sink"
)

// Errors a plugin returns to say why it will not act; they survive the
// gRPC boundary (FailedPrecondition and InvalidArgument). Test with
// errors.Is.
var (
	// ErrRefused: the request is well formed but the plugin will not do it
	// (an uplink, a protected port, a port that is not admin-up/oper-down).
	ErrRefused = errors.New("refused")
	// ErrInvalid: the request is malformed (unknown action, missing param).
	ErrInvalid = errors.New("invalid request")
)

// Info is what a plugin says about itself.
type Info struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"` // remediator | inspector | ticket_sink
	Version string `json:"version"`
	// APIVersions lists the versions of this contract the plugin speaks.
	APIVersions []int `json:"api_versions"`
	// ConfigSchema is a JSON Schema of the configuration Configure accepts.
	ConfigSchema []byte `json:"config_schema,omitempty"`
}

// Base is embedded by every plugin kind.
type Base interface {
	Info(ctx context.Context) (Info, error)
	// Configure is called once after Info, with the plugin's configuration
	// from the agent config (nil when there is none).
	Configure(ctx context.Context, config []byte) error
}

// Device identifies the device a call is about: who it is and where to
// reach it, never its secrets (those travel in Secrets).
type Device struct {
	Name    string `json:"name"`
	Address string `json:"address"` // host or host:port
	// CredentialRef names the inventory credential the secrets came from,
	// so plans and logs can say which one was used without showing it.
	CredentialRef string `json:"credential_ref,omitempty"`
	Vendor        string `json:"vendor,omitempty"`
	Model         string `json:"model,omitempty"`
	Serial        string `json:"serial,omitempty"`
	Role          string `json:"role,omitempty"`
	Customer      string `json:"customer,omitempty"`
	Site          string `json:"site,omitempty"`
}

// Ticket is the summary of the ticket a remediation is for.
type Ticket struct {
	ID       string `json:"id"`
	Title    string `json:"title,omitempty"`
	Category string `json:"category,omitempty"`
	Severity string `json:"severity,omitempty"`
	Rule     string `json:"rule,omitempty"`
	Summary  string `json:"summary,omitempty"`
}

// Secrets is credential material for one device (SNMP community or v3
// keys, SSH password or key). It formats, logs and marshals as
// "[redacted]", so it cannot leak through %v, slog or JSON by accident; a
// plugin reads it by key.
type Secrets map[string]string

const redacted = "[redacted]"

// String hides the values.
func (Secrets) String() string { return redacted }

// GoString hides the values from %#v.
func (Secrets) GoString() string { return redacted }

// Format hides the values from every fmt verb.
func (Secrets) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue hides the values from slog.
func (Secrets) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON hides the values from encoding/json.
func (Secrets) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// ParamSpec describes one parameter an action accepts.
type ParamSpec struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Required    bool   `json:"required,omitempty"`
}

// ActionSpec is one action a remediator offers.
type ActionSpec struct {
	Name        string      `json:"name"`
	Categories  []string    `json:"categories"` // ticket categories it applies to
	Description string      `json:"description"`
	Params      []ParamSpec `json:"params,omitempty"`
}

// Request asks a remediator to plan one action on one device.
type Request struct {
	Action  string            `json:"action"`
	Device  Device            `json:"device"`
	Ticket  Ticket            `json:"ticket"`
	Params  map[string]string `json:"params,omitempty"`
	Secrets Secrets           `json:"-"`
}

// Risk levels of a plan.
const (
	RiskLow    = "low"
	RiskMedium = "medium"
	RiskHigh   = "high"
)

// Plan is the dry-run description of exactly what Execute would do. It is
// stored with the remediation and shown to the approver; Secrets is filled
// by the host before Execute and Verify and is never stored.
type Plan struct {
	Action  string            `json:"action"`
	Device  Device            `json:"device"`
	Ticket  Ticket            `json:"ticket"`
	Params  map[string]string `json:"params,omitempty"`
	Steps   []string          `json:"steps"`
	Risk    string            `json:"risk"`
	Secrets Secrets           `json:"-"`
}

// Result is what Execute did.
type Result struct {
	OK       bool     `json:"ok"`
	Output   string   `json:"output,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
}

// Verification is whether the executed plan had its effect.
type Verification struct {
	OK       bool     `json:"ok"`
	Evidence []string `json:"evidence,omitempty"`
}

// Remediator offers actions on tickets: Plan is a dry run, Execute acts,
// Verify checks the effect. Plan and Execute return errors wrapping
// ErrRefused or ErrInvalid when they will not act.
type Remediator interface {
	Base
	Actions(ctx context.Context) ([]ActionSpec, error)
	Plan(ctx context.Context, req Request) (Plan, error)
	Execute(ctx context.Context, plan Plan) (Result, error)
	Verify(ctx context.Context, plan Plan) (Verification, error)
}

// InspectRequest is one device of a contract inspection.
type InspectRequest struct {
	Device Device `json:"device"`
	// Snapshot is the device's latest collector snapshot, as JSON.
	Snapshot json.RawMessage `json:"snapshot,omitempty"`
	// History summarises the device since the last inspection (previous
	// findings, neighbours, alert and ticket counts), as JSON.
	History json.RawMessage `json:"history,omitempty"`
	Secrets Secrets         `json:"-"`
}

// Finding severities, lowest first.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityMajor    = "major"
	SeverityCritical = "critical"
)

// Severities lists the valid finding severities, lowest first.
var Severities = []string{SeverityInfo, SeverityWarning, SeverityMajor, SeverityCritical}

// Finding is one result of an inspection.
type Finding struct {
	Severity       string   `json:"severity"`
	Category       string   `json:"category,omitempty"` // ticket category when it opens one
	Title          string   `json:"title"`
	Evidence       []string `json:"evidence,omitempty"`
	Recommendation string   `json:"recommendation,omitempty"`
}

// Inspector inspects one device for a contract inspection.
type Inspector interface {
	Base
	Inspect(ctx context.Context, req InspectRequest) ([]Finding, error)
}

// SinkTicket is the part of a ticket a sink mirrors into an ITSM. The
// device context (serial, model, site, contract) is what the engineer
// working the issue in the ITSM needs without opening nocagent: which box,
// where, under which contract.
type SinkTicket struct {
	ID          string    `json:"id"`
	ExternalID  string    `json:"external_id,omitempty"` // empty until first pushed
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Priority    string    `json:"priority"`
	Category    string    `json:"category"`
	State       string    `json:"state"`
	Customer    string    `json:"customer,omitempty"`
	Contract    string    `json:"contract,omitempty"`
	Site        string    `json:"site,omitempty"`
	Device      string    `json:"device,omitempty"` // the device's name
	Model       string    `json:"model,omitempty"`
	Serial      string    `json:"serial,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// SinkChange is a change made in the ITSM that nocagent must apply.
type SinkChange struct {
	TicketID   string    `json:"ticket_id"`
	ExternalID string    `json:"external_id"`
	State      string    `json:"state,omitempty"`
	Note       string    `json:"note,omitempty"`
	Actor      string    `json:"actor,omitempty"`
	At         time.Time `json:"at"`
}

// TicketSink pushes tickets to an external ITSM and pulls back state
// changes. Push creates or updates the ticket's external issue and returns
// its id; when the issue exists but a later step failed, it returns the id
// together with the error, so the caller keeps the link. Pull returns the
// changes made strictly after since, oldest first.
type TicketSink interface {
	Base
	Push(ctx context.Context, t SinkTicket) (externalID string, err error)
	Pull(ctx context.Context, since time.Time) ([]SinkChange, error)
}
