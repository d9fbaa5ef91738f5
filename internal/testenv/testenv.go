// Package testenv finds what tests need from outside the module: the LibreNMS
// device recordings and the real servers installed by scripts/test.sh. Under
// CI a missing piece fails the test; elsewhere it skips, saying where it
// comes from.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// LibreNMS returns the directory of the LibreNMS recordings (with snmpsim/
// and data/ inside): $NOCAGENT_TESTDATA, or ../shared/testdata/librenms next
// to the module root.
func LibreNMS(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("NOCAGENT_TESTDATA"); d != "" {
		return d
	}
	return corpus(t, "librenms")
}

// LibreNMSWide returns the directory of the wide corpus of LibreNMS
// recordings (597 more devices, oracles trimmed to the checked sections):
// $NOCAGENT_TESTDATA_WIDE, or ../shared/testdata/librenms-wide.
func LibreNMSWide(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("NOCAGENT_TESTDATA_WIDE"); d != "" {
		return d
	}
	return corpus(t, "librenms-wide")
}

func corpus(t testing.TB, name string) string {
	t.Helper()
	if root := moduleRoot(); root != "" {
		d := filepath.Join(root, "..", "shared", "testdata", name)
		if st, err := os.Stat(filepath.Join(d, "snmpsim")); err == nil && st.IsDir() {
			return d
		}
	}
	missing(t, "LibreNMS device recordings not found: they come from LibreNMS's tests/snmpsim and tests/data; "+
		"put them in ../shared/testdata/"+name+" or set NOCAGENT_TESTDATA")
	return ""
}

// Command returns the path of a program the tests run, such as snmpd or
// promtool, installed by scripts/test.sh with apt.
func Command(t testing.TB, name, aptPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name+" not installed: apt-get install "+aptPackage+" (scripts/test.sh does)")
	}
	return p
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
