package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nocagent/nocagent/internal/testenv"
)

func TestProfilesTest(t *testing.T) {
	dir := testenv.LibreNMS(t)
	rec := filepath.Join(dir, "snmpsim", "ios_2960x.snmprec")
	out, errOut, code := runCLI(t, "profiles", "test", rec)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"ios_2960x  profile=cisco-ios",
		"ok  serial      FCW1929B68S  [profile cisco-ios ENTITY-MIB serial of entity 1001]",
		"ok  model       WS-C2960X-48FPS-L",
		"ok  interfaces  146 interfaces",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A user's profile directory replaces a built-in profile by name:
	// a broken copy of cisco-ios reads no model, and says so.
	profiles := t.TempDir()
	broken := "name: cisco-ios\nvendor: cisco\nmatch:\n  - sys_object_id: 1.3.6.1.4.1.9\nmodel:\n  - value: NOT-A-2960\n"
	if err := os.WriteFile(filepath.Join(profiles, "cisco-ios.yaml"), []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = runCLI(t, "profiles", "test", "--fails", "--profiles-dir", profiles, rec)
	if code != 0 || !strings.Contains(out, "NO  model       NOT-A-2960  [profile cisco-ios fixed value]  want WS-C2960X-48FPS-L") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}

	// A bad profile file is refused with its file and line.
	if err := os.WriteFile(filepath.Join(profiles, "bad.yaml"), []byte("name: bad\ncpu:\n  - oid: not-an-oid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCLI(t, "profiles", "test", "--profiles-dir", profiles, rec)
	if code == 0 || !strings.Contains(errOut, "bad.yaml:3") {
		t.Errorf("bad profile: exit %d, stderr %q, want an error naming bad.yaml:3", code, errOut)
	}
}
