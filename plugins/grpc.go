package plugins

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/nocagent/nocagent/plugins/proto"
)

// HandshakeConfig is shared by the host and every plugin binary. The cookie
// is not a secret: it only keeps a plugin from being run by hand, and lets
// the host tell a plugin from an arbitrary executable.
var HandshakeConfig = goplugin.HandshakeConfig{
	ProtocolVersion:  APIVersion,
	MagicCookieKey:   "NOCAGENT_PLUGIN",
	MagicCookieValue: "b3c1f6f0-2f55-4d0e-9f3a-nocagent-plugin",
}

// pluginSetName is the one entry of the go-plugin PluginSet: the kind is
// learnt from Info over the Base service, not from the set.
const pluginSetName = "nocagent"

// PluginSet returns the go-plugin set that serves impl (or, with nil, the
// set the host dispenses from).
func PluginSet(impl Base) goplugin.PluginSet {
	return goplugin.PluginSet{pluginSetName: &GRPCPlugin{Impl: impl}}
}

// Serve serves impl over go-plugin's gRPC transport until the host stops
// it. A plugin binary's main calls it and nothing else on stdout: go-plugin
// speaks its handshake there. Logs go to stderr, which the host collects.
func Serve(impl Base) {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  HandshakeConfig,
		VersionedPlugins: map[int]goplugin.PluginSet{APIVersion: PluginSet(impl)},
		GRPCServer:       goplugin.DefaultGRPCServer,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Info}),
	})
}

// GRPCPlugin adapts a plugin of any kind to go-plugin. On the plugin side
// it registers the Base service and the service of each kind Impl
// implements; on the host side it returns a *GRPCClient.
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	Impl Base
}

// GRPCServer registers the plugin's services.
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("plugins: GRPCPlugin served without an implementation")
	}
	RegisterGRPCServers(s, p.Impl)
	return nil
}

// GRPCClient returns the host side of the connection.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewGRPCClient(c), nil
}

// RegisterGRPCServers registers impl's Base service and its kind's service.
func RegisterGRPCServers(s grpc.ServiceRegistrar, impl Base) {
	pb.RegisterBaseServer(s, &BaseGRPCServer{Impl: impl})
	if r, ok := impl.(Remediator); ok {
		pb.RegisterRemediatorServer(s, &RemediatorGRPCServer{Impl: r})
	}
	if i, ok := impl.(Inspector); ok {
		pb.RegisterInspectorServer(s, &InspectorGRPCServer{Impl: i})
	}
	if t, ok := impl.(TicketSink); ok {
		pb.RegisterTicketSinkServer(s, &TicketSinkGRPCServer{Impl: t})
	}
}

// GRPCClient is the host side of one plugin connection. Base is usable at
// once; Remediator, Inspector and TicketSink wrap the same connection once Info has
// said which kind the plugin is.
type GRPCClient struct {
	BaseGRPCClient
	conn grpc.ClientConnInterface
}

// NewGRPCClient wraps a connection to a plugin.
func NewGRPCClient(conn grpc.ClientConnInterface) *GRPCClient {
	return &GRPCClient{BaseGRPCClient: BaseGRPCClient{c: pb.NewBaseClient(conn)}, conn: conn}
}

// Remediator returns the remediator client on this connection.
func (c *GRPCClient) Remediator() *RemediatorGRPCClient {
	return &RemediatorGRPCClient{BaseGRPCClient: c.BaseGRPCClient, c: pb.NewRemediatorClient(c.conn)}
}

// Inspector returns the inspector client on this connection.
func (c *GRPCClient) Inspector() *InspectorGRPCClient {
	return &InspectorGRPCClient{BaseGRPCClient: c.BaseGRPCClient, c: pb.NewInspectorClient(c.conn)}
}

// TicketSink returns the ticket sink client on this connection.
func (c *GRPCClient) TicketSink() *TicketSinkGRPCClient {
	return &TicketSinkGRPCClient{BaseGRPCClient: c.BaseGRPCClient, c: pb.NewTicketSinkClient(c.conn)}
}

// ---- Base ----

// BaseGRPCClient implements Base over gRPC.
type BaseGRPCClient struct{ c pb.BaseClient }

// Info implements Base.
func (c BaseGRPCClient) Info(ctx context.Context) (Info, error) {
	resp, err := c.c.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return Info{}, fromStatus(err)
	}
	vs := make([]int, len(resp.GetApiVersions()))
	for i, v := range resp.GetApiVersions() {
		vs[i] = int(v)
	}
	return Info{Name: resp.GetName(), Kind: resp.GetKind(), Version: resp.GetVersion(), APIVersions: vs, ConfigSchema: resp.GetConfigSchema()}, nil
}

// Configure implements Base.
func (c BaseGRPCClient) Configure(ctx context.Context, config []byte) error {
	_, err := c.c.Configure(ctx, &pb.ConfigureRequest{Config: config})
	return fromStatus(err)
}

// BaseGRPCServer serves Base.
type BaseGRPCServer struct {
	pb.UnimplementedBaseServer
	Impl Base
}

// Info implements pb.BaseServer.
func (s *BaseGRPCServer) Info(ctx context.Context, _ *pb.InfoRequest) (*pb.InfoResponse, error) {
	info, err := s.Impl.Info(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	vs := make([]int32, len(info.APIVersions))
	for i, v := range info.APIVersions {
		vs[i] = int32(v)
	}
	return &pb.InfoResponse{Name: info.Name, Kind: info.Kind, Version: info.Version, ApiVersions: vs, ConfigSchema: info.ConfigSchema}, nil
}

// Configure implements pb.BaseServer.
func (s *BaseGRPCServer) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	if err := s.Impl.Configure(ctx, req.GetConfig()); err != nil {
		return nil, toStatus(err)
	}
	return &pb.ConfigureResponse{}, nil
}

// ---- Remediator ----

// RemediatorGRPCClient implements Remediator over gRPC.
type RemediatorGRPCClient struct {
	BaseGRPCClient
	c pb.RemediatorClient
}

// Actions implements Remediator.
func (c *RemediatorGRPCClient) Actions(ctx context.Context) ([]ActionSpec, error) {
	resp, err := c.c.Actions(ctx, &pb.ActionsRequest{})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := make([]ActionSpec, 0, len(resp.GetActions()))
	for _, a := range resp.GetActions() {
		spec := ActionSpec{Name: a.GetName(), Categories: a.GetCategories(), Description: a.GetDescription()}
		for _, p := range a.GetParams() {
			spec.Params = append(spec.Params, ParamSpec{Name: p.GetName(), Description: p.GetDescription(), Required: p.GetRequired()})
		}
		out = append(out, spec)
	}
	return out, nil
}

// Plan implements Remediator.
func (c *RemediatorGRPCClient) Plan(ctx context.Context, req Request) (Plan, error) {
	resp, err := c.c.Plan(ctx, &pb.PlanRequest{
		Action: req.Action, Device: deviceToPB(req.Device), Ticket: ticketToPB(req.Ticket),
		Params: req.Params, Secrets: req.Secrets,
	})
	if err != nil {
		return Plan{}, fromStatus(err)
	}
	return planFromPB(resp.GetPlan()), nil
}

// Execute implements Remediator.
func (c *RemediatorGRPCClient) Execute(ctx context.Context, plan Plan) (Result, error) {
	resp, err := c.c.Execute(ctx, &pb.ExecuteRequest{Plan: planToPB(plan), Secrets: plan.Secrets})
	if err != nil {
		return Result{}, fromStatus(err)
	}
	return Result{OK: resp.GetOk(), Output: resp.GetOutput(), Evidence: resp.GetEvidence()}, nil
}

// Verify implements Remediator.
func (c *RemediatorGRPCClient) Verify(ctx context.Context, plan Plan) (Verification, error) {
	resp, err := c.c.Verify(ctx, &pb.VerifyRequest{Plan: planToPB(plan), Secrets: plan.Secrets})
	if err != nil {
		return Verification{}, fromStatus(err)
	}
	return Verification{OK: resp.GetOk(), Evidence: resp.GetEvidence()}, nil
}

// RemediatorGRPCServer serves Remediator.
type RemediatorGRPCServer struct {
	pb.UnimplementedRemediatorServer
	Impl Remediator
}

// Actions implements pb.RemediatorServer.
func (s *RemediatorGRPCServer) Actions(ctx context.Context, _ *pb.ActionsRequest) (*pb.ActionsResponse, error) {
	acts, err := s.Impl.Actions(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &pb.ActionsResponse{}
	for _, a := range acts {
		pa := &pb.ActionSpec{Name: a.Name, Categories: a.Categories, Description: a.Description}
		for _, p := range a.Params {
			pa.Params = append(pa.Params, &pb.ParamSpec{Name: p.Name, Description: p.Description, Required: p.Required})
		}
		resp.Actions = append(resp.Actions, pa)
	}
	return resp, nil
}

// Plan implements pb.RemediatorServer.
func (s *RemediatorGRPCServer) Plan(ctx context.Context, req *pb.PlanRequest) (*pb.PlanResponse, error) {
	plan, err := s.Impl.Plan(ctx, Request{
		Action: req.GetAction(), Device: deviceFromPB(req.GetDevice()), Ticket: ticketFromPB(req.GetTicket()),
		Params: req.GetParams(), Secrets: req.GetSecrets(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.PlanResponse{Plan: planToPB(plan)}, nil
}

// Execute implements pb.RemediatorServer.
func (s *RemediatorGRPCServer) Execute(ctx context.Context, req *pb.ExecuteRequest) (*pb.ExecuteResponse, error) {
	plan := planFromPB(req.GetPlan())
	plan.Secrets = req.GetSecrets()
	res, err := s.Impl.Execute(ctx, plan)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.ExecuteResponse{Ok: res.OK, Output: res.Output, Evidence: res.Evidence}, nil
}

// Verify implements pb.RemediatorServer.
func (s *RemediatorGRPCServer) Verify(ctx context.Context, req *pb.VerifyRequest) (*pb.VerifyResponse, error) {
	plan := planFromPB(req.GetPlan())
	plan.Secrets = req.GetSecrets()
	v, err := s.Impl.Verify(ctx, plan)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.VerifyResponse{Ok: v.OK, Evidence: v.Evidence}, nil
}

// ---- Inspector ----

// InspectorGRPCClient implements Inspector over gRPC.
type InspectorGRPCClient struct {
	BaseGRPCClient
	c pb.InspectorClient
}

// Inspect implements Inspector.
func (c *InspectorGRPCClient) Inspect(ctx context.Context, req InspectRequest) ([]Finding, error) {
	resp, err := c.c.Inspect(ctx, &pb.InspectRequest{
		Device: deviceToPB(req.Device), SnapshotJson: req.Snapshot, HistoryJson: req.History, Secrets: req.Secrets,
	})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := make([]Finding, 0, len(resp.GetFindings()))
	for _, f := range resp.GetFindings() {
		out = append(out, Finding{Severity: f.GetSeverity(), Category: f.GetCategory(), Title: f.GetTitle(), Evidence: f.GetEvidence(), Recommendation: f.GetRecommendation()})
	}
	return out, nil
}

// InspectorGRPCServer serves Inspector.
type InspectorGRPCServer struct {
	pb.UnimplementedInspectorServer
	Impl Inspector
}

// Inspect implements pb.InspectorServer.
func (s *InspectorGRPCServer) Inspect(ctx context.Context, req *pb.InspectRequest) (*pb.InspectResponse, error) {
	fs, err := s.Impl.Inspect(ctx, InspectRequest{
		Device: deviceFromPB(req.GetDevice()), Snapshot: req.GetSnapshotJson(), History: req.GetHistoryJson(), Secrets: req.GetSecrets(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &pb.InspectResponse{}
	for _, f := range fs {
		resp.Findings = append(resp.Findings, &pb.Finding{Severity: f.Severity, Category: f.Category, Title: f.Title, Evidence: f.Evidence, Recommendation: f.Recommendation})
	}
	return resp, nil
}

// ---- TicketSink ----

// TicketSinkGRPCClient implements TicketSink over gRPC.
type TicketSinkGRPCClient struct {
	BaseGRPCClient
	c pb.TicketSinkClient
}

// Push implements TicketSink. The external id of a Push that failed after
// creating or finding the issue comes back as a detail of the error
// status.
func (c *TicketSinkGRPCClient) Push(ctx context.Context, t SinkTicket) (string, error) {
	resp, err := c.c.Push(ctx, &pb.PushRequest{Ticket: sinkTicketToPB(t)})
	if err != nil {
		var key string
		if st, ok := status.FromError(err); ok {
			for _, d := range st.Details() {
				if r, ok := d.(*pb.PushResponse); ok {
					key = r.GetExternalId()
				}
			}
		}
		return key, fromStatus(err)
	}
	return resp.GetExternalId(), nil
}

// Pull implements TicketSink.
func (c *TicketSinkGRPCClient) Pull(ctx context.Context, since time.Time) ([]SinkChange, error) {
	resp, err := c.c.Pull(ctx, &pb.PullRequest{Since: timeToPB(since)})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := make([]SinkChange, 0, len(resp.GetChanges()))
	for i, ch := range resp.GetChanges() {
		at, err := timeFromPB(ch.GetAt())
		if err != nil {
			return nil, fmt.Errorf("%w: Pull: change %d: %v", ErrMalformed, i, err)
		}
		out = append(out, SinkChange{TicketID: ch.GetTicketId(), ExternalID: ch.GetExternalId(), State: ch.GetState(),
			Note: ch.GetNote(), Actor: ch.GetActor(), At: at})
	}
	return out, nil
}

// TicketSinkGRPCServer serves TicketSink.
type TicketSinkGRPCServer struct {
	pb.UnimplementedTicketSinkServer
	Impl TicketSink
}

// Push implements pb.TicketSinkServer.
func (s *TicketSinkGRPCServer) Push(ctx context.Context, req *pb.PushRequest) (*pb.PushResponse, error) {
	t, err := sinkTicketFromPB(req.GetTicket())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	key, err := s.Impl.Push(ctx, t)
	if err != nil {
		st := status.Convert(toStatus(err))
		if key != "" {
			if withKey, derr := st.WithDetails(&pb.PushResponse{ExternalId: key}); derr == nil {
				st = withKey
			}
		}
		return nil, st.Err()
	}
	return &pb.PushResponse{ExternalId: key}, nil
}

// Pull implements pb.TicketSinkServer.
func (s *TicketSinkGRPCServer) Pull(ctx context.Context, req *pb.PullRequest) (*pb.PullResponse, error) {
	since, err := timeFromPB(req.GetSince())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "since: "+err.Error())
	}
	changes, err := s.Impl.Pull(ctx, since)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &pb.PullResponse{Changes: make([]*pb.SinkChange, 0, len(changes))}
	for _, ch := range changes {
		resp.Changes = append(resp.Changes, &pb.SinkChange{TicketId: ch.TicketID, ExternalId: ch.ExternalID, State: ch.State,
			Note: ch.Note, Actor: ch.Actor, At: timeToPB(ch.At)})
	}
	return resp, nil
}

// ---- conversions ----

func sinkTicketToPB(t SinkTicket) *pb.SinkTicket {
	return &pb.SinkTicket{Id: t.ID, ExternalId: t.ExternalID, Title: t.Title, Description: t.Description, Priority: t.Priority,
		Category: t.Category, State: t.State, Customer: t.Customer, Contract: t.Contract, Site: t.Site, Device: t.Device,
		Model: t.Model, Serial: t.Serial, UpdatedAt: timeToPB(t.UpdatedAt)}
}

func sinkTicketFromPB(t *pb.SinkTicket) (SinkTicket, error) {
	at, err := timeFromPB(t.GetUpdatedAt())
	if err != nil {
		return SinkTicket{}, fmt.Errorf("ticket %s: updated_at: %w", t.GetId(), err)
	}
	return SinkTicket{ID: t.GetId(), ExternalID: t.GetExternalId(), Title: t.GetTitle(), Description: t.GetDescription(),
		Priority: t.GetPriority(), Category: t.GetCategory(), State: t.GetState(), Customer: t.GetCustomer(),
		Contract: t.GetContract(), Site: t.GetSite(), Device: t.GetDevice(), Model: t.GetModel(), Serial: t.GetSerial(),
		UpdatedAt: at}, nil
}

// timeToPB leaves the zero time unset: its Unix value is out of the
// Timestamp range.
func timeToPB(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// timeFromPB returns the zero time for an unset timestamp and an error for
// one outside the valid range, which only a broken peer sends.
func timeFromPB(ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, err
	}
	return ts.AsTime(), nil
}

func deviceToPB(d Device) *pb.Device {
	return &pb.Device{Name: d.Name, Address: d.Address, CredentialRef: d.CredentialRef, Vendor: d.Vendor, Model: d.Model,
		Serial: d.Serial, Role: d.Role, Customer: d.Customer, Site: d.Site}
}

func deviceFromPB(d *pb.Device) Device {
	return Device{Name: d.GetName(), Address: d.GetAddress(), CredentialRef: d.GetCredentialRef(), Vendor: d.GetVendor(),
		Model: d.GetModel(), Serial: d.GetSerial(), Role: d.GetRole(), Customer: d.GetCustomer(), Site: d.GetSite()}
}

func ticketToPB(t Ticket) *pb.Ticket {
	return &pb.Ticket{Id: t.ID, Title: t.Title, Category: t.Category, Severity: t.Severity, Rule: t.Rule, Summary: t.Summary}
}

func ticketFromPB(t *pb.Ticket) Ticket {
	return Ticket{ID: t.GetId(), Title: t.GetTitle(), Category: t.GetCategory(), Severity: t.GetSeverity(), Rule: t.GetRule(), Summary: t.GetSummary()}
}

func planToPB(p Plan) *pb.Plan {
	return &pb.Plan{Action: p.Action, Device: deviceToPB(p.Device), Ticket: ticketToPB(p.Ticket), Params: p.Params, Steps: p.Steps, Risk: p.Risk}
}

func planFromPB(p *pb.Plan) Plan {
	return Plan{Action: p.GetAction(), Device: deviceFromPB(p.GetDevice()), Ticket: ticketFromPB(p.GetTicket()),
		Params: p.GetParams(), Steps: p.GetSteps(), Risk: p.GetRisk()}
}

// remoteError is an error a plugin returned on purpose (a refusal or an
// invalid request), carried across gRPC so errors.Is still works.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string        { return e.msg }
func (e *remoteError) Is(target error) bool { return target == e.kind }

// toStatus maps a plugin's error to a gRPC status on the plugin side.
func toStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrRefused):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

// fromStatus maps a gRPC status back on the host side. Refusals and invalid
// requests become remoteErrors and ordinary failures (Unknown) plain
// errors; everything else keeps its status, which the
// host reads to tell a crash or hang from an ordinary failure.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.FailedPrecondition:
		return &remoteError{msg: st.Message(), kind: ErrRefused}
	case codes.InvalidArgument:
		return &remoteError{msg: st.Message(), kind: ErrInvalid}
	case codes.Unknown:
		// An ordinary failure the plugin reported: its message is the
		// error, without gRPC's "rpc error: code = Unknown desc =".
		return errors.New(st.Message())
	}
	return err
}
