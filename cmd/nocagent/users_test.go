package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// users add prints a token once and stores only its digest; the running
// agent accepts it as that person within a second, and refuses it after
// users revoke.
func TestUsersCLI(t *testing.T) {
	api, tokensFile := startAgent(t)
	dataDir := filepath.Dir(tokensFile)
	cfg := filepath.Join(t.TempDir(), "nocagent.yaml")
	os.WriteFile(cfg, []byte(oneDeviceConfig(dataDir)), 0o600)

	out, errOut, code := runCLI(t, "users", "add", "bob", "--role", "engineer", "--expires", "2160h", "--config", cfg)
	if code != 0 {
		t.Fatalf("users add: exit %d\n%s%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	tok := strings.TrimSpace(lines[1])
	if !strings.HasPrefix(tok, "nca_") || !strings.Contains(out, "expires") {
		t.Fatalf("users add output:\n%s", out)
	}
	stored, _ := os.ReadFile(filepath.Join(dataDir, "users.json"))
	if strings.Contains(string(stored), tok) || !strings.Contains(string(stored), `"sha256"`) {
		t.Fatalf("users.json holds the token itself, or no digest:\n%s", stored)
	}
	if _, errOut, code := runCLI(t, "users", "add", "bob", "--role", "manager", "--config", cfg); code == 0 || !strings.Contains(errOut, "exists") {
		t.Errorf("second bob: exit %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "users", "add", "li.wei", "--role", "customer", "--customer", "globex-nope", "--config", cfg); code == 0 || !strings.Contains(errOut, "not a customer") {
		t.Errorf("unknown customer: exit %d %s", code, errOut)
	}

	get := func() int {
		req, _ := http.NewRequest("GET", api+"/api/v1/tickets", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitUntil(t, 5*time.Second, "bob's token accepted", func() bool { return get() == http.StatusOK })

	out, _, _ = runCLI(t, "users", "list", "--config", cfg)
	if !strings.Contains(out, "bob") || !strings.Contains(out, "engineer") || strings.Contains(out, tok) {
		t.Errorf("users list:\n%s", out)
	}
	if out, errOut, code := runCLI(t, "users", "revoke", "bob", "--config", cfg); code != 0 {
		t.Fatalf("revoke: exit %d %s%s", code, out, errOut)
	}
	waitUntil(t, 5*time.Second, "bob's token refused after revoke", func() bool { return get() == http.StatusUnauthorized })
	if out, _, _ := runCLI(t, "users", "list", "--config", cfg); !strings.Contains(out, "revoked") {
		t.Errorf("users list after revoke:\n%s", out)
	}
}
