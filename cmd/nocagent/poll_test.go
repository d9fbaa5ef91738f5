package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nocagent/nocagent/inventory"
)

const (
	fileAuth = "auth-from-file-9d2"
	filePriv = "priv-from-file-41a"
	envAuth  = "auth-from-env-c07"
	envPriv  = "priv-from-env-5be"
	flagAuth = "auth-from-flag-e19"
	flagPriv = "priv-from-flag-77f"
)

func writeKey(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPollKeySources(t *testing.T) {
	dir := t.TempDir()
	authFile := writeKey(t, dir, "auth", fileAuth+"\n")
	privFile := writeKey(t, dir, "priv", filePriv+"\r\nsecond line ignored\n")
	emptyFile := writeKey(t, dir, "empty", "\n"+fileAuth)
	env := map[string]string{envAuthKey: envAuth, envPrivKey: envPriv}
	tests := []struct {
		name               string
		keys               pollKeyFlags
		flags              map[string]string
		env                map[string]string
		wantAuth, wantPriv string
		wantErr            string
	}{
		{name: "files", keys: pollKeyFlags{authFile, privFile}, wantAuth: fileAuth, wantPriv: filePriv},
		{name: "files beat the environment", keys: pollKeyFlags{authFile, privFile}, env: env, wantAuth: fileAuth, wantPriv: filePriv},
		{name: "environment", env: env, wantAuth: envAuth, wantPriv: envPriv},
		{name: "flags beat the environment", flags: map[string]string{"auth-key": flagAuth, "priv-key": flagPriv}, env: env,
			wantAuth: flagAuth, wantPriv: flagPriv},
		{name: "mixed: auth file, priv from env", keys: pollKeyFlags{authFile: authFile}, env: map[string]string{envPrivKey: envPriv},
			wantAuth: fileAuth, wantPriv: envPriv},
		{name: "flags only", flags: map[string]string{"auth-key": flagAuth}, wantAuth: flagAuth},
		{name: "nothing", wantAuth: "", wantPriv: ""},
		{name: "flag and file", keys: pollKeyFlags{authFile: authFile}, flags: map[string]string{"auth-key": flagAuth},
			wantErr: "give --auth-key or --auth-key-file, not both"},
		{name: "priv flag and file", keys: pollKeyFlags{privFile: privFile}, flags: map[string]string{"priv-key": flagPriv},
			wantErr: "give --priv-key or --priv-key-file, not both"},
		{name: "missing file", keys: pollKeyFlags{authFile: filepath.Join(dir, "nope")}, wantErr: "--auth-key-file: read key: open " + filepath.Join(dir, "nope")},
		{name: "empty first line", keys: pollKeyFlags{privFile: emptyFile}, wantErr: "--priv-key-file: key file " + emptyFile + ": the first line is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cred := inventory.Credential{AuthKey: tc.flags["auth-key"], PrivKey: tc.flags["priv-key"]}
			changed := func(name string) bool { _, ok := tc.flags[name]; return ok }
			getenv := func(name string) string { return tc.env[name] }
			err := tc.keys.resolve(&cred, changed, getenv)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				for _, key := range []string{fileAuth, filePriv, envAuth, envPriv, flagAuth, flagPriv} {
					if strings.Contains(err.Error(), key) {
						t.Errorf("error %q shows a key", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cred.AuthKey != tc.wantAuth || cred.PrivKey != tc.wantPriv {
				t.Errorf("keys = %q, %q; want %q, %q", cred.AuthKey, cred.PrivKey, tc.wantAuth, tc.wantPriv)
			}
		})
	}
}

// TestPollKeyFlagsOnTheCommandLine: the poll command takes the file flags
// and refuses a key given twice before it polls, showing no key.
func TestPollKeyFlagsOnTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	authFile := writeKey(t, dir, "auth", fileAuth+"\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"key and key file", []string{"--auth-key", flagAuth, "--auth-key-file", authFile}, "not both"},
		{"missing key file", []string{"--priv-key-file", filepath.Join(dir, "nope")}, "--priv-key-file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"poll", "127.0.0.1:9", "--snmp-version", "3", "--user", "noc", "--auth-protocol", "SHA"}, tc.args...)
			out, errOut, code := runCLI(t, args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q, want a failure naming %q", code, errOut, tc.want)
			}
			if strings.Contains(out+errOut, fileAuth) || strings.Contains(out+errOut, flagAuth) {
				t.Errorf("output shows a key:\n%s\n%s", out, errOut)
			}
		})
	}
}
