package reports

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/nocagent/nocagent/plugins/inspection"
)

// Archive writes a rendered report to dir/<contract>/<name> atomically and
// returns its path. name is the file name, e.g. "service-2026-03-en.html".
func Archive(dir, contract, name string, data []byte) (string, error) {
	if filepath.Base(name) != name || name == "." || name == ".." {
		return "", fmt.Errorf("archive report: bad file name %q", name)
	}
	if filepath.Base(contract) != contract || contract == "." || contract == ".." || contract == "" {
		return "", fmt.Errorf("archive report: bad contract id %q", contract)
	}
	p := filepath.Join(dir, contract, name)
	if err := inspection.WriteFileAtomic(p, data); err != nil {
		return "", fmt.Errorf("archive report %s: %w", p, err)
	}
	return p, nil
}

// ServiceFileName and InspectionFileName name archived reports.
func ServiceFileName(from time.Time, lang, ext string) string {
	return fmt.Sprintf("service-%s-%s.%s", from.Format("2006-01"), lang, ext)
}

// InspectionFileName names the report of an inspection result.
func InspectionFileName(resultID, lang, ext string) string {
	return fmt.Sprintf("inspection-%s-%s.%s", resultID, lang, ext)
}

// ErrNoChromium says PDF output needs a Chromium that is not installed.
var ErrNoChromium = errors.New("PDF output needs chromium, which is not installed (apt-get install chromium)")

// Chromium returns the path of the Chromium executable, or ErrNoChromium.
func Chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// PDF prints the HTML file htmlPath to pdfPath with headless Chromium,
// isolated in a throw-away profile and kept off the network services it
// would otherwise call. ctx bounds the run.
func PDF(ctx context.Context, htmlPath, pdfPath string) error {
	bin, err := Chromium()
	if err != nil {
		return err
	}
	in, err := filepath.Abs(htmlPath)
	if err != nil {
		return fmt.Errorf("pdf of %s: %w", htmlPath, err)
	}
	out, err := filepath.Abs(pdfPath)
	if err != nil {
		return fmt.Errorf("pdf of %s: %w", htmlPath, err)
	}
	profile, err := os.MkdirTemp("", "nocagent-chromium-")
	if err != nil {
		return fmt.Errorf("pdf of %s: %w", htmlPath, err)
	}
	defer os.RemoveAll(profile)
	cmd := exec.CommandContext(ctx, bin, append(ChromiumFlags(profile), "--no-pdf-header-footer", "--print-to-pdf="+out, "file://"+in)...)
	cmd.WaitDelay = 5 * time.Second
	msg, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pdf of %s: chromium: %w: %s", htmlPath, err, lastLines(msg, 5))
	}
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		return fmt.Errorf("pdf of %s: chromium wrote no PDF: %s", htmlPath, lastLines(msg, 5))
	}
	return nil
}

// ChromiumFlags are the flags of every headless run, with profile as its
// user data directory.
func ChromiumFlags(profile string) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile}
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
