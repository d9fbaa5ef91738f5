package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/plugins/remediation"
	"github.com/nocagent/nocagent/rules"
)

func TestPriorityMatrixFromConfig(t *testing.T) {
	cfg := &inventory.Config{Priority: &inventory.PriorityMatrix{
		Cells: map[string]map[string]string{"major": {"medium": "P2"}},
		Roles: map[string]string{"firewall": "high"},
	}}
	m := priorityMatrix(cfg)
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sev, role, tier string
		want            string
	}{
		{"major", "edge", "", "P2"},        // changed cell: medium impact
		{"critical", "firewall", "", "P1"}, // role raised to high impact
		{"major", "access", "", "P3"},      // untouched default
		{"warning", "core", "gold", "P3"},  // gold still raises one step
	}
	for _, tt := range tests {
		if got := m.Priority(tt.sev, rules.Target{Role: tt.role, Tier: tt.tier}); got != tt.want {
			t.Errorf("%s on %s (%s): %s, want %s", tt.sev, tt.role, tt.tier, got, tt.want)
		}
	}
	if d := priorityMatrix(&inventory.Config{}); d.Priority("critical", rules.Target{Role: "core"}) != "P1" {
		t.Error("no priority section must keep the default matrix")
	}
}

func TestNewSendersEveryKind(t *testing.T) {
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "wecom.url")
	os.WriteFile(urlFile, []byte("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret-key\n"), 0o600)
	secret := filepath.Join(dir, "hook.secret")
	os.WriteFile(secret, []byte("s3cret-s3cret-s3cret"), 0o600)
	cfg := &inventory.Config{
		Customers: []inventory.Customer{{ID: "acme", Language: "zh-CN"}},
		Notifiers: []inventory.Notifier{
			{Name: "hook", Kind: "webhook", URL: "http://127.0.0.1:1/hook", SecretFile: secret},
			{Name: "mail", Kind: "email", SMTP: "127.0.0.1:2525", From: "NOC <noc@example.com>", TLS: "none",
				AddressBook: map[string][]string{"default": {"noc@example.com"}}},
			{Name: "wecom", Kind: "wecom", URLFile: urlFile, Language: "zh-CN"},
			{Name: "ding", Kind: "dingtalk", URL: "https://oapi.dingtalk.com/robot/send?access_token=x"},
			{Name: "slack", Kind: "slack", URL: "https://hooks.slack.com/services/T/B/X"},
		},
	}
	s, err := newSenders(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 5 || s["hook"] == nil || s["mail"] == nil || s["wecom"] == nil || s["ding"] == nil || s["slack"] == nil {
		t.Fatalf("senders = %v", s)
	}
	cfg.Notifiers = []inventory.Notifier{{Name: "wecom", Kind: "wecom", URLFile: filepath.Join(dir, "missing")}}
	if _, err := newSenders(cfg, nil); err == nil || !strings.Contains(err.Error(), "notifier wecom") {
		t.Errorf("missing url file: %v", err)
	}
}

func TestPolicyAndContractsFromConfig(t *testing.T) {
	cfg := &inventory.Config{
		Customers: []inventory.Customer{{ID: "acme", Contract: "A-1"}, {ID: "globex", Contract: "G-1"}},
		Contracts: []inventory.Contract{{ID: "A-1", Customer: "acme", Schedule: "0 6 * * MON", Language: "zh-CN"}},
		Remediation: &inventory.RemediationPolicy{Default: "deny", MaxPerHour: 5,
			Rules: []inventory.RemediationRule{{Category: "link", Action: "bounce-interface", Mode: "auto"}}},
	}
	p := policy(cfg)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if d := p.Decide(remediation.Input{Category: "link", Action: "bounce-interface", Device: "sw1"}, nil, time.Unix(0, 0)); d.Mode != remediation.ModeAuto {
		t.Errorf("link bounce: %+v", d)
	}
	if d := p.Decide(remediation.Input{Category: "hardware", Action: "x", Device: "sw1"}, nil, time.Unix(0, 0)); d.Mode != remediation.ModeDeny {
		t.Errorf("default: %+v", d)
	}
	if d := policy(&inventory.Config{}).Decide(remediation.Input{Category: "link", Action: "bounce-interface"}, nil, time.Unix(0, 0)); d.Mode != remediation.ModeApproval {
		t.Errorf("no policy configured: %+v, want approval", d)
	}
	cs := contracts(cfg)
	if len(cs) != 2 || cs[0].ID != "A-1" || cs[0].Schedule != "0 6 * * MON" || cs[0].Language != "zh-CN" || cs[1].ID != "G-1" {
		t.Errorf("contracts = %+v", cs)
	}
}
