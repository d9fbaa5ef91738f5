package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTLSFiles loads agent.tls_cert/tls_key from a file: both or neither,
// each readable, resolved relative to the config; errors carry file:line
// and the path as written, never the key.
func TestTLSFiles(t *testing.T) {
	dir := t.TempDir()
	const secretKey = "-----BEGIN PRIVATE KEY-----\nSEKRIT-KEY-MATERIAL\n-----END PRIVATE KEY-----\n"
	for name, body := range map[string]string{"cert.pem": "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", "key.pem": secretKey} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		agent     string
		wantErr   []string // substrings of the error, in order; nil = loads
		wantCert  string
		wantPlain bool
	}{
		{name: "neither", agent: "  listen: 127.0.0.1:9310\n", wantPlain: true},
		{name: "both", agent: "  tls_cert: cert.pem\n  tls_key: key.pem\n", wantCert: filepath.Join(dir, "cert.pem")},
		{name: "cert only", agent: "  tls_cert: cert.pem\n", wantErr: []string{"nocagent.yaml:1:1: agent.tls_key: must be set when tls_cert is"}},
		{name: "key only", agent: "  tls_key: key.pem\n", wantErr: []string{"nocagent.yaml:1:1: agent.tls_cert: must be set when tls_key is"}},
		{name: "missing and directory", agent: "  tls_cert: nope.pem\n  tls_key: .\n", wantErr: []string{
			`nocagent.yaml:2:3: agent.tls_cert: cannot read "nope.pem": no such file`,
			`nocagent.yaml:3:3: agent.tls_key: cannot read ".": not a regular file`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "nocagent.yaml")
			if err := os.WriteFile(path, []byte("agent:\n"+tt.agent+"devices: []\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if cfg.Agent.TLSCert != tt.wantCert || tt.wantPlain != (cfg.Agent.TLSKey == "") {
					t.Errorf("tls_cert %q tls_key %q, want cert %q (plain %v)", cfg.Agent.TLSCert, cfg.Agent.TLSKey, tt.wantCert, tt.wantPlain)
				}
				return
			}
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			msg := err.Error()
			if strings.Contains(msg, "SEKRIT") {
				t.Errorf("error shows the key: %s", msg)
			}
			rest := msg
			for _, want := range tt.wantErr {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("error lacks %q:\n%s", want, msg)
				}
				rest = rest[i+len(want):]
			}
		})
	}
}
