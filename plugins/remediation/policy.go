// Package remediation decides whether a remediation may run and records
// what happened to it. It is pure: no I/O, no clock (now is passed in), so
// the agent can replay and test every decision.
//
// The flow the agent drives:
//
//	d := policy.Decide(input, history, now)     // auto, approval or deny
//	r, evs := New(id, plugin, plan, d, now)         // state planned (failed if denied)
//	ev, err = r.Approve(actor, now)                 // or AutoApprove when d.Mode is auto
//	... plugin Execute ... evs, err = r.Executed(result, now)
//	... plugin Verify  ... ev, err = r.Verified(verification, now)
//	r.Escalate() tells whether the ticket must be escalated.
//
// Each call returns the Event to append to the ticket's timeline.
package remediation

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Mode is what the policy allows for a (rule or category, action) pair.
type Mode string

const (
	ModeAuto     Mode = "auto"     // runs without approval
	ModeApproval Mode = "approval" // waits for an approver
	ModeDeny     Mode = "deny"     // never runs
)

// Role of a person who may approve.
type Role string

const (
	RoleEngineer Role = "engineer"
	RoleManager  Role = "manager"
)

// Rule is one line of the policy. Empty Rule, Category or Action match
// anything; the first matching rule wins.
type Rule struct {
	Rule     string `yaml:"rule,omitempty" json:"rule,omitempty"`         // alert rule name
	Category string `yaml:"category,omitempty" json:"category,omitempty"` // ticket category
	Action   string `yaml:"action,omitempty" json:"action,omitempty"`     // plugin action
	Mode     Mode   `yaml:"mode" json:"mode"`
	// Approvers may approve when Mode is approval; default engineer and
	// manager.
	Approvers []Role `yaml:"approvers,omitempty" json:"approvers,omitempty"`
}

// Policy is the remediation section of the agent config.
type Policy struct {
	// DryRun plans every remediation and executes none.
	DryRun bool   `yaml:"dry_run" json:"dry_run"`
	Rules  []Rule `yaml:"rules" json:"rules"`
	// Default applies when no rule matches; empty means approval.
	Default Mode `yaml:"default,omitempty" json:"default,omitempty"`
	// MaxPerDevicePerHour and MaxPerHour bound executions in any rolling
	// hour (0 = no limit). A remediation over a limit is denied.
	MaxPerDevicePerHour int `yaml:"max_per_device_per_hour" json:"max_per_device_per_hour"`
	MaxPerHour          int `yaml:"max_per_hour" json:"max_per_hour"`
}

// Validate checks the policy, naming the rule at fault.
func (p Policy) Validate() error {
	var errs []error
	if p.Default != "" && !validMode(p.Default) {
		errs = append(errs, fmt.Errorf("remediation policy: default %q is not auto, approval or deny", p.Default))
	}
	if p.MaxPerDevicePerHour < 0 || p.MaxPerHour < 0 {
		errs = append(errs, errors.New("remediation policy: limits must not be negative"))
	}
	for i, r := range p.Rules {
		if !validMode(r.Mode) {
			errs = append(errs, fmt.Errorf("remediation policy: rule %d: mode %q is not auto, approval or deny", i+1, r.Mode))
		}
		for _, a := range r.Approvers {
			if a != RoleEngineer && a != RoleManager {
				errs = append(errs, fmt.Errorf("remediation policy: rule %d: approver %q is not engineer or manager", i+1, a))
			}
		}
		if len(r.Approvers) > 0 && r.Mode != ModeApproval {
			errs = append(errs, fmt.Errorf("remediation policy: rule %d: approvers given but mode is %s", i+1, r.Mode))
		}
	}
	return errors.Join(errs...)
}

func validMode(m Mode) bool { return m == ModeAuto || m == ModeApproval || m == ModeDeny }

// Input is what a decision is about.
type Input struct {
	Rule     string // the alert rule behind the ticket, if any
	Category string // the ticket's category
	Action   string
	Device   string
	// DryRun is the caller's request for a dry run (API "dry_run": true).
	DryRun bool
}

// Decision is the policy's answer, with the reason to show on the ticket.
type Decision struct {
	Mode      Mode   `json:"mode"`
	Approvers []Role `json:"approvers,omitempty"`
	DryRun    bool   `json:"dry_run"`
	Reason    string `json:"reason"`
}

// Decide applies the policy to in. history is the remediations the agent
// knows of (any state); only those executed in the hour before now count
// against the limits.
func (p Policy) Decide(in Input, history []Remediation, now time.Time) Decision {
	d := Decision{Mode: cmpMode(p.Default), Reason: "no policy rule matches: default " + string(cmpMode(p.Default))}
	for i, r := range p.Rules {
		if matches(r.Rule, in.Rule) && matches(r.Category, in.Category) && matches(r.Action, in.Action) {
			d = Decision{Mode: r.Mode, Approvers: r.Approvers, Reason: fmt.Sprintf("policy rule %d (%s)", i+1, describe(r))}
			break
		}
	}
	if d.Mode == ModeApproval && len(d.Approvers) == 0 {
		// Four eyes: a manager approves unless a rule lets a second
		// engineer do it (never the requester: see Approve).
		d.Approvers = []Role{RoleManager}
	}
	if in.DryRun || p.DryRun {
		d.DryRun = true
		if p.DryRun {
			d.Reason += "; dry-run mode: plan only"
		} else {
			d.Reason += "; dry run requested: plan only"
		}
		return d
	}
	if d.Mode == ModeDeny {
		return d
	}
	if reason := p.OverLimit(in.Device, history, now); reason != "" {
		return Decision{Mode: ModeDeny, Reason: reason}
	}
	return d
}

// OverLimit says why one more execution on device now would break a
// limit, or "" when it would not. Executions in the hour before now count,
// and so do approved remediations not yet executed: a plan approved is a
// run reserved. Call it with the history and the approval under one lock,
// at plan, approval and execution alike.
func (p Policy) OverLimit(device string, history []Remediation, now time.Time) string {
	since := now.Add(-time.Hour)
	var onDevice, all int
	for _, h := range history {
		inFlight := h.State == StateApproved
		executed := !h.ExecutedAt.IsZero() && h.ExecutedAt.After(since) && !h.ExecutedAt.After(now)
		if !inFlight && !executed {
			continue
		}
		all++
		if h.Device == device {
			onDevice++
		}
	}
	switch {
	case p.MaxPerDevicePerHour > 0 && onDevice >= p.MaxPerDevicePerHour:
		return fmt.Sprintf("limit: %d remediations executed or approved on %s in the last hour (max %d)", onDevice, device, p.MaxPerDevicePerHour)
	case p.MaxPerHour > 0 && all >= p.MaxPerHour:
		return fmt.Sprintf("limit: %d remediations executed or approved in the last hour (max %d)", all, p.MaxPerHour)
	}
	return ""
}

func cmpMode(m Mode) Mode {
	if m == "" {
		return ModeApproval
	}
	return m
}

func matches(pattern, value string) bool { return pattern == "" || strings.EqualFold(pattern, value) }

func describe(r Rule) string {
	var parts []string
	for _, kv := range [][2]string{{"rule", r.Rule}, {"category", r.Category}, {"action", r.Action}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "any")
	}
	return strings.Join(parts, ", ") + " -> " + string(r.Mode)
}

// MayApprove reports whether role may approve under d.
func (d Decision) MayApprove(role Role) bool { return slices.Contains(d.Approvers, role) }
