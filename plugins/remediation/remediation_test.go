package remediation

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/nocagent/nocagent/plugins"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

const policyYAML = `
dry_run: false
default: approval
max_per_device_per_hour: 2
max_per_hour: 3
rules:
  - rule: access_port_down
    action: bounce-interface
    mode: auto
  - category: link
    action: bounce-interface
    mode: approval
    approvers: [manager]
  - category: security
    mode: deny
`

func loadPolicy(t *testing.T) Policy {
	t.Helper()
	var p Policy
	if err := yaml.Unmarshal([]byte(policyYAML), &p); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

func executed(device string, at time.Time) Remediation {
	return Remediation{Device: device, State: StateVerified, ExecutedAt: at}
}

func TestDecide(t *testing.T) {
	p := loadPolicy(t)
	dryPolicy := p
	dryPolicy.DryRun = true
	tests := []struct {
		name    string
		policy  Policy
		in      Input
		history []Remediation
		want    Decision
	}{
		{
			name: "rule match runs automatically", policy: p,
			in:   Input{Rule: "access_port_down", Category: "link", Action: "bounce-interface", Device: "acc-1"},
			want: Decision{Mode: ModeAuto, Reason: "policy rule 1 (rule=access_port_down, action=bounce-interface -> auto)"},
		},
		{
			name: "category match needs a manager", policy: p,
			in:   Input{Rule: "uplink_errors", Category: "link", Action: "bounce-interface", Device: "acc-1"},
			want: Decision{Mode: ModeApproval, Approvers: []Role{RoleManager}, Reason: "policy rule 2 (category=link, action=bounce-interface -> approval)"},
		},
		{
			name: "category deny", policy: p,
			in:   Input{Category: "Security", Action: "ssh-command", Device: "fw-1"},
			want: Decision{Mode: ModeDeny, Reason: "policy rule 3 (category=security -> deny)"},
		},
		{
			name: "default approval by a manager", policy: p,
			in:   Input{Category: "performance", Action: "ssh-command", Device: "core-1"},
			want: Decision{Mode: ModeApproval, Approvers: []Role{RoleManager}, Reason: "no policy rule matches: default approval"},
		},
		{
			name: "per-device limit", policy: p,
			in:      Input{Rule: "access_port_down", Action: "bounce-interface", Device: "acc-1"},
			history: []Remediation{executed("acc-1", t0.Add(-10*time.Minute)), executed("acc-1", t0.Add(-59*time.Minute)), executed("acc-2", t0.Add(-time.Minute))},
			want:    Decision{Mode: ModeDeny, Reason: "limit: 2 remediations executed or approved on acc-1 in the last hour (max 2)"},
		},
		{
			name: "older than an hour does not count", policy: p,
			in:      Input{Rule: "access_port_down", Action: "bounce-interface", Device: "acc-1"},
			history: []Remediation{executed("acc-1", t0.Add(-10*time.Minute)), executed("acc-1", t0.Add(-time.Hour)), {Device: "acc-1", State: StatePlanned}},
			want:    Decision{Mode: ModeAuto, Reason: "policy rule 1 (rule=access_port_down, action=bounce-interface -> auto)"},
		},
		{
			name: "approved, not yet executed, counts", policy: p,
			in:      Input{Rule: "access_port_down", Action: "bounce-interface", Device: "acc-1"},
			history: []Remediation{executed("acc-1", t0.Add(-10*time.Minute)), {Device: "acc-1", State: StateApproved}},
			want:    Decision{Mode: ModeDeny, Reason: "limit: 2 remediations executed or approved on acc-1 in the last hour (max 2)"},
		},
		{
			name: "global limit", policy: p,
			in:      Input{Rule: "access_port_down", Action: "bounce-interface", Device: "acc-9"},
			history: []Remediation{executed("a", t0.Add(-1*time.Minute)), executed("b", t0.Add(-2*time.Minute)), executed("c", t0.Add(-3*time.Minute))},
			want:    Decision{Mode: ModeDeny, Reason: "limit: 3 remediations executed or approved in the last hour (max 3)"},
		},
		{
			name: "dry run requested", policy: p,
			in:   Input{Rule: "access_port_down", Action: "bounce-interface", Device: "acc-1", DryRun: true},
			want: Decision{Mode: ModeAuto, DryRun: true, Reason: "policy rule 1 (rule=access_port_down, action=bounce-interface -> auto); dry run requested: plan only"},
		},
		{
			name: "dry-run mode", policy: dryPolicy,
			in:   Input{Category: "security", Device: "fw-1"},
			want: Decision{Mode: ModeDeny, DryRun: true, Reason: "policy rule 3 (category=security -> deny); dry-run mode: plan only"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.policy.Decide(tc.in, tc.history, t0)
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tc.want) {
				t.Errorf("Decide =\n %+v\nwant\n %+v", got, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	bad := Policy{Default: "sometimes", MaxPerHour: -1, Rules: []Rule{
		{Mode: "yolo"}, {Mode: ModeApproval, Approvers: []Role{"intern"}}, {Mode: ModeAuto, Approvers: []Role{RoleManager}},
	}}
	err := bad.Validate()
	for _, want := range []string{
		`default "sometimes"`, "limits must not be negative", `rule 1: mode "yolo"`,
		`rule 2: approver "intern"`, "rule 3: approvers given but mode is auto",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %v does not contain %q", err, want)
		}
	}
	if err := (Policy{}).Validate(); err != nil {
		t.Errorf("empty policy: %v", err)
	}
}

var plan = plugins.Plan{
	Action: "bounce-interface", Device: plugins.Device{Name: "acc-1", Address: "10.0.0.1"},
	Ticket: plugins.Ticket{ID: "T-7"}, Steps: []string{"set down", "set up"}, Risk: plugins.RiskLow,
	Secrets: plugins.Secrets{"community": "private-rw"},
}

func types(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func TestLifecycle(t *testing.T) {
	approval := Decision{Mode: ModeApproval, Approvers: []Role{RoleManager}, Reason: "rule 2"}
	auto := Decision{Mode: ModeAuto, Reason: "rule 1"}
	ok := plugins.Result{OK: true, Output: "bounced", Evidence: []string{"SET down ok", "SET up ok"}}
	tests := []struct {
		name         string
		decision     Decision
		run          func(t *testing.T, r *Remediation) []Event
		wantState    State
		wantEvents   []string
		wantEscalate bool
	}{
		{
			name: "approved, executed, verified", decision: approval,
			run: func(t *testing.T, r *Remediation) []Event {
				if _, err := r.Approve(Actor{Name: "eve", Role: RoleEngineer}, t0); !errors.Is(err, ErrTransition) {
					t.Errorf("engineer approved a manager-only remediation: %v", err)
				}
				if _, err := r.AutoApprove(t0); !errors.Is(err, ErrTransition) {
					t.Errorf("auto-approved one that needs approval: %v", err)
				}
				if _, err := r.Executed(ok, t0); !errors.Is(err, ErrTransition) {
					t.Errorf("executed before approval: %v", err)
				}
				e1, err := r.Approve(Actor{Name: "mia", Role: RoleManager}, t0.Add(time.Minute))
				must(t, err)
				e2, err := r.Executed(ok, t0.Add(2*time.Minute))
				must(t, err)
				e3, err := r.Verified(plugins.Verification{OK: true, Evidence: []string{"oper up"}}, t0.Add(3*time.Minute))
				must(t, err)
				if e3.Evidence[0] != "oper up" || e2[0].Evidence[1] != "SET up ok" || e1.Actor.Name != "mia" {
					t.Errorf("events lost evidence or actor: %+v %+v %+v", e1, e2, e3)
				}
				return append(append([]Event{e1}, e2...), e3)
			},
			wantState:  StateVerified,
			wantEvents: []string{EventPlanned, EventApproved, EventExecuted, EventVerified},
		},
		{
			name: "auto, executed, not verified: escalate", decision: auto,
			run: func(t *testing.T, r *Remediation) []Event {
				e1, err := r.AutoApprove(t0)
				must(t, err)
				e2, err := r.Executed(ok, t0)
				must(t, err)
				e3, err := r.Verified(plugins.Verification{OK: false, Evidence: []string{"oper down"}}, t0)
				must(t, err)
				if r.Reason != "the effect could not be verified" || e3.Evidence[0] != "oper down" {
					t.Errorf("reason %q, evidence %v", r.Reason, e3.Evidence)
				}
				return append(append([]Event{e1}, e2...), e3)
			},
			wantState: StateFailed, wantEscalate: true,
			wantEvents: []string{EventPlanned, EventApproved, EventExecuted, EventFailed},
		},
		{
			name: "execution not OK: escalate", decision: auto,
			run: func(t *testing.T, r *Remediation) []Event {
				e1, err := r.AutoApprove(t0)
				must(t, err)
				e2, err := r.Executed(plugins.Result{OK: false, Output: "port left down"}, t0)
				must(t, err)
				if _, err := r.Verified(plugins.Verification{OK: true}, t0); !errors.Is(err, ErrTransition) {
					t.Errorf("verified a failed remediation: %v", err)
				}
				return append([]Event{e1}, e2...)
			},
			wantState: StateFailed, wantEscalate: true,
			wantEvents: []string{EventPlanned, EventApproved, EventExecuted, EventFailed},
		},
		{
			name: "denied by policy: failed at once, no escalation", decision: Decision{Mode: ModeDeny, Reason: "limit"},
			run: func(t *testing.T, r *Remediation) []Event {
				if _, err := r.Approve(Actor{Name: "mia", Role: RoleManager}, t0); !errors.Is(err, ErrTransition) {
					t.Errorf("approved a denied remediation: %v", err)
				}
				return nil
			},
			wantState: StateFailed, wantEvents: []string{EventPlanned, EventFailed},
		},
		{
			name: "dry run stays planned", decision: Decision{Mode: ModeAuto, DryRun: true},
			run: func(t *testing.T, r *Remediation) []Event {
				if _, err := r.AutoApprove(t0); !errors.Is(err, ErrTransition) {
					t.Errorf("auto-approved a dry run: %v", err)
				}
				if _, err := r.Approve(Actor{Name: "mia", Role: RoleManager}, t0); !errors.Is(err, ErrTransition) {
					t.Errorf("approved a dry run: %v", err)
				}
				return nil
			},
			wantState: StatePlanned, wantEvents: []string{EventPlanned},
		},
		{
			name: "the requester may not approve", decision: Decision{Mode: ModeApproval, Approvers: []Role{RoleEngineer, RoleManager}},
			run: func(t *testing.T, r *Remediation) []Event {
				r.RequestedBy = Actor{Name: "bob", Role: RoleEngineer}
				if _, err := r.Approve(Actor{Name: "bob", Role: RoleEngineer}, t0); !errors.Is(err, ErrTransition) {
					t.Errorf("bob approved his own plan: %v", err)
				}
				e, err := r.Approve(Actor{Name: "eve", Role: RoleEngineer}, t0)
				must(t, err)
				return []Event{e}
			},
			wantState: StateApproved, wantEvents: []string{EventPlanned, EventApproved},
		},
		{
			name: "refused when it came to run: no escalation", decision: auto,
			run: func(t *testing.T, r *Remediation) []Event {
				e1, err := r.AutoApprove(t0)
				must(t, err)
				e2, err := r.Refuse("port is up: nothing to repair", t0)
				must(t, err)
				if !strings.Contains(e2.Message, "not run: port is up") {
					t.Errorf("refusal message %q", e2.Message)
				}
				return []Event{e1, e2}
			},
			wantState: StateFailed, wantEvents: []string{EventPlanned, EventApproved, EventFailed},
		},
		{
			name: "rejected by the approver", decision: approval,
			run: func(t *testing.T, r *Remediation) []Event {
				e, err := r.Fail(Actor{Name: "mia", Role: RoleManager}, "rejected: change freeze", t0)
				must(t, err)
				if _, err := r.Fail(PolicyActor, "again", t0); !errors.Is(err, ErrTransition) {
					t.Errorf("failed twice: %v", err)
				}
				return []Event{e}
			},
			wantState: StateFailed, wantEvents: []string{EventPlanned, EventFailed},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, evs := New("R-1", "snmp-bounce", plan, tc.decision, t0)
			evs = append(evs, tc.run(t, &r)...)
			if r.State != tc.wantState {
				t.Errorf("state = %s, want %s", r.State, tc.wantState)
			}
			if fmt.Sprint(types(evs)) != fmt.Sprint(tc.wantEvents) {
				t.Errorf("events = %v, want %v", types(evs), tc.wantEvents)
			}
			if r.Escalate() != tc.wantEscalate {
				t.Errorf("Escalate = %v, want %v", r.Escalate(), tc.wantEscalate)
			}
			for _, e := range evs {
				if e.RemediationID != "R-1" || e.TicketID != "T-7" || e.Message == "" {
					t.Errorf("event %+v lacks ids or message", e)
				}
			}
			b, err := json.Marshal(struct {
				R Remediation
				E []Event
			}{r, evs})
			must(t, err)
			if strings.Contains(string(b), "private-rw") {
				t.Errorf("secret in the stored record: %s", b)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
