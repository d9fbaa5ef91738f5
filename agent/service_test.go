package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nocagent/nocagent/inventory"
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
